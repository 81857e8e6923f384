// Calls to the API (the key on each, a timeout, the 401 -> key form -> retry loop) and their errors as text.
import { str } from "./dom.js";
import { t } from "./i18n.js";
import { markKeyNeeded, promptForKey, readKey, storeKey } from "./key.js";

const TIMEOUT_MS = 30000;

/**
 * Every call to the API: the stored key as `Authorization: Bearer`, a timeout per attempt, the JSON body
 * read. On a 401 the key form opens; once a key is saved the call is made again with it (a refused key
 * is forgotten and the form says so). Resolves to {status, ok, body} (the 401 itself when the form is
 * cancelled); rejects with {kind: "timeout" | "network" | "aborted"}. ``signal`` cancels the call.
 */
export async function api(url, init = {}, signal = null) {
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
    markKeyNeeded();
    if (readKey() !== key) continue; // the key changed while this call was out: try the new one
    if (key) storeKey(null); // refused: not kept, not sent again
    if (!(await promptForKey(Boolean(key)))) return result;
    if (signal && signal.aborted) throw { kind: "aborted" };
  }
}

/** GET ``url`` through api(); resolves to the JSON body, rejects with an Error whose message can be shown. */
export async function getJson(url) {
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

/** An error thrown by api() (or anything else) as {kind, ...} for errorMessage(). */
export function classify(error) {
  if (error && error.kind) return error;
  return { kind: error && error.name === "AbortError" ? "timeout" : "network" };
}

/** The text shown for a failed call ({kind: "timeout" | "http" | "bad" | "interrupted" | "key" | "network"}). */
export function errorMessage(error) {
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
