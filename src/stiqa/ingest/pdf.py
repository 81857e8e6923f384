"""PDF, page by page, with PDFium (pypdfium2): the page numbers are the citations' pages.

PDFium was chosen by measuring it against pypdf and pdfminer.six on the development
corpus (``bench/pdf_readers.py``, figures in the README): 10-13 times faster, and the
two-column white paper in reading order. Pages are joined by form feeds, so the
extracted text keeps a page per stretch between them, each character where PDFium's
character index puts it. PDFium is not thread-safe, even across documents: one lock
serialises every call into it, closing included.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from stiqa.ingest.base import Extracted, Part, Reader, ReadError

_LOCK = threading.Lock()


class PdfReader(Reader):
    format = "pdf"

    def sniff(self, head: bytes, suffix: str) -> bool:
        return head.lstrip()[:5] == b"%PDF-"

    def read(self, data: bytes) -> Extracted:
        import pypdfium2 as pdfium

        with _LOCK:
            try:
                pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as e:
                reason = str(e).lower()
                if "password" in reason:
                    raise ReadError("the PDF is encrypted (it needs a password)") from e
                raise ReadError(f"not a readable PDF ({e})") from e
            try:
                pages = [_page_text(pdf, i) for i in range(len(pdf))]
                meta = pdf.get_metadata_dict(skip_empty=True)
            finally:
                pdf.close()
        texts = [text for text, _ in pages]
        if not texts:
            raise ReadError("the PDF has no pages")
        if not any(t.strip() for t in texts):
            raise ReadError(f"no text layer on any of its {len(texts)} pages (a scan? stiqa does not read images)")
        body = body_size("".join(texts), [s for _, sizes in pages for s in sizes])
        parts: list[Part] = []
        hidden: list[tuple[int, int]] = []
        fine: list[tuple[int, int]] = []
        pos = 0
        for number, (page, sizes) in enumerate(pages, start=1):
            if page.strip():
                parts.append(Part(number, pos, pos + len(page)))
            hidden.extend((pos + a, pos + b) for a, b in small_runs(page, sizes, body))
            fine.extend((pos + a, pos + b) for a, b in fine_lines(page, sizes, body))
            pos += len(page) + 1
        title = " ".join(meta.get("Title", "").split())
        return Extracted(
            "\f".join(texts), self.format, parts, title=title, page_count=len(texts), wrapped=True, hidden=hidden,
            fine=fine,
        )


def _page_text(pdf, index: int) -> tuple[str, list[float]]:
    """The page's text in PDFium's order, one character per character of the page's text layer
    (so an offset into it is PDFium's character index, which its boxes use): line ends as
    PDFium writes them ("\r\n"), the hyphen it marks as U+FFFE at a line's end made "-".
    With it, each character's glyph size (0 for those PDFium made up, such as line ends)."""
    import pypdfium2.raw as pdfium_c

    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            sizes = [pdfium_c.FPDFText_GetFontSize(textpage.raw, i) for i in range(len(text))]
        finally:
            textpage.close()
    finally:
        page.close()
    return text.replace("\ufffe", "-").replace("\f", "\n"), sizes


def body_size(text: str, sizes: list[float]) -> float:
    """The glyph size of a document's body text: the commonest size of its Japanese characters
    (of all its characters, if it has none). Not the median of a page: a white paper's page
    can hold more footnote than body (long English references in 7-point type under 10.5-point
    text), and its furigana would then pass for ordinary text."""
    found = np.round(np.asarray(sizes, dtype=np.float64), 1)
    code = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # PDFium may give lone surrogates
    japanese = ((code >= 0x3041) & (code <= 0x30FF)) | ((code >= 0x4E00) & (code <= 0x9FFF))  # kana and kanji
    if japanese.any():
        found = found[japanese]
    found = found[found > 0]
    if not len(found):
        return 0.0
    values, counts = np.unique(found, return_counts=True)
    return float(values[np.argmax(counts)])


SMALL_GLYPHS = 0.7  # of the body's glyph size: furigana and superscripts are about half
FINE_PRINT = 0.8  # of the body's glyph size: footnotes, sources and notes under a figure (7 or 8 points under 10.5)
MAX_SMALL_RUN = 8
_KANA = re.compile(r"[\u3041-\u309f\u30a1-\u30ff]+")
_MARKER = re.compile(r"[0-9*※†‡]+|[\uff10-\uff19]+")
_LINE = re.compile(r"[^\r\n]+")


def small_runs(text: str, sizes: list[float], body: float) -> list[tuple[int, int]]:
    """Furigana (ふかんず over 俯瞰図) and footnote markers (…とともに¹、): short runs of kana, or
    of digits and marks, in glyphs much smaller than the ``body`` size, between characters of
    ordinary size. A note set small as a whole is not a run between ordinary characters, so
    it stays."""
    limit = SMALL_GLYPHS * body
    small = [0 < s < limit and not c.isspace() for c, s in zip(text, sizes)]
    runs = []
    i = 0
    while i < len(text):
        if not small[i]:
            i += 1
            continue
        j = i
        while j < len(text) and small[j]:
            j += 1
        before = next((k for k in range(i - 1, -1, -1) if not text[k].isspace()), None)
        after = next((k for k in range(j, len(text)) if not text[k].isspace()), None)
        ordinary = before is not None and not small[before] and (after is None or not small[after])
        piece = text[i:j]
        if ordinary and j - i <= MAX_SMALL_RUN and (_KANA.fullmatch(piece) or _MARKER.fullmatch(piece)):
            runs.append((i, j))
        i = j
    return runs


def fine_lines(text: str, sizes: list[float], body: float) -> list[tuple[int, int]]:
    """The lines set in fine print, most of their glyphs well under the ``body`` size:
    footnotes, a figure's source and notes. Layout keeps them out of the body's flow (a
    sentence runs on past the notes at the foot of a column) and never reads them as headings
    ("4 National Institute of Standards and Technology" is note 4, not section 4)."""
    glyphs = np.asarray(sizes, dtype=np.float64)
    small = np.concatenate([[0], np.cumsum((glyphs > 0) & (glyphs < FINE_PRINT * body))])
    drawn = np.concatenate([[0], np.cumsum(glyphs > 0)])
    out = []
    for m in _LINE.finditer(text):
        a, b = m.span()
        if 2 * (small[b] - small[a]) > drawn[b] - drawn[a]:
            out.append((a, b))
    return out


@contextmanager
def _page(data: bytes, number: int) -> Iterator:
    """Page ``number`` (from 1) of the PDF in ``data``, open while the lock is held."""
    import pypdfium2 as pdfium

    with _LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            if not 1 <= number <= len(pdf):
                raise ReadError(f"the PDF has no page {number}; its pages are 1-{len(pdf)}")
            page = pdf[number - 1]
            try:
                yield page
            finally:
                page.close()
        finally:
            pdf.close()


def render_page(data: bytes, number: int, scale: float) -> bytes:
    """Page ``number`` (from 1) of the PDF in ``data`` as a PNG, ``scale`` × 72 pixels per inch."""
    with _page(data, number) as page:
        image = page.render(scale=scale).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


Rect = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the page's width and height


def span_rects(data: bytes, number: int, spans: list[tuple[int, int]]) -> list[list[Rect]]:
    """For each ``(start, end)`` span of page ``number``'s text (offsets into the page as
    :class:`PdfReader` extracted it, which are PDFium's character indices), the rectangles
    PDFium gives for its lines, as fractions of the page as it is rendered (top left 0, 0).
    Pages that PDF viewers show rotated are not handled: their rectangles are unrotated."""
    out: list[list[Rect]] = []
    with _page(data, number) as page:
        textpage = page.get_textpage()
        try:
            left, bottom, right, top = page.get_bbox()
            width, height = max(right - left, 1e-6), max(top - bottom, 1e-6)
            chars = textpage.count_chars()
            for start, end in spans:
                start, end = max(0, start), min(end, chars)
                found = [textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start))] if end > start else []
                out.append([
                    (round((x0 - left) / width, 5), round((top - y1) / height, 5),
                     round((x1 - left) / width, 5), round((top - y0) / height, 5))
                    for x0, y0, x1, y1 in found
                ])
        finally:
            textpage.close()
    return out
