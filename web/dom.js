// Shared DOM helpers: element lookup, element building (text only, never HTML), the live announcer.

export const $ = (id) => document.getElementById(id);

/** Create an element; children are nodes or strings (always text, never HTML). */
export function h(tag, attrs, ...children) {
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

export const str = (v) => (v === null || v === undefined ? "" : String(v));

const announcer = $("announcer");

/** Say ``message`` through the polite live region (#announcer). */
export function announce(message) {
  announcer.textContent = "";
  // A fresh text a moment later, so that the same message is announced again.
  window.setTimeout(() => {
    announcer.textContent = message;
  }, 50);
}
