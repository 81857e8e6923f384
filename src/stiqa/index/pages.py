"""Where each passage lies in its page's repaired text, computed once when an index is built:
the page viewer highlights passages by these offsets without searching pages on a request."""

from __future__ import annotations

from stiqa.records import Document, Passage

PageSpans = dict[tuple[str, int], list[tuple[str, int, int]]]  # (doc, page) -> [(passage id, start, end)]


def locate(page_text: str, passage: Passage, hint: int | None = None) -> tuple[int, int] | None:
    """Where ``passage`` lies in ``page_text``: its sentences found in order.

    A sentence may occur more than once on a slide (a repeated heading), so every
    occurrence of the first sentence is tried and the one nearest ``hint`` (the
    passage's offset in the original page, which repair shifts only a little) wins.
    """
    parts = [s.text for s in passage.sentences if s.text] or [passage.text]
    found: list[tuple[int, int]] = []
    at = page_text.find(parts[0])
    while at != -1:
        cursor, ok = at + len(parts[0]), True
        for part in parts[1:]:
            i = page_text.find(part, cursor)
            if i == -1:
                ok = False
                break
            cursor = i + len(part)
        if ok:
            found.append((at, cursor))
        at = page_text.find(parts[0], at + 1)
    if not found:
        return None
    return min(found, key=lambda span: abs(span[0] - hint)) if hint is not None else found[0]


def page_spans(documents: list[Document], passages: list[Passage]) -> PageSpans:
    """Every passage's span in its page's text, by page, in passage order; a passage that
    cannot be found in its page (not expected) is left out of the viewer, not the index."""
    pages = {(d.name, p.number): p for d in documents for p in d.pages}
    spans: PageSpans = {}
    for p in passages:
        key = (p.citation.doc, p.citation.page)
        page = pages.get(key)
        span = locate(page.text, p, hint=p.citation.start - page.start) if page is not None else None
        if span is not None:
            spans.setdefault(key, []).append((p.id, *span))
    return spans


def spans_to_json(spans: PageSpans) -> list[list]:
    return [[doc, number, pid, a, b] for (doc, number), found in spans.items() for pid, a, b in found]


def spans_from_json(rows: list[list]) -> PageSpans:
    spans: PageSpans = {}
    for doc, number, pid, a, b in rows:
        spans.setdefault((doc, int(number)), []).append((pid, int(a), int(b)))
    return spans
