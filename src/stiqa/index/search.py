"""Searching the passage rows of one build, whole or as shards.

A :class:`Shard` holds the FAISS vectors and BM25 scores of a contiguous range of passage
rows of one build; one shard of all rows is the whole index. A shard answers a question
with its best rows (dense, dense among named documents, lexical) by global row number, and
:func:`merge` puts the answers of several shards together into what one shard of every row
would have given, exactly:

- dense: cosine similarities do not depend on the other rows, and an IVF shard keeps the
  whole index's coarse quantizer and probes, so it searches the same lists;
- lexical: BM25 scores are computed once per build, with the whole corpus's document
  frequencies and mean length (bm25s precomputes each word's score in each passage), and a
  shard keeps its rows' scores, so sharding does not change a score;
- order: best score first, ties by row; a shard returns every lexical row that ties with its
  last one, so that the cut after merging is the whole index's cut (FAISS cuts the dense
  side, so two passages of equal vectors, the same text in two files, could trade the last
  place).

Searches come in batches (:class:`Request`, one per question): the questions that arrive
together reach each shard in one call. Single-machine serving searches one shard of all
rows; ``stiqa serve --ray --shards N`` puts N shards on the cluster (:mod:`stiqa.cluster.serving`).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Protocol

import faiss
import numpy as np
import scipy.sparse

from stiqa.index.lexical import Group, LexicalIndex
from stiqa.index.store import Index
from stiqa.index.vectors import search as vector_search

Ranked = list[tuple[int, float]]  # (global passage row, score), best first


@dataclass
class Found:
    """What a search found, by global passage row."""

    dense: Ranked = field(default_factory=list)  # by cosine similarity
    named: Ranked = field(default_factory=list)  # by cosine, among the rows of the documents a question names
    lexical: Ranked = field(default_factory=list)  # by BM25 score, score > 0 only
    known: int = 0  # how many of the question's words occur in the corpus (the vocabulary is the build's)


@dataclass
class Request:
    """One question as a search sees it: the best ``depth`` rows for its ``vector`` and BM25
    ``words`` (and ``groups`` of alternatives: its foreign words translated), among ``rows``
    if given (None: all); ``named`` rows (the documents it names) are searched densely on
    their own; ``lexical`` False leaves BM25 out."""

    vector: np.ndarray
    words: list[str]
    depth: int
    rows: np.ndarray | None = None
    named: np.ndarray | None = None
    lexical: bool = True
    groups: list[Group] = field(default_factory=list)


class Searcher(Protocol):
    """Where a retriever's candidates come from: one shard here, or shards on a cluster.
    Questions come in batches, so that a cluster's shards are asked once per batch."""

    def search(self, requests: list[Request]) -> list[Found]:
        """What each request found, in order."""
        ...


def shard_bounds(total: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous row ranges of (nearly) equal size covering ``total`` rows."""
    cuts = [total * i // shards for i in range(shards + 1)]
    return list(itertools.pairwise(cuts))


def best(scores: np.ndarray, rows: np.ndarray, n: int) -> Ranked:
    """The ``n`` best (row, score) pairs of ``scores`` for ``rows``, best first, ties by row,
    with every row that ties with the last one kept (see :func:`merge`)."""
    if n <= 0 or not len(scores):
        return []
    if n < len(scores):
        cut = np.partition(scores, len(scores) - n)[len(scores) - n]
        keep = scores >= cut
        scores, rows = scores[keep], rows[keep]
    order = np.lexsort((rows, -scores))
    return [(int(rows[i]), float(scores[i])) for i in order]


def merge(found: list[Found], depth: int) -> Found:
    """The shards' answers as one shard of all their rows would have given them."""

    def top(lists: list[Ranked]) -> Ranked:
        return sorted((h for ranked in lists for h in ranked), key=lambda h: (-h[1], h[0]))[:depth]

    return Found(
        dense=top([f.dense for f in found]), named=top([f.named for f in found]),
        lexical=top([f.lexical for f in found]), known=max((f.known for f in found), default=0),
    )


class Shard:
    """The vectors and BM25 scores of rows [start, stop) of one build. Its answers keep the
    rows that tie at the cut: :func:`merge` them (or search :class:`Shards`)."""

    def __init__(self, vectors: faiss.Index, lexical: LexicalIndex, start: int, stop: int) -> None:
        self.vectors = vectors  # holds rows start..stop; its ids are global (IVF) or local (flat)
        self.lexical = lexical  # scores of rows start..stop, by local row
        self.start = start
        self.stop = stop
        self._global_ids = isinstance(faiss.downcast_index(vectors), faiss.IndexIVF)

    @classmethod
    def whole(cls, index: Index) -> Shard:
        return cls(index.vectors, index.lexical, 0, len(index.passages))

    @classmethod
    def of(cls, index: Index, number: int, shards: int) -> Shard:
        """Shard ``number`` (from 0) of ``shards`` of ``index``."""
        return cls.cut(index.vectors, index.lexical, *shard_bounds(len(index.passages), shards)[number])

    @classmethod
    def cut(cls, vectors: faiss.Index, lexical: LexicalIndex, start: int, stop: int) -> Shard:
        """Rows [start, stop) of ``vectors`` and ``lexical``, copied out, so that the rest can be dropped."""
        return cls(_vector_rows(vectors, start, stop), _lexical_rows(lexical, start, stop), start, stop)

    def __len__(self) -> int:
        return self.stop - self.start

    def _local(self, rows: np.ndarray | None) -> np.ndarray | None:
        """``rows`` (global) that fall in this shard, as local rows; None: all of them."""
        if rows is None:
            return None
        rows = np.asarray(rows, dtype=np.int64)
        return rows[(rows >= self.start) & (rows < self.stop)] - self.start

    def _dense(self, vector: np.ndarray, n: int, local: np.ndarray | None) -> Ranked:
        total = len(self) if local is None else len(local)
        if not total or n <= 0:
            return []
        selected = None if local is None else (local + self.start if self._global_ids else local)
        scores, ids = vector_search(self.vectors, vector[None, :].astype(np.float32), min(n, total), selected)
        keep = ids[0] >= 0
        found = ids[0][keep] + (0 if self._global_ids else self.start)
        return best(scores[0][keep], found, n)

    def _lexical(self, words: list[str], groups: list[Group], n: int, local: np.ndarray | None) -> Ranked:
        scores = self.lexical.scores(words, groups)
        rows = np.arange(self.start, self.stop, dtype=np.int64)
        if local is not None:
            scores, rows = scores[local], rows[local]
        hit = scores > 0
        return best(scores[hit], rows[hit], n)

    def search(self, requests: list[Request]) -> list[Found]:
        return [self._search(r) for r in requests]

    def _search(self, r: Request) -> Found:
        local = self._local(r.rows)
        return Found(
            dense=self._dense(r.vector, r.depth, local),
            named=self._dense(r.vector, r.depth, self._local(r.named)) if r.named is not None else [],
            lexical=self._lexical(r.words, r.groups, r.depth, local) if r.lexical else [],
            known=self.lexical.known(r.words, r.groups),
        )


class Shards:
    """Shards searched here, one after the other, and merged: on one machine, the one shard of
    every row (see :meth:`Shard.whole`)."""

    def __init__(self, shards: list[Shard]) -> None:
        self.shards = shards

    def search(self, requests: list[Request]) -> list[Found]:
        return merge_all([s.search(requests) for s in self.shards], requests)


def merge_all(answers: list[list[Found]], requests: list[Request]) -> list[Found]:
    """Each shard's answers to the same requests, merged request by request."""
    return [merge([a[j] for a in answers], r.depth) for j, r in enumerate(requests)]


def _vector_rows(index: faiss.Index, start: int, stop: int) -> faiss.Index:
    """The vectors of rows [start, stop): an IVF index keeps its quantizer and probes (and the
    rows' global ids); a flat one is copied into a flat index of its own (local ids)."""
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexIVF):
        part = faiss.clone_index(inner)
        part.reset()
        inner.copy_subset_to(part, 0, start, stop)  # subset type 0: ids in [start, stop)
        part.nprobe = inner.nprobe
        return part
    flat = faiss.IndexFlatIP(index.d)
    if stop > start:
        flat.add(index.reconstruct_n(start, stop - start))
    return flat


def _lexical_rows(lexical: LexicalIndex, start: int, stop: int) -> LexicalIndex:
    """The BM25 scores of rows [start, stop): same vocabulary, same precomputed scores."""
    retriever = lexical.retriever
    scores = retriever.scores
    matrix = scipy.sparse.csc_matrix(
        (scores["data"], scores["indices"], scores["indptr"]), shape=(scores["num_docs"], len(scores["indptr"]) - 1)
    )[start:stop].tocsc()
    matrix.sort_indices()
    part = copy.copy(retriever)
    part.scores = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "num_docs": stop - start}
    return LexicalIndex(part, stop - start, lexical.df, lexical.total)
