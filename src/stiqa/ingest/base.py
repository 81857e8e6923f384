"""What every reader returns, the small interface readers share, and their limits."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

MAX_FILE_BYTES = 100 * 1024 * 1024  # a larger file is refused, not read into memory
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # what a zipped format (.docx) may expand to
MAX_PACKING_RATIO = 100  # unpacked / packed beyond this is a zip bomb, not a document


class ReadError(ValueError):
    """The file cannot be read as a document; the message says why (without the file's name,
    which the caller adds)."""


@dataclass
class Part:
    """A page of a PDF, or for formats without pages the section under one heading: its
    ``number`` (from 1) is what a citation gives as ``page``; ``text[start:end]`` of the
    document is its text."""

    number: int
    start: int
    end: int
    title: str = ""  # the heading that opens a section; "" for a page (layout repair finds one)


@dataclass
class Extracted:
    """A document as stiqa extracted it."""

    text: str  # what citations index and GET /api/documents/{doc}/text returns
    format: str  # pdf, docx, html, markdown or text
    parts: list[Part]
    title: str = ""  # from the file's metadata or its first heading; "" if it has none
    page_count: int = 0  # a PDF's pages (empty ones too); the number of parts otherwise
    # Lines wrapped at a width (PDF pages, plain text) are joined by layout repair; the
    # paragraphs of Word, HTML and Markdown are already whole.
    wrapped: bool = False
    # Spans of ``text`` that are markup, not words (Markdown's "## ", "**", "](url)"): kept
    # in the text, so that offsets index the file, but left out of passages.
    hidden: list[tuple[int, int]] = field(default_factory=list)
    # Spans of ``text`` in fine print (a PDF's footnotes and a figure's notes): read after the
    # body text of their page, and never as headings.
    fine: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader could not use, for the build's log

    def __post_init__(self) -> None:
        if not self.page_count:
            self.page_count = len(self.parts)


class Reader(ABC):
    """One format: recognises its files by their first bytes and reads them whole."""

    format: str

    @abstractmethod
    def sniff(self, head: bytes, suffix: str) -> bool:
        """Whether a file starting with ``head`` (named ``*<suffix>``, lower case) is of this format."""

    @abstractmethod
    def read(self, data: bytes) -> Extracted:
        """The document in ``data``; ReadError if it cannot be read."""
