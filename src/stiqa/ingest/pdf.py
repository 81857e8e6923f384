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
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .base import Extracted, Part, Reader, ReadError

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
                texts = [_page_text(pdf, i) for i in range(len(pdf))]
                meta = pdf.get_metadata_dict(skip_empty=True)
            finally:
                pdf.close()
        if not texts:
            raise ReadError("the PDF has no pages")
        if not any(t.strip() for t in texts):
            raise ReadError(f"no text layer on any of its {len(texts)} pages (a scan? stiqa does not read images)")
        parts: list[Part] = []
        pos = 0
        for number, page in enumerate(texts, start=1):
            if page.strip():
                parts.append(Part(number, pos, pos + len(page)))
            pos += len(page) + 1
        title = " ".join(meta.get("Title", "").split())
        return Extracted("\f".join(texts), self.format, parts, title=title, page_count=len(texts), wrapped=True)


def _page_text(pdf, index: int) -> str:
    """The page's text in PDFium's order, one character per character of the page's text layer
    (so an offset into it is PDFium's character index, which its boxes use): line ends as
    PDFium writes them ("\r\n"), the hyphen it marks as U+FFFE at a line's end made "-"."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    return text.replace("\ufffe", "-").replace("\f", "\n")


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
