// The source viewer (#viewer): a cited passage or a timeline event opened on its page, the cited text
// marked (and on the page image, for PDFs), with previous / next page.
import { getJson } from "./api.js";
import { $, h, str } from "./dom.js";
import { eventSpan, highlighted } from "./highlight.js";
import { t } from "./i18n.js";
import { bearer } from "./key.js";

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

export function openSource(passage) {
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

/** Forget the page counts (documents were added): asked again when next needed. */
export function forgetPageCounts() {
  pageCounts = null;
}

/** The viewer's text, when the viewer is open (where focus goes back to), else null. */
export function viewerFocusTarget() {
  return viewer.open ? viewerBody : null;
}

export function initSources() {
  $("viewer-close").addEventListener("click", () => viewer.close());
  viewer.addEventListener("click", (event) => {
    if (event.target === viewer) viewer.close(); // a click on the backdrop
  });
  viewer.addEventListener("close", () => {
    viewing = null;
  });
  viewerPrev.addEventListener("click", () => turnPage(-1));
  viewerNext.addEventListener("click", () => turnPage(1));
}
