"""The search index as it lies on disk, loaded: ``<index_dir>/<build id>/`` holds the FAISS
vectors, the passage records, sentence vectors for answer extraction, the BM25 index and a
manifest; ``<index_dir>/CURRENT`` names the build in use (written by :mod:`stiqa.index.build`).

An index built with another model, normalisation or format, or from other corpus files, is
refused with a message that says how to rebuild it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from stiqa import __version__
from stiqa.dates import DateMention, find_dates
from stiqa.index.lexical import LexicalIndex, tokenizer_name
from stiqa.index.pages import PageSpans, spans_from_json
from stiqa.index.vectors import (
    read_vector_index,
)
from stiqa.ingest import corpus_files, doc_id
from stiqa.normalize import NORMALIZATION_VERSION
from stiqa.records import Document, Page, Passage

INDEX_FORMAT = 4  # 4: each passage's span in its page, computed at build time (page_spans.json)
CURRENT = "CURRENT"
CACHE_FILE = "embeddings.npz"
TEXTS_FILE = "texts.json"  # each document's extracted text, by id
PAGE_SPANS_FILE = "page_spans.json"  # each passage's span in its page's text (stiqa.index.pages)
LOCK_FILE = ".build.lock"
REBUILD = "run `stiqa index` to rebuild it"


class IndexLoadError(RuntimeError):
    """The index cannot be used; the message says why and how to fix it."""


@dataclass
class Manifest:
    format: int
    stiqa_version: str
    model: str
    backend: str  # what ran the model (the embedding cache is reused only with the same one)
    dim: int
    normalization: str
    lexical_tokenizer: str
    ingest: str  # INGEST_VERSION of the readers that read the documents
    documents: dict[str, str]  # every file of the corpus (read or not) by id: its sha256
    skipped: dict[str, str]  # the files that could not be read, by id: why
    passages: int
    sentences: int
    built_at: str
    build_seconds: float


@dataclass
class Index:
    manifest: Manifest
    documents: list[Document]
    passages: list[Passage]
    vectors: faiss.Index | None  # None: searched elsewhere (see load_index's ``searchable``)
    sentence_vectors: np.ndarray
    sentence_start: np.ndarray  # first sentence row of each passage; one extra at the end
    lexical: LexicalIndex | None
    path: Path
    _texts: dict[str, str] | None = field(default=None, repr=False)
    page_spans: PageSpans = field(default_factory=dict, repr=False)

    @cached_property
    def sentence_dates(self) -> list[list[list[DateMention]]]:
        """The dates each sentence of each passage writes (:func:`stiqa.dates.find_dates`, no
        context), read once per index: retrieval's period prior and the timeline both use them."""
        return [[find_dates(s.text) for s in p.sentences] for p in self.passages]

    @cached_property
    def passages_by_id(self) -> dict[str, Passage]:
        return {p.id: p for p in self.passages}

    @cached_property
    def _by_name(self) -> dict[str, Document]:
        return {d.name: d for d in self.documents}

    def document(self, doc: str) -> Document | None:
        return self._by_name.get(doc)

    def listing(self) -> list[dict[str, Any]]:
        """Every file of the corpus, by id, as ``GET /api/documents`` and ``stiqa documents``
        list it: each indexed document with its title, format, pages, passages and date, and
        each file that could not be read with the reason."""
        counts = Counter(p.citation.doc for p in self.passages)
        indexed = [
            {"name": d.name, "title": d.title, "format": d.format, "pages": d.page_count or len(d.pages),
             "passages": counts[d.name], "date": d.date, "status": "indexed", "reason": None}
            for d in self.documents
        ]
        skipped = [
            {"name": name, "title": "", "format": "", "pages": 0, "passages": 0, "date": None,
             "status": "skipped", "reason": reason}
            for name, reason in self.manifest.skipped.items()
        ]
        return sorted(indexed + skipped, key=lambda d: d["name"])

    def text(self, doc: str) -> str | None:
        """The text stiqa extracted from ``doc`` (what its citations' offsets index), read
        from the build on first use."""
        if self._texts is None:
            self._texts = read_json(self.path / TEXTS_FILE)
        return self._texts.get(doc)

    def page(self, doc: str, number: int) -> Page | None:
        document = self.document(doc)
        return next((p for p in document.pages if p.number == number), None) if document else None

    def embedding_text(self, p: Passage) -> str:
        """What ``p`` was embedded and BM25-indexed as (see :func:`embedding_text`)."""
        document = self.document(p.citation.doc)
        return embedding_text(p, document.title if document else "")


def embedding_text(p: Passage, title: str) -> str:
    """What a passage is embedded and BM25-indexed as: its document's title and its section
    path give it context, so that a question naming the document ("第4回会議",
    「モデル就業規則」) or the section finds it."""
    header = "\n".join(dict.fromkeys(x for x in (title, p.citation.section) if x))
    return f"{header}\n{p.text}" if header else p.text


Entry = tuple[str, tuple[tuple[int, int], ...]]  # a passage's embedding text and its sentences' spans in it


def sentence_spans(p: Passage, text: str) -> tuple[tuple[int, int], ...]:
    """Where each of the passage's sentences lies in ``text``, its :func:`embedding_text`."""
    at = len(text) - len(p.text)
    spans = []
    for s in p.sentences:
        start = text.find(s.text, at)
        if start < 0:  # not expected: a passage is its sentences joined
            raise ValueError(f"sentence {s.text[:40]!r} is not in passage {p.id}")
        spans.append((start, start + len(s.text)))
        at = start + len(s.text)
    return tuple(spans)


def corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    return {doc_id(f, corpus_dir): hashlib.sha256(f.read_bytes()).hexdigest() for f in corpus_files(corpus_dir)}


def pointed_build(index_dir: Path) -> str:
    """The build ``<index_dir>/CURRENT`` names now, unchecked; "" when it is missing or unreadable."""
    try:
        return (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexLoadError(f"no index in {index_dir}: {REBUILD.replace('rebuild', 'build')}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise IndexLoadError(f"{pointer} is unreadable ({_reason(e)}): {REBUILD}") from e
    return named_build(index_dir, name, f"{pointer} names")


def named_build(index_dir: Path, name: str, named_by: str = "asked for") -> Path:
    """The folder of build ``name`` in ``index_dir``; IndexLoadError if there is none."""
    build = index_dir / name
    if not name or "/" in name or "\0" in name or name.startswith(".") or not build.is_dir():
        raise IndexLoadError(f"{named_by} a missing build ({name[:80]!r}): {REBUILD}")
    return build


def load_index(
    index_dir: Path, model: str, corpus_dir: Path | None = None, lexical_mode: str = "A", build: str | None = None,
    searchable: bool = True,
) -> Index:
    """Load the current build (or the build named ``build``); refuse one that does not fit this
    configuration. Without ``searchable``, the vectors and BM25 are left out (shards elsewhere
    search them; see :mod:`stiqa.index.search`) and the sentence vectors are mapped, not read."""
    path = current_build(index_dir) if build is None else named_build(index_dir, build)
    manifest = load_manifest(path)
    if manifest.model != model:
        raise IndexLoadError(
            f"index was built with model {manifest.model!r} but the configured model is {model!r}: "
            f"{REBUILD} with this model, or set STIQA_MODEL={manifest.model}"
        )
    if manifest.normalization != NORMALIZATION_VERSION:
        raise IndexLoadError(
            f"index used text normalisation v{manifest.normalization}, this stiqa uses "
            f"v{NORMALIZATION_VERSION}: {REBUILD}"
        )
    if manifest.lexical_tokenizer != tokenizer_name(lexical_mode):
        raise IndexLoadError(
            f"index has BM25 words of {manifest.lexical_tokenizer}, the configured ones are "
            f"{tokenizer_name(lexical_mode)}: {REBUILD}, or set STIQA_LEXICAL_MODE to the index's"
        )
    if corpus_dir is not None and corpus_dir.is_dir():
        now = corpus_hashes(corpus_dir)
        if now != manifest.documents:
            changed = sorted(set(now.items()) ^ set(manifest.documents.items()))
            names = ", ".join(sorted({n for n, _ in changed}))
            raise IndexLoadError(f"corpus changed since the index was built ({names}): {REBUILD}")
    try:
        vectors = read_vector_index(path / "passages.faiss") if searchable else None
        sentence_vectors = np.load(path / "sentences.npy", mmap_mode=None if searchable else "r")
        sentence_start = np.load(path / "sentence_start.npy")
        passages = [Passage.from_dict(d) for d in read_json(path / "passages.json")]
        documents = [document_from_dict(d) for d in read_json(path / "documents.json")]
        lexical = LexicalIndex.load(path / "bm25", len(passages)) if searchable else None
        spans = spans_from_json(read_json(path / PAGE_SPANS_FILE))
    except IndexLoadError:
        raise
    except Exception as e:
        raise IndexLoadError(f"index {path} is damaged ({_reason(e)}): {REBUILD}") from e
    if not (
        len(passages) == manifest.passages
        and (vectors is None or (vectors.ntotal == len(passages) and vectors.d == manifest.dim))
        and sentence_vectors.shape == (manifest.sentences, manifest.dim)
        and len(sentence_start) == len(passages) + 1
    ):
        raise IndexLoadError(f"index {path} is inconsistent (its files disagree in size): {REBUILD}")
    return Index(
        manifest, documents, passages, vectors, sentence_vectors, sentence_start, lexical, path,
        page_spans=spans,
    )


def _reason(e: BaseException, limit: int = 200) -> str:
    """An exception as a short phrase on one line, for a message that also says the fix.
    FAISS's errors start with the C++ function and source line: only what failed is kept."""
    text = " ".join(str(e).split())
    if "faiss" in text and "failed: " in text:
        text = text.split("failed: ", 1)[1]
    text = f"{type(e).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_manifest(path: Path) -> Manifest:
    try:
        fields = read_json(path / "manifest.json")
        if isinstance(fields, dict) and fields.get("format") != INDEX_FORMAT:
            raise IndexLoadError(
                f"index format {fields.get('format')} (stiqa {fields.get('stiqa_version')}) is not format "
                f"{INDEX_FORMAT} of stiqa {__version__}: {REBUILD}"
            )
        m = Manifest(**fields)
    except FileNotFoundError as e:
        raise IndexLoadError(f"index {path} has no manifest (an unfinished build): {REBUILD}") from e
    except (OSError, ValueError, TypeError) as e:
        raise IndexLoadError(f"index manifest in {path} is unreadable ({_reason(e)}): {REBUILD}") from e
    counts = (m.format, m.dim, m.passages, m.sentences)
    if not (isinstance(m.model, str) and isinstance(m.documents, dict) and all(type(n) is int for n in counts)):
        raise IndexLoadError(f"index manifest in {path} is unreadable (fields of the wrong type): {REBUILD}")
    return m


def document_from_dict(d: dict[str, Any]) -> Document:
    return Document(**{**d, "pages": [Page(**p) for p in d["pages"]]})
