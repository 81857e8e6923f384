"""Sentences (pysbd) and passages of whole sentences within one page.

A passage is what retrieval returns and cites, so it should be the answer and
not the whole slide: a few sentences, or one group of list items, packed up to
``target`` characters and never beyond ``max_chars``. Passages break at blank-
line blocks once they hold enough text to stand alone, and never cross pages.

Slides scatter one statement over neighbouring cells (a heading, then its
figures), so besides these passages every boundary between two of them is
covered by a bridging window (the second half of one and the first half of the
next). Retrieval keeps only the best of passages that overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysbd

from stiqa.ingest.layout import RepairedPage, Unit, heading_level, speaker_of, unspaced
from stiqa.normalize import Mapped
from stiqa.records import Citation, Passage, Sentence

MAX_CHARS = 400
TARGET_CHARS = 300
MIN_CHARS = 100
TAIL_CHARS = 20  # a page's last passage shorter than this joins the one before
MIN_LETTERS = 3  # a passage with fewer letters is a stray label or page number
_SOFT_BREAK = re.compile(r"[、,，;；:：]")


SECTION_LEVELS = 2  # the deepest headings a section path names
SECTION_CHARS = 80


@dataclass
class _Piece:
    text: Mapped
    unit: int
    block: int
    after_gap: bool = False  # something was left out just before (the title)
    section: str = ""  # the outline at this piece: headings above it, and who speaks
    opens: bool = False  # starts a heading or a speaker's turn
    heading: bool = False


class Outline:
    """Where a document has got to: the headings above the current line, by level, and in
    minutes who is speaking. Carried across pages, since sections run over page breaks."""

    def __init__(self) -> None:
        self.headings: dict[int, str] = {}
        self.speaker: str | None = None

    def read(self, unit: Unit, following: str = "") -> tuple[bool, bool]:
        """Take in one unit (``following``: the text of the next); whether it opens a section or
        a turn, and whether it is a heading."""
        text = unit.text.text
        level = None if unit.fine else heading_level(text, following)
        if level is not None:
            self.headings = {k: v for k, v in self.headings.items() if k < level}
            self.headings[level] = unspaced(text)
            self.speaker = None
            return True, True
        speaker = speaker_of(unit)
        if speaker is not None:
            self.speaker = speaker
            return True, False
        return False, False

    def path(self) -> str:
        """The section path: the deepest headings, then the speaker ("第4 議事 > 藤田部会長")."""
        parts = [self.headings[k] for k in sorted(self.headings)][-SECTION_LEVELS:]
        if self.speaker:
            parts.append(self.speaker)
        return " > ".join(parts)[:SECTION_CHARS]


class Segmenter:
    """Japanese sentence splitting; pysbd also copes with the English in the text."""

    def __init__(self, max_chars: int = MAX_CHARS) -> None:
        # Without char_span: pysbd finds each sentence's span by compiling it as a regular
        # expression, which took 80% of the time of cutting council minutes into passages.
        # With clean=False its sentences are pieces of the text, found here in order.
        self._sbd = pysbd.Segmenter(language="ja", clean=False)
        self.max_chars = max_chars

    def sentences(self, unit: Mapped) -> list[Mapped]:
        out: list[Mapped] = []
        at = 0
        for sentence in self._sbd.segment(unit.text):
            start = unit.text.find(sentence, at)
            if start < 0:  # not a piece of the text after all: keep the rest as it is
                start, sentence = at, unit.text[at:]
            at = start + len(sentence)
            piece = unit.slice(start, at).strip()
            if piece.text:
                out.extend(self._fit(piece))
        if at < len(unit.text) and unit.text[at:].strip():
            out.extend(self._fit(unit.slice(at, len(unit.text)).strip()))
        return out

    def _fit(self, s: Mapped) -> list[Mapped]:
        """Split a sentence longer than a passage at commas (or hard, as a last resort)."""
        if len(s) <= self.max_chars:
            return [s]
        cut = self.max_chars
        for m in _SOFT_BREAK.finditer(s.text, 0, self.max_chars):
            cut = m.end()
        return [s.slice(0, cut).strip()] + self._fit(s.slice(cut, len(s)).strip())


def _pieces(page: RepairedPage, seg: Segmenter, outline: Outline) -> list[_Piece]:
    out: list[_Piece] = []
    gap = False
    for i, unit in enumerate(page.units):
        opens, heading = outline.read(unit, page.units[i + 1].text.text if i + 1 < len(page.units) else "")
        if i == page.title_unit:  # in the outline (a chapter's heading atop a page), not in a passage
            gap = True
            continue
        for s in seg.sentences(unit.text):
            out.append(_Piece(s, i, unit.block, gap, outline.path(), opens, heading))
            gap = opens = False
    return out


def _join(pieces: list[_Piece]) -> Mapped:
    parts: list[Mapped] = []
    for j, p in enumerate(pieces):
        if j and p.unit != pieces[j - 1].unit:
            parts.append(Mapped("\n", [p.text.src[0]]))
        parts.append(p.text)
    return Mapped.join(parts)


def _says_something(text: str) -> bool:
    """More than a page number or a lone short label ("10", "9 1 章", "概要")."""
    return sum(1 for c in text if c.isalpha()) >= MIN_LETTERS


def document_passages(pages: list[RepairedPage], seg: Segmenter) -> list[Passage]:
    """A document's passages, page by page, each with the section path it lies in."""
    outline = Outline()
    return [p for page in pages for p in page_passages(page, seg, outline=outline)]


def page_passages(
    page: RepairedPage,
    seg: Segmenter,
    target: int = TARGET_CHARS,
    min_chars: int = MIN_CHARS,
    outline: Outline | None = None,
) -> list[Passage]:
    """Pack one page's sentences into passages (see module docstring). A passage starts at
    a heading, and at a new speaker's turn once it holds enough text to stand alone."""
    groups: list[list[_Piece]] = []
    cur: list[_Piece] = []
    size = 0
    for p in _pieces(page, seg, outline or Outline()):
        if cur:
            new_block = p.block != cur[-1].block
            if (
                p.after_gap
                or size + 1 + len(p.text) > seg.max_chars
                or size >= target
                or (new_block and size >= min_chars)
                or (p.heading and not all(c.heading for c in cur))
                or (p.opens and size >= min_chars)
            ):
                groups.append(cur)
                cur, size = [], 0
        size += len(p.text) + (1 if cur else 0)
        cur.append(p)
    if cur:
        groups.append(cur)
    if len(groups) > 1 and sum(len(p.text) for p in groups[-1]) < TAIL_CHARS:
        tail = groups.pop()
        if sum(len(p.text) + 1 for p in groups[-1] + tail) <= seg.max_chars:
            groups[-1].extend(tail)
        else:
            groups.append(tail)
    windows = groups + [
        left[len(left) // 2:] + right[: (len(right) + 1) // 2]
        for left, right in zip(groups, groups[1:])
    ]
    joined = [(w, _join(w)) for w in windows]
    joined = [(w, text) for w, text in joined if len(text) <= seg.max_chars and _says_something(text.text)]
    joined.sort(key=lambda wt: (wt[0][0].text.src[0], -len(wt[0])))
    # A page's own title names its passages, unless it is the heading the page opens on, in
    # the document's outline: then the outline does, with the headings under it
    # (第3章 服務規律 > (遵守事項)).
    own_title = page.titled and not (page.title_unit == 0 and heading_level(page.page.title) is not None)
    passages = []
    for n, (group, text) in enumerate(joined, start=1):
        start, end = text.span()
        section = page.page.title if own_title else (group[0].section or page.page.title)
        passages.append(
            Passage(
                id=f"{page.page.doc}-p{page.page.number:02d}-{n:02d}",  # the document id keeps ids unique
                text=text.text,
                citation=Citation(page.page.doc, page.page.number, section, start, end),
                sentences=[Sentence(p.text.text, *p.text.span()) for p in group],
            )
        )
    return passages
