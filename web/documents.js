// The documents tab: the list (GET /api/documents), ticking documents to limit questions to them
// (the scope line under the question box), and uploads by drag and drop or the file picker.
import { getJson } from "./api.js";
import { $, h, str } from "./dom.js";
import { t } from "./i18n.js";
import { bearer } from "./key.js";
import { forgetPageCounts } from "./sources.js";

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

export function scopedDocs() {
  return scoped.size ? [...scoped] : null;
}

function updateScope() {
  scope.hidden = !scoped.size;
  scopeText.textContent = scoped.size ? t("scopeText", scoped.size) : "";
}

/** The list of documents (GET /api/documents), each indexed one with a box that limits questions to it. */
export async function loadDocuments() {
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
    forgetPageCounts(); // pages of the new documents
    loadDocuments();
  } catch (e) {
    uploadStatus.replaceChildren(h("li", { class: "error-text" }, t("uploadFailed", e && e.message ? e.message : "")));
  }
}

export function initDocuments() {
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
}
