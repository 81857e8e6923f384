"""Which files of a corpus folder are documents, their ids, and reading one by content."""

from __future__ import annotations

from pathlib import Path

from stiqa.ingest.base import MAX_FILE_BYTES, Extracted, Reader, ReadError
from stiqa.ingest.html import HtmlReader
from stiqa.ingest.markdown import MarkdownReader
from stiqa.ingest.pdf import PdfReader
from stiqa.ingest.text import TextReader
from stiqa.ingest.word import DocxReader

# Asked in this order; plain text, the last, takes whatever decodes as text.
READERS: tuple[Reader, ...] = (PdfReader(), DocxReader(), HtmlReader(), MarkdownReader(), TextReader())
SNIFF_BYTES = 1024
# Files that describe a folder rather than inform, and files of tools.
SKIPPED_NAMES = ("readme", "license", "licence", "changelog")


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under ``corpus_dir`` (sub-folders too) that may be a document, by path.
    Hidden files and folders, and README/LICENSE files, are left out."""
    found = []
    for path in corpus_dir.rglob("*"):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name.lower().startswith(SKIPPED_NAMES):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(corpus_dir).as_posix())


def doc_id(path: Path, corpus_dir: Path) -> str:
    """A document's id: its path under the corpus folder, with "/" between folders."""
    return path.relative_to(corpus_dir).as_posix()


def reader_for(data: bytes, name: str) -> Reader:
    """The reader of ``data`` by its first bytes (and, for the formats that are text, its name)."""
    head = data[:SNIFF_BYTES]
    suffix = Path(name).suffix.lower()
    if head.startswith(b"PK\x03\x04") and suffix != ".docx":
        return DocxReader()  # a zip: only Word documents are read; check_zip says why not
    return next(r for r in READERS if r.sniff(head, suffix))


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Extracted:
    """The document in ``path``; ReadError saying why it cannot be read. A file over
    ``max_bytes`` is refused by its size, before it is read."""
    try:
        _check_size(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    except OSError as e:
        raise ReadError(f"cannot be opened ({e.strerror or e})") from e
    return read_bytes(data, path.name, max_bytes)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ReadError(f"{size:,} bytes, over the limit of {max_bytes:,}")


def read_bytes(data: bytes, name: str, max_bytes: int = MAX_FILE_BYTES) -> Extracted:
    """The document in ``data`` (a file named ``name``); ReadError saying why it cannot be read."""
    _check_size(len(data), max_bytes)
    if not data.strip():
        raise ReadError("the file is empty")
    reader = reader_for(data, name)
    try:
        return reader.read(data)
    except ReadError:
        raise
    except Exception as e:  # noqa: BLE001 - a library's failure on a bad file is a reason, not a crash
        raise ReadError(f"the {reader.format} reader failed ({type(e).__name__}: {str(e)[:160]})") from e
