// stiqa web chat: plain JS, no build step, no external resources.
// All text from the API is put on the page with textContent / text nodes, never as HTML.
"use strict";

(() => {
  const STORE_KEY = "stiqa.conversation.v1";
  const LANG_KEY = "stiqa.lang";
  const TIMEOUT_MS = 30000;
  const MAX_TURNS = 50;

  const STRINGS = {
    ja: {
      pageTitle: "stiqa — 科学技術・イノベーション政策 Q&A",
      skip: "質問の入力へ移動",
      title: "科学技術・イノベーション政策 Q&A",
      subtitle: "資料の該当箇所を引用して答えます",
      reset: "最初からやり直す",
      langButton: "EN",
      langLabel: "Switch to English",
      welcomeTitle: "資料について質問してください",
      welcomeText:
        "「科学技術・イノベーション政策」の資料から、回答とその根拠（ページ・スライド名・本文）を示します。資料に記載がない場合は、そのようにお伝えします。",
      examplesTitle: "質問の例",
      conversation: "会話",
      questionLabel: "質問",
      placeholder: "資料について質問する…",
      send: "送信",
      hint: "Enter で送信 ・ Shift+Enter で改行",
      kLabel: "引用数",
      you: "質問",
      answer: "回答",
      sources: "根拠となる箇所",
      noAnswer: "この資料には該当する記載が見つかりませんでした。",
      noAnswerHint: "言い回しを変えるか、資料に書かれている内容についてお尋ねください。",
      nearest: "関連しそうな箇所（回答ではありません）",
      notAnswer: "回答ではありません",
      loading: "資料を検索しています…",
      page: (n) => `p.${n}`,
      score: "スコア",
      citeLabel: "引用",
      openHint: "（原文を開く）",
      answerFrom: "出典",
      date: "日付",
      errorNetwork: "サーバーに接続できませんでした。接続を確認して、もう一度お試しください。",
      errorTimeout: (s) => `${s}秒以内に応答がありませんでした。しばらくしてから、もう一度お試しください。`,
      errorHttp: (status, detail) => `エラーが発生しました（HTTP ${status}）${detail ? "：" + detail : "。"}`,
      errorBad: "サーバーの応答を読み取れませんでした。",
      errorInterrupted: "ページの再読み込みにより中断されました。",
      retry: "再試行",
      announceAnswer: (text) => `回答：${text}`,
      announceError: (msg) => `エラー：${msg}`,
      cleared: "会話を消去しました。",
      close: "閉じる",
      sourceText: "資料の本文",
      prevPage: "← 前のページ",
      nextPage: "次のページ →",
      pagePos: (n, total) => (total ? `${n} / ${total} ページ` : `${n} ページ`),
      loadingPage: "読み込み中…",
      pageImage: (n) => `${n}ページの画像（引用箇所に色付け）`,
      pageError: (msg) => `ページを読み込めませんでした：${msg}`,
      cited: "引用箇所",
      views: "表示の切り替え",
      tabChat: "チャット",
      tabTimeline: "年表",
      tabDocuments: "資料",
      documentsTitle: "資料",
      documentsIntro: "回答の根拠にする資料の一覧です。チェックした資料だけに質問できます。",
      uploadText: "ここにファイルをドロップ、またはクリックして選択（PDF・Word・HTML・Markdown・テキスト）",
      documentsCount: (n, skipped) => `${n} 件の資料${skipped ? `（読めなかったファイル ${skipped} 件）` : ""}`,
      docMeta: (format, pages, passages) => `${format} ・ ${pages} ページ ・ ${passages} 箇所`,
      docSkipped: (reason) => `読めませんでした：${reason}`,
      askOnly: (name) => `「${name}」に質問する`,
      scopeText: (n) => `対象：チェックした ${n} 件の資料`,
      scopeClear: "すべての資料に戻す",
      uploading: (name) => `${name}：送信中…`,
      uploadIndexing: (name) => `${name}：索引を作成中…`,
      uploadIndexed: (name, n) => `${name}：追加しました（${n} 箇所）`,
      uploadSkipped: (name, reason) => `${name}：読めませんでした（${reason}）`,
      uploadFailed: (msg) => `追加できませんでした：${msg}`,
      timelineTitle: "年表",
      timelineIntro: "資料に書かれた決定・開始・予定を日付順に並べています。出来事を選ぶと、その記載のあるページを開きます。",
      statusLegend: "状態で絞り込む",
      statusAll: "すべて",
      statusPlanned: "予定",
      statusDone: "実施済み",
      filterLabel: "キーワードで絞り込む",
      filterPlaceholder: "キーワードで絞り込む（例：AI）",
      timelineLoading: "年表を読み込んでいます…",
      timelineError: (msg) => `年表を読み込めませんでした。${msg}`,
      timelineCount: (n) => `${n}件の出来事`,
      timelineEmpty: "条件に合う出来事はありません。",
      planned: "予定",
      yearHeading: (y) => `${y}年`,
      yearCount: (n) => `${n}件`,
      asWritten: "原文の表記",
      openEvent: "（記載箇所を開く）",
      keyButton: "APIキー",
      keyTitle: "APIキーの入力",
      keyText: "このサーバーは APIキー のない問い合わせを受け付けません。管理者から受け取ったキーを入力してください。",
      keyManageText: "APIキーは保存されています。新しいキーを入力すると置き換えます。「キーを削除」でこのタブから消去します。",
      keyLabel: "APIキー",
      keyNote: "キーはこのタブの中だけに保存され、タブを閉じると消えます。このサーバーへの問い合わせにのみ使います。",
      keyRejected: "このキーは受け付けられませんでした。確認して、もう一度入力してください。",
      keyEmpty: "キーを入力してください。",
      keyBadChars: "キーに使えない文字が含まれています（半角の英数字と記号のみ）。",
      keySave: "保存",
      keyCancel: "キャンセル",
      keyForget: "キーを削除",
      keySaved: "APIキーを保存しました。",
      keyForgotten: "APIキーを削除しました。",
      errorKey: "APIキーが必要です。もう一度試すと、キーを入力できます。",
    },
    en: {
      pageTitle: "stiqa — STI policy Q&A",
      skip: "Skip to the question box",
      title: "STI Policy Q&A",
      subtitle: "Answers with cited passages from the documents",
      reset: "Start over",
      langButton: "日本語",
      langLabel: "日本語に切り替え",
      welcomeTitle: "Ask about the documents",
      welcomeText:
        "Answers come from the science, technology and innovation policy document, with their sources (page, slide title, text). When the document does not say, you are told so.",
      examplesTitle: "Try asking",
      conversation: "Conversation",
      questionLabel: "Question",
      placeholder: "Ask about the documents…",
      send: "Send",
      hint: "Enter to send · Shift+Enter for a new line",
      kLabel: "Passages",
      you: "Question",
      answer: "Answer",
      sources: "Sources",
      noAnswer: "The documents do not seem to answer this question.",
      noAnswerHint: "Try rephrasing, or ask about something the documents cover.",
      nearest: "Nearest passages (not an answer)",
      notAnswer: "Not an answer",
      loading: "Searching the documents…",
      page: (n) => `p.${n}`,
      score: "score",
      citeLabel: "Source",
      openHint: "(open the page)",
      answerFrom: "Source",
      date: "Date",
      errorNetwork: "Could not reach the server. Check the connection and try again.",
      errorTimeout: (s) => `No answer within ${s} seconds. Please try again in a moment.`,
      errorHttp: (status, detail) => `Something went wrong (HTTP ${status})${detail ? ": " + detail : "."}`,
      errorBad: "The server's reply could not be read.",
      errorInterrupted: "Interrupted by a page reload.",
      retry: "Try again",
      announceAnswer: (text) => `Answer: ${text}`,
      announceError: (msg) => `Error: ${msg}`,
      cleared: "The conversation was cleared.",
      close: "Close",
      sourceText: "Document text",
      prevPage: "← Previous page",
      nextPage: "Next page →",
      pagePos: (n, total) => (total ? `Page ${n} of ${total}` : `Page ${n}`),
      loadingPage: "Loading…",
      pageImage: (n) => `Image of page ${n} (the cited passage highlighted)`,
      pageError: (msg) => `Could not load the page: ${msg}`,
      cited: "cited passage",
      views: "Views",
      tabChat: "Chat",
      tabTimeline: "Timeline",
      tabDocuments: "Documents",
      documentsTitle: "Documents",
      documentsIntro: "The documents answers come from. Tick some to ask only them.",
      uploadText: "Drop files here, or click to choose (PDF, Word, HTML, Markdown, text)",
      documentsCount: (n, skipped) => `${n} documents${skipped ? ` (${skipped} files could not be read)` : ""}`,
      docMeta: (format, pages, passages) => `${format} · ${pages} pages · ${passages} passages`,
      docSkipped: (reason) => `Could not be read: ${reason}`,
      askOnly: (name) => `Ask “${name}”`,
      scopeText: (n) => `Asking only the ${n} ticked documents`,
      scopeClear: "Ask all documents",
      uploading: (name) => `${name}: sending…`,
      uploadIndexing: (name) => `${name}: indexing…`,
      uploadIndexed: (name, n) => `${name}: added (${n} passages)`,
      uploadSkipped: (name, reason) => `${name}: could not be read (${reason})`,
      uploadFailed: (msg) => `Could not add: ${msg}`,
      timelineTitle: "Timeline",
      timelineIntro: "Decisions, launches and plans dated in the documents, in date order. Choose an event to open the page that states it.",
      statusLegend: "Filter by status",
      statusAll: "All",
      statusPlanned: "Planned",
      statusDone: "Done",
      filterLabel: "Filter by keyword",
      filterPlaceholder: "Filter by keyword (e.g. AI)",
      timelineLoading: "Loading the timeline…",
      timelineError: (msg) => `Could not load the timeline. ${msg}`,
      timelineCount: (n) => (n === 1 ? "1 event" : `${n} events`),
      timelineEmpty: "No events match.",
      planned: "Planned",
      yearHeading: (y) => String(y),
      yearCount: (n) => (n === 1 ? "1 event" : `${n} events`),
      asWritten: "As written",
      openEvent: "(open where it is stated)",
      keyButton: "API key",
      keyTitle: "Enter the API key",
      keyText: "This server only answers requests that carry an API key. Enter the key you were given.",
      keyManageText: "An API key is saved. Enter a new one to replace it, or choose “Forget key” to remove it from this tab.",
      keyLabel: "API key",
      keyNote: "The key is kept in this tab only and is gone when you close it. It is sent to this server only.",
      keyRejected: "The key was not accepted. Check it and enter it again.",
      keyEmpty: "Enter the key.",
      keyBadChars: "The key contains characters a key cannot have (ASCII letters, digits and symbols only).",
      keySave: "Save",
      keyCancel: "Cancel",
      keyForget: "Forget key",
      keySaved: "The API key was saved.",
      keyForgotten: "The API key was forgotten.",
      errorKey: "An API key is needed. Try again to enter it.",
      months: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    },
  };

  let lang = readLang();

  function readLang() {
    try {
      const saved = localStorage.getItem(LANG_KEY);
      if (saved === "ja" || saved === "en") return saved;
    } catch (_) {
      /* storage may be unavailable */
    }
    return "ja";
  }

  function t(key, ...args) {
    const v = STRINGS[lang][key] ?? STRINGS.ja[key];
    return typeof v === "function" ? v(...args) : v;
  }

  // ---------------------------------------------------------------- DOM helpers

  const $ = (id) => document.getElementById(id);

  /** Create an element; children are nodes or strings (always text, never HTML). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const str = (v) => (v === null || v === undefined ? "" : String(v));

  // ---------------------------------------------------------------- highlighting

  // Characters that carry no meaning on their own: kana particles, punctuation, spaces.
  const WEAK = /[\p{Script=Hiragana}\p{P}\p{S}\s]/u;
  const STRONG = /[\p{Script=Han}\p{Script=Katakana}\p{L}\p{N}]/u;
  const STOP = new Set(
    "the a an of in on at to for from by with and or is are was were be been what which who whom when where why how does did do that this these those it its as into about"
      .split(" ")
  );
  const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

  /** Spans [start, end) of ``text`` that also occur in ``question`` (words shared with the question). */
  function sharedSpans(text, question) {
    const q = asciiLower(str(question).normalize("NFKC"));
    const x = asciiLower(text); // same length as text: offsets stay valid
    const spans = [];
    let i = 0;
    while (i < x.length) {
      let len = 0;
      while (i + len < x.length && q.includes(x.slice(i, i + len + 1))) len++;
      let s = i;
      let e = i + len;
      while (s < e && WEAK.test(x[s])) s++;
      while (e > s && WEAK.test(x[e - 1])) e--;
      const piece = x.slice(s, e);
      let ok = e - s >= 2 && STRONG.test(piece);
      if (ok && /^[a-z0-9 .\-]+$/.test(piece)) {
        // Latin words: whole words only, no stop words.
        const wordEdge = (k) => k <= 0 || k >= x.length || !/[a-z0-9]/.test(x[k]);
        ok = wordEdge(s - 1) && wordEdge(e) && !STOP.has(piece.trim()) && piece.trim().length >= 2;
      }
      if (ok) spans.push([s, e]);
      i += Math.max(1, ok ? len : 1);
    }
    return spans;
  }

  /** Text nodes with the given spans wrapped in <mark>. */
  function highlighted(text, spans, markClass) {
    const out = [];
    let at = 0;
    for (const [s, e] of spans) {
      if (s < at || e <= s) continue;
      if (s > at) out.push(document.createTextNode(text.slice(at, s)));
      out.push(h("mark", { class: markClass || null }, text.slice(s, e)));
      at = e;
    }
    if (at < text.length) out.push(document.createTextNode(text.slice(at)));
    return out;
  }

  /** Where the answer excerpt lies in a passage (first line as a fallback), or null. */
  function excerptSpan(passageText, answerText) {
    const candidates = [answerText, ...answerText.split("\n").sort((a, b) => b.length - a.length)];
    for (const c of candidates) {
      const piece = c.trim();
      if (piece.length < 4) continue;
      const at = passageText.indexOf(piece);
      if (at !== -1) return [at, at + piece.length];
    }
    return null;
  }

  // ---------------------------------------------------------------- state

  /** @type {{id:number, question:string, k:number, status:string, response?:object, error?:object}[]} */
  let turns = [];
  let nextId = 1;
  let inFlight = null; // AbortController of the running request

  function save() {
    try {
      const kept = turns.slice(-MAX_TURNS);
      sessionStorage.setItem(STORE_KEY, JSON.stringify({ nextId, turns: kept }));
    } catch (_) {
      /* full or unavailable storage: the conversation just is not kept */
    }
  }

  function restore() {
    try {
      const data = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (!data || !Array.isArray(data.turns)) return;
      turns = data.turns.filter((x) => x && typeof x.question === "string");
      for (const turn of turns) {
        if (turn.status === "pending") {
          turn.status = "error";
          turn.error = { kind: "interrupted" };
        }
      }
      nextId = Math.max(Number(data.nextId) || 1, ...turns.map((x) => Number(x.id) + 1 || 1));
    } catch (_) {
      turns = [];
    }
  }

  // ---------------------------------------------------------------- elements

  const form = $("ask-form");
  const input = $("question");
  const sendButton = $("send");
  const kSelect = $("k");
  const list = $("conversation");
  const welcome = $("welcome");
  const announcer = $("announcer");
  const resetButton = $("reset");
  const langButton = $("lang");

  function announce(message) {
    announcer.textContent = "";
    // A fresh text a moment later, so that the same message is announced again.
    window.setTimeout(() => {
      announcer.textContent = message;
    }, 50);
  }

  function updateControls() {
    const busy = inFlight !== null;
    sendButton.disabled = busy || input.value.trim() === "";
    sendButton.setAttribute("aria-busy", busy ? "true" : "false");
    welcome.hidden = turns.length > 0;
    resetButton.disabled = turns.length === 0 && !busy;
  }

  // ---------------------------------------------------------------- API calls and the key

  // With STIQA_API_KEY set, the server answers /api/* with 401 unless the key comes along. The key is
  // asked for only then, kept in sessionStorage (it ends with the tab), sent only as a header, and
  // never logged, put in a URL or written into the page.
  const KEY_STORE = "stiqa.apiKey";
  const KEY_CHARS = /^[\x21-\x7e]+$/; // what a header value can carry as it is
  const keyButton = $("key-button");
  const keyDialog = $("key-dialog");
  const keyForm = $("key-form");
  const keyInput = $("key-input");
  const keyText = $("key-text");
  const keyError = $("key-error");
  const keyForget = $("key-forget");
  let memoryKey = null; // when sessionStorage is unavailable
  let keyNeeded = false; // the server asked for a key (during this page's life)
  let keyMode = "required"; // "required" | "rejected" | "manage"
  let keyErrorName = null; // the STRINGS name of the message the form shows
  let keyPrompt = null; // Promise<boolean> while the form is open for a call
  let keyResolve = null;
  let keyReturnFocus = null;

  function readKey() {
    try {
      return sessionStorage.getItem(KEY_STORE) || null;
    } catch (_) {
      return memoryKey;
    }
  }

  function storeKey(key) {
    memoryKey = key || null;
    try {
      if (key) sessionStorage.setItem(KEY_STORE, key);
      else sessionStorage.removeItem(KEY_STORE);
    } catch (_) {
      /* kept in memory only */
    }
    updateKeyButton();
  }

  /** The stored key as a header, for the calls that do not go through api() (a page image, an upload). */
  function bearer() {
    const key = readKey();
    return key ? { authorization: `Bearer ${key}` } : {};
  }

  function updateKeyButton() {
    keyButton.hidden = !(readKey() || keyNeeded);
  }

  /**
   * Every call to the API: the stored key as `Authorization: Bearer`, a timeout per attempt, the JSON body
   * read. On a 401 the key form opens; once a key is saved the call is made again with it (a refused key
   * is forgotten and the form says so). Resolves to {status, ok, body} (the 401 itself when the form is
   * cancelled); rejects with {kind: "timeout" | "network" | "aborted"}. ``signal`` cancels the call.
   */
  async function api(url, init = {}, signal = null) {
    for (;;) {
      const key = readKey();
      const headers = new Headers(init.headers || {});
      headers.set("accept", "application/json");
      if (key) headers.set("authorization", `Bearer ${key}`);
      const controller = new AbortController();
      let timedOut = false;
      const timer = window.setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, TIMEOUT_MS);
      const cancel = () => controller.abort();
      if (signal) {
        if (signal.aborted) cancel();
        signal.addEventListener("abort", cancel);
      }
      let result;
      try {
        const res = await fetch(url, { ...init, headers, signal: controller.signal });
        let body = null;
        try {
          body = await res.json();
        } catch (_) {
          body = null;
        }
        result = { status: res.status, ok: res.ok, body };
      } catch (_) {
        throw { kind: timedOut ? "timeout" : signal && signal.aborted ? "aborted" : "network" };
      } finally {
        window.clearTimeout(timer);
        if (signal) signal.removeEventListener("abort", cancel);
      }
      if (result.status !== 401) return result;
      keyNeeded = true;
      updateKeyButton();
      if (readKey() !== key) continue; // the key changed while this call was out: try the new one
      if (key) storeKey(null); // refused: not kept, not sent again
      if (!(await promptForKey(Boolean(key)))) return result;
      if (signal && signal.aborted) throw { kind: "aborted" };
    }
  }

  /** The key form for the calls that got a 401: one form however many calls wait on it. */
  function promptForKey(rejected) {
    if (!keyPrompt) {
      keyPrompt = openKeyDialog(rejected ? "rejected" : "required").finally(() => {
        keyPrompt = null;
      });
    } else if (rejected) {
      keyErrorName = "keyRejected";
      renderKeyDialog();
    }
    return keyPrompt;
  }

  /** Open the form; resolves to true when a key was saved, false when it was closed otherwise. */
  function openKeyDialog(mode) {
    if (keyResolve) keyResolve(false); // opened from the top bar while it was open: the new use wins
    return new Promise((resolve) => {
      keyMode = mode;
      keyErrorName = mode === "rejected" ? "keyRejected" : null;
      keyResolve = resolve;
      keyInput.value = "";
      if (!keyDialog.open) {
        const active = document.activeElement;
        keyReturnFocus = active && active !== document.body ? active : null;
        keyDialog.returnValue = "";
        keyDialog.showModal();
      }
      renderKeyDialog();
      keyInput.focus();
    });
  }

  function renderKeyDialog() {
    keyText.textContent = t(keyMode === "manage" ? "keyManageText" : "keyText");
    keyError.textContent = keyErrorName ? t(keyErrorName) : "";
    keyInput.setAttribute("aria-invalid", keyErrorName ? "true" : "false");
    keyForget.hidden = !readKey();
  }

  /** Where focus goes back to when the element that had it before the form is gone. */
  function fallbackFocus() {
    if (viewer.open) return viewerBody;
    if (view === "chat") return input;
    return tabs.find((tab) => tab.dataset.view === view) || null;
  }

  function saveKey() {
    const value = keyInput.value.trim();
    const problem = !value ? "keyEmpty" : KEY_CHARS.test(value) ? null : "keyBadChars";
    if (problem) {
      keyErrorName = problem;
      renderKeyDialog();
      keyInput.focus();
      return;
    }
    storeKey(value);
    keyInput.value = "";
    keyDialog.close("saved");
    announce(t("keySaved"));
  }

  function forgetKey() {
    storeKey(null);
    keyInput.value = "";
    keyDialog.close("forgotten");
    announce(t("keyForgotten"));
  }

  // ---------------------------------------------------------------- rendering

  function errorMessage(error) {
    switch (error && error.kind) {
      case "timeout":
        return t("errorTimeout", Math.round(TIMEOUT_MS / 1000));
      case "http":
        return t("errorHttp", error.status, str(error.detail));
      case "bad":
        return t("errorBad");
      case "interrupted":
        return t("errorInterrupted");
      case "key":
        return t("errorKey");
      default:
        return t("errorNetwork");
    }
  }

  function citationItem(passage, index, options) {
    const c = passage.citation || {};
    const section = str(c.section);
    const number = index + 1;
    const text = str(passage.text);
    const score = Number(passage.score);
    const excerpt = options.answerText && passage.id === options.answerPassageId ? excerptSpan(text, options.answerText) : null;
    const open = () => openSource(passage);
    return h(
      "li",
      { class: "citation" + (options.nearest ? " nearest" : ""), id: options.idPrefix + number },
      h(
        "button",
        { type: "button", class: "citation-head", onclick: open },
        h("span", { class: "visually-hidden" }, t("citeLabel")),
        h("span", { class: "cite-num" }, String(number)),
        h("span", { class: "cite-page" }, t("page", str(c.page))),
        h("span", { class: "cite-section" }, section),
        h("span", { class: "cite-doc" }, str(c.doc)),
        h("span", { class: "cite-score" }, `${t("score")} ${Number.isFinite(score) ? score.toFixed(3) : "–"}`),
        options.nearest ? h("span", { class: "badge" }, t("notAnswer")) : null,
        h("span", { class: "visually-hidden" }, t("openHint"))
      ),
      h("p", { class: "passage-text" }, excerpt ? highlighted(text, [excerpt], "excerpt") : text)
    );
  }

  function answerCard(turn) {
    const card = h("article", { class: "card", "aria-label": t("answer") });
    if (turn.status === "pending") {
      card.classList.add("pending");
      card.setAttribute("aria-busy", "true");
      card.append(h("p", { class: "loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("loading")));
      return card;
    }
    if (turn.status === "error") {
      card.classList.add("error");
      card.append(
        h("p", { class: "error-text" }, errorMessage(turn.error)),
        h("button", { type: "button", class: "ghost retry", onclick: () => retry(turn) }, t("retry"))
      );
      return card;
    }
    const r = turn.response;
    const passages = Array.isArray(r.passages) ? r.passages : [];
    const idPrefix = `turn-${turn.id}-cite-`;
    if (r.answerable && r.answer) {
      const answerText = str(r.answer.text);
      const from = passages.findIndex((p) => p.id === r.answer.passage_id);
      card.classList.add("answered");
      card.append(
        h("h3", { class: "card-label" }, t("answer")),
        h("p", { class: "answer-text" }, highlighted(answerText, sharedSpans(answerText, turn.question), "shared"))
      );
      const meta = h("p", { class: "answer-meta" });
      if (r.answer.date) meta.append(h("span", { class: "chip" }, `${t("date")}: ${str(r.answer.date)}`));
      if (from !== -1) {
        const p = passages[from];
        meta.append(
          h(
            "button",
            { type: "button", class: "link", onclick: () => openSource(p) },
            `${t("answerFrom")} [${from + 1}] ${t("page", str(p.citation?.page))}「${str(p.citation?.section)}」`
          )
        );
      }
      if (meta.childNodes.length) card.append(meta);
      if (passages.length) {
        card.append(
          h("h4", { class: "sources-label" }, t("sources")),
          h(
            "ol",
            { class: "citations" },
            passages.map((p, i) => citationItem(p, i, { idPrefix, answerText, answerPassageId: r.answer.passage_id }))
          )
        );
      }
    } else {
      card.classList.add("unanswered");
      card.append(h("p", { class: "no-answer" }, t("noAnswer")), h("p", { class: "no-answer-hint" }, t("noAnswerHint")));
      if (passages.length) {
        card.append(
          h("h4", { class: "sources-label nearest-label" }, t("nearest")),
          h("ol", { class: "citations nearest-list" }, passages.map((p, i) => citationItem(p, i, { idPrefix, nearest: true })))
        );
      }
    }
    return card;
  }

  function turnElement(turn) {
    return h(
      "li",
      { class: "turn", id: `turn-${turn.id}`, "data-status": turn.status },
      h("div", { class: "question" }, h("span", { class: "visually-hidden" }, `${t("you")}: `), h("p", {}, turn.question)),
      answerCard(turn)
    );
  }

  function renderTurn(turn) {
    const node = turnElement(turn);
    const old = $(`turn-${turn.id}`);
    if (old) old.replaceWith(node);
    else list.append(node);
    return node;
  }

  function renderAll() {
    list.replaceChildren(...turns.map(turnElement));
    updateControls();
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("pageTitle");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
    langButton.textContent = t("langButton");
    langButton.setAttribute("aria-label", t("langLabel"));
    langButton.lang = lang === "ja" ? "en" : "ja";
    renderKeyDialog();
  }

  // ---------------------------------------------------------------- asking

  async function run(turn) {
    const controller = new AbortController();
    inFlight = controller;
    updateControls();
    announce(t("loading"));
    try {
      const { status, ok, body } = await api(
        "api/ask",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(turn.docs ? { question: turn.question, k: turn.k, docs: turn.docs } : { question: turn.question, k: turn.k }),
        },
        controller.signal
      );
      if (status === 401) {
        turn.status = "error";
        turn.error = { kind: "key" };
      } else if (!ok) {
        turn.status = "error";
        turn.error = { kind: "http", status, detail: body && typeof body.detail === "string" ? body.detail : "" };
      } else if (!body || typeof body.answerable !== "boolean" || !Array.isArray(body.passages)) {
        turn.status = "error";
        turn.error = { kind: "bad" };
      } else {
        turn.status = "done";
        turn.response = body;
      }
    } catch (e) {
      turn.status = "error";
      turn.error = { kind: e && e.kind === "timeout" ? "timeout" : "network" };
    }
    if (inFlight !== controller) return; // cleared ("start over") while waiting
    inFlight = null;
    save();
    const node = renderTurn(turn);
    updateControls();
    node.scrollIntoView({ block: "start", behavior: "smooth" });
    if (turn.status === "done") {
      const r = turn.response;
      announce(r.answerable && r.answer ? t("announceAnswer", str(r.answer.text)) : t("noAnswer"));
    } else {
      announce(t("announceError", errorMessage(turn.error)));
    }
  }

  function ask(question) {
    const q = question.trim();
    if (!q || inFlight) return;
    const turn = { id: nextId++, question: q, k: Number(kSelect.value) || 5, status: "pending", docs: scopedDocs() };
    turns.push(turn);
    save();
    const node = renderTurn(turn);
    updateControls();
    node.scrollIntoView({ block: "start", behavior: "smooth" });
    run(turn);
  }

  function retry(turn) {
    if (inFlight) return;
    turn.status = "pending";
    delete turn.error;
    save();
    renderTurn(turn);
    run(turn);
  }

  function submit() {
    if (sendButton.disabled) return;
    const q = input.value;
    input.value = "";
    updateControls();
    ask(q);
    input.focus();
  }

  function startOver() {
    if (inFlight) inFlight.abort();
    inFlight = null;
    turns = [];
    try {
      sessionStorage.removeItem(STORE_KEY);
    } catch (_) {
      /* ignore */
    }
    renderAll();
    input.value = "";
    updateControls();
    input.focus();
    announce(t("cleared"));
  }

  // ---------------------------------------------------------------- source viewer

  const viewer = $("viewer");
  const viewerMeta = $("viewer-meta");
  const viewerTitle = $("viewer-title");
  const viewerBody = $("viewer-body");
  const viewerText = $("viewer-text");
  const viewerPage = $("viewer-page");
  let pageImageUrl = null; // the object URL of the page image shown
  const viewerPos = $("viewer-pos");
  const viewerPrev = $("viewer-prev");
  const viewerNext = $("viewer-next");
  let viewing = null; // {doc, page, passage}
  let pageCounts = null; // doc name -> number of pages

  async function getJson(url) {
    let r;
    try {
      r = await api(url);
    } catch (e) {
      throw new Error(errorMessage(e));
    }
    if (r.status === 401) throw new Error(t("errorKey"));
    if (!r.ok) throw new Error(r.body && typeof r.body.detail === "string" ? r.body.detail : `HTTP ${r.status}`);
    return r.body;
  }

  async function loadPageCounts() {
    if (pageCounts) return pageCounts;
    try {
      const body = await getJson("api/documents");
      pageCounts = Object.fromEntries((body.documents || []).map((d) => [d.name, d.pages]));
      return pageCounts;
    } catch (_) {
      return {}; // not kept: asked again next time
    }
  }

  function openSource(passage) {
    const c = passage.citation || {};
    viewing = { doc: str(c.doc), page: Number(c.page), passage };
    if (!viewer.open) viewer.showModal();
    showPage();
  }

  async function showPage() {
    const { doc, page, passage } = viewing;
    const request = viewing;
    viewerMeta.textContent = `${doc} ・ ${t("page", page)}`;
    viewerTitle.textContent = passage ? str(passage.citation?.section) : "";
    viewerText.replaceChildren(h("p", { class: "loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("loadingPage")));
    viewerPage.hidden = true;
    viewerPage.replaceChildren();
    viewerPrev.disabled = viewerNext.disabled = true;
    viewerPos.textContent = "";
    let data;
    try {
      const [body, counts] = await Promise.all([
        getJson(`api/documents/${encodeURIComponent(doc)}/pages/${encodeURIComponent(String(page))}`),
        loadPageCounts(),
      ]);
      data = body;
      if (viewing !== request) return;
      const total = counts[doc];
      viewerPos.textContent = t("pagePos", page, total);
      viewerPrev.disabled = page <= 1;
      viewerNext.disabled = Boolean(total) && page >= total;
    } catch (e) {
      if (viewing !== request) return;
      viewerText.replaceChildren(h("p", { class: "error-text" }, t("pageError", e && e.message ? e.message : "")));
      viewerPrev.disabled = page <= 1;
      viewerNext.disabled = false;
      return;
    }
    const text = str(data.text);
    viewerTitle.textContent = str(data.title);
    let span = null;
    if (passage && passage.event) {
      span = eventSpan(text, passage.event);
    } else if (passage) {
      const located = (data.passages || []).find((p) => p.id === passage.id);
      if (located && located.end > located.start) span = [located.start, located.end];
      else {
        const at = text.indexOf(str(passage.text));
        if (at !== -1 && passage.text) span = [at, at + str(passage.text).length];
      }
    }
    viewerText.replaceChildren(...highlighted(text, span ? [span] : [], "cited"));
    if (data.image) showPageImage(data, passage, request);
    const mark = viewerText.querySelector("mark");
    viewerBody.focus({ preventScroll: true });
    if (mark) {
      mark.setAttribute("aria-label", t("cited"));
      mark.scrollIntoView({ block: "center" });
    } else {
      viewerBody.scrollTop = 0;
    }
  }

  /**
   * A PDF page's image above its text, the cited passage's lines marked on it. Fetched with the key (an
   * <img> could not send it) and shown from an object URL; a failure leaves the text alone.
   */
  async function showPageImage(data, passage, request) {
    let blob;
    try {
      const res = await fetch(str(data.image).replace(/^\//, ""), { headers: bearer() });
      if (!res.ok) return;
      blob = await res.blob();
    } catch (_) {
      return;
    }
    if (viewing !== request) return;
    if (pageImageUrl) URL.revokeObjectURL(pageImageUrl);
    pageImageUrl = URL.createObjectURL(blob);
    const cited = passage ? (data.passages || []).find((p) => p.id === passage.id) : null;
    const marks = ((cited && cited.rects) || []).map(([left, top, right, bottom]) => {
      const mark = h("span", { class: "page-mark", "aria-hidden": "true" });
      Object.assign(mark.style, {
        left: `${left * 100}%`, top: `${top * 100}%`, width: `${(right - left) * 100}%`, height: `${(bottom - top) * 100}%`,
      });
      return mark;
    });
    viewerPage.replaceChildren(h("img", { src: pageImageUrl, alt: t("pageImage", data.page) }), ...marks);
    viewerPage.hidden = false;
  }

  function turnPage(delta) {
    if (!viewing) return;
    viewing = { doc: viewing.doc, page: viewing.page + delta, passage: null };
    showPage();
  }


  // ---------------------------------------------------------------- timeline

  const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
  const panels = { chat: $("panel-chat"), timeline: $("panel-timeline"), documents: $("panel-documents") };
  const timelineForm = $("timeline-filters");
  const timelineQuery = $("timeline-q");
  const timelineList = $("timeline-list");
  const timelineCount = $("timeline-count");
  const VIEW_KEY = "stiqa.view";
  const FILTER_DELAY_MS = 300;

  let view = "chat";
  const timelineCache = new Map(); // q -> {status: "loading"|"done"|"error", events?, error?}
  let timelineQ = ""; // the query the list shows (or is loading)
  let filterTimer = 0;

  /** A date as the API writes it ("2024-02-16", "2024-02", "2024", "FY2024") -> its parts, or null. */
  function parseDate(value) {
    const m = /^(FY)?(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$/.exec(str(value));
    if (!m) return null;
    return { fy: Boolean(m[1]), year: Number(m[2]), month: m[3] ? Number(m[3]) : 0, day: m[4] ? Number(m[4]) : 0 };
  }

  function formatDate(d, language) {
    if (language === "en") {
      const months = STRINGS.en.months;
      if (d.fy) return `FY${d.year}`;
      if (d.day) return `${months[d.month - 1]} ${d.day}, ${d.year}`;
      if (d.month) return `${months[d.month - 1]} ${d.year}`;
      return String(d.year);
    }
    if (d.fy) return `${d.year}年度`;
    if (d.day) return `${d.year}年${d.month}月${d.day}日`;
    if (d.month) return `${d.year}年${d.month}月`;
    return `${d.year}年`;
  }

  /** 2024年2月16日, 2024年度, 2014〜2018年度 (Feb 16, 2024, FY2024, FY2014–2018 in English). */
  function eventDateLabel(event, language) {
    const start = parseDate(event.date);
    if (!start) return str(event.date);
    const end = event.end ? parseDate(event.end) : null;
    if (!end) return formatDate(start, language);
    const en = language === "en";
    const dash = en ? "–" : "〜";
    const plain = (d) => !d.month && !d.day;
    if (start.fy && end.fy) return en ? `FY${start.year}${dash}${end.year}` : `${start.year}${dash}${end.year}年度`;
    if (plain(start) && plain(end) && !start.fy && !end.fy) return en ? `${start.year}${dash}${end.year}` : `${start.year}${dash}${end.year}年`;
    if (!en && start.year === end.year && start.month && end.month && !start.day && !end.day && !start.fy && !end.fy) {
      return `${start.year}年${start.month}月${dash}${end.month}月`;
    }
    return `${formatDate(start, language)}${dash}${formatDate(end, language)}`;
  }

  /** The machine-readable date for <time>, when there is one (not for fiscal years). */
  function isoDate(value) {
    const d = parseDate(value);
    if (!d || d.fy) return null;
    const pad = (n) => String(n).padStart(2, "0");
    return [String(d.year), d.month ? pad(d.month) : null, d.day ? pad(d.day) : null].filter(Boolean).join("-");
  }

  /**
   * Where an event is stated in its page's text: the date as written, widened to the start of the event's
   * clause when that lies close by. The clause is found by the first characters of the event text (the
   * text leaves the date out, so a shorter prefix is tried when a longer one is not found). Null when
   * neither is found.
   */
  function eventSpan(pageText, event) {
    const wording = str(event.wording).trim();
    const clause = str(event.text).replace(/^…+/, "").split("…")[0].trim();
    let anchor = null;
    if (clause.length >= 4 && pageText.includes(clause)) {
      const at = pageText.indexOf(clause);
      anchor = [at, at + clause.length];
    } else {
      for (const n of [20, 12, 8, 6, 4]) {
        const prefix = clause.slice(0, n);
        if (prefix.length < Math.min(n, 4)) continue;
        const at = pageText.indexOf(prefix);
        if (at !== -1) {
          anchor = [at, at + prefix.length];
          break;
        }
      }
    }
    let best = null;
    if (wording) {
      for (let at = pageText.indexOf(wording); at !== -1; at = pageText.indexOf(wording, at + 1)) {
        const distance = anchor ? Math.abs(at - anchor[0]) : at;
        if (!best || distance < best.distance) best = { span: [at, at + wording.length], distance };
      }
    }
    if (!best) return anchor;
    const w = best.span;
    if (!anchor) return w;
    const gap = Math.max(anchor[0] - w[1], w[0] - anchor[1], 0);
    if (gap > 40) return w;
    const span = [Math.min(w[0], anchor[0]), Math.max(w[1], anchor[1])];
    // 「設立(令和6年2月」 -> 「設立(令和6年2月)」: close a bracket the span opens.
    const piece = pageText.slice(span[0], span[1]);
    for (const [open, close] of [["(", ")"], ["（", "）"], ["「", "」"]]) {
      if (piece.split(open).length > piece.split(close).length && pageText[span[1]] === close) span[1] += 1;
    }
    return span;
  }

  function setView(name, options = {}) {
    if (!panels[name]) name = "chat";
    view = name;
    for (const tab of tabs) {
      const selected = tab.dataset.view === name;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
      if (selected && options.focus) tab.focus();
    }
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
    resetButton.hidden = name !== "chat";
    document.documentElement.dataset.view = name;
    try {
      sessionStorage.setItem(VIEW_KEY, name);
    } catch (_) {
      /* ignore */
    }
    if (name === "timeline") loadTimeline(timelineQ);
    if (name === "documents") loadDocuments();
  }

  // ---------------------------------------------------------------- documents

  const documentsList = $("documents-list");
  const documentsCount = $("documents-count");
  const uploadBox = $("upload");
  const uploadInput = $("upload-input");
  const uploadDrop = $("upload-drop");
  const uploadStatus = $("upload-status");
  const scope = $("scope");
  const scopeText = $("scope-text");
  const JOB_POLL_MS = 500;
  const scoped = new Set(); // the ids of the documents questions are limited to

  function scopedDocs() {
    return scoped.size ? [...scoped] : null;
  }

  function updateScope() {
    scope.hidden = !scoped.size;
    scopeText.textContent = scoped.size ? t("scopeText", scoped.size) : "";
  }

  /** The list of documents (GET /api/documents), each indexed one with a box that limits questions to it. */
  async function loadDocuments() {
    let body;
    try {
      const [list, health] = await Promise.all([getJson("api/documents"), getJson("api/health")]);
      body = list;
      uploadBox.hidden = !health.uploads;
    } catch (e) {
      documentsCount.textContent = t("pageError", e && e.message ? e.message : "");
      return;
    }
    const docs = body.documents || [];
    const skipped = docs.filter((d) => d.status === "skipped");
    documentsCount.textContent = t("documentsCount", docs.length - skipped.length, skipped.length);
    for (const name of [...scoped]) if (!docs.some((d) => d.name === name && d.status !== "skipped")) scoped.delete(name);
    updateScope();
    documentsList.replaceChildren(...docs.map((d) => {
      const name = str(d.name);
      if (d.status === "skipped") {
        return h("li", { class: "skipped" }, h("span", { class: "doc-name" }, name), h("span", { class: "doc-reason" }, t("docSkipped", str(d.reason))));
      }
      const box = h("input", { type: "checkbox", "aria-label": t("askOnly", name), checked: scoped.has(name) });
      box.addEventListener("change", () => {
        if (box.checked) scoped.add(name);
        else scoped.delete(name);
        updateScope();
      });
      return h("li", {}, box, h("span", { class: "doc-name" }, name), h("span", { class: "doc-meta" }, t("docMeta", str(d.format), d.pages, d.passages)));
    }));
  }

  /** POST the files, then follow the job until the server answers from the new index. */
  async function upload(files) {
    if (!files.length) return;
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    uploadStatus.replaceChildren(...files.map((f) => h("li", {}, t("uploading", f.name))));
    try {
      // Not api(): an upload may take longer than a question's timeout.
      const res = await fetch("api/documents", { method: "POST", body: form, headers: bearer() });
      let job = await res.json().catch(() => null);
      if (!res.ok || !job) throw new Error(job && typeof job.detail === "string" ? job.detail : `HTTP ${res.status}`);
      uploadStatus.replaceChildren(...job.files.map((f) => h("li", {}, t("uploadIndexing", f.name))));
      while (job.status === "queued" || job.status === "running") {
        await new Promise((done) => window.setTimeout(done, JOB_POLL_MS));
        job = await getJson(`api/jobs/${encodeURIComponent(job.id)}`);
      }
      if (job.status !== "done") throw new Error(str(job.error));
      uploadStatus.replaceChildren(...job.files.map((f) => h("li", {}, f.status === "indexed" ? t("uploadIndexed", f.name, f.passages) : t("uploadSkipped", f.name, str(f.reason)))));
      pageCounts = null; // pages of the new documents
      loadDocuments();
    } catch (e) {
      uploadStatus.replaceChildren(h("li", { class: "error-text" }, t("uploadFailed", e && e.message ? e.message : "")));
    }
  }

  function timelineStatus() {
    const checked = timelineForm.querySelector("input[name=status]:checked");
    return checked ? checked.value : "";
  }

  function classify(error) {
    if (error && error.kind) return error;
    return { kind: error && error.name === "AbortError" ? "timeout" : "network" };
  }

  /** GET /api/timeline?q=…, once per query: the answer stays in memory for the page's lifetime. */
  async function loadTimeline(q) {
    timelineQ = q;
    const cached = timelineCache.get(q);
    if (cached && cached.status !== "error") {
      renderTimeline();
      return;
    }
    const entry = { status: "loading" };
    timelineCache.set(q, entry);
    renderTimeline();
    try {
      const { status, ok, body } = await api(q ? `api/timeline?q=${encodeURIComponent(q)}` : "api/timeline");
      if (status === 401) throw { kind: "key" };
      if (!ok) throw { kind: "http", status, detail: body && typeof body.detail === "string" ? body.detail : "" };
      if (!body || !Array.isArray(body.events)) throw { kind: "bad" };
      entry.status = "done";
      entry.events = body.events.filter((e) => e && typeof e === "object");
    } catch (e) {
      entry.status = "error";
      entry.error = classify(e);
    }
    if (timelineCache.get(q) !== entry || timelineQ !== q) return; // a newer query took over
    renderTimeline();
    announce(entry.status === "done" ? timelineCount.textContent : t("announceError", timelineCount.dataset.error || ""));
  }

  function eventItem(event) {
    const c = event.citation || {};
    const planned = event.status === "planned";
    const label = eventDateLabel(event, lang);
    const wording = str(event.wording);
    const iso = isoDate(event.date);
    const showWording = wording && wording !== eventDateLabel(event, "ja");
    return h(
      "li",
      { class: "event" + (planned ? " planned" : ""), "data-status": event.status === "planned" ? "planned" : "done" },
      h(
        "button",
        { type: "button", class: "event-open", onclick: () => openSource({ citation: c, event }) },
        h(
          "span",
          { class: "event-when" },
          h("time", { class: "event-date", datetime: iso }, label),
          planned ? h("span", { class: "badge planned-badge" }, t("planned")) : null
        ),
        h(
          "span",
          { class: "event-body" },
          h("span", { class: "event-text" }, str(event.text)),
          showWording
            ? h("span", { class: "event-wording" }, h("span", { class: "event-wording-label" }, `${t("asWritten")}: `), wording)
            : null,
          h(
            "span",
            { class: "event-source" },
            h("span", { class: "cite-page" }, t("page", str(c.page))),
            " ",
            h("span", { class: "event-section" }, str(c.section)),
            h("span", { class: "visually-hidden" }, t("openEvent"))
          )
        )
      )
    );
  }

  function renderTimeline() {
    const entry = timelineCache.get(timelineQ);
    delete timelineCount.dataset.error;
    if (!entry || entry.status === "loading") {
      timelineList.setAttribute("aria-busy", "true");
      timelineCount.textContent = "";
      timelineList.replaceChildren(
        h("p", { class: "loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("timelineLoading"))
      );
      return;
    }
    timelineList.setAttribute("aria-busy", "false");
    if (entry.status === "error") {
      const message = t("timelineError", errorMessage(entry.error));
      timelineCount.textContent = "";
      timelineCount.dataset.error = message;
      timelineList.replaceChildren(
        h(
          "div",
          { class: "card error" },
          h("p", { class: "error-text" }, message),
          h("button", { type: "button", class: "ghost retry", onclick: () => loadTimeline(timelineQ) }, t("retry"))
        )
      );
      return;
    }
    const status = timelineStatus();
    const events = entry.events.filter((e) => !status || e.status === status);
    timelineCount.textContent = t("timelineCount", events.length);
    if (!events.length) {
      timelineList.replaceChildren(h("p", { class: "timeline-empty" }, t("timelineEmpty")));
      return;
    }
    const years = new Map(); // start year -> events, in the API's (date) order
    for (const event of events) {
      const d = parseDate(event.date);
      const year = d ? String(d.year) : "—";
      if (!years.has(year)) years.set(year, []);
      years.get(year).push(event);
    }
    timelineList.replaceChildren(
      ...[...years].map(([year, items]) =>
        h(
          "section",
          { class: "year-group", "aria-labelledby": `year-${year}`, "data-year": year },
          h(
            "h3",
            { class: "year-heading", id: `year-${year}` },
            h("span", { class: "year-label" }, year === "—" ? year : t("yearHeading", year)),
            h("span", { class: "year-count" }, t("yearCount", items.length))
          ),
          h("ol", { class: "events" }, items.map(eventItem))
        )
      )
    );
  }

  function applyTimelineFilter(now) {
    window.clearTimeout(filterTimer);
    const run = () => {
      const q = timelineQuery.value.normalize("NFKC").trim();
      if (q !== timelineQ || !timelineCache.has(q)) loadTimeline(q);
    };
    if (now) run();
    else filterTimer = window.setTimeout(run, FILTER_DELAY_MS);
  }

  // ---------------------------------------------------------------- events

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  let composing = false;
  input.addEventListener("compositionstart", () => {
    composing = true;
  });
  input.addEventListener("compositionend", () => {
    composing = false;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    // Enter that confirms an IME conversion must never send (keyCode 229: Safari, older Chrome).
    if (event.isComposing || event.keyCode === 229 || composing) return;
    event.preventDefault();
    submit();
  });
  input.addEventListener("input", updateControls);

  for (const button of document.querySelectorAll("#examples .example")) {
    button.addEventListener("click", () => ask(button.textContent));
  }
  resetButton.addEventListener("click", startOver);
  langButton.addEventListener("click", () => {
    lang = lang === "ja" ? "en" : "ja";
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch (_) {
      /* ignore */
    }
    applyLanguage();
    renderAll();
    if (timelineCache.size) renderTimeline();
  });

  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => setView(tab.dataset.view));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
      setView(next.dataset.view, { focus: true });
    });
  });
  document.querySelector(".skip-link").addEventListener("click", () => {
    if (view !== "chat") setView("chat");
  });
  timelineForm.addEventListener("submit", (event) => {
    event.preventDefault();
    applyTimelineFilter(true);
  });
  timelineForm.addEventListener("change", (event) => {
    if (event.target.name === "status") {
      renderTimeline();
      const entry = timelineCache.get(timelineQ);
      if (entry && entry.status === "done") announce(timelineCount.textContent);
    }
  });
  timelineQuery.addEventListener("input", () => applyTimelineFilter(false));
  timelineQuery.addEventListener("search", () => applyTimelineFilter(true)); // the clear button

  $("viewer-close").addEventListener("click", () => viewer.close());
  $("scope-clear").addEventListener("click", () => {
    scoped.clear();
    updateScope();
    for (const box of documentsList.querySelectorAll("input[type=checkbox]")) box.checked = false;
  });
  uploadInput.addEventListener("change", () => {
    upload([...uploadInput.files]);
    uploadInput.value = "";
  });
  uploadDrop.addEventListener("dragover", (e) => {
    e.preventDefault();
    uploadDrop.classList.add("over");
  });
  uploadDrop.addEventListener("dragleave", () => uploadDrop.classList.remove("over"));
  uploadDrop.addEventListener("drop", (e) => {
    e.preventDefault();
    uploadDrop.classList.remove("over");
    upload([...(e.dataTransfer ? e.dataTransfer.files : [])]);
  });
  viewer.addEventListener("click", (event) => {
    if (event.target === viewer) viewer.close(); // a click on the backdrop
  });
  viewer.addEventListener("close", () => {
    viewing = null;
  });
  viewerPrev.addEventListener("click", () => turnPage(-1));
  viewerNext.addEventListener("click", () => turnPage(1));

  keyButton.addEventListener("click", () => {
    openKeyDialog(readKey() ? "manage" : "required");
  });
  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveKey();
  });
  keyInput.addEventListener("input", () => {
    if (keyErrorName && keyErrorName !== "keyRejected") {
      keyErrorName = null;
      renderKeyDialog();
    }
  });
  $("key-cancel").addEventListener("click", () => keyDialog.close());
  keyForget.addEventListener("click", forgetKey);
  keyDialog.addEventListener("close", () => {
    // Esc, Cancel, Save or Forget: the calls waiting on the form go on (with the new key) or give up.
    keyInput.value = "";
    const resolve = keyResolve;
    keyResolve = null;
    const back = keyReturnFocus;
    keyReturnFocus = null;
    const target = back && back.isConnected && back.getClientRects().length ? back : fallbackFocus();
    if (target) target.focus();
    if (resolve) resolve(keyDialog.returnValue === "saved");
  });

  // ---------------------------------------------------------------- start

  restore();
  applyLanguage();
  renderAll();
  let savedView = "chat";
  try {
    savedView = sessionStorage.getItem(VIEW_KEY) || "chat";
  } catch (_) {
    /* ignore */
  }
  setView(savedView);
  updateKeyButton();
  if (turns.length) {
    save();
    list.lastElementChild?.scrollIntoView({ block: "start" });
  }
  document.documentElement.dataset.ready = "true";
})();
