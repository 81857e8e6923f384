"""Word (.docx) with python-docx: paragraphs in order, heading styles as sections, tables
row by row (cells joined by a tab)."""

from __future__ import annotations

import io
import re
import zipfile

from stiqa.ingest.base import (
    MAX_PACKING_RATIO,
    MAX_UNPACKED_BYTES,
    Extracted,
    Reader,
    ReadError,
)
from stiqa.ingest.blocks import CELL_SEPARATOR, Block, assemble, clean

# "Heading 2", "見出し 2" (Japanese Word), "Title": the style names Word gives headings.
_HEADING = re.compile(r"^(?:heading|見出し)\s*(\d)$", re.IGNORECASE)


class DocxReader(Reader):
    format = "docx"

    def sniff(self, head: bytes, suffix: str) -> bool:
        return head.startswith(b"PK\x03\x04") and suffix == ".docx"

    def read(self, data: bytes) -> Extracted:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        check_zip(data)
        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise ReadError(f"not a readable Word document ({e})") from e
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, docx.table.Table):
                blocks.extend(Block(row) for row in table_rows(item))
            else:
                blocks.append(Block(clean(item.text), heading_level(item.style.name if item.style else "")))
        title = clean(document.core_properties.title or "")
        return assemble(blocks, self.format, title)


def heading_level(style: str) -> int:
    if style.lower() == "title":
        return 1
    m = _HEADING.match(style.strip())
    return int(m.group(1)) if m else 0


def table_rows(table) -> list[str]:
    """Each row's distinct cells (merged cells repeat in python-docx) joined by CELL_SEPARATOR."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean(cell.text)
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


def check_zip(data: bytes) -> None:
    """ReadError for a zip that is broken or would unpack to far more than it holds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            names = set(z.namelist())
    except zipfile.BadZipFile as e:
        raise ReadError(f"a damaged zip file ({e})") from e
    if "word/document.xml" not in names:
        raise ReadError("a zip file without word/document.xml, not a Word document")
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_PACKING_RATIO * max(1, len(data)):
        raise ReadError(f"it would unpack to {unpacked:,} bytes from {len(data):,} (a zip bomb?)")
