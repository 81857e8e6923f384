"""Three PDF text extractors on the development corpus: pypdfium2, pypdf and pdfminer.six.

    .venv/bin/python bench/pdf_readers.py [--json out.json] [--repeat 1] [--max-pages N] [--docs STEM,...]
    .venv/bin/python bench/pdf_readers.py --show 001374091:1        # one page as each reader gives it

(``--show`` prints pdfminer with its default and with ``LAParams(line_margin=1.0)``, the
setting the grid chose on this corpus.)

The PDFs are ../shared/corpus-dev/moj/*.pdf (Ministry of Justice council papers and minutes,
one column) and ../shared/corpus-dev/whitepaper/*.pdf (two chapters of a MEXT white paper,
two columns, furigana). Every reader runs page by page over every page of every PDF with
its default settings; where a library has a layout option that changes reading order it
also runs with that option: pypdf ``extraction_mode="layout"``, and pdfminer with the
``LAParams`` that scores best on the two-column pages out of a small grid (line_margin x
boxes_flow; the grid is printed). Choosing pdfminer's setting on the pages it is then
scored on flatters pdfminer; the default is reported beside it.

Figures, one row per library and setting, printed as one Markdown table:

1. speed: seconds per document (open + text of every page; the fastest of ``--repeat``
   runs), summed over the documents, pages/s, and the median seconds per document.
   Readers run one after the other on a shared 2-core machine: compare ratios.
2. two-column reading order on the white paper. The reference is geometric, not any
   reader's text order: from pdfium's character boxes and sizes (not its text order) the
   glyphs of the document's body size (the size covering the most area) on a page are
   split at the page's gutter (the widest empty vertical band near the middle of the
   text area; pages without one are not scored) and grouped into lines. Lines running
   across the gutter (headings) and smaller or larger glyphs (furigana, footnotes,
   figure labels, titles) are left out. A page can hold several two-column stretches one
   above the other (a section ends in both columns, a full-width heading or figure
   follows): each column is cut where its line pitch jumps, blocks of the two columns
   that overlap vertically form one stretch, and the reference order is stretch by
   stretch from the top, in each the left column top to bottom, then the right one. Each
   line is looked up in a reader's page text (NFKC, whitespace removed) by its first 8
   characters, else its last 8, used only where they occur once in the reader's page
   text and once among the page's column lines. Reported: the share of (left line, right
   line) pairs of the same stretch in which the left line comes first (1.0 = left column
   read completely before the right one; reading line by line across both columns gives
   about 0.5), the share of all line pairs in the reference order (within-column and
   stretch order too), the share of pages read cleanly (in every stretch every found
   left line before every found right line), and the share of column lines found (a
   reader that splits, reorders or misdecodes characters finds fewer). Footnotes and
   figure text are not scored: where they land is looked at by hand.
3. letter-spaced runs per 100 pages: three or more single kana/kanji separated by one
   space (U+0020 or U+3000), as in 「法 制 審 議 会」; beside it the count when any run of
   spaces separates them (readers that keep the gap as many spaces).
4. character boxes and font sizes: whether the library gives a box and a size per
   character (pypdf: neither; its ``visitor_text`` callback reports a font size and text
   matrix per text run), and, as a check that furigana can be found and dropped by glyph
   size and position, the furigana glyphs its boxes reveal on the white paper: hiragana at
   most 0.6 x the size of a glyph they overlap horizontally and sit on. pdfium's raw
   ``FPDFText_GetFontSize`` is the size set by the ``Tf`` operator, which some PDFs set
   to 1 and scale with the text matrix: the share of characters where it differs from
   the effective size (size x text-matrix scale) by more than 10 % is reported, and
   whether ``get_text_range`` stays index-aligned with pdfium's character list.
5. failures: pages that raised, pages with no text, pages with less than half of the text
   the most complete reader found on them, and suspicious characters per 100 pages
   (control characters other than tab/line feed/carriage return/form feed, private-use
   code points, U+FFFD-U+FFFF, "(cid:N)" placeholders); library warnings are counted in
   the JSON.

``--max-pages`` and ``--docs`` shorten a run for a smoke test.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import re
import statistics
import sys
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pdfminer
import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.converter import TextConverter
from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTComponent, LTContainer
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus-dev"

KEY = 8  # characters of a column line looked up in a reader's text
MIN_LINE = 4  # shorter column lines are not scored
RUBY = 0.6  # furigana: at most this share of the size of the glyph it annotates
PDFMINER_GRID = [
    (line_margin, boxes_flow) for line_margin in (0.5, 1.0, 2.0) for boxes_flow in (0.5, -0.5, None)
]

CJK = "\u3005\u3007\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
SPACED_ONE = re.compile(rf"(?<![{CJK}])[{CJK}](?:[ \u3000][{CJK}](?![{CJK}])){{2,}}")
SPACED_ANY = re.compile(rf"(?<![{CJK}])[{CJK}](?:[ \u3000]+[{CJK}](?![{CJK}])){{2,}}")
ODD = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ufffe\uffff]|\(cid:\d+\)")
RADICAL = re.compile(r"[\u2e80-\u2fdf]")  # Kangxi radicals standing in for kanji (NFKC repairs most)
HIRAGANA = re.compile(r"[\u3041-\u309f]")
WHITESPACE = re.compile(r"\s+")


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ extraction


@dataclass
class DocResult:
    """One document as a reader gave it: the text of each page, None where the page raised."""

    pages: list[str | None]
    errors: list[str] = field(default_factory=list)


@dataclass
class Config:
    library: str
    setting: str
    extract: Callable[[Path, int], DocResult]  # (path, max pages) -> pages


def pdfium_doc(path: Path, max_pages: int) -> DocResult:
    pages: list[str | None] = []
    errors: list[str] = []
    pdf = pdfium.PdfDocument(path)
    try:
        for i in range(min(len(pdf), max_pages)):
            try:
                page = pdf[i]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            except Exception as exc:  # a failing page is a measured outcome
                pages.append(None)
                errors.append(f"page {i + 1}: {type(exc).__name__}: {exc}")
    finally:
        pdf.close()
    return DocResult(pages, errors)


def pypdf_doc(mode: str) -> Callable[[Path, int], DocResult]:
    def run(path: Path, max_pages: int) -> DocResult:
        pages: list[str | None] = []
        errors: list[str] = []
        reader = pypdf.PdfReader(path)
        for i, page in enumerate(reader.pages[:max_pages]):
            try:
                pages.append(page.extract_text(extraction_mode=mode))
            except Exception as exc:
                pages.append(None)
                errors.append(f"page {i + 1}: {type(exc).__name__}: {exc}")
        return DocResult(pages, errors)

    return run


def pdfminer_doc(laparams: LAParams) -> Callable[[Path, int], DocResult]:
    """What ``pdfminer.high_level.extract_text`` does, one page at a time (its text for a
    page is what it writes before the page's form feed)."""

    def run(path: Path, max_pages: int) -> DocResult:
        pages: list[str | None] = []
        errors: list[str] = []
        out = io.StringIO()
        rsrc = PDFResourceManager(caching=True)
        device = TextConverter(rsrc, out, laparams=laparams)
        interpreter = PDFPageInterpreter(rsrc, device)
        with open(path, "rb") as fp:
            for i, page in enumerate(PDFPage.get_pages(fp, maxpages=max_pages)):
                try:
                    interpreter.process_page(page)
                    pages.append(out.getvalue().removesuffix("\f"))
                except Exception as exc:
                    pages.append(None)
                    errors.append(f"page {i + 1}: {type(exc).__name__}: {exc}")
                out.seek(0)
                out.truncate()
        device.close()
        return DocResult(pages, errors)

    return run


def laparams_label(line_margin: float, boxes_flow: float | None) -> str:
    if (line_margin, boxes_flow) == (0.5, 0.5):
        return "LAParams() (default)"
    return f"LAParams(line_margin={line_margin}, boxes_flow={boxes_flow})"


def pdfminer_config(line_margin: float, boxes_flow: float | None) -> Config:
    laparams = LAParams(line_margin=line_margin, boxes_flow=boxes_flow)
    return Config("pdfminer.six", laparams_label(line_margin, boxes_flow), pdfminer_doc(laparams))


class WarningCounter(logging.Handler):
    """Counts the warnings pypdf and pdfminer log, and keeps them off the console."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.getMessage()[:80]] += 1


@dataclass
class Run:
    config: Config
    texts: dict[str, list[str | None]]  # document name -> page texts
    seconds: dict[str, float]  # document name -> fastest time
    errors: list[str]
    warnings: Counter[str]


def run_config(config: Config, docs: list[Path], max_pages: int, repeat: int, counter: WarningCounter) -> Run:
    counter.counts = Counter()
    texts: dict[str, list[str | None]] = {}
    seconds: dict[str, float] = {}
    errors: list[str] = []
    for path in docs:
        best = math.inf
        for _ in range(repeat):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                try:
                    result = config.extract(path, max_pages)
                except Exception as exc:  # a document that fails to open is one too
                    result = DocResult([], [f"document: {type(exc).__name__}: {exc}"])
                best = min(best, time.perf_counter() - start)
            for w in caught:
                counter.counts[str(w.message)[:80]] += 1
        texts[path.name] = result.pages
        seconds[path.name] = best
        errors += [f"{path.name} {e}" for e in result.errors]
    return Run(config, texts, seconds, errors, counter.counts)


# ------------------------------------------------------------------ pdfium's glyphs (the geometric reference)


@dataclass
class Glyph:
    ch: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # effective font size: Tf size x text-matrix scale


def pdfium_glyphs(textpage: pdfium.PdfTextPage) -> tuple[list[Glyph], int]:
    """The page's non-generated, non-space characters with loose boxes and effective sizes,
    and how many of them have a raw FPDFText_GetFontSize more than 10 % off that size."""
    glyphs: list[Glyph] = []
    raw_off = 0
    matrix = pdfium_c.FS_MATRIX()
    for i in range(textpage.count_chars()):
        if pdfium_c.FPDFText_IsGenerated(textpage, i):
            continue
        ch = chr(pdfium_c.FPDFText_GetUnicode(textpage, i))
        if not ch.strip():
            continue
        raw_size = pdfium_c.FPDFText_GetFontSize(textpage, i)
        pdfium_c.FPDFText_GetMatrix(textpage, i, matrix)
        size = raw_size * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
        raw_off += abs(raw_size - size) > 0.1 * size
        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
        glyphs.append(Glyph(ch, x0, y0, x1, y1, size))
    return glyphs, raw_off


@dataclass
class ColumnLine:
    text: str  # NFKC, no whitespace
    column: str  # "L" or "R"
    top: float
    bottom: float
    left: float
    right: float
    band: int = 0  # two-column stretch of the page, numbered top to bottom
    rank: int = 0  # position in the reference reading order

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2


def body_size(pages: list[list[Glyph]]) -> float:
    """The glyph size (to 0.5 pt) covering the most area in the document: by count alone
    footnotes win in a chapter with long notes, and a page of figures has sizes of its own."""
    area: Counter[float] = Counter()
    for glyphs in pages:
        for g in glyphs:
            area[round(g.size * 2) / 2] += g.size**2
    return area.most_common(1)[0][0]


def find_gutter(body: list[Glyph]) -> float | None:
    """x of the widest (>= 3 pt) band near the middle of the text area that (almost) no
    body glyph covers, or None for a page that is not in two columns."""
    left = min(g.x0 for g in body)
    right = max(g.x1 for g in body)
    bins = np.zeros(int(right - left) * 2 + 2, dtype=np.int32)
    for g in body:
        bins[int((g.x0 - left) * 2) : int((g.x1 - left) * 2) + 1] += 1
    lo, hi = int(len(bins) * 0.35), int(len(bins) * 0.65)
    empty = bins[lo:hi] <= max(1, len(body) // 100)
    best_len, best_start, run_start = 0, 0, None
    for k, is_empty in enumerate(np.append(empty, False)):
        if is_empty and run_start is None:
            run_start = k
        elif not is_empty and run_start is not None:
            if k - run_start > best_len:
                best_len, best_start = k - run_start, run_start
            run_start = None
    if best_len < 6:  # 3 pt
        return None
    return left + (lo + best_start + best_len / 2) / 2


def side_lines(
    body: list[Glyph], other: list[Glyph], column: str, gutter: float, size: float
) -> list[ColumnLine]:
    """One column's lines of body glyphs, top to bottom. Smaller glyphs centred within a
    line's height (superscript note numbers) join its text, as they do in a reader's text;
    furigana sit above the line and stay out."""

    def on_side(g: Glyph) -> bool:
        return g.x1 <= gutter if column == "L" else g.x0 >= gutter

    side = sorted((g for g in body if on_side(g)), key=lambda g: -(g.y0 + g.y1) / 2)
    groups: list[list[Glyph]] = []
    for g in side:
        mid = (g.y0 + g.y1) / 2
        if groups and abs(mid - statistics.fmean((h.y0 + h.y1) / 2 for h in groups[-1])) < 0.5 * size:
            groups[-1].append(g)
        else:
            groups.append([g])
    lines = []
    for group in groups:
        top, bottom = max(g.y1 for g in group), min(g.y0 for g in group)
        left, right = min(g.x0 for g in group), max(g.x1 for g in group)
        inline = [
            g
            for g in other
            if on_side(g) and bottom < (g.y0 + g.y1) / 2 < top and left - size < g.x0 and g.x1 < right + size
        ]
        text = normalise("".join(g.ch for g in sorted(group + inline, key=lambda g: g.x0)))
        lines.append(ColumnLine(text, column, top, bottom, left, right))
    return lines


def column_lines(glyphs: list[Glyph], size: float) -> list[ColumnLine] | None:
    """The page's lines of body text (glyphs of the document's body size) in reading order.

    A page may hold several two-column stretches ("bands") one above the other, separated
    by full-width headings or figures. Lines that run across the gutter (a glyph straddles
    it, or a left and a right piece meet there) are full-width and left out. Each column's
    lines are cut into blocks where the line pitch jumps (a heading, a figure, a box),
    blocks of either column that overlap vertically form one band, and the order is: band
    by band from the top, in each band the left column's lines top to bottom, then the
    right column's."""
    body = [g for g in glyphs if abs(g.size - size) <= 0.1 * size]
    other = [g for g in glyphs if g.size < 0.9 * size]
    if len(body) < 50:
        return None
    gutter = find_gutter(body)
    if gutter is None:
        return None
    sides = {column: side_lines(body, other, column, gutter, size) for column in ("L", "R")}
    crossing = [(g.y0 + g.y1) / 2 for g in body if g.x0 < gutter < g.x1]
    full = {
        id(line)
        for line in sides["L"] + sides["R"]
        if any(abs(line.mid - mid) < 0.5 * size for mid in crossing)
    }
    for l in sides["L"]:
        for r in sides["R"]:
            if abs(l.mid - r.mid) < 0.5 * size and r.left - l.right < 0.6 * size:
                full |= {id(l), id(r)}
    sides = {column: [line for line in lines if id(line) not in full] for column, lines in sides.items()}
    steps = [a.mid - b.mid for lines in sides.values() for a, b in zip(lines, lines[1:]) if a.mid - b.mid < 3 * size]
    pitch = statistics.median(steps) if steps else 1.7 * size
    blocks: list[list[ColumnLine]] = []
    for lines in sides.values():
        for line in lines:
            if blocks and blocks[-1][-1].column == line.column and blocks[-1][-1].mid - line.mid <= 1.4 * pitch:
                blocks[-1].append(line)
            else:
                blocks.append([line])
    blocks.sort(key=lambda block: -block[0].top)
    band, band_bottom = -1, math.inf
    for block in blocks:
        if block[0].top <= band_bottom:
            band += 1
            band_bottom = math.inf
        band_bottom = min(band_bottom, min(line.bottom for line in block))
        for line in block:
            line.band = band
    ordered = sorted((line for block in blocks for line in block), key=lambda l: (l.band, l.column, -l.top))
    for rank, line in enumerate(ordered):
        line.rank = rank
    scored = [line for line in ordered if len(line.text) >= MIN_LINE]
    bands_with_both = {l.band for l in scored if l.column == "L"} & {l.band for l in scored if l.column == "R"}
    return scored if bands_with_both else None


def normalise(text: str) -> str:
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


# ------------------------------------------------------------------ scoring


@dataclass
class OrderScore:
    pages: int = 0
    lines: int = 0
    found: int = 0
    lr_pairs: int = 0
    lr_good: int = 0
    pairs: int = 0
    pairs_good: int = 0
    clean_pages: int = 0

    def add(self, reference: list[ColumnLine], text: str) -> None:
        flat = normalise(text)
        ref_text = "\n".join(line.text for line in reference)
        found: list[tuple[int, ColumnLine]] = []
        for line in reference:
            for key in (line.text[:KEY], line.text[-KEY:]):
                if flat.count(key) == 1 and ref_text.count(key) == 1:
                    found.append((flat.index(key), line))
                    break
        found.sort(key=lambda item: item[0])
        ranks = np.array([line.rank for _, line in found])
        left = np.array([line.column == "L" for _, line in found])
        bands = np.array([line.band for _, line in found])
        later = np.triu(np.ones((len(found), len(found)), dtype=bool), 1)  # i extracted before j
        in_order = ranks[:, None] < ranks[None, :]
        left_right = (left[:, None] != left[None, :]) & (bands[:, None] == bands[None, :])
        self.pages += 1
        self.lines += len(reference)
        self.found += len(found)
        self.pairs += int(later.sum())
        self.pairs_good += int((later & in_order).sum())
        self.lr_pairs += int((later & left_right).sum())
        self.lr_good += int((later & left_right & left[:, None]).sum())
        self.clean_pages += not bool((later & left_right & ~left[:, None]).any())

    def summary(self) -> dict[str, float | int]:
        return {
            "pages": self.pages,
            "left_before_right": self.lr_good / self.lr_pairs if self.lr_pairs else math.nan,
            "pairs_in_order": self.pairs_good / self.pairs if self.pairs else math.nan,
            "clean_pages": self.clean_pages / self.pages if self.pages else math.nan,
            "lines_found": self.found / self.lines if self.lines else math.nan,
        }


def order_score(run: Run, references: dict[tuple[str, int], list[ColumnLine]]) -> OrderScore:
    score = OrderScore()
    for (doc, page), reference in references.items():
        pages = run.texts.get(doc, [])
        if page < len(pages):
            score.add(reference, pages[page] or "")
    return score


def ink(text: str | None) -> int:
    return len(normalise(text or ""))


def text_figures(run: Run, most: dict[tuple[str, int], int], page_counts: dict[str, int]) -> dict:
    n_pages = sum(page_counts.values())
    texts = [t for pages in run.texts.values() for t in pages]
    joined = "\n".join(t for t in texts if t)
    raised = sum(t is None for t in texts) + sum(page_counts[d] - len(p) for d, p in run.texts.items())
    empty = [
        f"{doc}:{i + 1}" for doc, pages in run.texts.items() for i, t in enumerate(pages) if t is not None and ink(t) == 0
    ]
    short = sum(
        ink(pages[i] if i < len(pages) else None) < 0.5 * most[(doc, i)]
        for doc, pages in run.texts.items()
        for i in range(page_counts[doc])
        if most[(doc, i)] >= 20
    )
    seconds = list(run.seconds.values())
    total = sum(seconds)
    newlines = joined.count("\n")
    return {
        "pages": n_pages,
        "seconds": total,
        "pages_per_s": n_pages / total if total else math.nan,
        "median_s_per_doc": statistics.median(seconds) if seconds else math.nan,
        "pages_raised": raised,
        "pages_empty": len(empty),
        "empty_pages": empty[:20],
        "pages_short": short,
        "chars_nfkc": len(normalise(joined)),
        "spaced_one_per_100p": 100 * sum(len(SPACED_ONE.findall(t or "")) for t in texts) / n_pages,
        "spaced_any_per_100p": 100 * sum(len(SPACED_ANY.findall(t or "")) for t in texts) / n_pages,
        "odd_chars_per_100p": 100 * len(ODD.findall(joined)) / n_pages,
        "radicals_per_100p": 100 * len(RADICAL.findall(joined)) / n_pages,
        "crlf_share": joined.count("\r\n") / newlines if newlines else 0.0,
        "errors": run.errors[:20],
        "warnings": dict(run.warnings.most_common(10)),
    }


# ------------------------------------------------------------------ boxes and sizes


def furigana(glyphs: list[Glyph]) -> int:
    """Hiragana glyphs at most RUBY x the size of a glyph they sit on: overlapping it
    horizontally, centred between just under its top and 0.6 of its size above it."""
    if not glyphs:
        return 0
    x0, x1, top, size = (np.array([getattr(g, k) for g in glyphs]) for k in ("x0", "x1", "y1", "size"))
    count = 0
    for g in glyphs:
        if not HIRAGANA.match(g.ch):
            continue
        mid = (g.y0 + g.y1) / 2
        base = (
            (size * RUBY >= g.size)
            & (np.minimum(x1, g.x1) - np.maximum(x0, g.x0) > 0)
            & (mid >= top - 0.2 * size)
            & (mid <= top + 0.6 * size)
        )
        count += bool(base.any())
    return count


def pdfminer_chars(layout: LTComponent) -> Iterator[LTChar]:
    if isinstance(layout, LTChar):
        yield layout
    elif isinstance(layout, LTContainer):
        for child in layout:
            yield from pdfminer_chars(child)


def capabilities(docs: list[Path], whitepaper: list[Path], max_pages: int) -> dict[str, dict]:
    """Per library: what it gives per character, and the furigana glyphs its boxes and sizes
    reveal on the white paper (pypdf has no glyph boxes to place a glyph over another)."""
    raw_off = glyph_count = misaligned = pages = 0
    pdfium_ruby = 0
    for path in docs:
        pdf = pdfium.PdfDocument(path)
        for i in range(min(len(pdf), max_pages)):
            page = pdf[i]
            textpage = page.get_textpage()
            glyphs, off = pdfium_glyphs(textpage)
            raw_off += off
            glyph_count += len(glyphs)
            pages += 1
            misaligned += len(textpage.get_text_range()) != textpage.count_chars()
            if path in whitepaper:
                pdfium_ruby += furigana(glyphs)
            textpage.close()
            page.close()
        pdf.close()
    pdfminer_ruby = 0
    for path in whitepaper:
        for layout in extract_pages(path, maxpages=max_pages):
            pdfminer_ruby += furigana(
                [Glyph(c.get_text(), c.x0, c.y0, c.x1, c.y1, c.size) for c in pdfminer_chars(layout)]
            )
    return {
        "pypdfium2": {
            "char_boxes": "yes",
            "font_size": "per char",
            "furigana_whitepaper": pdfium_ruby,
            "raw_font_size_off_share": raw_off / glyph_count if glyph_count else math.nan,
            "pages_text_not_index_aligned": misaligned,
            "pages_checked": pages,
        },
        "pypdf": {"char_boxes": "no", "font_size": "per text run", "furigana_whitepaper": "n/a"},
        "pdfminer.six": {"char_boxes": "yes", "font_size": "per char", "furigana_whitepaper": pdfminer_ruby},
    }


# ------------------------------------------------------------------ main


def corpus_docs(corpus: Path, only: list[str]) -> tuple[list[Path], list[Path]]:
    docs = sorted((corpus / "moj").glob("*.pdf")) + sorted((corpus / "whitepaper").glob("*.pdf"))
    if only:
        docs = [d for d in docs if d.stem in only]
    return docs, [d for d in docs if d.parent.name == "whitepaper"]


def page_counts_of(docs: list[Path], max_pages: int) -> dict[str, int]:
    counts = {}
    for path in docs:
        with pdfium.PdfDocument(path) as pdf:
            counts[path.name] = min(len(pdf), max_pages)
    return counts


def references_of(whitepaper: list[Path], max_pages: int) -> tuple[dict[tuple[str, int], list[ColumnLine]], int]:
    refs: dict[tuple[str, int], list[ColumnLine]] = {}
    pages = 0
    for path in whitepaper:
        pdf = pdfium.PdfDocument(path)
        glyphs: list[list[Glyph]] = []
        for i in range(min(len(pdf), max_pages)):
            page = pdf[i]
            textpage = page.get_textpage()
            glyphs.append(pdfium_glyphs(textpage)[0])
            textpage.close()
            page.close()
        pdf.close()
        size = body_size(glyphs)
        for i, page_glyphs in enumerate(glyphs):
            lines = column_lines(page_glyphs, size)
            pages += 1
            if lines:
                refs[(path.name, i)] = lines
    return refs, pages


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def table(rows: list[dict], caps: dict[str, dict]) -> str:
    head = (
        "| library | setting | pages | s total | pages/s | median s/doc "
        "| 2-col: L before R | 2-col: pairs in order | 2-col: clean pages | 2-col: lines found "
        "| spaced runs/100p (1 space / any) | raised / empty / short pages | odd chars/100p "
        "| chars (NFKC, k) | line end | char boxes | font size | furigana glyphs found (white paper) |"
    )
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        t, o, c = r["text"], r["order"], caps[r["library"]]
        out.append(
            f"| {r['library']} | {r['setting']} | {t['pages']} | {fmt(t['seconds'], 1)} | {fmt(t['pages_per_s'], 1)} "
            f"| {fmt(t['median_s_per_doc'], 3)} | {fmt(o['left_before_right'])} | {fmt(o['pairs_in_order'])} "
            f"| {fmt(o['clean_pages'])} ({o['pages']} p) | {fmt(o['lines_found'])} "
            f"| {fmt(t['spaced_one_per_100p'], 1)} / {fmt(t['spaced_any_per_100p'], 1)} "
            f"| {t['pages_raised']} / {t['pages_empty']} / {t['pages_short']} | {fmt(t['odd_chars_per_100p'], 1)} "
            f"| {t['chars_nfkc'] / 1000:.0f} | {'CRLF' if t['crlf_share'] > 0.5 else 'LF'} "
            f"| {c['char_boxes']} | {c['font_size']} | {c['furigana_whitepaper']} |"
        )
    return "\n".join(out)


def show(spec: str, corpus: Path) -> None:
    stem, _, page = spec.partition(":")
    path = next(corpus.glob(f"*/{stem}.pdf"))
    number = int(page or 1)
    for config in [
        Config("pypdfium2", "default", pdfium_doc),
        Config("pypdf", "default", pypdf_doc("plain")),
        Config("pypdf", 'extraction_mode="layout"', pypdf_doc("layout")),
        pdfminer_config(0.5, 0.5),
        pdfminer_config(1.0, 0.5),
    ]:
        text = config.extract(path, number).pages[number - 1]
        print(f"===== {config.library} {config.setting}: {path.name} page {number}\n{text!r}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--repeat", type=int, default=1, help="runs per document; the fastest counts")
    parser.add_argument("--max-pages", type=int, default=10**9, help="pages per document (smoke tests)")
    parser.add_argument("--docs", default="", help="comma-separated file stems (smoke tests)")
    parser.add_argument("--show", metavar="STEM:PAGE", help="print one page (1-based) as each reader gives it")
    args = parser.parse_args()
    if args.show:
        show(args.show, args.corpus)
        return 0

    counter = WarningCounter()
    for name in ("pypdf", "pdfminer"):
        logger = logging.getLogger(name)
        logger.addHandler(counter)
        logger.propagate = False

    docs, whitepaper = corpus_docs(args.corpus, [s for s in args.docs.split(",") if s])
    page_counts = page_counts_of(docs, args.max_pages)
    say(f"{len(docs)} PDFs, {sum(page_counts.values())} pages; versions: pypdfium2 {pdfium.version.PYPDFIUM_INFO} "
        f"(pdfium {pdfium.version.PDFIUM_INFO}), pypdf {pypdf.__version__}, pdfminer.six {pdfminer.__version__}")
    references, wp_pages = references_of(whitepaper, args.max_pages)
    say(f"white paper: {len(references)} of {wp_pages} pages in two columns, "
        f"{sum(len(r) for r in references.values())} column lines")

    grid: list[dict] = []
    for line_margin, boxes_flow in PDFMINER_GRID:
        config = pdfminer_config(line_margin, boxes_flow)
        score = order_score(run_config(config, whitepaper, args.max_pages, 1, counter), references).summary()
        grid.append({"line_margin": line_margin, "boxes_flow": boxes_flow, **score})
        say(f"pdfminer grid {config.setting}: " + ", ".join(f"{k} {fmt(v)}" for k, v in score.items() if k != "pages"))
    best = max(grid, key=lambda g: (np.nan_to_num(g["left_before_right"]), np.nan_to_num(g["pairs_in_order"])))

    configs = [
        Config("pypdfium2", "default (get_text_range)", pdfium_doc),
        Config("pypdf", "default (plain)", pypdf_doc("plain")),
        Config("pypdf", 'extraction_mode="layout"', pypdf_doc("layout")),
        pdfminer_config(0.5, 0.5),
    ]
    if (best["line_margin"], best["boxes_flow"]) != (0.5, 0.5):
        configs.append(pdfminer_config(best["line_margin"], best["boxes_flow"]))

    runs: list[Run] = []
    for config in configs:
        say(f"{config.library} {config.setting} ...")
        runs.append(run_config(config, docs, args.max_pages, args.repeat, counter))
        say(f"  {sum(runs[-1].seconds.values()):.1f} s")

    most = {
        (doc, i): max(ink(r.texts[doc][i]) if i < len(r.texts[doc]) else 0 for r in runs)
        for doc, n in page_counts.items()
        for i in range(n)
    }
    say("character boxes and sizes ...")
    caps = capabilities(docs, whitepaper, args.max_pages)
    rows = [
        {
            "library": r.config.library,
            "setting": r.config.setting,
            "text": text_figures(r, most, page_counts),
            "order": order_score(r, references).summary(),
        }
        for r in runs
    ]
    print(table(rows, caps))
    p = caps["pypdfium2"]
    print(
        f"\npdfium: raw FPDFText_GetFontSize more than 10 % off the effective size for "
        f"{100 * p['raw_font_size_off_share']:.1f} % of glyphs; get_text_range not index-aligned with "
        f"the char list on {p['pages_text_not_index_aligned']} of {p['pages_checked']} pages."
    )
    print(f"pdfminer LAParams grid on the two-column pages (best: line_margin={best['line_margin']}, "
          f"boxes_flow={best['boxes_flow']}):")
    for g in grid:
        print(f"  line_margin={g['line_margin']}, boxes_flow={g['boxes_flow']}: "
              f"L before R {fmt(g['left_before_right'])}, "
              f"pairs in order {fmt(g['pairs_in_order'])}, clean pages {fmt(g['clean_pages'])}, "
              f"lines found {fmt(g['lines_found'])}")
    if args.json:
        payload = {
            "versions": {
                "pypdfium2": pdfium.version.PYPDFIUM_INFO,
                "pdfium": str(pdfium.version.PDFIUM_INFO),
                "pypdf": pypdf.__version__,
                "pdfminer.six": pdfminer.__version__,
            },
            "documents": len(docs),
            "rows": rows,
            "capabilities": caps,
            "pdfminer_grid": grid,
            "seconds_per_document": {f"{r.config.library} {r.config.setting}": r.seconds for r in runs},
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
