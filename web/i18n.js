// The chat's texts in Japanese and English, the language shown, t() to look a text up and the
// switch between the languages.
import { $ } from "./dom.js";

const LANG_KEY = "stiqa.lang";
const langButton = $("lang");

export const STRINGS = {
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

export let lang = readLang();

function readLang() {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved === "ja" || saved === "en") return saved;
  } catch (_) {
    /* storage may be unavailable */
  }
  return "ja";
}

export function t(key, ...args) {
  const v = STRINGS[lang][key] ?? STRINGS.ja[key];
  return typeof v === "function" ? v(...args) : v;
}

/** Switch to the other language and remember the choice; the caller relabels and re-renders. */
export function toggleLang() {
  lang = lang === "ja" ? "en" : "ja";
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch (_) {
    /* ignore */
  }
}

/** The page's fixed texts ([data-i18n], [data-i18n-placeholder], [data-i18n-label]), title and language button. */
export function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t("pageTitle");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  langButton.textContent = t("langButton");
  langButton.setAttribute("aria-label", t("langLabel"));
  langButton.lang = lang === "ja" ? "en" : "ja";
}
