"""Build the search index from the corpus folder, beside the build in use.

Only what changed since the last build is read again and embedded again. ``CURRENT`` is
replaced atomically once a build is complete, so a reader sees either the old index or the
new one, never half of one, and a killed build leaves the old one usable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

from stiqa import __version__
from stiqa.index.lexical import LexicalIndex
from stiqa.index.pages import page_spans, spans_to_json
from stiqa.index.store import (
    CACHE_FILE,
    CURRENT,
    INDEX_FORMAT,
    LOCK_FILE,
    PAGE_SPANS_FILE,
    TEXTS_FILE,
    Entry,
    Index,
    IndexLoadError,
    Manifest,
    current_build,
    document_from_dict,
    embedding_text,
    load_manifest,
    pointed_build,
    read_json,
    sentence_spans,
)
from stiqa.index.vectors import (
    build_vector_index,
    write_vector_index,
)
from stiqa.ingest import INGEST_VERSION, ReadError, corpus_files, doc_id, read_bytes
from stiqa.ingest.layout import repair_document
from stiqa.ingest.segment import Segmenter, document_passages
from stiqa.normalize import NORMALIZATION_VERSION
from stiqa.records import Document, Passage


@dataclass
class Corpus:
    """The corpus as read for one build."""

    documents: list[Document]
    passages: list[Passage]
    texts: dict[str, str]  # id -> the extracted text that citations index
    skipped: dict[str, str]  # id -> why it could not be read
    hashes: dict[str, str]  # id -> sha256 of every file, read or not


@dataclass
class Reading:
    """One file as a build reads it: its document, extracted text and passages, or why it
    was skipped. Plain data, so that a reader on another machine can send it back."""

    name: str
    document: Document | None = None
    text: str = ""
    passages: list[Passage] = field(default_factory=list)
    skipped: str | None = None


def read_document(name: str, data: bytes, seg: Segmenter | None = None) -> Reading:
    """Read, repair and cut into passages the file ``name`` (its id) whose bytes are ``data``."""
    try:
        extracted = read_bytes(data, PurePosixPath(name).name)
        document, pages = repair_document(name, extracted)
    except ReadError as e:
        return Reading(name, skipped=str(e))
    return Reading(name, document, extracted.text, document_passages(pages, seg or Segmenter()))


# Reads files given as (id, bytes), in order: here by default, on a cluster with stiqa.cluster.
Reader = Callable[[list[tuple[str, bytes]]], list[Reading]]


def read_here(files: list[tuple[str, bytes]]) -> list[Reading]:
    seg = Segmenter()
    return [read_document(name, data, seg) for name, data in files]


def read_corpus(corpus_dir: Path, previous: Corpus | None = None, reader: Reader = read_here) -> Corpus:
    """Read, repair and cut into passages every document of the corpus; a file that cannot
    be read is left out with its reason (``Corpus.skipped``), never the build. A file that
    ``previous`` (the last build's corpus) read from the same bytes is taken from it; the
    others go to ``reader`` together."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    files = corpus_files(corpus_dir)
    if not files:
        raise FileNotFoundError(f"corpus folder {corpus_dir} holds no documents")
    corpus = Corpus([], [], {}, {}, {})
    last = previous or Corpus([], [], {}, {}, {})
    last_docs = {d.name: d for d in last.documents}
    last_passages: dict[str, list[Passage]] = {}
    for p in last.passages:
        last_passages.setdefault(p.citation.doc, []).append(p)
    readings: dict[str, Reading] = {}
    todo: list[tuple[str, bytes]] = []
    for f in files:
        name = doc_id(f, corpus_dir)
        try:
            data = f.read_bytes()
        except OSError as e:
            readings[name] = Reading(name, skipped=f"cannot be opened ({e.strerror or e})")
            continue
        sha = corpus.hashes[name] = hashlib.sha256(data).hexdigest()
        if last.hashes.get(name) == sha and name in last.skipped:
            readings[name] = Reading(name, skipped=last.skipped[name])
        elif last.hashes.get(name) == sha and name in last_docs:
            readings[name] = Reading(name, last_docs[name], last.texts[name], last_passages.get(name, []))
        else:
            todo.append((name, data))  # the bytes just hashed: each file is read once
    readings.update((r.name, r) for r in reader(todo))
    for f in files:
        r = readings[doc_id(f, corpus_dir)]
        if r.document is None:
            corpus.skipped[r.name] = r.skipped or "could not be read"
            continue
        corpus.documents.append(r.document)
        corpus.texts[r.name] = r.text
        corpus.passages.extend(r.passages)
    if not corpus.documents:
        raise FileNotFoundError(f"corpus folder {corpus_dir} holds no readable document ({len(files)} skipped)")
    return corpus


def previous_corpus(index_dir: Path) -> Corpus | None:
    """The corpus as the current build read it, if its readers were these; else None."""
    try:
        build = current_build(index_dir)
        manifest = load_manifest(build)
        if manifest.ingest != INGEST_VERSION or manifest.normalization != NORMALIZATION_VERSION:
            return None
        documents = [document_from_dict(d) for d in read_json(build / "documents.json")]
        passages = [Passage.from_dict(d) for d in read_json(build / "passages.json")]
        return Corpus(documents, passages, read_json(build / TEXTS_FILE), dict(manifest.skipped), dict(manifest.documents))
    except (IndexLoadError, OSError, ValueError, KeyError, TypeError):
        return None


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: PassageEmbedder,
    tokenizer: PassageTokenizer,
    progress: Callable[[str], None] | None = None,
    reader: Reader = read_here,
) -> Index:
    """Build a new index beside the current one, then switch to it atomically.

    ``embedder``, ``tokenizer`` and ``reader`` run here by default; :mod:`stiqa.cluster` gives ones that
    run on a Ray cluster, and the build is the same. One build at a time per index folder:
    a second one is refused (IndexBusyError) rather than let the two remove each other's files.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        return _build_index(corpus_dir, index_dir, embedder, tokenizer, progress, reader)


class IndexBusyError(RuntimeError):
    """Another process is building into the same index folder."""


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """An exclusive lock on ``<index_dir>/.build.lock``; the kernel drops it if the holder dies."""
    with open(index_dir / LOCK_FILE, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(
                f"another `stiqa index` is building into {index_dir}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: PassageEmbedder,
    tokenizer: PassageTokenizer,
    progress: Callable[[str], None] | None,
    reader: Reader,
) -> Index:
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    corpus = read_corpus(corpus_dir, previous_corpus(index_dir), reader)
    documents, passages = corpus.documents, corpus.passages
    say(f"{len(documents)} documents ({len(corpus.skipped)} skipped), {len(passages)} passages, "
        f"read in {time.perf_counter() - t0:.1f} s")

    titles = {d.name: d.title for d in documents}
    texts = [embedding_text(p, titles[p.citation.doc]) for p in passages]
    entries: list[Entry] = [(t, sentence_spans(p, t)) for p, t in zip(passages, texts)]
    sentences = [s.text for p in passages for s in p.sentences]
    # One model run per distinct passage, which gives its sentences' vectors too,
    # reusing the previous build's vectors for passages that did not change.
    cache = EmbeddingCache.previous(index_dir, embedder)
    unique = list(dict.fromkeys(entries))
    todo = [u for u in unique if u not in cache]
    say(f"embedding {len(todo)} passages ({len(unique) - len(todo)} unchanged since the last build)")
    if todo:
        found, parts = embedder.passages_with_parts(
            [t for t, _ in todo], [sp for _, sp in todo], progress=progress is not None
        )
        cache.add(todo, found, parts)
    vectors, sentence_vectors = cache.get(entries)
    sentence_start = np.cumsum([0] + [len(p.sentences) for p in passages]).astype(np.int64)
    t1 = time.perf_counter()
    lexical = LexicalIndex.build(tokenizer.words_many(texts))
    say(f"BM25 words of {len(texts)} passages in {time.perf_counter() - t1:.1f} s")
    dense = build_vector_index(vectors)

    manifest = Manifest(
        format=INDEX_FORMAT,
        stiqa_version=__version__,
        model=embedder.name,
        backend=embedder.backend,
        dim=int(vectors.shape[1]),
        normalization=NORMALIZATION_VERSION,
        lexical_tokenizer=tokenizer.name,
        ingest=INGEST_VERSION,
        documents=corpus.hashes,
        skipped=corpus.skipped,
        passages=len(passages),
        sentences=len(sentences),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        build_seconds=0.0,
    )
    index_dir.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
    tmp = index_dir / f".{build_id}.tmp"
    tmp.mkdir()
    try:
        write_vector_index(dense, tmp / "passages.faiss")
        np.save(tmp / "sentences.npy", sentence_vectors)
        np.save(tmp / "sentence_start.npy", sentence_start)
        cache.save(tmp / CACHE_FILE, keep=unique)
        lexical.save(tmp / "bm25")
        _write_json(tmp / "passages.json", [p.to_dict() for p in passages])
        _write_json(tmp / "documents.json", [asdict(d) for d in documents])
        _write_json(tmp / TEXTS_FILE, corpus.texts)
        spans = page_spans(documents, passages)
        _write_json(tmp / PAGE_SPANS_FILE, spans_to_json(spans))
        manifest.build_seconds = round(time.perf_counter() - t0, 3)
        _write_json(tmp / "manifest.json", asdict(manifest))  # written last: marks a complete build
        _fsync_dir(tmp)
        final = index_dir / build_id
        os.replace(tmp, final)
        replaced = _switch(index_dir, build_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep={build_id, replaced})
    say(f"index {build_id} built in {manifest.build_seconds:.1f} s")
    return Index(
        manifest, documents, passages, dense, sentence_vectors, sentence_start, lexical, final, corpus.texts, spans
    )


class PassageEmbedder(Protocol):
    """What a build needs of the model: :class:`stiqa.model.embedder.Embedder`, or a pool of
    them on a cluster (:class:`stiqa.cluster.indexing.RayEmbedder`)."""

    name: str
    backend: str
    passage_prompt: str | None

    def passages_with_parts(
        self, texts: list[str], parts: Sequence[Sequence[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


class PassageTokenizer(Protocol):
    """What a build needs of the BM25 words: :class:`stiqa.index.lexical.JapaneseTokenizer`, or a
    pool of them on a cluster (:class:`stiqa.cluster.indexing.RayTokenizer`)."""

    name: str

    def words_many(self, texts: list[str]) -> list[list[str]]: ...


class EmbeddingCache:
    """Passage vectors and their sentences' vectors by passage, carried from one build to the next."""

    def __init__(self, embedder: PassageEmbedder, entries: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.embedder = embedder
        self.entries = entries or {}

    def key(self, entry: Entry) -> str:
        text, spans = entry
        return hashlib.sha1(f"{self.embedder.passage_prompt}\0{text}\0{spans}".encode()).hexdigest()

    def __contains__(self, entry: Entry) -> bool:
        return self.key(entry) in self.entries

    @classmethod
    def previous(cls, index_dir: Path, embedder: PassageEmbedder) -> EmbeddingCache:
        """The cache of the current build if the same model ran on the same backend; else empty."""
        try:
            build = current_build(index_dir)
            manifest = load_manifest(build)
            if (manifest.model, manifest.backend) != (embedder.name, embedder.backend):
                return cls(embedder)
            with np.load(build / CACHE_FILE) as data:
                keys, vectors, parts, start = data["keys"], data["vectors"], data["parts"], data["part_start"]
            return cls(embedder, {k: (vectors[i], parts[start[i] : start[i + 1]]) for i, k in enumerate(keys.tolist())})
        except (IndexLoadError, OSError, KeyError, ValueError):
            return cls(embedder)

    def add(self, entries: list[Entry], vectors: np.ndarray, parts: list[np.ndarray]) -> None:
        for entry, v, p in zip(entries, vectors, parts):
            self.entries[self.key(entry)] = (v, p)

    def get(self, entries: list[Entry]) -> tuple[np.ndarray, np.ndarray]:
        """The passage vectors of ``entries`` and all their sentences' vectors, in order."""
        found = [self.entries[self.key(e)] for e in entries]
        vectors = np.ascontiguousarray(np.stack([v for v, _ in found]), dtype=np.float32)
        return vectors, np.ascontiguousarray(np.concatenate([p for _, p in found]), dtype=np.float32)

    def save(self, path: Path, keep: list[Entry]) -> None:
        keys = [self.key(e) for e in keep]
        parts = [self.entries[k][1] for k in keys]
        np.savez(
            path, keys=np.array(keys), vectors=np.stack([self.entries[k][0] for k in keys]),
            parts=np.concatenate(parts), part_start=np.cumsum([0] + [len(p) for p in parts]),
        )


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(index_dir: Path, build_id: str) -> str:
    """Point CURRENT at ``build_id``; the build it named before ("" if none)."""
    before = pointed_build(index_dir)
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
    tmp.write_text(build_id + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return before


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Remove the builds not in ``keep`` and leftovers of killed ones. The build just replaced
    is kept until the next build: servers still switching from it (a cluster's shards, see
    :mod:`stiqa.cluster.serving`) and a replica restarting meanwhile can load it."""
    for child in index_dir.iterdir():
        if not child.is_dir() or child.name in keep:
            continue
        leftover = child.name.startswith(".") and child.name.endswith(".tmp")
        if leftover or (child / "manifest.json").exists():
            shutil.rmtree(child, ignore_errors=True)


