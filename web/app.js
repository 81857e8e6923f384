// stiqa web chat: plain JS modules, no build step, no external resources.
// All text from the API is put on the page with textContent / text nodes, never as HTML.
//
// The entry module: it wires the features together and starts the page.
//   dom.js        $, h (elements from text, never HTML), str, announce (the live region)
//   i18n.js       the Japanese / English texts, t(), the language switch
//   key.js        the API key and its form          api.js     API calls, their errors as text
//   highlight.js  which text to mark, and the marks
//   chat.js       questions and answers             sources.js the source (page) viewer
//   timeline.js   the timeline tab                  documents.js the documents tab, scope, uploads
//   views.js      the tabs
import { $ } from "./dom.js";
import { applyLanguage, toggleLang } from "./i18n.js";
import { initKey, renderKeyDialog, updateKeyButton } from "./key.js";
import { initChat, renderAll, restore, resumeConversation } from "./chat.js";
import { initSources, viewerFocusTarget } from "./sources.js";
import { initTimeline, relabelTimeline } from "./timeline.js";
import { initDocuments } from "./documents.js";
import { currentView, initViews, savedView, selectedTab, setView } from "./views.js";

/** The page's fixed texts, and the key form's, in the language shown. */
function relabel() {
  applyLanguage();
  renderKeyDialog();
}

/** Where focus goes back to when the element that had it before the key form is gone. */
function fallbackFocus() {
  return viewerFocusTarget() || (currentView() === "chat" ? $("question") : selectedTab());
}

// ---------------------------------------------------------------- events

initChat();
$("lang").addEventListener("click", () => {
  toggleLang();
  relabel();
  renderAll();
  relabelTimeline();
});
initViews();
initTimeline();
initSources();
initDocuments();
initKey(fallbackFocus);

// ---------------------------------------------------------------- start

restore();
relabel();
renderAll();
setView(savedView());
updateKeyButton();
resumeConversation();
document.documentElement.dataset.ready = "true";
