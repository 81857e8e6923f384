"""The dense vector index on synthetic unit vectors: which type, its recall, saving and mapping."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from stiqa.index.vectors import (
    EXACT_MAX,
    SEARCH_THREADS,
    VectorIndexError,
    build_vector_index,
    describe,
    ivf_lists,
    read_vector_index,
    search,
    write_vector_index,
)

DIM = 384


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def embeddings(n: int, nq: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clustered vectors around a shared direction, like text embeddings (every pair has a
    high cosine; a few broad topics); queries are new points of the same topics plus noise."""
    rng = np.random.default_rng(seed)
    shared = 3 * unit(rng.standard_normal((1, DIM)))
    topics = rng.standard_normal((max(1, n // 2000), DIM)).astype(np.float32) / np.sqrt(DIM)

    def draw(m: int) -> np.ndarray:
        t = rng.integers(0, len(topics), m)
        return shared + topics[t] + 0.6 * rng.standard_normal((m, DIM)).astype(np.float32) / np.sqrt(DIM)

    x = unit(draw(n))
    q = unit(draw(nq) + 0.5 * rng.standard_normal((nq, DIM)).astype(np.float32) / np.sqrt(DIM))
    return x, q


def exact_top(x: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1)[:, :k]


def recall_at_10(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(found, exact)]))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return embeddings(6000)


@pytest.fixture(scope="module")
def approx(data) -> faiss.Index:
    return build_vector_index(data[0], exact_max=1000)


def test_a_small_set_stays_exact(data):
    x, q = data[0][:500], data[1]
    index = build_vector_index(x)
    assert 500 <= EXACT_MAX and isinstance(index, faiss.IndexFlatIP) and describe(index) == "flat"
    scores, _ = index.search(q, 10)
    assert np.allclose(scores, -np.sort(-(q @ x.T), axis=1)[:, :10], atol=1e-5)  # the exact top 10


def test_above_the_bound_an_ivf_index_keeps_recall(data, approx):
    x, q = data
    nlist = ivf_lists(len(x))
    assert isinstance(approx, faiss.IndexIVFFlat) and approx.ntotal == len(x)
    assert approx.nlist == nlist > 1 and 1 <= approx.nprobe < nlist  # a real subset of the lists
    assert describe(approx) == f"ivf{nlist}/{approx.nprobe}"
    exact = exact_top(x, q)
    _, ids = approx.search(q, 10)
    assert recall_at_10(ids, exact) >= 0.95
    _, one_list = approx.search(q, 10, params=faiss.SearchParametersIVF(nprobe=1))
    assert recall_at_10(one_list, exact) < 0.5  # the data is not trivially separable


def test_list_count_follows_size():
    assert ivf_lists(100_000) == 1024 and ivf_lists(1_000_000) == 2048
    assert ivf_lists(2000) == 32  # no more lists than 40 training points each
    assert ivf_lists(10) == 1


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_round_trip_searches_the_same_and_is_memory_mapped(tmp_path, data, approx, kind):
    x, q = data
    index = build_vector_index(x[:800]) if kind == "flat" else approx
    path = tmp_path / "passages.faiss"
    write_vector_index(index, path)
    read = read_vector_index(path)
    assert type(read) is type(index) and describe(read) == describe(index)  # nprobe saved too
    before, after = index.search(q, 10), read.search(q, 10)
    assert (before[1] == after[1]).all() and np.allclose(before[0], after[0])
    # shared through the page cache: the file is mapped, not copied into the process
    with open("/proc/self/maps") as maps:
        assert str(path.resolve()) in maps.read()


@pytest.mark.parametrize("damage", ["truncated", "empty", "not faiss", "missing"])
def test_a_damaged_file_is_a_clear_error(tmp_path, data, damage):
    path = tmp_path / "passages.faiss"
    write_vector_index(build_vector_index(data[0][:300]), path)
    whole = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not faiss":
        path.write_bytes(b'{"passages": []}\n' * 20)
    else:
        path.unlink()
    with pytest.raises(VectorIndexError, match="cannot read vector index .*passages.faiss"):
        read_vector_index(path)


def test_one_query_runs_on_one_thread_and_the_callers_setting_is_kept(data, approx, monkeypatch):
    q = data[1]
    calls: list[int] = []
    real = faiss.omp_set_num_threads
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: (calls.append(n), real(n)))
    before = faiss.omp_get_max_threads()
    single = search(approx, q[:1], 10)
    assert calls == [SEARCH_THREADS, before] and faiss.omp_get_max_threads() == before
    calls.clear()
    batch = search(approx, q[:5], 10)  # batches keep FAISS's team
    assert calls == [] and (batch[1][:1] == single[1]).all()
