"""Build, save and load the search index.

An index is a directory ``<index_dir>/<build id>/`` holding the FAISS vectors,
the passage records, sentence vectors for answer extraction, the BM25 index and
a manifest. ``<index_dir>/CURRENT`` names the build in use and is replaced
atomically once a build is complete, so a reader sees either the old index or
the new one, never half of one, and a killed build leaves the old one usable.

An index built with another model, normalisation or format, or from other
corpus files, is refused with a message that says how to rebuild it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import __version__
from .corpus import repair_document
from .ingest import INGEST_VERSION, ReadError, corpus_files, doc_id, read_bytes
from .embed import Embedder
from .lexical import JapaneseTokenizer, LexicalIndex
from .normalize import NORMALIZATION_VERSION
from .records import Document, Page, Passage
from .segment import Segmenter, document_passages
from .vectors import build_vector_index, read_vector_index, write_vector_index

INDEX_FORMAT = 3  # 3: documents of every format, by path under corpus/, and the unreadable ones named
CURRENT = "CURRENT"
CACHE_FILE = "embeddings.npz"
TEXTS_FILE = "texts.json"  # each document's extracted text, by id
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
    vectors: faiss.Index
    sentence_vectors: np.ndarray
    sentence_start: np.ndarray  # first sentence row of each passage; one extra at the end
    lexical: LexicalIndex
    path: Path
    _texts: dict[str, str] | None = field(default=None, repr=False)

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
            self._texts = _read_json(self.path / TEXTS_FILE)
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


@dataclass
class Corpus:
    """The corpus as read for one build."""

    documents: list[Document]
    passages: list[Passage]
    texts: dict[str, str]  # id -> the extracted text that citations index
    skipped: dict[str, str]  # id -> why it could not be read
    hashes: dict[str, str]  # id -> sha256 of every file, read or not


def read_corpus(corpus_dir: Path, previous: Corpus | None = None) -> Corpus:
    """Read, repair and cut into passages every document of the corpus; a file that cannot
    be read is left out with its reason (``Corpus.skipped``), never the build. A file that
    ``previous`` (the last build's corpus) read from the same bytes is taken from it."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    files = corpus_files(corpus_dir)
    if not files:
        raise FileNotFoundError(f"corpus folder {corpus_dir} holds no documents")
    seg = Segmenter()
    corpus = Corpus([], [], {}, {}, {})
    last = previous or Corpus([], [], {}, {}, {})
    last_docs = {d.name: d for d in last.documents}
    last_passages: dict[str, list[Passage]] = {}
    for p in last.passages:
        last_passages.setdefault(p.citation.doc, []).append(p)
    for f in files:
        name = doc_id(f, corpus_dir)
        try:
            data = f.read_bytes()
        except OSError as e:
            corpus.skipped[name] = f"cannot be opened ({e.strerror or e})"
            continue
        sha = corpus.hashes[name] = hashlib.sha256(data).hexdigest()
        if last.hashes.get(name) == sha and (name in last.skipped or name in last_docs):
            if name in last.skipped:
                corpus.skipped[name] = last.skipped[name]
            else:
                corpus.documents.append(last_docs[name])
                corpus.passages.extend(last_passages.get(name, []))
                corpus.texts[name] = last.texts[name]
            continue
        try:
            extracted = read_bytes(data, f.name)  # the bytes just hashed: each file is read once
            doc, pages = repair_document(name, extracted)
        except ReadError as e:
            corpus.skipped[name] = str(e)
            continue
        corpus.documents.append(doc)
        corpus.texts[name] = extracted.text
        corpus.passages.extend(document_passages(pages, seg))
    if not corpus.documents:
        raise FileNotFoundError(f"corpus folder {corpus_dir} holds no readable document ({len(files)} skipped)")
    return corpus


def previous_corpus(index_dir: Path) -> Corpus | None:
    """The corpus as the current build read it, if its readers were these; else None."""
    try:
        build = current_build(index_dir)
        manifest = _load_manifest(build)
        if manifest.ingest != INGEST_VERSION or manifest.normalization != NORMALIZATION_VERSION:
            return None
        documents = [_document(d) for d in _read_json(build / "documents.json")]
        passages = [Passage.from_dict(d) for d in _read_json(build / "passages.json")]
        return Corpus(documents, passages, _read_json(build / TEXTS_FILE), dict(manifest.skipped), dict(manifest.documents))
    except (IndexLoadError, OSError, ValueError, KeyError, TypeError):
        return None


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    tokenizer: JapaneseTokenizer,
    progress: Callable[[str], None] | None = None,
) -> Index:
    """Build a new index beside the current one, then switch to it atomically.

    One build at a time per index folder: a second one is refused (IndexBusyError)
    rather than let the two remove each other's files.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        return _build_index(corpus_dir, index_dir, embedder, tokenizer, progress)


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
    embedder: Embedder,
    tokenizer: JapaneseTokenizer,
    progress: Callable[[str], None] | None,
) -> Index:
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    corpus = read_corpus(corpus_dir, previous_corpus(index_dir))
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
    lexical = LexicalIndex.build([tokenizer.words(t) for t in texts])
    dense = build_vector_index(vectors)

    manifest = Manifest(
        format=INDEX_FORMAT,
        stiqa_version=__version__,
        model=embedder.name,
        backend=embedder.backend,
        dim=int(vectors.shape[1]),
        normalization=NORMALIZATION_VERSION,
        lexical_tokenizer=f"sudachi-core-{tokenizer.mode}",
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
        manifest.build_seconds = round(time.perf_counter() - t0, 3)
        _write_json(tmp / "manifest.json", asdict(manifest))  # written last: marks a complete build
        _fsync_dir(tmp)
        final = index_dir / build_id
        os.replace(tmp, final)
        _switch(index_dir, build_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep={build_id})
    say(f"index {build_id} built in {manifest.build_seconds:.1f} s")
    return Index(manifest, documents, passages, dense, sentence_vectors, sentence_start, lexical, final, corpus.texts)


class EmbeddingCache:
    """Passage vectors and their sentences' vectors by passage, carried from one build to the next."""

    def __init__(self, embedder: Embedder, entries: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.embedder = embedder
        self.entries = entries or {}

    def key(self, entry: Entry) -> str:
        text, spans = entry
        return hashlib.sha1(f"{self.embedder.passage_prompt}\0{text}\0{spans}".encode()).hexdigest()

    def __contains__(self, entry: Entry) -> bool:
        return self.key(entry) in self.entries

    @classmethod
    def previous(cls, index_dir: Path, embedder: Embedder) -> EmbeddingCache:
        """The cache of the current build if the same model ran on the same backend; else empty."""
        try:
            build = current_build(index_dir)
            manifest = _load_manifest(build)
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


def _switch(index_dir: Path, build_id: str) -> None:
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
    tmp.write_text(build_id + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Remove older builds and leftovers of killed ones."""
    for child in index_dir.iterdir():
        if not child.is_dir() or child.name in keep:
            continue
        leftover = child.name.startswith(".") and child.name.endswith(".tmp")
        if leftover or (child / "manifest.json").exists():
            shutil.rmtree(child, ignore_errors=True)


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexLoadError(f"no index in {index_dir}: {REBUILD.replace('rebuild', 'build')}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise IndexLoadError(f"{pointer} is unreadable ({_reason(e)}): {REBUILD}") from e
    build = index_dir / name
    if not name or "/" in name or "\0" in name or name.startswith(".") or not build.is_dir():
        raise IndexLoadError(f"{pointer} names a missing build ({name[:80]!r}): {REBUILD}")
    return build


def load_index(index_dir: Path, model: str, corpus_dir: Path | None = None) -> Index:
    """Load the current build; refuse one that does not fit this configuration."""
    path = current_build(index_dir)
    manifest = _load_manifest(path)
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
    if corpus_dir is not None and corpus_dir.is_dir():
        now = corpus_hashes(corpus_dir)
        if now != manifest.documents:
            changed = sorted(set(now.items()) ^ set(manifest.documents.items()))
            names = ", ".join(sorted({n for n, _ in changed}))
            raise IndexLoadError(f"corpus changed since the index was built ({names}): {REBUILD}")
    try:
        vectors = read_vector_index(path / "passages.faiss")
        sentence_vectors = np.load(path / "sentences.npy")
        sentence_start = np.load(path / "sentence_start.npy")
        passages = [Passage.from_dict(d) for d in _read_json(path / "passages.json")]
        documents = [_document(d) for d in _read_json(path / "documents.json")]
        lexical = LexicalIndex.load(path / "bm25", len(passages))
    except IndexLoadError:
        raise
    except Exception as e:
        raise IndexLoadError(f"index {path} is damaged ({_reason(e)}): {REBUILD}") from e
    if not (
        vectors.ntotal == len(passages) == manifest.passages
        and vectors.d == manifest.dim
        and sentence_vectors.shape == (manifest.sentences, manifest.dim)
        and len(sentence_start) == len(passages) + 1
    ):
        raise IndexLoadError(f"index {path} is inconsistent (its files disagree in size): {REBUILD}")
    return Index(manifest, documents, passages, vectors, sentence_vectors, sentence_start, lexical, path)


def _reason(e: BaseException, limit: int = 200) -> str:
    """An exception as a short phrase on one line, for a message that also says the fix.
    FAISS's errors start with the C++ function and source line: only what failed is kept."""
    text = " ".join(str(e).split())
    if "faiss" in text and "failed: " in text:
        text = text.split("failed: ", 1)[1]
    text = f"{type(e).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _load_manifest(path: Path) -> Manifest:
    try:
        fields = _read_json(path / "manifest.json")
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


def _document(d: dict[str, Any]) -> Document:
    return Document(**{**d, "pages": [Page(**p) for p in d["pages"]]})
