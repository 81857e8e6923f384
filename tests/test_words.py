import pytest

from stiqa.qa.words import WordStats


@pytest.fixture(scope="module")
def stats(assistant):
    return assistant.retriever.words


def test_passage_words_are_those_it_was_indexed_with(assistant, stats):
    index = assistant.index
    for row in (0, len(index.passages) // 2, len(index.passages) - 1):
        words = frozenset(assistant.tokenizer.words(index.embedding_text(index.passages[row])))
        assert stats.passages[row] == words


def test_a_rare_word_weighs_more_than_a_common_one(assistant, stats):
    df = {}
    for words in stats.passages:
        for w in words:
            df[w] = df.get(w, 0) + 1
    common = max(df, key=df.get)
    rare = min(df, key=df.get)
    assert stats.idf[rare] > stats.idf[common]
    assert stats.weighted_share({rare, common}, frozenset({rare})) > 0.5
    assert stats.weighted_share({rare, common}, frozenset({common})) < 0.5
    assert stats.weighted_share(set(), frozenset({rare})) == 0.0
    assert stats.idf.get("存在しない語", stats.unseen_idf) == stats.unseen_idf >= stats.idf[rare]


def test_one_reading_serves_ranking_and_answers(assistant):
    assert assistant.extractor.words is assistant.retriever.words
    assert isinstance(assistant.retriever.words, WordStats)


def test_texts_are_read_once(stats):
    text = "即時オープンアクセスの開始"
    first = stats.words_of(text)
    assert stats.words_of(text) is first


def test_a_translated_group_counts_once_when_any_alternative_is_found(stats):
    ranked = sorted((w for w in stats.idf if len(w) > 1), key=lambda w: (stats.idf[w], w))
    common, rare = ranked[0], ranked[-1]
    group = ((common,), (rare,))
    assert stats.weighted_share(set(), frozenset({rare}), [group]) == 1.0
    assert stats.weighted_share(set(), frozenset({"存在しない語"}), [group]) == 0.0
    # the group weighs as its most common alternative, found through its rare one
    other = ranked[-2]
    share = stats.weighted_share({other}, frozenset({rare}), [group])
    assert share == pytest.approx(stats.idf[common] / (stats.idf[common] + stats.idf[other]))
