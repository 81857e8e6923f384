"""Plain text in the encodings Japanese offices use: UTF-8 (with or without a byte-order
mark), UTF-16 with a mark, Shift_JIS/cp932, EUC-JP and ISO-2022-JP.

The extracted text is the decoded file, unchanged (newlines of any kind included), so a
citation's offsets index what the file says. Pages are split where the file has form
feeds, or by the layout that slide decks extracted to text keep (see
:func:`stiqa.ingest.pages.page_spans`).
"""

from __future__ import annotations

import codecs

from stiqa.ingest.base import Extracted, Part, Reader, ReadError
from stiqa.ingest.pages import page_spans

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Tried in this order when the file is not UTF-8 (nor ISO-2022-JP, known by its escapes);
# the first that decodes it without error and reads as text wins. EUC-JP before cp932: cp932 decodes most EUC-JP bytes (as
# half-width katakana), EUC-JP rejects most cp932 ones.
LEGACY = ("euc_jp", "cp932")
CONTROL_SHARE = 0.01  # more control characters than this and it is not text


def decode(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was in; ReadError for binary data."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding, errors="strict"), encoding)
    if b"\0" in data[:65536]:
        raise ReadError("a binary file, not text (it holds NUL bytes)")
    if b"\x1b$B" in data[:65536] or b"\x1b$@" in data[:65536]:  # ISO-2022-JP's escapes (7-bit, so UTF-8 too)
        candidates: tuple[str, ...] = ("iso2022_jp",)
    else:
        try:
            return _checked(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            pass
        candidates = LEGACY
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _halfwidth_kana_share(text) < 0.2:  # EUC-JP read as cp932 is mostly half-width kana
            return _checked(text, encoding)
    raise ReadError("not text in UTF-8, Shift_JIS/cp932, EUC-JP or ISO-2022-JP")


def _halfwidth_kana_share(text: str) -> float:
    letters = [c for c in text if not c.isascii()]
    return sum("\uff61" <= c <= "\uff9f" for c in letters) / max(1, len(letters))


def _checked(text: str, encoding: str) -> tuple[str, str]:
    controls = sum(1 for c in text if (ord(c) < 0x20 and c not in "\t\n\r\f") or ord(c) == 0x7F)
    if controls > CONTROL_SHARE * max(1, len(text)):
        raise ReadError(f"a binary file, not text ({controls} control characters as {encoding})")
    return text, encoding


class TextReader(Reader):
    format = "text"

    def sniff(self, head: bytes, suffix: str) -> bool:
        return True  # the reader of last resort: decode() refuses what is not text

    def read(self, data: bytes) -> Extracted:
        text, _ = decode(data)
        parts = [Part(n, a, b) for n, (a, b) in enumerate(page_spans(text), start=1)]
        if not parts:
            raise ReadError("no text in it")
        return Extracted(text, self.format, parts, wrapped=True)
