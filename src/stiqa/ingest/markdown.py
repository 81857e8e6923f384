"""Markdown with markdown-it-py (CommonMark and tables): headings as sections.

The extracted text is the decoded file itself, as for plain text, so citations index the
file; the markup (heading and list markers, emphasis, link targets, table rules, code
fences, HTML tags) is marked hidden: it stays in the text but not in the passages.
"""

from __future__ import annotations

import re

from stiqa.ingest.base import Extracted, Part, Reader, ReadError
from stiqa.ingest.text import decode

SUFFIXES = (".md", ".markdown")
# Markup at a line's start: heading hashes, quote marks, list bullets and numbers.
_LEAD = re.compile(r"^(?:[ \t]{0,3}#{1,6}[ \t]+|[ \t]*(?:>[ \t]?)+|[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+)")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_RULE = re.compile(r"^[ \t]*(?:\|?[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$|^[ \t]*(?:```|~~~).*$|^[ \t]*(?:[-*_][ \t]*){3,}$|^[ \t]*=+[ \t]*$")
_INLINE = re.compile(
    r"!?\[(?=[^\]]*\]\()|\]\([^)]*\)"  # link and image brackets and their targets (the words stay)
    r"|<[^>\n]+>"  # HTML tags and autolink brackets
    r"|\*\*|__|~~|`+"  # strong, strike-through, code
    r"|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])"  # emphasis stars
)


def markup_spans(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` that are Markdown markup rather than words."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if _RULE.match(body):
            spans.append((pos, pos + len(body)))
        else:
            lead = _LEAD.match(body)
            if lead:
                spans.append((pos, pos + lead.end()))
            closing = _CLOSING_HASHES.search(body) if lead and "#" in lead.group() else None
            if closing:
                spans.append((pos + closing.start(), pos + len(body)))
            spans.extend((pos + m.start(), pos + m.end()) for m in _INLINE.finditer(body))
            if body.lstrip().startswith("|"):
                first = body.index("|")
                spans.append((pos + first, pos + first + 1))
                if body.rstrip().endswith("|") and len(body.rstrip()) - 1 > first:
                    end = len(body.rstrip()) - 1
                    spans.append((pos + end, pos + end + 1))
        pos += len(line)
    return spans


class MarkdownReader(Reader):
    format = "markdown"

    def sniff(self, head: bytes, suffix: str) -> bool:
        return suffix in SUFFIXES  # Markdown is text: only its name tells it apart

    def read(self, data: bytes) -> Extracted:
        from markdown_it import MarkdownIt

        text, _ = decode(data)
        if not text.strip():
            raise ReadError("no text in it")
        line_starts = [0]
        for line in text.splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(line))
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
        parts: list[Part] = []
        for i, token in enumerate(tokens):
            if token.type != "heading_open" or not token.map:
                continue
            title = " ".join(c.content for c in tokens[i + 1].children or [] if c.type in ("text", "code_inline"))
            start = line_starts[token.map[0]]
            if not parts and text[:start].strip():
                parts.append(Part(1, 0, start))
            if parts:
                parts[-1].end = start
            parts.append(Part(len(parts) + 1, start, len(text), " ".join(title.split())))
        if not parts:
            parts = [Part(1, 0, len(text))]
        first_heading = next((p.title for p in parts if p.title), "")
        return Extracted(text, self.format, parts, title=first_heading, hidden=markup_spans(text))
