"""Read corpus documents and repair their page layout.

A PDF text extraction loses the layout: pages run together, lines are broken
where the slide wrapped them, vertical text comes one character per line and
titles are not always first. This module turns a document into pages of
*units* (a paragraph, a list item or a table cell, one logical line each),
with every character still pointing at its place in the original file.

The pages (or, for formats without pages, the sections) come from the reader
(:mod:`stiqa.ingest`); only text wrapped at a width (PDF pages, plain text) has its
lines joined here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from stiqa.dates import document_date
from stiqa.ingest import Extracted
from stiqa.ingest.pages import lines_of
from stiqa.normalize import KANJI_NUMERALS, Mapped, fix_vertical_glyphs, is_private_use, map_chars
from stiqa.records import Document, Page

BULLETS = frozenset("・•●○〇◯■□◆◇▪▫➢➤▶►✓✔◎")
TERMINAL = frozenset("。！？!?")
OPENING = frozenset("(（「『【〔[〈《")
CLOSING = frozenset(")）」』】〕]〉》")
PARTICLES = frozenset("のをがはにでとやてへもしる")  # a phrase cannot end on these
HEADING_OPEN = frozenset("【<＜〈《■")  # a line that starts with one of these is a heading
_TITLE = re.compile(r"^(?:\d{1,2}\.\s*\S|第\d+章(?:\s|$))")
TITLE_MAX_CHARS = 60  # longer, it is a paragraph that starts with a number ("1. This Law applies…")
_REFERENCE = "(参考)"
COUNTERS = frozenset("年月日度%人件回号条歳時分円万億兆倍台名社校")  # what follows a number
WRAP_WIDTH = 15  # a line at least this long that ends mid-phrase was wrapped
ITEM_WRAP_WIDTH = 8  # the same inside a list item
# A line that starts a list item without a bullet glyph: "①", "1. ", "6/1 ", "2023年4月 ", "3月中".
ITEM_START = re.compile(r"^(?:[\u2460-\u24ff\u3251-\u32bf]|\d{1,2}[.)](?!\d)|\d{1,2}/\d{1,2}\s|\d{4}年\d{1,2}月|\d{1,2}(?:〜\d{1,2})?月\S)")


def is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass
class Unit:
    """One logical line of a page: a paragraph, list item or cell."""

    text: Mapped
    item: bool = False
    block: int = 0
    vertical: bool = False
    last_len: int = 0
    fine: bool = False  # fine print (a footnote): never a heading (see Extracted.fine)


@dataclass
class Line:
    text: Mapped
    item: bool
    vertical: bool = False
    fine: bool = False


@dataclass
class RepairedPage:
    page: Page
    units: list[Unit]
    title_unit: int | None
    titled: bool = False  # the page has a title of its own (a slide's, a section heading), not a stand-in


def collapse_spaces(m: Mapped) -> Mapped:
    """Keep one space of any run of white space inside a line."""
    keep = [i for i, c in enumerate(m.text) if not (c.isspace() and i and m.text[i - 1].isspace())]
    text = "".join(" " if m.text[i].isspace() else m.text[i] for i in keep)
    return Mapped(text, [m.src[i] for i in keep])


def _read_line(raw: str, base: int, hidden: bytearray | None = None) -> Line | None:
    """Map one raw line; None for a blank line. A leading bullet glyph is dropped, and so
    are the characters ``hidden`` marks (markup; indexed by offset in the document)."""
    body = raw.lstrip()
    item = bool(body) and is_private_use(body[0])
    mapped = map_chars(raw, base)
    if hidden is not None:
        keep = [i for i, s in enumerate(mapped.src) if not hidden[s]]
        mapped = Mapped("".join(mapped.text[i] for i in keep), [mapped.src[i] for i in keep])
    m = close_letter_spacing(collapse_spaces(mapped).strip())
    if len(m.text) > 1 and m.text[0] in BULLETS:
        item = True
        m = m.slice(1, len(m)).strip()
    elif ITEM_START.match(m.text):
        item = True
    return Line(m, item) if m.text else None


def _is_vertical_cell(line: Line) -> bool:
    t = line.text.text
    return not line.item and (len(t) == 1 or (len(t) <= 3 and t.isdigit()))


def _merge_vertical(lines: list[Line]) -> list[Line]:
    """Turn runs of one-character lines (vertical text) into one line."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _is_vertical_cell(lines[j]):
            j += 1
        run = lines[i:j]
        if len(run) >= 3 and sum(len(x.text) == 1 and not x.text.text.isdigit() for x in run) >= 2:
            out.append(Line(Mapped.join([x.text for x in run]), False, vertical=True, fine=run[0].fine))
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def should_join(prev: Unit, nxt: Line, across_blank: bool = False) -> bool:
    """Whether ``nxt`` continues the phrase that ``prev`` ends (a wrapped line).

    Strong signs (a particle or comma at the end, kana or closing punctuation
    at the start) join even across a blank line; otherwise a line joins the
    one before it when that one ran to the wrap width.
    """
    text = prev.text.text
    if nxt.item or not text or prev.vertical != nxt.vertical:
        return False
    a, b = text[-1], nxt.text.text[0]
    if a in TERMINAL or b in HEADING_OPEN or heading_level(nxt.text.text) is not None:
        return False
    width = ITEM_WRAP_WIDTH if prev.item else WRAP_WIDTH
    if heading_level(text) is not None and prev.last_len < width:
        # A heading short of the wrap width ends there ("1-4.ドイツ" above "ドイツは…"),
        # unless its phrase plainly goes on.
        return a in "、，," or a in OPENING or b in CLOSING
    if PAGE_NUMBER.match(text) or PAGE_NUMBER.match(nxt.text.text):
        return False
    if a in "、，," or a in OPENING or b in "、。，．,." or b in CLOSING:
        return True
    if across_blank:
        # A blank line inside a phrase: only a vertical column, or a list item
        # cut after a particle or in a word at the wrap width.
        if is_hiragana(b) or (a == "の" and (prev.vertical or prev.item)):
            return True
        return prev.item and prev.last_len >= WRAP_WIDTH and (
            a in PARTICLES or is_katakana(a) or prev.last_len >= 30
        )
    if is_hiragana(a) or a in "・ー-" or is_hiragana(b) or b == "ー":
        return True
    if a in CLOSING:
        return False
    if is_katakana(a) and is_katakana(b):
        return True
    if a.isdigit() and b in COUNTERS:  # a number and its unit: 令和4 | 年)11月
        return True
    return prev.last_len >= width and not (is_ascii_alnum(a) and not is_ascii_alnum(b))


def _separator(prev: Mapped, nxt: Mapped) -> str:
    a, b = prev.text[-1], nxt.text[0]
    return " " if is_ascii_alnum(a) and is_ascii_alnum(b) else ""


def layout_units(
    raw_lines: list[tuple[str, int]],
    wrapped: bool = True,
    hidden: bytearray | None = None,
    fine: bytearray | None = None,
) -> list[Unit]:
    """Repair one page's lines into units (see module docstring); lines that are not
    ``wrapped`` are units each, as they are. ``hidden`` marks markup to leave out, ``fine``
    fine print (both indexed by offset in the document): fine print is read after the rest
    of the page, in blocks of its own, so that a sentence broken by the footnotes at the
    foot of a column reads whole."""
    if not wrapped:
        return [
            Unit(fix_vertical_glyphs(line.text), line.item)
            for line in (_read_line(raw, base, hidden) for raw, base in raw_lines) if line is not None
        ]
    blocks: list[list[Line]] = [[]]
    notes: list[list[Line]] = [[]]
    for raw, base in raw_lines:
        line = _read_line(raw, base, hidden)
        if line is not None and fine is not None and line.text.src:
            line.fine = 2 * sum(fine[i] for i in line.text.src) > len(line.text.src)
        if line is None:
            if blocks[-1]:
                blocks.append([])
        if line is None or not line.fine:
            if notes[-1]:
                notes.append([])
        if line is not None:
            (notes if line.fine else blocks)[-1].append(line)
    units: list[Unit] = []
    for b, block in enumerate(x for x in blocks + notes if x):
        for line in _merge_vertical(block):
            line.text = fix_vertical_glyphs(line.text)
            prev = units[-1] if units else None
            if prev and prev.block >= b - 1 and prev.fine == line.fine and should_join(prev, line, prev.block < b):
                prev.text = Mapped.join([prev.text, line.text], _separator(prev.text, line.text))
                prev.block = b
                prev.last_len = len(line.text)
            else:
                units.append(Unit(line.text, line.item, b, line.vertical, len(line.text), line.fine))
    if units and units[-1].text.text.isdigit():  # a page number
        units.pop()
    while units and PAGE_NUMBER.match(units[0].text.text):  # "- 1 -" or "10" atop the page
        units.pop(0)
    for u in units:
        u.text = fix_vertical_glyphs(u.text)  # again: a join can give a glyph its context
    return units


def find_title(units: list[Unit], search: int = 8) -> tuple[int | None, str]:
    """The slide title: a numbered heading or a "(参考)" reference heading. The title unit
    is left out of the page's passages, so a long unit (a paragraph) never is one."""
    for i, u in enumerate(units[:search]):
        t = u.text.text
        if len(t) > TITLE_MAX_CHARS or t.endswith("。") or u.fine:
            continue
        if _REFERENCE in t:
            return i, t[t.index(_REFERENCE):].strip()
        if _TITLE.match(t):
            return i, t
    return None, ""


def _marks(size: int, spans: list[tuple[int, int]]) -> bytearray | None:
    """The characters of ``spans`` marked 1 in a text of ``size`` characters (None: no spans)."""
    if not spans:
        return None
    marks = bytearray(size)
    for a, b in spans:
        marks[a:b] = b"\1" * (b - a)
    return marks


def repair_document(name: str, extracted: Extracted) -> tuple[Document, list[RepairedPage]]:
    """Repair a whole document: its parts (pages or sections), their titles and units,
    each character pointing at its place in ``extracted.text``."""
    repaired: list[RepairedPage] = []
    hidden = _marks(len(extracted.text), extracted.hidden)
    fine = _marks(len(extracted.text), extracted.fine)
    page_lines = [lines_of(extracted.text, part.start, part.end) for part in extracted.parts]
    furniture = running_lines(page_lines) if extracted.wrapped else set()
    for part, lines in zip(extracted.parts, page_lines):
        lines = [(raw, base) for raw, base in lines if line_key(raw) not in furniture]
        units = layout_units(lines, extracted.wrapped, hidden, fine)
        if not units:
            continue
        title_at, title = find_title(units) if extracted.wrapped else (None, "")
        titled = bool(part.title or title)
        title = part.title or title or next(
            (u.text.text for u in units if len(u.text) <= TITLE_MAX_CHARS and not u.fine and not PAGE_NUMBER.match(u.text.text)), f"{name} p.{part.number}"
        )
        page_text = Mapped.join([u.text for u in units], "\n")
        start, end = page_text.span()
        page = Page(doc=name, number=part.number, title=title, text=page_text.text, start=start, end=end)
        repaired.append(RepairedPage(page, units, title_at, titled))
    sha = hashlib.sha256(extracted.text.encode("utf-8")).hexdigest()
    # A PDF's own Title is often its author's file name; its first lines say what it is.
    lines = unspaced(document_title(repaired[0].units)) if repaired else ""
    doc_title = (lines or extracted.title) if extracted.format == "pdf" else (extracted.title or lines)
    document = Document(
        name, doc_title, [r.page for r in repaired], sha, extracted.format, extracted.page_count,
        document_date(extracted.text),
    )
    return document, repaired


# Headings by the numbering Japanese documents use, with their depth in the outline (the
# text is NFKC already: ASCII digits and brackets). Circled numbers (①) are list items.
HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(r"^第\d+[部編]")),
    (2, re.compile(r"^第\d+章")),
    (3, re.compile(r"^第\d+節")),
    (3, re.compile(r"^第\d+(?![\d条回号項-])\s*\S")),  # not a figure's or table's number (第1-3-5表)
    (4, re.compile(rf"^第[\d{KANJI_NUMERALS}]+条")),
    (4, re.compile(r"^【[^】]+】")),
    (4, re.compile(r"^\d{1,2}-\d{1,2}(?:\.(?!\d)|\s)\s*\S")),  # a white paper's 1-2.英国 under 第1節
    (5, re.compile(r"^\d{1,2}(?:\s+|\.(?!\d)\s*)\S")),
    (6, re.compile(r"^(?:\(\d{1,2}\)|[\u2474-\u2487])")),
    (7, re.compile(r"^[アイウエオカキクケコサシスセソタチツテト]\s")),
    # A figure's or table's caption (第1-1-5表/主な基盤モデル…, 図2 …) names what lies under it,
    # below every numbered section: the next heading of any level ends it.
    (8, re.compile(r"^(?:第\d+(?:-\d+)+[図表]|[図表]\s*\d+(?:[-.]\d+)*(?=[\s/:]))")),
)
HEADING_MAX_CHARS = 50
# Laws and rules give each article a caption in brackets on the line above it: (組織) over
# 第一条 法制審議会は…, (試用期間) over 第6条 労働者として…. Only above an article is such a
# line a caption: minutes have (賛成者挙手) and tables (単位:億円).
ARTICLE_CAPTION = re.compile(r"^\([^()]{1,20}\)$")
ARTICLE = re.compile(rf"^第[\d{KANJI_NUMERALS}]+条")
SECTION_LEVEL = 5  # from here down ("1", "(1)", "ア") a heading numbers a section, never a whole document
# Who speaks in minutes: "○藤田部会長 それでは…" (the ○ is dropped as a bullet), or in
# brackets, as other ministries write them ("【濵口主査】 それでは…", "【事務局(佐藤)】"), by the
# role that Japanese minutes write after a speaker's name.
_ROLES = (
    r"(?:委員長代理|委員長|副委員長|委員|幹事長|幹事|部会長代理|部会長|分科会長|会長代理|会長|座長代理|座長"
    r"|副主査|主査|議長|関係官|参考人|説明員|大臣|副大臣|政務官|局長|部長|課長|室長|審議官|参事官|事務局長|事務局)"
)
SPEAKER = re.compile(rf"^(\S{{0,12}}?{_ROLES})\s")
SPEAKER_BRACKETED = re.compile(rf"^【(\S{{0,12}}?{_ROLES}(?:\([^)]{{1,12}}\))?)】\s*")
_LEADERS = re.compile(r"(?:\.|…|・|‥){4,}")
# Letter-spaced text: justified table cells and headings of PDFs ("東 京 大 学 大 学 院",
# "法 制 審 議 会 令"). A space goes when it stands between two Japanese characters (kana,
# kanji, Japanese and full-width punctuation) and the second stands alone; spaces between
# words ("東京 大阪") stay. A line needs LETTER_SPACED_MIN such spaces to be closed up.
_JAPANESE_CHAR = "[\u3001-\u30ff\u3400-\u9fff\uff01-\uff60]"
_LETTER_SPACED = re.compile(f"(?<={_JAPANESE_CHAR}) (?={_JAPANESE_CHAR}(?: |$))")
LETTER_SPACED_MIN = 2
PAGE_NUMBER = re.compile(r"^[-‐−–—\s]*\d{1,4}[-‐−–—\s]*$")
TITLE_LINES = 3
TITLE_LINE_CHARS = 40


def heading_level(text: str, following: str = "") -> int | None:
    """The outline depth of a heading line ("第1部" 1 … "ア" 7); None for body text and for
    the lines of a table of contents ("第1 総論 ....... 3"). ``following``, the line after
    it, tells an article's caption ("(組織)" above "第一条 …", at the article's depth)."""
    if ARTICLE_CAPTION.match(text) and ARTICLE.match(following):
        return 4
    if len(text) > HEADING_MAX_CHARS or text.endswith("。") or not any(c.isalpha() for c in text):
        return None
    if _LEADERS.search(text) or SPEAKER_BRACKETED.match(text):  # 【佐藤委員】 opens a turn, not a section
        return None
    return next((level for level, pattern in HEADINGS if pattern.match(text)), None)


def speaker_of(unit: Unit) -> str | None:
    """The speaker a line of minutes starts with ("藤田部会長", "濵口主査"), if it starts a turn."""
    m = SPEAKER.match(unit.text.text) if unit.item else None
    m = m or SPEAKER_BRACKETED.match(unit.text.text)
    return m.group(1) if m else None


def document_title(units: list[Unit]) -> str:
    """A document's title from its first lines: the short lines before the first heading,
    list item or sentence ("法制審議会 商法(船荷証券等関係)部会 第4回会議 議事録"); page
    numbers are skipped. A document that opens on a numbered section ("1.我が国の…情勢",
    "(1) 概要") has no title of its own: that line names its first section, and as a title
    it would be read into every passage of the document."""
    lines: list[str] = []
    for u in units:
        t = u.text.text
        if PAGE_NUMBER.match(t):
            continue
        level = heading_level(t)
        if not lines and level is not None and level >= SECTION_LEVEL:
            return ""
        if (lines and level is not None) or u.item or u.fine or len(t) > TITLE_LINE_CHARS or t.endswith("。"):
            break
        lines.append(t)
        if len(lines) == TITLE_LINES:
            break
    return " ".join(lines)


EDGE_LINES = 3  # lines at the top and at the bottom of a page where running heads and feet sit
RUNNING_SHARE = 0.4  # share of pages a line must recur on to be a running head or foot
RUNNING_MIN_PAGES = 3


def line_key(raw: str) -> str:
    """A line as running heads and feet are compared: NFKC, without digits or white space
    (the page number changes from page to page; "第1部 …変革4" and "…変革6" are one head)."""
    return "".join(c for c in unicodedata.normalize("NFKC", raw) if not (c.isdigit() or c.isspace()))


def running_lines(pages: list[list[tuple[str, int]]]) -> set[str]:
    """The keys (:func:`line_key`) of running heads and feet: lines at a page's top or bottom
    that recur on many of the document's pages. Found by repetition, so they hold for any
    document; a document of fewer than three pages has none. Once some are found, the edge
    is looked at again below them (and below page numbers): a white paper's chapter tab
    (第 / ３ / 章, one glyph a line) sits under its running head and page number."""
    if len(pages) < RUNNING_MIN_PAGES:
        return set()
    need = max(RUNNING_MIN_PAGES, RUNNING_SHARE * len(pages))
    keys = [[line_key(raw) for raw, _ in lines if raw.strip()] for lines in pages]
    found: set[str] = set()
    while True:
        seen: Counter[str] = Counter()
        for page in keys:
            body = [k for k in page if k and k not in found]
            seen.update(set(body[:EDGE_LINES] + body[-EDGE_LINES:]))
        more = {key for key, n in seen.items() if n >= need}
        if not more:
            return found
        found |= more


def close_letter_spacing(m: Mapped) -> Mapped:
    """A letter-spaced line closed up ("法 制 審 議 会 令" -> "法制審議会令"), each character
    still pointing at its place in the original; other lines as they are."""
    gaps = {g.start() for g in _LETTER_SPACED.finditer(m.text)}
    if len(gaps) < LETTER_SPACED_MIN:
        return m
    keep = [i for i in range(len(m.text)) if i not in gaps]
    return Mapped("".join(m.text[i] for i in keep), [m.src[i] for i in keep])


def unspaced(text: str) -> str:
    """:func:`close_letter_spacing` of plain text (a title or heading from elsewhere)."""
    return close_letter_spacing(Mapped(text, list(range(len(text))))).text
