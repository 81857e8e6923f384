"""Stage 2, the index: the passages of a corpus embedded into FAISS beside a Japanese BM25,
built into a folder and loaded from it (:mod:`.build`, :mod:`.store`, :mod:`.vectors`,
:mod:`.lexical`), and searched whole or in shards (:mod:`.search`).

May import the foundation modules, :mod:`stiqa.ingest` and :mod:`stiqa.model`; never
:mod:`stiqa.qa`, :mod:`stiqa.timeline`, :mod:`stiqa.service` or :mod:`stiqa.server`.
"""

from stiqa.index.build import Corpus, IndexBusyError, build_index, read_corpus
from stiqa.index.store import (
    CURRENT,
    LOCK_FILE,
    Index,
    IndexLoadError,
    current_build,
    embedding_text,
    load_index,
)

__all__ = [
    "CURRENT", "LOCK_FILE", "Corpus", "Index", "IndexBusyError", "IndexLoadError", "build_index", "current_build",
    "embedding_text", "load_index", "read_corpus",
]
