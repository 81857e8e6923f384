"""Where the pages of a text are: form feeds, or the layout of slides extracted to text."""

from __future__ import annotations

import re

# Without form feeds, a slide deck extracted in layout mode (pdftotext -layout) starts each
# slide's title at the margin after one space, and its body further in.
_PAGE_START = re.compile(r"^ (?! )\S")


def page_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each page of ``text`` that holds more than white space, in order."""
    if "\f" in text:
        cuts = [0] + [i + 1 for i, c in enumerate(text) if c == "\f"] + [len(text) + 1]
        spans = [(a, b - 1) for a, b in zip(cuts, cuts[1:])]
    else:
        starts = [0]
        pos = 0
        seen_text = False
        for line in text.splitlines(keepends=True):
            if _PAGE_START.match(line) and seen_text:
                starts.append(pos)
                seen_text = False
            seen_text = seen_text or bool(line.strip())
            pos += len(line)
        spans = list(zip(starts, starts[1:] + [len(text)]))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def lines_of(text: str, start: int, end: int) -> list[tuple[str, int]]:
    """The lines of ``text[start:end]`` without their line ends, each with its offset in ``text``."""
    out: list[tuple[str, int]] = []
    pos = start
    for raw in text[start:end].splitlines(keepends=True):
        out.append((raw.rstrip("\r\n\f"), pos))
        pos += len(raw)
    return out
