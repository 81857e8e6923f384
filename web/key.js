// The API key: kept for the tab, sent as a header, and the form (#key-dialog) that asks for it.
import { $, announce } from "./dom.js";
import { t } from "./i18n.js";

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
let fallbackFocus = () => null; // where focus goes when the form closes and its opener is gone (set by initKey)

export function readKey() {
  try {
    return sessionStorage.getItem(KEY_STORE) || null;
  } catch (_) {
    return memoryKey;
  }
}

export function storeKey(key) {
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
export function bearer() {
  const key = readKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

export function updateKeyButton() {
  keyButton.hidden = !(readKey() || keyNeeded);
}

/** The server answered 401: from now on the top bar offers the key button. */
export function markKeyNeeded() {
  keyNeeded = true;
  updateKeyButton();
}

/** The key form for the calls that got a 401: one form however many calls wait on it. */
export function promptForKey(rejected) {
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

export function renderKeyDialog() {
  keyText.textContent = t(keyMode === "manage" ? "keyManageText" : "keyText");
  keyError.textContent = keyErrorName ? t(keyErrorName) : "";
  keyInput.setAttribute("aria-invalid", keyErrorName ? "true" : "false");
  keyForget.hidden = !readKey();
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

/**
 * The key button and form's events. ``fallback()`` names where focus goes back to when the form closes
 * and the element that had focus before it is gone.
 */
export function initKey(fallback) {
  fallbackFocus = fallback;
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
}
