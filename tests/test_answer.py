import pytest

from stiqa.qa.answer import MAX_ANSWER_CHARS


@pytest.mark.parametrize(
    "question, expected",
    [
        ("WOTAのシステムは排水を何%以上再生しますか？", "98%以上"),
        ("みどりの食料システム戦略はいつ決定されましたか？", "2021年5月12日"),
        ("国内の量子技術の利用者の2030年の目標は？", "1,000万人"),
        ("Where will the flagship base of the Global Startup Campus be?", "東京都心"),
    ],
)
def test_excerpt_answers(assistant, question, expected):
    result = assistant.ask(question, 5)
    assert result.answerable
    assert expected in result.answer.text
    assert len(result.answer.text) <= MAX_ANSWER_CHARS
    assert result.answer.passage_id in {h.passage.id for h in result.hits}


@pytest.mark.parametrize(
    "question",
    ["今日の東京の天気はどうですか？", "How do I cook sushi rice?", "原子力発電所の再稼働は何基ですか？"],
)
def test_abstains_when_the_documents_do_not_answer(assistant, question):
    result = assistant.ask(question, 5)
    assert not result.answerable and result.answer is None
    assert result.hits  # the nearest passages are still listed


def test_short_heading_gets_its_figure(assistant):
    result = assistant.ask("量子技術による生産額の目標はどれくらいですか？", 5)
    assert "50兆円規模" in result.answer.text


@pytest.mark.parametrize(
    "question, date",
    [
        ("JT-60SAの運転開始記念式典はいつ？", "2023-12-01"),  # the second of two dates on a line
        ("ITER機構長の総理表敬はいつ？", "2023-11-30"),  # the first of them
        ("量子未来社会ビジョンはいつ決定されましたか？", "2022-04-22"),  # a timeline line
        pytest.param(
            "When was the AI Safety Institute established?", "2024-02",  # 令和6年2月
            marks=pytest.mark.xfail(strict=True, reason=(
                "a near tie: float32 ranks the passage with the answer first by 0.003 of cosine, "
                "the int8 model second; the rank penalty (answer.RANK_WEIGHT, 0.02) then outweighs "
                "the answer sentence's lead of 0.007 over a sentence dated 2023. For issue 11's "
                "answer-stage work, measured on its question set, not on this one question.")),
        ),
        ("SIP第1期はいつ実施されましたか？", "FY2014"),  # a range of fiscal years: its start
    ],
)
def test_when_questions_get_the_normalised_date(assistant, question, date):
    result = assistant.ask(question, 5)
    assert result.answer.date == date


def test_a_range_gives_its_start_or_for_until_when_its_end(assistant):
    since = assistant.ask("SIP第1期はいつ実施されましたか？", 5).answer
    assert (since.date, since.end_date) == ("FY2014", "FY2018")
    until = assistant.ask("SIP第1期はいつまで実施されましたか？", 5).answer
    assert (until.date, until.end_date) == ("FY2018", "FY2018")


def test_other_questions_get_no_date(assistant):
    assert assistant.ask("東北大学は何の認定候補に選ばれましたか？", 5).answer.date is None


def test_the_date_of_the_event_asked_about(assistant):
    words = set(assistant.tokenizer.words("規制改革推進会議のワーキング・グループで要望として取り上げられたのはいつ"))
    text = ("船荷証券の電子化については、令和3年1月19日の規制改革推進会議投資等WG(第7回)において"
            "規制改革要望として取り上げられ、同年6月18日に閣議決定された「規制改革実施計画」において")
    # A date dates what comes after it, unless it is in brackets.
    assert assistant.extractor.date_in(text, words) == ("2021-01-19", None)
    bracketed = "JT-60SA運転開始記念式典(2023年12月1日)"
    assert assistant.extractor.date_in(bracketed, set(assistant.tokenizer.words("記念式典"))) == ("2023-12-01", None)


def test_a_law_number_is_not_the_date_of_a_decision(assistant):
    words = set(assistant.tokenizer.words("情報通信機器を使って法制審議会に出席できるとする決定"))
    text = ("令和2年10月29日法制審議会決定 情報通信機器を利用した法制審議会への出席について"
            "法制審議会令(昭和24年政令第134号)第9条の規定に基づき、情報通信機器を利用した出席に関し定める。")
    assert assistant.extractor.date_in(text, words) == ("2020-10-29", None)


def test_abstention_weighs_evidence_by_the_question_s_language_and_needs_the_kind():
    """The decision alone, on made-up evidence: no model, no index."""
    from stiqa.qa.answer import COVERAGE_WEIGHT, Evidence

    ja = Evidence(distinctiveness=0.0, coverage=0.4, kind_found=True, japanese=True, top=0.86, background=0.80)
    assert ja.score == pytest.approx(0.06 + COVERAGE_WEIGHT * 0.4)
    assert ja.supports_answer(min_score=ja.score, min_score_other=1.0)  # Japanese: the first threshold
    assert not ja.supports_answer(min_score=ja.score + 1e-6, min_score_other=0.0)
    en = Evidence(distinctiveness=0.0, coverage=0.0, kind_found=True, japanese=False, top=0.85, background=0.80)
    assert en.supports_answer(min_score=1.0, min_score_other=0.04)  # English: the other one
    assert not en.supports_answer(min_score=0.0, min_score_other=0.06)
    wrong_kind = Evidence(0.0, 1.0, kind_found=False, japanese=True, top=0.99, background=0.0)
    assert not wrong_kind.supports_answer(0.0, 0.0)  # a "when" question whose excerpt has no date
