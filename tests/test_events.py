"""The timeline: events read from the bundled deck, filtering, GET /api/timeline, the CLI table.

HAND is checked by reading corpus/sti-policy-2024.txt: each row is one dated statement of
the deck (line numbers of the file in the comments) with its date, the date as written
(after NFKC), its status, and words of the clause it dates. The deck's own date is derived
as 2024-02-16 (令和6年2月16日, the latest decision that is not worded as a plan).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from stiqa.normalize import normalize_query
from stiqa.records import Citation
from stiqa.server.routers import timeline as timeline_router
from stiqa.timeline.events import (
    Event,
    build_events,
    document_dates,
    filter_events,
    parse_bound,
    span,
)
from stiqa.timeline.view import render_timeline

DOC = "sti-policy-2024.txt"

# (date, end, wording, status, words of the event text)
HAND = [
    ("FY2014", "FY2018", "2014〜2018年度", "done", "SIP第1期"),  # l.208
    ("FY2014", None, "2014年度", "done", "防災に関する研究開発"),  # l.244-245
    ("2019-06-11", None, "令和元年6月11日", "done", "バイオ戦略"),  # l.398
    ("2020-01", None, "2020年1月", "done", "量子技術イノベ"),  # l.349-350 (イノベ―ション as written)
    ("2020-01-21", None, "2020年1月21日", "done", "「量子技術イノベーション戦略」決定"),  # l.329
    ("2020-04", None, "2020年4月", "done", "量子未来社会ビジョン"),  # l.356-357
    ("2021-01-28", None, "令和3年1月28日", "done", "科学技術振興機構法の一部を改正する法律 成立"),  # l.688-725
    ("2021-02-23", None, "2月23日", "done", "科学技術振興機構法の一部を改正する法律 施行"),  # l.727-731
    ("2021-03-26", None, "令和3年3月26日", "done", "第6期科学技術・イノベーション基本計画"),  # l.839
    ("2021-05-12", None, "2021年5月12日", "done", "みどりの食料システム戦略"),  # l.412-413
    ("2021-06", None, "2021年6月", "done", "地域6拠点"),  # l.407
    ("2022-02", None, "2022年2月", "done", "CSTI本会議決定"),  # l.747
    ("2022-04", None, "2022年4月", "done", "戦略(改訂)"),  # l.350
    ("2022-04", None, "2022年4月", "done", "グローバル2拠点"),  # l.406
    ("FY2022", None, "2022年度", "done", "補正予算"),  # l.385
    ("2022-04-22", None, "2022年4月22日", "done", "「量子未来社会ビジョン」決定"),  # l.330
    ("2022-05-18", None, "令和4年5月18日", "done", "体制の強化に関する法律 成立"),  # l.578-624 (vertical)
    ("2022-11-15", None, "11月15日", "done", "体制の強化に関する法律 施行"),  # l.626-631
    ("2022-12", None, "2022年12月", "done", "広島・沖縄"),  # l.407
    ("2023", None, "2023年", "done", "G7広島サミット"),  # l.270
    ("2023", None, "2023年秋", "done", "臨時国会"),  # l.466
    ("2023-02", None, "2023年2月", "done", "パッケージの改定"),  # l.753
    ("2023-03-27", None, "2023年3月27日", "done", "国産超伝導量子コンピュータ初号機公開"),  # l.331
    ("2023-04", None, "2023年4月", "done", "「フュージョンエネルギー・イノベーション戦略」を策定"),  # l.285
    ("2023-04", None, "2023年4月", "done", "量子未来産業創出戦略"),  # l.363-364
    ("FY2023", None, "令和5年度", "done", "事業拡充(補正予算)"),  # l.276
    ("FY2023", None, "2023年度", "done", "大型プロジェクトが始動"),  # l.385-387
    ("FY2023", None, "2023年度", "done", "フードチェーンの構築"),  # l.416
    ("2023-04-14", None, "2023年4月14日", "done", "「量子未来産業創出戦略」決定"),  # l.332
    ("2023-05", None, "令和5年5月", "done", "「AIに関する暫定的な論点整理」"),  # l.266-267
    ("2023-05", None, "令和5年5月", "done", "生成AIの業務利用に関する申合せ"),  # l.273
    ("2023-09", None, "9月", "done", "生成AIの業務利用に関する申合せ"),  # l.273 (令和5年5月、9月)
    ("2023-06", None, "令和5年6月", "done", "注意喚起"),  # l.274
    ("2023-06-09", None, "令和5年6月9日", "done", "「統合イノベーション戦略2023」"),  # l.148 and l.785
    ("2023-06-16", None, "令和5年6月16日", "done", "「新しい資本主義のグランドデザイン及び実行計画」"),  # l.145
    ("2023-06-16", None, "令和5年6月16日", "done", "「経済財政運営と改革の基本方針」"),  # l.146
    ("2023-07", None, "令和5年7月", "done", "初等中等教育における生成AI利用に関する暫定的ガイドライン"),  # l.275
    ("2023-07-27", None, "2023年7月27日", "done", "グローバル研究センター設立"),  # l.333
    ("2023-08", None, "2023年8月", "done", "東北大学を認定候補に選定"),  # l.463-464
    ("2023-10-30", None, "令和5年10月30日", "done", "オープンアクセスの実現に向けた基本的な考え方"),  # l.785-787
    ("2023-11-30", None, "2023年11月30日", "done", "ITER機構長の総理表敬"),  # l.319
    ("2023-12-01", None, "2023年12月1日", "done", "JT-60SA 運転開始記念式典"),  # l.319
    ("2023-12", None, "令和5年12月", "done", "広島AIプロセス包括的政策枠組みの合意"),  # l.278
    ("2023-12", None, "令和5年12月", "done", "AI事業者ガイドライン案とりまとめ"),  # l.279
    ("2023-12-27", None, "2023年12月27日", "done", "施策の全体像"),  # l.420
    ("2024-02", None, "令和6年2月", "done", "AIセーフティ・インスティテュートの設立"),  # l.280
    ("2024-02", None, "2024年2月", "planned", "CSTI本会議にてパッケージの改定(予定)"),  # l.759
    ("2024-02-16", None, "令和6年2月16日", "done", "即時オープンアクセスの実現に向けた基本方針"),  # l.766
    ("2024-03", None, "2024年3月予定", "planned", "推進方策(案)"),  # l.344-345
    ("FY2024", None, "令和6年度", "planned", "事業拡充(当初予算案)"),  # l.276
    ("FY2024", None, "2024年度中", "planned", "支援開始を予定"),  # l.467
    ("FY2024", None, "令和6年度中", "planned", "開始予定"),  # l.678-680
    ("FY2024", None, "令和6年度", "planned", "政府予算案の反映"),  # l.761
    ("2024-06", None, "2024年6月頃", "planned", "バイオ戦略を改定"),  # l.390
    ("FY2025", None, "2025年度", "planned", "即時オープンアクセス開始"),  # l.769
    ("FY2025", None, "2025年度", "planned", "義務づけ"),  # l.789-790
    ("2030", None, "2030年", "planned", "推進方策"),  # l.339
    ("2030", None, "2030年", "planned", "2030年目標"),  # l.370
    ("2030", None, "2030年", "planned", "バイオエコノミー社会を実現"),  # l.398
]
CHECKED = {(d, w) for d, _, w, _, _ in HAND}


@pytest.fixture(scope="module")
def events(assistant):
    return build_events(assistant.index)


@pytest.fixture(scope="module")
def client(assistant):
    app = FastAPI()
    app.state.assistant = assistant
    app.include_router(timeline_router.router, prefix="/api")
    with TestClient(app) as c:
        yield c


def _event(d: str, text: str, status: str = "done", end: str | None = None, precision: str = "month") -> Event:
    return Event(d, end, precision, d, text, status, Citation("x.txt", 1, "section", 0, 1))


# --------------------------------------------------------------------------- the bundled deck


def test_hand_checked_events_are_produced(events):
    assert len(HAND) >= 30
    for d, end, wording, status, words in HAND:
        match = [e for e in events if e.date == d and e.wording == wording and words in e.text]
        assert match, f"no event {d} {wording} 「{words}」"
        assert all(e.end == end and e.status == status for e in match), (d, wording, words, match)


def test_no_invented_dates(events):
    produced = {(e.date, e.wording) for e in events}
    assert produced <= CHECKED, produced - CHECKED
    assert len(events) == len(HAND) + 1  # 2023-06-09 is cited on two slides, HAND lists it once
    texts = [(e.date, e.text) for e in events]
    assert len(texts) == len(set(texts)) + 1  # ... as the same 「統合イノベーション戦略2023」(閣議決定)


def test_timeline_lines_without_a_year_are_skipped(events):
    # 「6/1 運用業務担当理事 着任」, 「2〜3月 関係府省・国研協との調整」, 「3月中 関係府省申し合わせ」
    for words in ("着任", "国研協との調整", "関係府省申し合わせ", "資金運用企画室"):
        assert not [e for e in events if words in e.text]
    # year labels of a table (「2024年度」 「(令和6年度)」) are not statements
    assert all(e.text.strip() not in (e.wording, f"({e.wording})") for e in events)


def test_events_are_sorted_and_cite_their_sentence(events, doc_text):
    starts = [e.span[0] for e in events]
    assert starts == sorted(starts)
    for e in events:
        c = e.citation
        assert c.doc == DOC and 0 <= c.start < c.end <= len(doc_text)
        cited = re.sub(r"\s", "", normalize_query(doc_text[c.start:c.end]))
        assert re.sub(r"\s", "", e.wording) in cited, (e.wording, cited)
        assert 0 < len(e.text) <= 80
        assert e.status in ("planned", "done")


def test_citation_of_ai_safety_institute(events, doc_text):
    (e,) = [e for e in events if "AIセーフティ" in e.text]
    assert e.to_dict() == {
        "date": "2024-02", "end": None, "precision": "month", "wording": "令和6年2月",
        "text": "AIセーフティ・インスティテュートの設立", "status": "done",
        "citation": {"doc": DOC, "page": 5, "section": e.citation.section,
                     "start": e.citation.start, "end": e.citation.end},
    }
    assert "AIセーフティ・インスティテュートの設⽴（令和６年２⽉）" in doc_text[e.citation.start:e.citation.end]


def test_document_date_is_the_latest_decision(assistant):
    assert document_dates(assistant.index) == {DOC: "2024-02-16"}


def test_document_date_can_be_set(assistant):
    later = build_events(assistant.index, document_dates={DOC: "2025"})
    by_key = {(e.date, e.text): e.status for e in later}
    assert by_key[("FY2024", "生成AIの利用と開発力強化に向けた事業拡充(当初予算案)")] == "done"
    assert by_key[("2024-03", "推進方策(案)")] == "planned"  # 予定 in its wording


def test_events_are_built_once_per_index(assistant):
    assert assistant.events is assistant.events  # built once per process


# --------------------------------------------------------------------------- filtering


def test_spans():
    assert span("FY2024") == (date(2024, 4, 1), date(2025, 3, 31))
    assert span("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert span("2023-12") == (date(2023, 12, 1), date(2023, 12, 31))
    assert span("2024") == (date(2024, 1, 1), date(2024, 12, 31))
    assert span("2024-02-16") == (date(2024, 2, 16),) * 2
    assert _event("FY2014", "x", end="FY2018").span == (date(2014, 4, 1), date(2019, 3, 31))


def test_filter_by_overlap():
    fy = _event("FY2024", "fy", precision="fiscal_year")
    month = _event("2024-02", "month")
    day = _event("2024-02-16", "day", precision="day")
    rng = _event("FY2014", "range", end="FY2018", precision="fiscal_year")
    evs = [rng, month, day, fy]

    def texts(**kw):
        return [e.text for e in filter_events(evs, **kw)]

    assert texts(start="2025-03", end="2025-03") == ["fy"]  # March 2025 is in FY2024
    assert texts(start="2025-04") == []
    assert texts(end="2024-03-31") == ["range", "month", "day"]
    assert texts(start="2024-02-29", end="2024-02-29") == ["month"]
    assert texts(start="2024-02-16", end="2024-02-16") == ["month", "day"]
    assert texts(start="2019-03", end="2019") == ["range"]
    assert texts(start="2024", end="2024") == ["month", "day", "fy"]
    assert texts() == ["range", "month", "day", "fy"]


def test_filter_by_query_and_status(events):
    ai = filter_events(events, query="ａｉ")  # full-width, lower case: NFKC and case-folded
    assert ai and all("ai" in (e.text + e.wording + e.citation.section).casefold() for e in ai)
    assert any("AIセーフティ" in e.text for e in ai)
    by_section = filter_events(events, query="オープンアクセスの推進")  # the slide title
    assert {e.date for e in by_section} >= {"2024-02-16", "FY2025"}
    assert [e.date for e in filter_events(events, query="令和6年2月")] == ["2024-02", "2024-02-16"]
    planned = filter_events(events, status="planned")
    assert planned and all(e.status == "planned" for e in planned)
    assert len(planned) + len(filter_events(events, status="done")) == len(events)
    assert filter_events(events, start="2024-01", end="2024-12", query="AI", status="planned") == [
        e for e in events if e.date == "FY2024" and "生成AI" in e.text
    ]


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"start": "2024/02"}, "from must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"end": "FY2024"}, "to must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"start": "2024-13"}, "from is not a real date"),
        ({"end": "2023-02-30"}, "to is not a real date"),
        ({"start": "2025", "end": "2024"}, "from (2025) is after to (2024)"),
        ({"status": "late"}, "status must be planned or done"),
    ],
)
def test_filter_rejects_bad_input(kw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        filter_events([], **kw)


def test_parse_bound():
    assert parse_bound("2024") == (date(2024, 1, 1), date(2024, 12, 31))
    assert parse_bound(" 2024-02 ") == (date(2024, 2, 1), date(2024, 2, 29))


# --------------------------------------------------------------------------- API


def test_api_lists_all_events_sorted(client, events):
    r = client.get("/api/timeline")
    assert r.status_code == 200
    body = r.json()
    assert body == {"events": [e.to_dict() for e in events]}
    assert body["events"][0]["date"] == "FY2014" and body["events"][-1]["date"] == "2030"


def test_api_filters(client):
    params = {"from": "2024-01", "to": "2024-12", "q": "AI", "status": "planned"}
    body = client.get("/api/timeline", params=params).json()
    assert [(e["date"], e["text"]) for e in body["events"]] == [
        ("FY2024", "生成AIの利用と開発力強化に向けた事業拡充(当初予算案)")
    ]
    feb = client.get("/api/timeline", params={"from": "2024-02", "to": "2024-02"}).json()["events"]
    assert {(e["date"], e["status"]) for e in feb} == {
        ("2024-02", "done"), ("2024-02", "planned"), ("2024-02-16", "done"),
        ("FY2023", "done"),  # FY2023 runs to 2024-03-31
    }
    fy = client.get("/api/timeline", params={"from": "2025-03-01", "to": "2025-03-31"}).json()["events"]
    assert {e["date"] for e in fy} == {"FY2024"}  # March 2025 is in FY2024, not FY2025
    assert client.get("/api/timeline", params={"q": "存在しない語"}).json() == {"events": []}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2024-1"}, "from must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"to": "next year"}, "to must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"from": "2024-02-30"}, "from is not a real date"),
        ({"from": "2025", "to": "2024"}, "is after to"),
        ({"status": "cancelled"}, "status must be planned or done"),
    ],
)
def test_api_rejects_bad_input_with_a_sentence(client, params, message):
    r = client.get("/api/timeline", params=params)
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_api_documents_its_parameters(client):
    schema = client.get("/openapi.json").json()
    names = {p["name"] for p in schema["paths"]["/api/timeline"]["get"]["parameters"]}
    assert names == {"from", "to", "q", "status"}


# --------------------------------------------------------------------------- CLI


def test_render_table_and_json(events, assistant):
    table = render_timeline(events[:3])
    assert "date" in table and "status" in table and "SIP第1期で研究開発を実施" in table
    assert "FY2014–FY2018" in table and table.endswith("3 event(s)")
    assert json.loads(render_timeline(events, as_json=True)) == {"events": [e.to_dict() for e in events]}
    assert "no dated statements" in render_timeline([])
    out = render_timeline(assistant.timeline("2024-02", "2024-02", None, "planned"), as_json=True)
    assert [e["text"] for e in json.loads(out)["events"]] == ["CSTI本会議にてパッケージの改定(予定)"]


@pytest.fixture()
def cli(monkeypatch, assistant):
    """`stiqa timeline` with the session's assistant instead of loading the index."""
    import stiqa.cli

    monkeypatch.setattr(stiqa.cli, "_library", lambda settings, build_if_missing: assistant)
    return lambda *args: CliRunner().invoke(stiqa.cli.app, ["timeline", *args])


def test_cli_command_prints_the_table(cli):
    r = cli("--from", "2024", "--query", "バイオ", "--status", "planned")
    assert r.exit_code == 0, r.output
    assert "バイオ戦略を改定" in r.output and "2024-06" in r.output
    r = cli("--to", "2019", "--json")
    assert r.exit_code == 0
    assert [e["date"] for e in json.loads(r.output)["events"]] == ["FY2014", "FY2014", "2019-06-11"]


def test_cli_bad_input_exits_2(cli):
    r = cli("--from", "2024/02")
    assert r.exit_code == 2
    assert "from must be YYYY, YYYY-MM or YYYY-MM-DD" in r.output
