// Which parts of a text to mark, and the marking itself: words the answer shares with the question,
// the answer's excerpt in its passage, a timeline event's statement in its page.
import { h, str } from "./dom.js";

// Characters that carry no meaning on their own: kana particles, punctuation, spaces.
const WEAK = /[\p{Script=Hiragana}\p{P}\p{S}\s]/u;
const STRONG = /[\p{Script=Han}\p{Script=Katakana}\p{L}\p{N}]/u;
const STOP = new Set(
  "the a an of in on at to for from by with and or is are was were be been what which who whom when where why how does did do that this these those it its as into about"
    .split(" ")
);
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Spans [start, end) of ``text`` that also occur in ``question`` (words shared with the question). */
export function sharedSpans(text, question) {
  const q = asciiLower(str(question).normalize("NFKC"));
  const x = asciiLower(text); // same length as text: offsets stay valid
  const spans = [];
  let i = 0;
  while (i < x.length) {
    let len = 0;
    while (i + len < x.length && q.includes(x.slice(i, i + len + 1))) len++;
    let s = i;
    let e = i + len;
    while (s < e && WEAK.test(x[s])) s++;
    while (e > s && WEAK.test(x[e - 1])) e--;
    const piece = x.slice(s, e);
    let ok = e - s >= 2 && STRONG.test(piece);
    if (ok && /^[a-z0-9 .\-]+$/.test(piece)) {
      // Latin words: whole words only, no stop words.
      const wordEdge = (k) => k <= 0 || k >= x.length || !/[a-z0-9]/.test(x[k]);
      ok = wordEdge(s - 1) && wordEdge(e) && !STOP.has(piece.trim()) && piece.trim().length >= 2;
    }
    if (ok) spans.push([s, e]);
    i += Math.max(1, ok ? len : 1);
  }
  return spans;
}

/** Text nodes with the given spans wrapped in <mark>. */
export function highlighted(text, spans, markClass) {
  const out = [];
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at || e <= s) continue;
    if (s > at) out.push(document.createTextNode(text.slice(at, s)));
    out.push(h("mark", { class: markClass || null }, text.slice(s, e)));
    at = e;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

/** Where the answer excerpt lies in a passage (first line as a fallback), or null. */
export function excerptSpan(passageText, answerText) {
  const candidates = [answerText, ...answerText.split("\n").sort((a, b) => b.length - a.length)];
  for (const c of candidates) {
    const piece = c.trim();
    if (piece.length < 4) continue;
    const at = passageText.indexOf(piece);
    if (at !== -1) return [at, at + piece.length];
  }
  return null;
}

/**
 * Where an event is stated in its page's text: the date as written, widened to the start of the event's
 * clause when that lies close by. The clause is found by the first characters of the event text (the
 * text leaves the date out, so a shorter prefix is tried when a longer one is not found). Null when
 * neither is found.
 */
export function eventSpan(pageText, event) {
  const wording = str(event.wording).trim();
  const clause = str(event.text).replace(/^…+/, "").split("…")[0].trim();
  let anchor = null;
  if (clause.length >= 4 && pageText.includes(clause)) {
    const at = pageText.indexOf(clause);
    anchor = [at, at + clause.length];
  } else {
    for (const n of [20, 12, 8, 6, 4]) {
      const prefix = clause.slice(0, n);
      if (prefix.length < Math.min(n, 4)) continue;
      const at = pageText.indexOf(prefix);
      if (at !== -1) {
        anchor = [at, at + prefix.length];
        break;
      }
    }
  }
  let best = null;
  if (wording) {
    for (let at = pageText.indexOf(wording); at !== -1; at = pageText.indexOf(wording, at + 1)) {
      const distance = anchor ? Math.abs(at - anchor[0]) : at;
      if (!best || distance < best.distance) best = { span: [at, at + wording.length], distance };
    }
  }
  if (!best) return anchor;
  const w = best.span;
  if (!anchor) return w;
  const gap = Math.max(anchor[0] - w[1], w[0] - anchor[1], 0);
  if (gap > 40) return w;
  const span = [Math.min(w[0], anchor[0]), Math.max(w[1], anchor[1])];
  // 「設立(令和6年2月」 -> 「設立(令和6年2月)」: close a bracket the span opens.
  const piece = pageText.slice(span[0], span[1]);
  for (const [open, close] of [["(", ")"], ["（", "）"], ["「", "」"]]) {
    if (piece.split(open).length > piece.split(close).length && pageText[span[1]] === close) span[1] += 1;
  }
  return span;
}
