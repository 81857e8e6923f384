"""Reading documents: the files people have, as text stiqa can cite.

One reader per format (:mod:`.pdf`, :mod:`.word`, :mod:`.html`, :mod:`.markdown`,
:mod:`.text`) behind :class:`.base.Reader`; :func:`read_file` decides the format by
content, not by name, and turns every failure into a :class:`.base.ReadError` that
says why. A reader returns :class:`.base.Extracted`: the document's text as stiqa
extracted it (what citations' offsets index), cut into parts (a PDF's pages, or the
sections under a document's headings), with its title. :mod:`.layout` repairs what the
readers give (running heads, furigana, wrapped lines, titles) and :mod:`.segment` cuts the
repaired pages into sentences and passages along the document's outline.
:mod:`.collection` adds files to the corpus folder and removes them; :mod:`.pdf` also
renders pages and finds where a span of a page's text lies on it, for the page viewer.

Stage 1 of the data path (ingest → index → qa → service → server): it imports only the
foundation modules (:mod:`stiqa.config`, :mod:`stiqa.records`, :mod:`stiqa.questions`,
:mod:`stiqa.normalize`, :mod:`stiqa.dates`).
"""

from stiqa.ingest.base import MAX_FILE_BYTES, Extracted, Part, ReadError
from stiqa.ingest.files import corpus_files, doc_id, read_bytes, read_file

# What the readers and layout repair make of a file: a build reuses the previous build's
# reading of an unchanged file only when this is the same. Raise it with any change that
# alters extracted text, parts, passages or a skip.
INGEST_VERSION = "8"  # 8: a sentence does not give a document its own date

__all__ = [
    "INGEST_VERSION", "MAX_FILE_BYTES", "Extracted", "Part", "ReadError", "corpus_files", "doc_id", "read_bytes",
    "read_file",
]
