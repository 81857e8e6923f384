"""The web chat in a real browser (Debian's Chromium driven by Playwright) against `stiqa serve`.

Skipped when Chromium or Playwright is missing, unless CI is set (then they fail).
Screenshots of the desktop and phone layouts go to docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from .conftest import CORPUS, ROOT, start_serve, stop_serve

pytestmark = pytest.mark.slow  # a real browser against a real server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
NO_ANSWER = "この資料には該当する記載が見つかりませんでした"
API_KEY = "stiqa-web-test-key-5f3a9c1e"  # STIQA_API_KEY needs 16 characters or more
KEY_STORE = "stiqa.apiKey"  # the key's sessionStorage entry (web/app.js)


@pytest.fixture(scope="module")
def browser():
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run: {missing}")
        pytest.skip(missing)
    pw = sync_playwright().start()
    b = pw.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    )
    yield b
    b.close()
    pw.stop()


class Page:
    """A fresh browser context and page; records dialogs and CSP violations."""

    def __init__(self, browser, url: str, viewport: dict) -> None:
        self.context = browser.new_context(viewport=viewport, locale="ja-JP")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.url = url
        self.dialogs: list[str] = []
        self.csp_violations: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, msg) -> None:
        if "Content Security Policy" in msg.text:
            self.csp_violations.append(msg.text)

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def chat(browser, server):
    p = Page(browser, server, DESKTOP)
    yield p
    p.close()
    assert not p.csp_violations, p.csp_violations
    assert not p.dialogs, p.dialogs


def open_chat(page, url: str):
    response = page.goto(url + "/")
    page.wait_for_selector("html[data-ready=true]")
    return response


def ask(page, question: str, label: str = "質問"):
    """Type a question, press Enter, wait for its answer card; returns the turn."""
    from playwright.sync_api import expect

    box = page.get_by_role("textbox", name=label)
    box.fill(question)
    before = page.locator(".turn").count()
    box.press("Enter")
    turn = page.locator(".turn").nth(before)
    expect(turn).not_to_have_attribute("data-status", "pending", timeout=30_000)
    return turn


def test_japanese_question_gets_a_cited_answer(chat):
    from playwright.sync_api import expect

    page = chat.page
    auth: list[str | None] = []
    page.on("request", lambda r: auth.append(r.headers.get("authorization")) if "/api/" in r.url else None)
    open_chat(page, chat.url)
    expect(page.get_by_role("heading", name="資料について質問してください")).to_be_visible()
    send = page.get_by_role("button", name="送信")
    expect(send).to_be_disabled()
    page.get_by_role("textbox", name="質問").fill("   ")
    expect(send).to_be_disabled()

    turn = ask(page, "AIセーフティ・インスティテュートの設立時期は？")
    expect(turn).to_have_attribute("data-status", "done")
    expect(turn.locator(".question")).to_contain_text("AIセーフティ・インスティテュートの設立時期は？")
    answer = turn.locator(".answer-text")
    expect(answer).to_contain_text("令和6年2月")
    # The words shared with the question are highlighted.
    expect(answer.locator("mark").first).to_contain_text("AIセーフティ・インスティテュート")
    citations = turn.locator(".citation")
    assert citations.count() == 5
    first = citations.first
    expect(first.locator(".cite-page")).to_have_text("p.5")
    expect(first.locator(".cite-section")).to_have_text("(参考) AIに関する取組")
    expect(first.locator(".cite-score")).to_have_text(re.compile(r"スコア \d\.\d{3}"))
    expect(first.locator(".passage-text mark")).to_contain_text("AIセーフティ・インスティテュートの設立")
    expect(turn.get_by_role("button", name=re.compile("出典"))).to_be_visible()
    # Announced to screen readers; the welcome panel is gone; the box is empty and ready.
    expect(page.locator("[aria-live=polite]")).to_contain_text("令和6年2月")
    expect(page.locator("#welcome")).to_be_hidden()
    expect(page.get_by_role("textbox", name="質問")).to_have_value("")
    expect(page.get_by_role("textbox", name="質問")).to_be_focused()
    # A server without STIQA_API_KEY: no key form, no key button, no Authorization header.
    expect(page.locator("#key-dialog")).to_be_hidden()
    expect(page.locator("#key-button")).to_be_hidden()
    assert auth == [None]


def test_unanswerable_question_says_so(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    turn = ask(page, "What is the tallest mountain in the world?")
    expect(turn.locator(".no-answer")).to_contain_text(NO_ANSWER)
    assert turn.locator(".answer-text").count() == 0
    expect(turn.get_by_role("heading", name="関連しそうな箇所（回答ではありません）")).to_be_visible()
    nearest = turn.locator(".citation")
    assert nearest.count() >= 1
    for i in range(nearest.count()):
        expect(nearest.nth(i).locator(".badge")).to_have_text("回答ではありません")
    expect(page.locator("[aria-live=polite]")).to_contain_text(NO_ANSWER)


def test_enter_while_an_ime_composes_does_not_send(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/ask") else None)
    box = page.get_by_role("textbox", name="質問")
    box.fill("即時オープンアクセスは")
    # Enter that confirms a conversion: isComposing (Chrome, Firefox) or keyCode 229 (Safari).
    seen = box.evaluate(
        """(el) => {
            const codes = [];
            for (const init of [{isComposing: true, keyCode: 229}, {isComposing: true}, {keyCode: 229}]) {
                const ev = new KeyboardEvent("keydown", {key: "Enter", code: "Enter", bubbles: true, cancelable: true, ...init});
                if (init.keyCode && ev.keyCode !== init.keyCode) Object.defineProperty(ev, "keyCode", {get: () => init.keyCode});
                el.dispatchEvent(ev);
                codes.push([ev.isComposing, ev.keyCode, ev.defaultPrevented]);
            }
            el.dispatchEvent(new CompositionEvent("compositionstart", {data: "いつ"}));
            const during = new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true});
            el.dispatchEvent(during);
            el.dispatchEvent(new CompositionEvent("compositionend", {data: "いつ"}));
            codes.push([during.isComposing, during.keyCode, during.defaultPrevented]);
            return codes;
        }"""
    )
    assert seen == [[True, 229, False], [True, 0, False], [False, 229, False], [False, 0, False]]
    page.wait_for_timeout(300)
    assert asked == []
    assert page.locator(".turn").count() == 0
    expect(box).to_have_value("即時オープンアクセスは")
    # Shift+Enter is a new line; a plain Enter afterwards sends.
    box.press("End")
    box.press("Shift+Enter")
    box.type("いつから？")
    expect(box).to_have_value("即時オープンアクセスは\nいつから？")
    assert page.locator(".turn").count() == 0
    box.press("Enter")
    expect(page.locator(".turn")).to_have_count(1)
    expect(page.locator(".turn").first).to_have_attribute("data-status", "done", timeout=30_000)
    assert len(asked) == 1


def test_keyboard_only_example_question(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('example')"):
            break
    else:
        pytest.fail("no example question reachable with Tab")
    expect(page.locator(":focus")).to_have_text("即時オープンアクセスはいつから？")
    page.keyboard.press("Enter")
    turn = page.locator(".turn").first
    expect(turn).to_have_attribute("data-status", "done", timeout=30_000)
    expect(turn.locator(".answer-text")).to_contain_text("即時オープンアクセス")


def test_citation_opens_the_source_viewer(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    turn = ask(page, "AIセーフティ・インスティテュートの設立時期は？")
    opener = turn.get_by_role("button", name=re.compile(r"^引用 ?1 ?p\.5 ?\(参考\) AIに関する取組.*原文を開く"))
    opener.focus()
    page.keyboard.press("Enter")  # keyboard only
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    expect(viewer.locator("#viewer-meta")).to_have_text("sti-policy-2024.txt ・ p.5")
    expect(viewer.get_by_role("heading", name="(参考) AIに関する取組")).to_be_visible()
    expect(viewer.locator("#viewer-pos")).to_have_text("5 / 14 ページ")
    mark = viewer.locator("mark.cited")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("AIセーフティ・インスティテュートの設立(令和6年2月)")
    expect(mark).to_be_in_viewport()
    # The highlighted text is the passage, inside the slide's full text.
    full = viewer.locator("#viewer-text").inner_text()
    assert full.startswith("(参考) AIに関する取組\n") and len(full) > len(mark.inner_text()) + 500
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "desktop-source.png")
    # Next page, then Escape returns to the conversation, focus back on the citation.
    viewer.get_by_role("button", name="次のページ →").click()
    expect(viewer.locator("#viewer-meta")).to_have_text("sti-policy-2024.txt ・ p.6")
    expect(viewer.locator("mark")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(opener).to_be_focused()


def test_conversation_survives_a_reload_and_start_over_clears_it(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    ask(page, "AIセーフティ・インスティテュートの設立時期は？")
    ask(page, "What is the tallest mountain in the world?")
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    turns = page.locator(".turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0).locator(".answer-text")).to_contain_text("令和6年2月")
    expect(turns.nth(1).locator(".no-answer")).to_contain_text(NO_ANSWER)
    expect(page.locator("#welcome")).to_be_hidden()
    page.get_by_role("button", name="最初からやり直す").click()
    expect(turns).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    expect(page.locator(".turn")).to_have_count(0)


def test_markup_in_answers_is_shown_as_text(chat):
    from playwright.sync_api import expect

    page = chat.page
    evil = "<script>alert(1)</script>"
    img = '<img src=x onerror="alert(2)">'
    crafted = {
        "question": "q",
        "answerable": True,
        "answer": {"text": f"答えは {evil} です", "passage_id": "x-1", "date": f"{img}"},
        "passages": [
            {
                "id": "x-1",
                "rank": 1,
                "score": 0.9,
                "text": f"本文 {evil} {img} 答えは {evil} です",
                "citation": {"doc": "sti-policy-2024.txt", "page": 5, "section": f"<b>{evil}</b>", "start": 0, "end": 9},
            }
        ],
        "took_ms": 1.0,
    }
    page.route(
        "**/api/ask",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(crafted)),
    )
    open_chat(page, chat.url)
    turn = ask(page, f"{evil}とは？")
    expect(turn.locator(".question")).to_contain_text(f"{evil}とは？")
    expect(turn.locator(".answer-text")).to_have_text(f"答えは {evil} です")
    expect(turn.locator(".passage-text")).to_have_text(f"本文 {evil} {img} 答えは {evil} です")
    expect(turn.locator(".cite-section")).to_have_text(f"<b>{evil}</b>")
    expect(turn.locator(".chip")).to_contain_text(img)
    assert turn.locator("script, img, b").count() == 0
    assert page.locator("script").count() == 1  # app.js only
    page.wait_for_timeout(300)
    assert chat.dialogs == []


def test_errors_and_timeouts_are_readable(chat):
    from playwright.sync_api import expect

    page = chat.page
    page.clock.install()
    mode = {"kind": "error"}

    def handle(route):
        if mode["kind"] == "error":
            route.fulfill(status=500, content_type="application/json", body='{"detail": "internal error; the server log has the details"}')
        elif mode["kind"] == "down":
            route.abort("connectionrefused")
        elif mode["kind"] == "real":
            route.continue_()
        # "hang": never answered

    page.route("**/api/ask", handle)
    open_chat(page, chat.url)
    turn = ask(page, "即時オープンアクセスはいつから？")
    expect(turn.locator(".error-text")).to_have_text(
        "エラーが発生しました（HTTP 500）：internal error; the server log has the details"
    )
    expect(page.locator("[aria-live=polite]")).to_contain_text("エラー")

    mode["kind"] = "down"
    turn = ask(page, "即時オープンアクセスはいつから？")
    expect(turn.locator(".error-text")).to_contain_text("サーバーに接続できませんでした")

    mode["kind"] = "hang"
    box = page.get_by_role("textbox", name="質問")
    box.fill("即時オープンアクセスはいつから？")
    box.press("Enter")
    turn = page.locator(".turn").nth(2)
    expect(turn.locator(".loading")).to_contain_text("資料を検索しています")
    box.fill("次の質問")
    expect(page.get_by_role("button", name="送信")).to_be_disabled()  # one question at a time
    page.clock.run_for(31_000)
    expect(turn.locator(".error-text")).to_contain_text("30秒以内に応答がありませんでした")
    expect(page.get_by_role("button", name="送信")).to_be_enabled()

    mode["kind"] = "real"
    turn.get_by_role("button", name="再試行").click()
    expect(turn).to_have_attribute("data-status", "done", timeout=30_000)
    expect(turn.locator(".answer-text")).to_contain_text("即時オープンアクセス")


def test_content_security_policy(chat):
    page = chat.page
    response = open_chat(page, chat.url)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    for asset in ("app.js", "style.css"):
        r = httpx.get(f"{chat.url}/static/{asset}")
        assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    # An inline script is refused by the browser.
    ran = page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__inline = 1";
                   document.body.append(s); return window.__inline === 1; }"""
    )
    assert ran is False
    chat.csp_violations.clear()  # that refusal was the point
    # The API docs keep working (Swagger UI needs inline script): no CSP there.
    assert "content-security-policy" not in httpx.get(f"{chat.url}/docs").headers


@pytest.mark.parametrize("name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_layout_screenshots(browser, server, name, viewport):
    from playwright.sync_api import expect

    p = Page(browser, server, viewport)
    try:
        page = p.page
        open_chat(page, server)
        expect(page.get_by_role("button", name="即時オープンアクセスはいつから？")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{name}-welcome.png")
        ask(page, "What is the tallest mountain in the world?")
        page.wait_for_timeout(700)  # the smooth scroll to the answer
        page.screenshot(path=SHOTS / f"{name}-no-answer.png")
        ask(page, "AIセーフティ・インスティテュートの設立時期は？")
        page.wait_for_timeout(700)  # the smooth scroll to the answer
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal overflow at {viewport['width']} px: {width}"
        composer = page.locator(".composer").bounding_box()
        assert composer["y"] + composer["height"] <= viewport["height"] + 1  # input stays on screen
        page.screenshot(path=SHOTS / f"{name}.png")
    finally:
        p.close()
    assert not p.csp_violations and not p.dialogs


def test_english_interface_is_one_click_away(chat):
    from playwright.sync_api import expect

    page = chat.page
    open_chat(page, chat.url)
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", name="Ask about the documents")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    turn = ask(page, "What is the tallest mountain in the world?", label="Question")
    expect(turn.locator(".no-answer")).to_contain_text("The documents do not seem to answer")
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    expect(page.get_by_role("button", name="Start over")).to_be_visible()
    page.get_by_role("button", name="日本語に切り替え").click()
    expect(page.locator(".turn .no-answer")).to_contain_text(NO_ANSWER)



def test_timeline_groups_filters_and_opens_sources(chat):
    from playwright.sync_api import expect

    page = chat.page
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/api/timeline" in r.url else None)
    open_chat(page, chat.url)
    chat_tab = page.get_by_role("tab", name="チャット")
    timeline_tab = page.get_by_role("tab", name="年表")
    expect(chat_tab).to_have_attribute("aria-selected", "true")
    assert fetched == []  # the timeline is only fetched when it is opened
    # Keyboard: arrow keys move between the tabs (and select them).
    chat_tab.focus()
    page.keyboard.press("ArrowRight")
    expect(timeline_tab).to_be_focused()
    expect(timeline_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="年表")).to_be_visible()
    panel = page.locator("#panel-timeline")
    expect(page.locator("#panel-chat")).to_be_hidden()
    expect(page.get_by_role("textbox", name="質問")).to_be_hidden()

    # Grouped by year, in order; a fiscal year under its year, labelled 「…年度」; ranges; wording when it differs.
    groups = panel.locator(".year-group")
    expect(groups.first).to_be_visible()
    years = [int(y.removesuffix("年")) for y in groups.locator(".year-label").all_inner_texts()]
    assert years == sorted(set(years)) and {2014, 2023, 2024, 2030} <= set(years), years
    y2024 = panel.locator(".year-group[data-year='2024']")
    expect(y2024.locator(".event-date", has_text=re.compile(r"^2024年度$")).first).to_be_visible()
    expect(y2024.get_by_role("heading", name=re.compile(r"^2024年"))).to_be_visible()
    expect(panel.locator(".year-group[data-year='2014'] .event-date", has_text="2014〜2018年度")).to_have_count(1)
    oa = y2024.locator(".event", has=page.locator(".event-date", has_text=re.compile(r"^2024年2月16日$")))
    expect(oa.locator(".event-wording")).to_have_text("原文の表記: 令和6年2月16日")
    expect(oa.locator(".event-text")).to_contain_text("即時オープンアクセスの実現に向けた基本方針")
    expect(panel.locator(".event", has=page.locator(".event-date", has_text=re.compile(r"^2024年2月$")))
           .filter(has_text="パッケージの改定").locator(".event-wording")).to_have_count(0)  # 2024年2月 as written
    events = panel.locator(".event")
    total = events.count()
    expect(page.locator("#timeline-count")).to_have_text(f"{total}件の出来事")
    badges = panel.locator(".event .planned-badge")
    assert 0 < badges.count() < total
    expect(badges.first).to_have_text("予定")

    # Only the plans: every event left is marked 「予定」, and the list stays grouped.
    panel.get_by_role("radio", name="予定").check()
    expect(panel.locator(".event:not(.planned)")).to_have_count(0)
    planned = events.count()
    assert 0 < planned < total
    expect(badges).to_have_count(planned)
    expect(page.locator("#timeline-count")).to_have_text(f"{planned}件の出来事")
    assert set(groups.locator(".year-label").all_inner_texts()) >= {"2024年", "2025年", "2030年"}
    page.mouse.move(0, 0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "timeline.png")

    # The keyword goes to the API as q; the list and its answer are kept in memory.
    search = panel.get_by_role("searchbox", name="キーワードで絞り込む")
    search.fill("オープンアクセス")
    expect(events).to_have_count(2)
    assert len(fetched) == 2 and "q=%E3%82%AA" in fetched[1], fetched
    expect(events.locator(".event-date")).to_have_text(["2025年度", "2025年度"])

    # An event opens the source viewer on its page, with the sentence and its date highlighted; Esc returns.
    opener = events.first.get_by_role("button")
    opener.focus()
    page.keyboard.press("Enter")
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    expect(viewer.locator("#viewer-meta")).to_have_text("sti-policy-2024.txt ・ p.12")
    expect(viewer.locator("#viewer-pos")).to_have_text("12 / 14 ページ")
    mark = viewer.locator("mark.cited")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("2025年度")
    expect(mark).to_contain_text("学術論文を主たる成果とする")
    expect(mark).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(opener).to_be_focused()

    # Back to everything: no new request; back to the chat and to the timeline: none either.
    search.fill("")
    panel.get_by_role("radio", name="すべて").check()
    expect(events).to_have_count(total)
    chat_tab.click()
    expect(page.get_by_role("textbox", name="質問")).to_be_visible()
    timeline_tab.click()
    expect(events).to_have_count(total)
    # English labels.
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("tab", name="Timeline")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Timeline")).to_be_visible()
    expect(y2024.locator(".event-date", has_text=re.compile(r"^FY2024$")).first).to_be_visible()
    expect(panel.locator(".event-date", has_text="Feb 16, 2024")).to_have_count(1)
    expect(badges.first).to_have_text("Planned")
    assert len(fetched) == 2, fetched


def test_timeline_on_a_phone_and_when_the_server_fails(browser, server):
    from playwright.sync_api import expect

    p = Page(browser, server, PHONE)
    try:
        page = p.page
        mode = {"fail": True}

        def handle(route):
            if mode["fail"]:
                route.fulfill(status=500, content_type="application/json", body='{"detail": "boom"}')
            else:
                route.continue_()

        page.route("**/api/timeline*", handle)
        open_chat(page, server)
        page.get_by_role("tab", name="年表").click()
        panel = page.get_by_role("tabpanel", name="年表")
        expect(panel.locator(".error-text")).to_have_text("年表を読み込めませんでした。エラーが発生しました（HTTP 500）：boom")
        mode["fail"] = False
        panel.get_by_role("button", name="再試行").click()
        expect(panel.locator(".event").first).to_be_visible()
        expect(panel.locator(".year-group").first).to_be_visible()
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal overflow at 375 px: {width}"
        # The view is kept across a reload of the tab.
        page.reload()
        page.wait_for_selector("html[data-ready=true]")
        expect(page.get_by_role("tab", name="年表")).to_have_attribute("aria-selected", "true")
        expect(panel.locator(".event").first).to_be_visible()
    finally:
        p.close()
    assert not p.csp_violations and not p.dialogs


# ---------------------------------------------------------------- a server with STIQA_API_KEY


@pytest.fixture(scope="module")
def keyed_server(assistant, index_settings, tmp_path_factory):
    """A second `stiqa serve` over the session's index with STIQA_API_KEY set; yields its URL."""
    log = tmp_path_factory.mktemp("serve-key") / "serve.log"
    proc, url = start_serve(index_settings.index_dir, CORPUS, log, env={"STIQA_API_KEY": API_KEY})
    try:
        # The API is closed without the key; the page is not.
        assert httpx.post(f"{url}/api/ask", json={"question": "q"}).status_code == 401
        assert httpx.get(f"{url}/").status_code == 200
        yield url
    finally:
        stop_serve(proc)


class KeyedPage(Page):
    """A page on the keyed server that also records 401s, the API requests' Authorization and the console."""

    def __init__(self, browser, url: str, viewport: dict) -> None:
        super().__init__(browser, url, viewport)
        self.refused: list[str] = []
        self.sent: list[tuple[str, str | None]] = []
        self.console: list[str] = []
        self.page.on("response", lambda r: self.refused.append(r.url) if r.status == 401 else None)
        self.page.on(
            "request", lambda r: self.sent.append((r.url, r.headers.get("authorization"))) if "/api/" in r.url else None
        )
        self.page.on("console", lambda m: self.console.append(m.text))

    def assert_key_not_shown(self) -> None:
        """The key is in no URL, no text, no attribute, no field, no log, no storage but its own entry."""
        page = self.page
        assert API_KEY not in page.url
        assert API_KEY not in page.content()
        assert API_KEY not in page.locator("body").inner_text()
        values = page.evaluate("[...document.querySelectorAll('input, textarea')].map((e) => e.value)")
        assert not any(API_KEY in v for v in values), values
        assert API_KEY not in page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        others = page.evaluate(f"Object.entries(sessionStorage).filter(([k]) => k !== '{KEY_STORE}')")
        assert API_KEY not in json.dumps(others)
        assert not any(API_KEY in url for url, _ in self.sent)
        assert not any(API_KEY in line for line in self.console)


@pytest.fixture()
def keyed_chat(browser, keyed_server):
    p = KeyedPage(browser, keyed_server, DESKTOP)
    yield p
    p.close()
    assert not p.csp_violations, p.csp_violations
    assert not p.dialogs, p.dialogs


def test_api_key_is_asked_for_checked_and_kept_for_the_tab(keyed_chat):
    from playwright.sync_api import expect

    chat = keyed_chat
    page = chat.page
    stored = f"sessionStorage.getItem('{KEY_STORE}')"
    open_chat(page, chat.url)
    key_button = page.get_by_role("button", name="APIキー", exact=True)
    form = page.get_by_role("dialog", name="APIキーの入力")
    key_input = form.get_by_label("APIキー", exact=True)
    box = page.get_by_role("textbox", name="質問")
    expect(key_button).to_be_hidden()  # nothing about keys until the server asks for one
    expect(form).to_be_hidden()

    # Asking without a key opens the form: labelled, explained, a password field with the focus.
    box.fill("AIセーフティ・インスティテュートの設立時期は？")
    box.press("Enter")
    turn = page.locator(".turn").first
    expect(form).to_be_visible()
    expect(form).to_contain_text("管理者から受け取ったキーを入力してください")
    expect(key_input).to_have_attribute("type", "password")
    expect(key_input).to_be_focused()
    expect(turn).to_have_attribute("data-status", "pending")
    # Esc closes it: the question says a key is needed, focus is back in the question box.
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(turn.locator(".error-text")).to_have_text("APIキーが必要です。もう一度試すと、キーを入力できます。")
    expect(box).to_be_focused()
    expect(key_button).to_be_visible()

    # Trying again asks again; a wrong key is refused, the form says so, and there is no answer.
    turn.get_by_role("button", name="再試行").click()
    expect(key_input).to_be_focused()
    key_input.fill("not-the-right-key-at-all")
    form.get_by_role("button", name="保存").click()
    expect(form.get_by_role("alert")).to_have_text("このキーは受け付けられませんでした。確認して、もう一度入力してください。")
    expect(key_input).to_have_attribute("aria-invalid", "true")
    expect(key_input).to_have_value("")
    expect(key_input).to_be_focused()
    expect(turn).to_have_attribute("data-status", "pending")
    assert turn.locator(".answer-text").count() == 0
    assert page.evaluate(stored) is None  # a refused key is not kept

    # The right key: the pending question is answered, with its citations.
    key_input.fill(API_KEY)
    key_input.press("Enter")
    expect(form).to_be_hidden()
    expect(turn).to_have_attribute("data-status", "done", timeout=30_000)
    expect(turn.locator(".answer-text")).to_contain_text("令和6年2月")
    expect(turn.locator(".citation")).to_have_count(5)
    expect(box).to_be_focused()
    assert page.evaluate(stored) == API_KEY
    assert len(chat.refused) == 3  # without a key, again without, the wrong key

    # A later question, the source viewer and the timeline: the key goes along, no more asking.
    second = ask(page, "即時オープンアクセスはいつから？")
    expect(second.locator(".answer-text")).to_contain_text("即時オープンアクセス")
    turn.locator(".citation-head").first.click()
    viewer = page.locator("#viewer")
    expect(viewer.locator("#viewer-pos")).to_have_text("5 / 14 ページ")  # api/documents too
    expect(viewer.locator("mark.cited")).to_contain_text("AIセーフティ・インスティテュートの設立")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    page.get_by_role("tab", name="年表").click()
    expect(page.locator("#panel-timeline .event").first).to_be_visible()
    assert len(chat.refused) == 3, chat.refused
    expect(form).to_be_hidden()

    # A reload keeps the key (sessionStorage): the timeline, the view that was open, loads at once.
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    expect(page.locator("#panel-timeline .event").first).to_be_visible()
    expect(key_button).to_be_visible()
    expect(form).to_be_hidden()
    assert len(chat.refused) == 3, chat.refused
    # Every call since the key was saved carried it, as a header (the key itself shows nowhere).
    first_with_key = next(i for i, (_, auth) in enumerate(chat.sent) if auth == f"Bearer {API_KEY}")
    assert all(auth == f"Bearer {API_KEY}" for _, auth in chat.sent[first_with_key:]), chat.sent
    assert {u.split("/api/")[1].split("/")[0].split("?")[0] for u, _ in chat.sent[first_with_key:]} >= {
        "ask", "documents", "timeline"
    }
    chat.assert_key_not_shown()

    # The top bar button opens the form with 「キーを削除」: the key is gone, and the next call asks again.
    key_button.click()
    expect(form).to_be_visible()
    expect(form).to_contain_text("APIキーは保存されています")
    expect(key_input).to_be_focused()
    form.get_by_role("button", name="キーを削除").click()
    expect(form).to_be_hidden()
    assert page.evaluate(stored) is None
    expect(page.get_by_role("tab", name="年表")).to_be_focused()  # the button went away with the key
    page.get_by_role("tab", name="チャット").click()
    # In English too.
    page.get_by_role("button", name="Switch to English").click()
    question = page.get_by_role("textbox", name="Question")
    question.fill("When does immediate open access start?")
    question.press("Enter")
    form_en = page.get_by_role("dialog", name="Enter the API key")
    expect(form_en).to_be_visible()
    expect(form_en.get_by_label("API key", exact=True)).to_be_focused()
    expect(form_en).to_contain_text("Enter the key you were given")
    form_en.get_by_role("button", name="Cancel").click()
    expect(form_en).to_be_hidden()
    expect(page.locator(".turn").last.locator(".error-text")).to_have_text("An API key is needed. Try again to enter it.")
    expect(question).to_be_focused()
    expect(page.get_by_role("button", name="API key", exact=True)).to_be_visible()
    assert len(chat.refused) == 4
    chat.assert_key_not_shown()


@pytest.fixture(scope="module")
def pdf_server(browser, tmp_path_factory):
    """`stiqa serve` over a corpus of one real PDF of council minutes (it builds the index at start)."""
    from .conftest import DEV_CORPUS

    source = DEV_CORPUS / "moj" / "001374091.pdf"
    if not source.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    root = tmp_path_factory.mktemp("pdf-serve")
    (root / "corpus" / "moj").mkdir(parents=True)
    (root / "corpus" / "moj" / source.name).write_bytes(source.read_bytes())
    proc, url = start_serve(root / "index", root / "corpus", root / "serve.log")
    try:
        yield url
    finally:
        stop_serve(proc)


def test_a_pdf_citation_shows_the_page_image_with_the_passage_marked(browser, pdf_server):
    from playwright.sync_api import expect

    p = Page(browser, pdf_server, DESKTOP)
    try:
        page = p.page
        open_chat(page, p.url)
        turn = ask(page, "部会長には誰が選出されましたか？")
        turn.get_by_role("button", name=re.compile(r"^引用 ?1 ")).click()
        viewer = page.get_by_role("dialog")
        expect(viewer.locator("#viewer-meta")).to_contain_text("moj/001374091.pdf ・ p.")
        image = viewer.get_by_role("img", name=re.compile(r"ページの画像"))
        expect(image).to_be_visible()
        assert page.evaluate("document.querySelector('#viewer-page img').naturalWidth") > 500
        marks = viewer.locator(".page-mark")
        assert marks.count() >= 1
        box, frame = marks.first.bounding_box(), image.bounding_box()
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
        expect(viewer.locator("mark.cited")).to_have_count(1)  # the repaired text beside it, marked too
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "desktop-pdf-page.png")
        viewer.get_by_role("button", name="次のページ →").click()
        expect(viewer.locator(".page-mark")).to_have_count(0)  # another page: nothing cited on it
        expect(viewer.get_by_role("img", name=re.compile(r"ページの画像"))).to_be_visible()
    finally:
        p.close()
    assert not p.csp_violations, p.csp_violations


@pytest.fixture(scope="module")
def upload_server(browser, tmp_path_factory):
    """`stiqa serve` with uploads on, over a copy of the bundled deck."""
    root = tmp_path_factory.mktemp("upload-serve")
    (root / "corpus").mkdir()
    (root / "corpus" / "sti-policy-2024.txt").write_bytes((CORPUS / "sti-policy-2024.txt").read_bytes())
    proc, url = start_serve(root / "index", root / "corpus", root / "serve.log", env={"STIQA_ALLOW_UPLOADS": "1"})
    try:
        yield url
    finally:
        stop_serve(proc)


def test_upload_a_pdf_ask_it_and_see_the_page_with_the_answer_marked(browser, upload_server):
    from playwright.sync_api import expect

    from .conftest import DEV_CORPUS

    minutes = DEV_CORPUS / "moj" / "001374091.pdf"
    if not minutes.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    p = Page(browser, upload_server, DESKTOP)
    try:
        page = p.page
        open_chat(page, p.url)
        page.get_by_role("tab", name="資料").click()
        expect(page.locator("#documents-list li")).to_have_count(1)
        expect(page.locator("#upload")).to_be_visible()
        page.set_input_files("#upload-input", str(minutes))
        expect(page.locator("#upload-status")).to_contain_text("001374091.pdf：追加しました", timeout=120_000)
        expect(page.locator("#documents-list li")).to_have_count(2)
        page.get_by_role("checkbox", name="「001374091.pdf」に質問する").check()
        expect(page.locator("#scope")).to_contain_text("1 件")
        page.get_by_role("tab", name="チャット").click()
        turn = ask(page, "部会長には誰が選出されましたか？")
        opener = turn.get_by_role("button", name=re.compile(r"^引用 ?1 "))
        expect(opener).to_contain_text("001374091.pdf")  # the document each citation is from
        opener.click()
        viewer = page.get_by_role("dialog")
        expect(viewer.get_by_role("img", name=re.compile(r"ページの画像"))).to_be_visible()
        assert viewer.locator(".page-mark").count() >= 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "desktop-pdf-page.png")
    finally:
        p.close()
    assert not p.csp_violations, p.csp_violations
    assert not p.dialogs, p.dialogs
