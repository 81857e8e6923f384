// The chat: asking questions (POST /api/ask), the conversation kept for the tab's session, and the
// answers rendered with their cited passages.
import { api, errorMessage } from "./api.js";
import { $, announce, h, str } from "./dom.js";
import { scopedDocs } from "./documents.js";
import { excerptSpan, highlighted, sharedSpans } from "./highlight.js";
import { t } from "./i18n.js";
import { openSource } from "./sources.js";

const STORE_KEY = "stiqa.conversation.v1";
const MAX_TURNS = 50;

const form = $("ask-form");
const input = $("question");
const sendButton = $("send");
const kSelect = $("k");
const list = $("conversation");
const welcome = $("welcome");
const resetButton = $("reset");

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

/** The conversation kept for this tab (a question that was waiting when the page went is now an error). */
export function restore() {
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

function updateControls() {
  const busy = inFlight !== null;
  sendButton.disabled = busy || input.value.trim() === "";
  sendButton.setAttribute("aria-busy", busy ? "true" : "false");
  welcome.hidden = turns.length > 0;
  resetButton.disabled = turns.length === 0 && !busy;
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

export function renderAll() {
  list.replaceChildren(...turns.map(turnElement));
  updateControls();
}

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

/** The conversation restored from the session: kept again (trimmed) and scrolled to its last turn. */
export function resumeConversation() {
  if (turns.length) {
    save();
    list.lastElementChild?.scrollIntoView({ block: "start" });
  }
}

export function initChat() {
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
}
