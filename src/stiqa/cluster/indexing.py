"""`stiqa index --ray ADDRESS`: the index build as a Ray Data job.

The build itself is :func:`stiqa.index.build_index`; this module gives it a reader and an
embedder that run on the cluster's worker pools:

- :func:`ray_reader` sends the files that changed (their bytes: the corpus folder need not
  be shared) to a pool of readers, each with its own sentence segmenter;
- :class:`RayEmbedder` sends the passages that changed to a pool of actors, each holding the
  model once (one core each), in batches; the vectors come back in order;
- :class:`RayTokenizer` finds every passage's BM25 words on a pool of Sudachi workers (BM25's
  statistics, over the whole corpus, are computed here from them).

The embedding cache is unchanged: a passage whose embedding text is in the last build keeps
its vector, and only the others leave this machine. The model runs each text alone and
unpadded (see :mod:`stiqa.model.embedder`), so a vector does not depend on which worker or
batch made it: the cluster's build equals one machine's.

Only the index folder must be shared with where the server runs: the driver (this process)
writes the build there and switches ``CURRENT``.
"""

from __future__ import annotations

import logging
import pickle
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stiqa.config import Settings
from stiqa.index import Index, build_index
from stiqa.index.build import Reading, read_document
from stiqa.index.lexical import JapaneseTokenizer, tokenizer_name
from stiqa.ingest.segment import Segmenter
from stiqa.model.embedder import load_embedder
from stiqa.service.library import model_options

EMBED_BATCH = 32  # passages per call into a worker's model
WORDS_BATCH = 256  # passages per call into a worker's Sudachi
Progress = Callable[[str], None]


class ClusterError(RuntimeError):
    """Ray is missing, or the cluster cannot be reached; the message says what to do."""


def connect(address: str) -> int:
    """Join the Ray cluster at ``address`` ("host:port", or "auto" for the one this machine
    belongs to); the number of CPUs it offers."""
    try:
        import ray
    except ImportError:
        raise ClusterError('Ray is not installed: pip install "stiqa[cluster]"') from None
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ClusterError(f"no Ray cluster at {address}: {e}; start one with `ray start --head`") from e
    # One line per stage from stiqa is enough; Ray Data's progress reports go to its logs.
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse an address where nothing listens in seconds (Ray itself keeps retrying for minutes)."""
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise ClusterError(
            f"no Ray cluster at {address} ({e}); start one with `ray start --head`, then pass its address"
        ) from None


class _Reader:
    """A Ray Data worker that reads files: one segmenter per worker, loaded once."""

    def __init__(self) -> None:
        self.seg = Segmenter()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        readings = [read_document(str(n), bytes(d), self.seg) for n, d in zip(batch["name"], batch["data"])]
        return {"at": batch["at"], "reading": np.array([pickle.dumps(r) for r in readings], dtype=object)}


class _Embed:
    """A Ray Data worker that embeds passages: the model loaded once per worker."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.embedder = load_embedder(**model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        spans = [pickle.loads(s) for s in batch["spans"]]
        vectors, parts = self.embedder.passages_with_parts([str(t) for t in batch["text"]], spans)
        return {"at": batch["at"], "vector": vectors, "parts": np.array([p.tobytes() for p in parts], dtype=object)}


class _Words:
    """A Ray Data worker that finds passages' BM25 words: one Sudachi dictionary per worker."""

    def __init__(self, mode: str) -> None:
        self.tokenizer = JapaneseTokenizer(mode)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        words = [pickle.dumps(self.tokenizer.words(str(t))) for t in batch["text"]]
        return {"at": batch["at"], "words": np.array(words, dtype=object)}


def _describe(model: dict[str, Any]) -> tuple[str, str, str | None, int]:
    embedder = load_embedder(**model)
    try:
        return embedder.name, embedder.backend, embedder.passage_prompt, embedder.dim
    finally:
        embedder.close()


def ray_reader(workers: int) -> Callable[[list[tuple[str, bytes]]], list[Reading]]:
    """A build's reader (:data:`stiqa.index.build.Reader`) that reads on ``workers`` Ray workers."""

    def read(files: list[tuple[str, bytes]]) -> list[Reading]:
        if not files:
            return []
        import ray

        items = [{"at": i, "name": name, "data": data} for i, (name, data) in enumerate(files)]
        ds = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * workers))
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=workers)
        rows = ds.map_batches(_Reader, batch_size=1, compute=pool, num_cpus=1).take_all()
        rows.sort(key=lambda r: int(r["at"]))
        return [pickle.loads(r["reading"]) for r in rows]

    return read


@dataclass
class RayTokenizer:
    """The BM25 words of a build's passages (:class:`stiqa.index.build.PassageTokenizer`), found
    by a pool of workers on the cluster, each with the same Sudachi dictionary and mode."""

    mode: str
    workers: int

    @property
    def name(self) -> str:
        return tokenizer_name(self.mode)

    def words_many(self, texts: list[str]) -> list[list[str]]:
        if not texts:
            return []
        import ray

        items = [{"at": i, "text": t} for i, t in enumerate(texts)]
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // WORDS_BATCH, 4 * self.workers)))
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=self.workers)
        rows = ds.map_batches(
            _Words, fn_constructor_kwargs={"mode": self.mode}, batch_size=WORDS_BATCH, compute=pool, num_cpus=1,
        ).take_all()
        rows.sort(key=lambda r: int(r["at"]))
        return [pickle.loads(r["words"]) for r in rows]


@dataclass
class RayEmbedder:
    """The passage side of :class:`stiqa.model.embedder.Embedder`, run by a pool of workers
    on the cluster (what :func:`stiqa.index.build_index` needs of a model)."""

    model: dict[str, Any]
    workers: int
    name: str = ""
    backend: str = ""
    passage_prompt: str | None = None
    dim: int = 0

    @classmethod
    def start(cls, settings: Settings, workers: int) -> RayEmbedder:
        """The model as the workers run it: its name, backend and prompt go into the manifest."""
        import ray

        model = {**model_options(settings), "threads": 1}  # one core each: the pool gives the rest
        name, backend, prompt, dim = ray.get(ray.remote(num_cpus=1)(_describe).remote(model))
        return cls(model, workers, name, backend, prompt, dim)

    def passages_with_parts(
        self, texts: list[str], parts: Sequence[Sequence[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        import ray

        items = [{"at": i, "text": t, "spans": pickle.dumps(list(map(tuple, p)))} for i, (t, p) in enumerate(zip(texts, parts))]
        blocks = max(1, min(len(items) // EMBED_BATCH, 8 * self.workers))
        ds = ray.data.from_items(items, override_num_blocks=blocks)
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=self.workers)
        rows = ds.map_batches(
            _Embed, fn_constructor_kwargs={"model": self.model}, batch_size=EMBED_BATCH, compute=pool, num_cpus=1,
        ).take_all()
        rows.sort(key=lambda r: int(r["at"]))
        vectors = np.ascontiguousarray(np.stack([np.asarray(r["vector"], dtype=np.float32) for r in rows]))
        found = [np.frombuffer(r["parts"], dtype=np.float32).reshape(-1, self.dim).copy() for r in rows]
        return vectors, found


def build_on_ray(settings: Settings, address: str, progress: Progress | None = None) -> Index:
    """Build the index of ``settings.corpus_dir`` into ``settings.index_dir`` on the Ray
    cluster at ``address``, then switch ``CURRENT`` to it (a running ``stiqa serve`` follows)."""
    say = progress or (lambda _message: None)
    t0 = time.perf_counter()
    cpus = connect(address)
    say(f"Ray cluster at {address}: {cpus} CPUs; reading and embedding on up to {cpus} workers")
    embedder = RayEmbedder.start(settings, cpus)
    say(f"model {embedder.name} ({embedder.backend}) ready on the cluster in {time.perf_counter() - t0:.1f} s")
    tokenizer = RayTokenizer(settings.lexical_mode, cpus)
    return build_index(settings.corpus_dir, settings.index_dir, embedder, tokenizer, progress, ray_reader(cpus))
