"""Documents made of headings and paragraphs (Word, HTML, Markdown) as extracted text.

Readers of those formats hand over a list of :class:`Block` in reading order; the text
is one line per paragraph, list item or table row, and each heading opens a part
(citations give the part's number as their ``page``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stiqa.ingest.base import Extracted, Part, ReadError

_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
# Between the cells of a table row: white space, so that a cited row is the cells' own text,
# as any other reader of the file finds it (a "|" would be text the file does not have).
CELL_SEPARATOR = "\t"


@dataclass
class Block:
    text: str
    heading: int = 0  # 1-6 for a heading of that level, 0 for anything else


def clean(text: str) -> str:
    """One line: white space runs (line breaks too) become one space, ends trimmed."""
    return _SPACES.sub(" ", " ".join(text.split("\n"))).strip()


def assemble(blocks: list[Block], fmt: str, title: str = "") -> Extracted:
    """The text and parts of ``blocks``; ReadError if none holds text."""
    lines: list[str] = []
    parts: list[Part] = []
    pos = 0
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.heading or not parts:
            if parts:
                parts[-1].end = pos
            parts.append(Part(len(parts) + 1, pos, pos, text if block.heading else title))
        lines.append(text)
        pos += len(text) + 1
    if not parts:
        raise ReadError("no text in it")
    text = "\n".join(lines)
    parts[-1].end = len(text)
    first_heading = next((b.text.strip() for b in blocks if b.heading and b.text.strip()), "")
    return Extracted(text, fmt, parts, title=title or first_heading)
