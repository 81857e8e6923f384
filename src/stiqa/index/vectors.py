"""The dense vector index: which FAISS index a passage set gets, and how it is saved and read.

Vectors are unit-length float32, so inner product is cosine similarity. Up to
:data:`EXACT_MAX` vectors the index is exact (``IndexFlatIP``); above it, an
inverted-file index (``IVF<nlist>,Flat``) that searches a quarter of its lists.
The choice and its parameters come from ``bench/perf.py --only scale`` (see
docs/performance.md, section 6), on synthetic vectors matched to the statistics
of real e5 passage and question embeddings (real ones will differ: check recall on
them before trusting the parameters at a new scale).

An index is read memory-mapped where FAISS can (``IO_FLAG_MMAP_IFC``: flat, IVF
and HNSW indexes in faiss 1.15), so the workers of one machine share one copy
of the vectors in the page cache instead of each holding a private one. A mapped
file must not change under its readers: builds never rewrite a file in place
(each build is a new folder; see :mod:`stiqa.index`), and unlinking a mapped
file, as pruning an old build does, is safe on Linux.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import faiss
import numpy as np

# Exact search of one query costs 60-70 ms per million 384-d vectors on one thread here
# (0.26 ms at 10k, 6.6 ms at 100k, 72 ms at 1M): about 2 ms at 30k, a third of the
# query embedding (about 6 ms). Below that an approximate index would save under 2 ms
# per question and give up exactness; above it the saving grows linearly.
EXACT_MAX = 30_000

# IVF: lists are the largest power of two <= 4 sqrt(n) (FAISS's rule of thumb is
# 4-16 sqrt(n); the low end keeps k-means cheap on 2 cores: 45 s at 1M) and at least
# IVF_TRAIN_PER_LIST training points each. A quarter of the lists is searched:
# recall@10 against exact 0.993 at 100k (IVF1024, 256 probed, 2.8 ms) and 0.978 at 1M
# (IVF2048, 512 probed, 21 ms against 72 ms exact); half as many probes gave 0.977 and
# 0.909. HNSW (M=16, efConstruction=40) searched faster at 100k (0.57 ms at recall
# 0.959) but built 2.7x slower and fell short of 0.95 at 300k even at efSearch 384.
IVF_TRAIN_PER_LIST = 40
IVF_PROBE_SHARE = 4

# One query is searched on one OpenMP thread: exact search of one query with FAISS's
# team of 2 was 2.3x slower on this 2-core machine when idle (0.63 against 0.27 ms at
# 10k) and 4-35x slower when busy (16 against 0.46 ms at 10k, 318 against 72 ms at 1M),
# and an idle team spins against the embedding model. IVF and HNSW search one query on
# one thread anyway.
SEARCH_THREADS = 1


class VectorIndexError(RuntimeError):
    """A vector index file cannot be read (missing, truncated, not a FAISS index)."""


def build_vector_index(vectors: np.ndarray, exact_max: int = EXACT_MAX) -> faiss.Index:
    """The index for ``vectors`` (n x d, unit length): exact up to ``exact_max`` rows, IVF above.

    Builds with FAISS's OpenMP team (all cores); :func:`search` runs one query
    on :data:`SEARCH_THREADS`.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape
    if n <= exact_max:
        index: faiss.Index = faiss.IndexFlatIP(d)
    else:
        nlist = ivf_lists(n)
        index = faiss.index_factory(d, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10  # k-means iterations: recall at the set nprobe did not need more
        index.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST  # FAISS samples the rows at random
        index.train(x)
        index.nprobe = max(1, nlist // IVF_PROBE_SHARE)  # saved with the index
    index.add(x)
    return index


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: a power of two <= 4 sqrt(n) and <= n / IVF_TRAIN_PER_LIST."""
    bound = max(1.0, min(4 * math.sqrt(n), n / IVF_TRAIN_PER_LIST))
    return 1 << int(math.log2(bound))


def write_vector_index(index: faiss.Index, path: Path | str) -> None:
    """Save ``index`` (search parameters such as nprobe and efSearch are part of the file)."""
    faiss.write_index(index, str(path))


def read_vector_index(path: Path | str) -> faiss.Index:
    """Read an index, memory-mapped where FAISS supports it; VectorIndexError if it cannot be read.

    A mapped index is read-only and its pages are shared by every process that
    maps the same file. If mapping fails (a file system without mmap), the index is
    read into private memory instead.
    """
    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except (RuntimeError, MemoryError):
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, MemoryError) as e:
            # FAISS's message starts with the C++ function and source line: keep what failed
            detail = re.sub(r"^Error in .*? at \S+:\d+: (Error: '.*?' failed: )?", "", " ".join(str(e).split()))
            raise VectorIndexError(
                f"cannot read vector index {path} (missing, truncated or not a FAISS index): {detail}"
            ) from e
    return index


def describe(index: faiss.Index) -> str:
    """A short name for health checks and logs: ``flat``, ``ivf2048/512`` (lists/probed), ``hnsw32/128`` (M/efSearch)."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexIVF):
        return f"ivf{index.nlist}/{index.nprobe}"
    if isinstance(index, faiss.IndexHNSW):
        return f"hnsw{index.hnsw.nb_neighbors(0) // 2}/{index.hnsw.efSearch}"
    return type(index).__name__


def search(
    index: faiss.Index, queries: np.ndarray, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``index.search`` (among the vectors ``rows`` only, if given), with a single query run
    on SEARCH_THREADS OpenMP threads.

    ``faiss.omp_set_num_threads`` is not process-wide: FAISS's libgomp keeps the
    thread count per calling thread, and new threads start from the default (all
    cores). stiqa searches on the model's thread (:class:`stiqa.model.embedder.Embedder`),
    the bench and tests on others, so the count is set where the search runs, for
    that call, and put back after it; batches of queries keep the team. (ONNX
    Runtime keeps a thread pool of its own, which this does not touch.)
    """
    params = None if rows is None else _selecting(index, rows)
    if len(queries) != 1:
        return index.search(queries, k, params=params)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(SEARCH_THREADS)
    try:
        return index.search(queries, k, params=params)
    finally:
        faiss.omp_set_num_threads(before)


def _selecting(index: faiss.Index, rows: np.ndarray) -> faiss.SearchParameters:
    """Search parameters that keep only ``rows``, with the index's own search settings."""
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
    elif isinstance(inner, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
    else:
        params = faiss.SearchParameters(sel=selector)
    params.selector_keepalive = selector  # the parameters hold a raw pointer to it
    return params
