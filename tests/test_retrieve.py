import numpy as np
import pytest

from stiqa.index.search import Request
from stiqa.qa.retrieve import KIND_PRIOR, MAX_OVERLAP, NAME_PRIOR, RRF_K, fuse


def search(assistant, question, mode, k=5):
    q = assistant.retriever.query(question, mode, {})
    return assistant.retriever.search(q, k, mode, {})


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_finds_the_passage(assistant, mode):
    hits = search(assistant, "能登半島でISUTが活用した情報システムは？", mode).hits
    assert "SIP4D" in hits[0].passage.text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_english_question_over_japanese_text(assistant):
    hits = search(assistant, "How many showers were deployed on the Noto Peninsula?", "hybrid").hits
    assert any("シャワーを約100台" in h.passage.text for h in hits[:3])


def test_when_question_prefers_dated_passages(assistant, monkeypatch):
    from stiqa.qa import retrieve
    from stiqa.qa.kinds import has_date

    question = "ITER機構長の総理表敬はいつ？"
    with_prior = search(assistant, question, "dense", k=3).hits
    monkeypatch.setattr(retrieve, "KIND_PRIOR", 0.0)
    without = search(assistant, question, "dense", k=3).hits
    assert "2023年11月30日" in with_prior[0].passage.text
    assert sum(has_date(h.passage.text) for h in with_prior) > sum(has_date(h.passage.text) for h in without)


def test_results_do_not_repeat_each_other(assistant):
    hits = search(assistant, "オープンアクセスの推進", "hybrid", k=10).hits
    for i, a in enumerate(hits):
        for b in hits[:i]:
            ca, cb = a.passage.citation, b.passage.citation
            shared = min(ca.end, cb.end) - max(ca.start, cb.start)
            assert shared <= MAX_OVERLAP * min(ca.end - ca.start, cb.end - cb.start)


def test_off_topic_questions_stand_out_less(assistant):
    on = search(assistant, "WOTAの水循環システムの特徴は？", "hybrid").distinctiveness
    off = search(assistant, "What is the tallest mountain in the world?", "hybrid").distinctiveness
    assert on > off


def test_fuse_is_weighted_reciprocal_rank():
    fused = dict(fuse([[(1, 0.9), (2, 0.8)], [(2, 7.0), (3, 1.0)]]))
    assert max(fused, key=fused.get) == 2
    assert fuse([[(5, 1.0)], [(5, 2.0)]])[0] == (5, pytest.approx(1.0))
    assert dict(fuse([[(1, 1.0)], [(2, 1.0)]], [1.0, 0.0])).get(2) == 0.0


def test_a_question_about_a_period_ranks_passages_of_that_period_first(assistant):
    from stiqa.dates import find_dates, mention_span, overlaps

    q = assistant.retriever.query("2024年度に予定されている取組は？", "hybrid", {})
    assert q.span == ("2024-04-01", "2025-03-31")
    hits = assistant.retriever.search(q, 3, "hybrid", {}).hits
    for h in hits:
        spans = [mention_span(m) for s in h.passage.sentences for m in find_dates(s.text)]
        assert any(overlaps(q.span, s) for s in spans), h.passage.id


def test_a_long_question_embeds_its_start_but_is_searched_in_full(assistant):
    from stiqa.qa.retrieve import MAX_EMBED_CHARS

    padding = "資料の内容について詳しく教えてください。" * 15  # well over the embedding's share
    question = "能登半島でISUTが活用した情報システムは？" + padding + "DMATとの連携も"
    assert len(question) > MAX_EMBED_CHARS
    q = assistant.retriever.query(question, "hybrid", {})
    start = assistant.embedder.queries([q.text[:MAX_EMBED_CHARS]])[0]
    assert float(q.vector @ start) > 0.9999  # the model read only the start...
    assert "dmat" in q.lexical_words  # ...BM25 the whole question
    hits = assistant.retriever.search(q, 5, "hybrid", {}).hits
    assert any("SIP4D" in h.passage.text for h in hits)


def test_fuse_breaks_ties_by_the_first_ranking_not_by_corpus_order():
    # 7 and 3 swap places in two equally weighted rankings: equal scores.
    fused = fuse([[(7, 0.9), (3, 0.8)], [(3, 12.0), (7, 9.0)]])
    assert fused[0][1] == pytest.approx(fused[1][1])
    assert [i for i, _ in fused] == [7, 3]
    # A passage only the second ranking found comes after those the first ranks equally.
    assert [i for i, _ in fuse([[(5, 0.9)], [(2, 1.0)]])] == [5, 2]


def _minutes(date: str, number: int, body: str) -> str:
    y, m, d = date.split("-")
    return (f"法制審議会\n商法部会\n第{number}回会議 議事録\n\n第1 日 時 {y}年{int(m)}月{int(d)}日\n\n"
            f"第2 議 事\n" + "本日の会議には委員の全員が出席し、配布資料の確認を行った。" * 4 + f"\n○山田部会長 {body}\n")


@pytest.fixture(scope="module")
def two_meetings(tmp_path_factory, embedder):
    """Two sets of minutes that say the same thing, at meetings a year apart."""
    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant

    folder = tmp_path_factory.mktemp("meetings")
    body = "次回の部会では電子化された証券の名称について議論します。資料は事務局が用意します。"
    (folder / "corpus").mkdir()
    (folder / "corpus" / "a.txt").write_text(_minutes("2022-04-27", 1, body), encoding="utf-8")
    (folder / "corpus" / "b.txt").write_text(_minutes("2023-04-12", 9, body), encoding="utf-8")
    settings = Settings(corpus_dir=folder / "corpus", index_dir=folder / "index")
    return Assistant.build(settings, embedder)


def test_a_named_meeting_or_period_leans_to_its_document(two_meetings):
    for question, doc in (("第9回会議では何を議論しましたか？", "b.txt"), ("第1回会議では何を議論しましたか？", "a.txt"),
                          ("2023年の部会では何を議論しましたか？", "b.txt"), ("2022年の部会では何を議論しましたか？", "a.txt")):
        hits = two_meetings.ask(question, 5).hits
        said = [h.passage.citation.doc for h in hits if "議論します" in h.passage.text]
        assert said[:1] == [doc], question  # the same words, shown once: from the meeting asked about


def test_a_passage_that_gives_the_named_meeting_gets_its_prior(tmp_path, embedder):
    """Minutes announce the next meeting in the previous one's: the passage naming 第10回 leans
    to a question about the 10th, as the title of the 10th's own minutes would."""
    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant

    (tmp_path / "corpus").mkdir()
    body = "本日の審議はここまでとします。\n\n○事務局 次回の第10回部会は、令和5年5月31日に開催します。"
    (tmp_path / "corpus" / "m9.txt").write_text(_minutes("2023-04-12", 9, body), encoding="utf-8")
    assistant = Assistant.build(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"), embedder)
    r = assistant.retriever
    q = r.query("第10回部会はいつ開かれますか？", "hybrid", {})
    assert q.names == frozenset({"第10回"})
    passages = assistant.index.passages
    naming = [i for i, p in enumerate(passages) if "第10回" in p.text]
    others = [i for i, p in enumerate(passages) if "第10回" not in p.text]
    assert naming and others
    assert {r.prior(q, i) for i in naming} == {KIND_PRIOR + NAME_PRIOR}  # a date, and the name
    assert all(r.prior(q, i) < KIND_PRIOR + NAME_PRIOR for i in others)


def test_an_english_ordinal_is_searched_as_its_number(two_meetings):
    """Japanese writes "the 9th meeting" 第9回: BM25 looks for 9, where Sudachi's words of "9th"
    match nothing, so the English question finds the minutes by their number."""
    r = two_meetings.retriever
    q = r.query("When was the 9th meeting held?", "lexical", {})
    assert "9" in q.lexical_words and "9th" not in q.lexical_words
    assert "198" in r.query("When was the 198th meeting held?", "lexical", {}).lexical_words
    hits = r.search(q, 3, "lexical", {}).hits
    assert hits and hits[0].passage.citation.doc == "b.txt"


def test_an_english_question_searches_coined_names_as_written(two_meetings):
    """Japanese text writes iPhone and ChatGPT in Latin letters: BM25 looks for them as it does
    for acronyms, and not for ordinary capitalised words ("Council")."""
    q = two_meetings.retriever.query("Can the Council members use an iPhone or ChatGPT?", "lexical", {})
    assert {"iphone", "chatgpt"} <= set(q.lexical_words) and "council" not in q.lexical_words


def test_the_same_text_in_two_files_is_shown_once(two_meetings):
    hits = two_meetings.ask("電子化された証券の名称", 10).hits
    bodies = [h.passage.text for h in hits if "名称" in h.passage.text]
    assert len(bodies) == 1


def test_numbered_names_in_kanji_are_the_same_names():
    from stiqa.qa.retrieve import designators, kanji_number

    assert [kanji_number(n) for n in ("百二十一", "三十", "十", "二〇", "千二百", "7")] == [121, 30, 10, 20, 1200, 7]
    assert designators("諮問第百二十一号") == designators("諮問第１２１号".replace("１２１", "121")) == {"第121号"}
    assert designators("第三十回会議 資料7") == {"第30回", "資料7"}
    assert designators("the 8th meeting") == {"第8回"}


def test_hybrid_hits_follow_the_ranker(assistant):
    """Hybrid ranking orders the fused candidates by the ranker's score: hits come in that
    order, the first scores 1.0, and each score is the ranker's relative odds."""
    from stiqa.qa import rank

    r = assistant.retriever
    q = r.query("即時オープンアクセスはいつから？", "hybrid", {})
    hits = r.search(q, 5, "hybrid", {}).hits
    scores = [h.score for h in hits]
    assert scores[0] == pytest.approx(1.0) and scores == sorted(scores, reverse=True)
    rows = np.array([r.index.passages.index(h.passage) for h in hits])
    found = r.searcher.search([Request(q.vector, q.lexical_words, 50)])[0]
    prior = {i: r.prior(q, i) for i in rows.tolist()}
    features = r.features(q, rows, found.lexical, found.known / max(1, len(q.words)), prior)
    assert features.shape == (len(hits), len(rank.FEATURES))
    raw = rank.scores(features)
    assert np.all(np.diff(raw) <= 1e-9)  # same order as the ranker's own scores


def test_ranker_features_are_what_each_candidate_holds(assistant):
    from stiqa.qa import rank

    r = assistant.retriever
    q = r.query("即時オープンアクセスはいつから？", "hybrid", {})
    found = r.searcher.search([Request(q.vector, q.lexical_words, 50)])[0]
    lexical_rows = {i for i, _ in found.lexical}
    dense_only = next(i for i, _ in found.dense if i not in lexical_rows)
    rows = np.array([found.lexical[0][0], dense_only])
    prior = {i: r.prior(q, i) for i in rows.tolist()}
    f = dict(zip(rank.FEATURES, r.features(q, rows, found.lexical, 0.5, prior).T))
    # the closest sentence's cosine
    for n, row in enumerate(rows):
        lo, hi = r.index.sentence_start[row], r.index.sentence_start[row + 1]
        assert f["sentence"][n] == pytest.approx(float((r.index.sentence_vectors[lo:hi] @ q.vector).max()), abs=1e-6)
    assert f["lexical"][0] == pytest.approx(0.5 / (RRF_K + 1)) and f["lexical"][1] == 0.0  # BM25's vote, by rank
    assert 0.0 <= f["coverage"][1] <= f["coverage"][0] <= 1.0  # BM25's best holds more of the question's words
    dated = [r.dated[row] for row in rows]
    assert list(f["kind"]) == dated  # a "when" question: the passages with a date


def test_an_english_question_searches_bm25_in_translation(assistant):
    """Its English words reach BM25 as their Japanese alternatives (stiqa.qa.glossary), and the
    ranker weighs that match as a translation's, not as the question's own words."""
    from stiqa.qa import rank

    r = assistant.retriever
    q = r.query("When will immediate open access to publicly funded papers start?", "hybrid", {})
    assert not q.japanese and not q.lexical_words and len(q.groups) >= 4
    hits = r.search(q, 3, "lexical", {}).hits
    assert any("即時オープンアクセス" in h.passage.text for h in hits)
    found = r.searcher.search([r.request(q, 5, "hybrid")])[0]
    assert found.known >= 4
    rows, vote, prior = r.fused(q, found)
    f = dict(zip(rank.FEATURES, r.features(q, rows, found.lexical, vote, prior).T))
    assert not f["lexical"].any() and f["translated"].max() == pytest.approx(vote / (RRF_K + 1))
