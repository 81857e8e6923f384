import numpy as np

from stiqa.index.lexical import JapaneseTokenizer, LexicalIndex, is_code


def test_content_words_only():
    words = JapaneseTokenizer().words("公的資金による学術論文の即時オープンアクセスはいつから開始されますか？")
    assert {"学術", "論文", "即時", "オープン", "アクセス", "開始"} <= set(words)
    assert not {"の", "は", "いつ", "から", "ます", "か", "?"} & set(words)


def test_english_words_stay_english():
    words = JapaneseTokenizer().words("Which university used SIP4D and JT-60SA?")
    assert "university" in words and "sip" in words
    assert "which" not in words
    assert not any("ユニバーシティ" in w for w in words)


def test_bm25_ranks_the_passage_with_the_words():
    tok = JapaneseTokenizer()
    docs = ["東北大学を認定候補に選定", "排水の98%以上を再生し、循環利用を可能にする", "シャワーを約100台配備"]
    index = LexicalIndex.build([tok.words(d) for d in docs])
    scores = index.scores(tok.words("排水の再生"))
    assert int(np.argmax(scores)) == 1 and scores[0] == 0
    assert not index.scores(tok.words("capital of France")).any()
    assert index.known(["排水", "zzz"]) == 1


def test_saved_index_scores_the_same(tmp_path):
    tok = JapaneseTokenizer()
    index = LexicalIndex.build([tok.words("大学ファンドの運用"), tok.words("量子技術の研究開発")])
    index.save(tmp_path / "bm25")
    again = LexicalIndex.load(tmp_path / "bm25", 2)
    q = tok.words("量子技術")
    assert np.allclose(index.scores(q), again.scores(q))


def test_codes_are_told_from_words():
    assert is_code("SBIR") and is_code("2030") and is_code("JT")
    assert not is_code("Global") and not is_code("startup") and not is_code("大学")
    assert is_code("iPhone") and is_code("PaLM") and is_code("ChatGPT") and not is_code("Council")


def test_a_group_of_alternatives_counts_as_one_word():
    """A translated word (stiqa.qa.glossary) scores where any alternative occurs, once, with
    the document frequency of them all."""
    tok = JapaneseTokenizer()
    docs = ["小委員会で審議した", "分科会で審議した", "小委員会と分科会の審議", "審議の日程", "予算の配分", "会場の案内"]
    index = LexicalIndex.build([tok.words(d) for d in docs])
    subcommittee = (tuple(tok.words("小委員会")), tuple(tok.words("分科会")), ("存在しない語",))
    scores = index.scores([], [subcommittee])
    assert (scores[:3] > 0).all() and not scores[3:].any()
    # both alternatives in one passage count once, not as two words
    both = index.scores(tok.words("小委員会") + tok.words("分科会"))
    assert scores[2] < both[2]
    # a group found in most passages weighs as a common word does
    common = index.scores([], [(("審議",), ("予算",))])
    assert common[3] < index.scores([], [(("日程",),)])[3]
    assert index.known(["審議"], [subcommittee, (("存在しない語",),)]) == 2
    assert np.array_equal(index.scores(["審議"], []), index.scores(["審議"]))
