// The tabs (#tabs: chat, timeline, documents): which panel shows, arrow-key moves between tabs, the
// view kept for the tab's session.
import { $ } from "./dom.js";
import { loadDocuments } from "./documents.js";
import { showTimeline } from "./timeline.js";

const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
const panels = { chat: $("panel-chat"), timeline: $("panel-timeline"), documents: $("panel-documents") };
const resetButton = $("reset");
const VIEW_KEY = "stiqa.view";

let view = "chat";

export function setView(name, options = {}) {
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
  if (name === "timeline") showTimeline();
  if (name === "documents") loadDocuments();
}

export function currentView() {
  return view;
}

/** The selected tab (null if there is none). */
export function selectedTab() {
  return tabs.find((tab) => tab.dataset.view === view) || null;
}

/** The view this tab showed last (chat the first time). */
export function savedView() {
  let saved = "chat";
  try {
    saved = sessionStorage.getItem(VIEW_KEY) || "chat";
  } catch (_) {
    /* ignore */
  }
  return saved;
}

export function initViews() {
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
}
