// The timeline tab: dated events (GET /api/timeline?q=…) grouped by year, filtered by status and
// keyword; an event opens the page that states it.
import { api, classify, errorMessage } from "./api.js";
import { $, announce, h, str } from "./dom.js";
import { lang, STRINGS, t } from "./i18n.js";
import { openSource } from "./sources.js";

const timelineForm = $("timeline-filters");
const timelineQuery = $("timeline-q");
const timelineList = $("timeline-list");
const timelineCount = $("timeline-count");
const FILTER_DELAY_MS = 300;

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

function timelineStatus() {
  const checked = timelineForm.querySelector("input[name=status]:checked");
  return checked ? checked.value : "";
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

/** The list for the current query (loaded once, then from memory). */
export function showTimeline() {
  loadTimeline(timelineQ);
}

/** After a language switch: the list again in the new language, when there is one. */
export function relabelTimeline() {
  if (timelineCache.size) renderTimeline();
}

export function initTimeline() {
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
}
