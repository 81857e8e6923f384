"""Searching an index in shards gives what searching it whole gives: the same rows, in the
same order, with the same scores (dense and BM25), with and without document filters."""

from __future__ import annotations

import numpy as np
import pytest

from stiqa.index.lexical import JapaneseTokenizer, LexicalIndex
from stiqa.index.search import Found, Request, Shard, Shards, best, merge, shard_bounds
from stiqa.index.vectors import build_vector_index

from .test_vectors import embeddings

TOPICS = [
    "研究データの即時オープンアクセスを2025年度から開始する。",
    "国際卓越研究大学の認定候補として東北大学が選ばれた。",
    "大学ファンドの運用益で博士課程学生を支援する。",
    "核融合実験装置JT-60SAの運転開始記念式典が開かれた。",
    "部会は要綱案を取りまとめ、法制審議会に報告した。",
    "モデル就業規則の改定で副業の規定が変わった。",
]


@pytest.fixture(scope="module")
def parts():
    """Vectors and BM25 of 1,200 passages; the BM25 passages repeat six sentences with varying
    extra words, so that many share a score."""
    tok = JapaneseTokenizer()
    rng = np.random.default_rng(1)
    texts = [TOPICS[i % len(TOPICS)] + ("参考資料" * int(rng.integers(0, 3))) for i in range(1200)]
    vectors, queries = embeddings(len(texts), 40, seed=2)
    return vectors, queries, LexicalIndex.build([tok.words(t) for t in texts]), tok


@pytest.mark.parametrize("exact_max", [100_000, 100], ids=["flat", "ivf"])
@pytest.mark.parametrize("count", [2, 3, 7])
def test_shards_merged_find_what_the_whole_index_finds(parts, exact_max, count):
    vectors, queries, lexical, tok = parts
    index = build_vector_index(vectors, exact_max=exact_max)
    whole = Shards([Shard(index, lexical, 0, len(vectors))])
    cut = Shards([Shard.cut(index, lexical, a, b) for a, b in shard_bounds(len(vectors), count)])
    rng = np.random.default_rng(3)
    requests = [
        Request(q, tok.words(TOPICS[j % len(TOPICS)][:12]), 50,
                None if j % 3 == 0 else np.sort(rng.choice(len(vectors), 300, replace=False)),
                None if j % 2 else np.arange(100, 160), lexical=j % 5 != 4,
                groups=[] if j % 4 else [(tuple(tok.words("東北大学")), ("部会",)), (("参考",), ("存在しない語",))])
        for j, q in enumerate(queries)
    ]
    assert cut.search(requests) == whole.search(requests)  # one batch, every kind of request
    words = tok.words("研究データのオープンアクセス、火星")
    (found,) = whole.search([Request(queries[0], words, 50)])
    assert len(found.lexical) == 50 and found.known == len(words) - 1  # 火星 is in no passage
    scores = [s for _, s in found.lexical]
    assert len(set(scores)) < len(scores)  # ties, decided by row on both sides


def test_bm25_scores_of_a_shard_are_the_whole_corpus_scores(parts):
    """Global statistics: a passage's score does not depend on which other passages share its shard."""
    _, _, lexical, tok = parts
    words = tok.words("東北大学の認定")
    shard = Shard.cut(build_vector_index(parts[0]), lexical, 400, 800)
    assert np.array_equal(shard.lexical.scores(words), lexical.scores(words)[400:800])
    groups = [(("大学",), ("部会",))]
    assert np.array_equal(shard.lexical.scores(words, groups), lexical.scores(words, groups)[400:800])


def test_best_keeps_ties_at_the_cut_and_orders_them_by_row():
    scores = np.array([0.5, 0.75, 0.5, 0.625, 0.5], dtype=np.float32)
    assert best(scores, np.arange(5) + 10, 3) == [(11, 0.75), (13, 0.625), (10, 0.5), (12, 0.5), (14, 0.5)]
    assert merge([Found(lexical=[(3, 1.0), (1, 0.5)]), Found(lexical=[(0, 0.5)])], 2).lexical == [(3, 1.0), (0, 0.5)]


def test_shard_bounds_cover_every_row_once():
    assert shard_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert shard_bounds(2, 4) == [(0, 0), (0, 1), (1, 1), (1, 2)]


def test_the_deck_answers_the_same_from_three_shards(assistant):
    """The whole pipeline over the bundled deck: fused ranks, answers and evidence unchanged."""
    index = assistant.index
    sharded = assistant.with_index(index, Shards([Shard.of(index, n, 3) for n in range(3)]))
    questions = ("即時オープンアクセスはいつから？", "Which university was selected as the first International "
                 "Research University candidate?", "大学ファンドの運用益は？", "火星探査の予算は？")

    def gist(result) -> dict:
        body = result.to_dict()
        return {k: v for k, v in body.items() if k not in ("took_ms", "timings")}

    alone = [gist(assistant.ask(q, 5)) for q in questions]
    assert [gist(sharded.ask(q, 5)) for q in questions] == alone
    # A batch (questions that arrive together) is searched in one call: the same answers.
    batch = sharded._ask_many([(q, 5, None, None) for q in questions])
    assert [gist(r) for r in batch] == alone
