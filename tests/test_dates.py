"""The date grammar on real government writing.

CORPUS cases are lines of corpus/sti-policy-2024.txt after stiqa's character repair
(``test_corpus_cases_are_real_lines`` checks that they are); OTHER cases are forms the
corpus does not happen to use but government documents do (laws, budgets, tables).
Each case lists every mention as (wording, answer date, precision, hedged).
"""

from __future__ import annotations

import unicodedata

import pytest

from stiqa.dates import (
    DateMention,
    answer_date,
    era_to_year,
    find_dates,
    fiscal_year_span,
)
from stiqa.normalize import normalize_query

CORPUS = [
    # eras, with the day and the decision that dated it
    ("AIセーフティ・インスティテュートの設立(令和6年2月)(内閣府をはじめとする関係省庁、関係機関)", None,
     [("令和6年2月", "2024-02", "month", False)]),
    ("「学術論文等の即時オープンアクセスの実現に向けた基本方針」(令和6年2月16日統合イノベーション戦略推進会議決定)(概要)", None,
     [("令和6年2月16日", "2024-02-16", "day", False)]),
    ("バイオ戦略(令和元年6月11日統合イノベーション戦略推進会議決定)において掲げた目標である「2030年に世界最", None,
     [("令和元年6月11日", "2019-06-11", "day", False), ("2030年", "2030", "year", False)]),
    ("第6期科学技術・イノベーション基本計画(令和3年3月26日閣議決定)に基づき、イノベーションを創出するスタートアップが続々と", None,
     [("令和3年3月26日", "2021-03-26", "day", False)]),
    ("具体的には、「統合イノベーション戦略2023」(令和5年6月9日閣議決定)を踏まえ、①先端科学技術の戦略的な", None,
     [("令和5年6月9日", "2023-06-09", "day", False)]),
    # western dates
    ("2020年1月21日 統合イノベーション戦略推進会議「量子技術イノベーション戦略」決定", None,
     [("2020年1月21日", "2020-01-21", "day", False)]),
    ("ITER / JT-60SA等を活用した人材育成ITER機構長の総理表敬(2023年11月30日) JT-60SA 運転開始記念式典(2023年12月1日)", None,
     [("2023年11月30日", "2023-11-30", "day", False), ("2023年12月1日", "2023-12-01", "day", False)]),
    ("2023年8月、文部科学省に設置した国際卓越研究大学の認定等に関する有識者会議(アドバイザリーボード )", None,
     [("2023年8月", "2023-08", "month", False)]),
    ("2023年2月 CSTI本会議にてパッケージの改定", None,
     [("2023年2月", "2023-02", "month", False)]),
    ("(2020年1月、2022年4月改訂)", None,
     [("2020年1月", "2020-01", "month", False), ("2022年4月", "2022-04", "month", False)]),
    ("地域6拠点(2021年6月:北海道・鶴岡・長岡・福岡、2022年12月:広島・沖縄)を認定。", None,
     [("2021年6月", "2021-06", "month", False), ("2022年12月", "2022-12", "month", False)]),
    # fiscal years and their ranges
    ("SIP第1期(2014〜2018年度)で研究開発を実施。", None,
     [("2014〜2018年度", "FY2014/FY2018", "fiscal_year", False)]),
    ("研究開発を2014年度から継続的に実施。今般の能登半島地震では、これまでの研究開発の成果が", None,
     [("2014年度", "FY2014", "fiscal_year", False)]),
    ("生成AIの利用と開発力強化に向けた事業拡充(令和5年度補正予算・令和6年度当初予算案)(全関係府省)", None,
     [("令和5年度", "FY2023", "fiscal_year", False), ("令和6年度", "FY2024", "fiscal_year", False)]),
    ("➢ 2023年度は、2022年度補正予算において措置された「バイオものづくり革命推進事業」や「革新的GX技術創出(GteX)」", None,
     [("2023年度", "FY2023", "fiscal_year", False), ("2022年度", "FY2022", "fiscal_year", False)]),
    ("2025年度に、学術論文を主たる成果とする競争的研究費制度の新規公募分から学術論文等の即時オープンアクセス開始", None,
     [("2025年度", "FY2025", "fiscal_year", False)]),
    # years carried from the mention before, or from the caller's context year
    ("関係省庁による生成AIの業務利用に関する申合せ(令和5年5月、9月)(デジタル社会推進会議幹事会)", None,
     [("令和5年5月", "2023-05", "month", False), ("9月", "2023-09", "month", False)]),
    ("令和4年5月18日成立・11月15日施行", None,  # vertical text on the timeline slide
     [("令和4年5月18日", "2022-05-18", "day", False), ("11月15日", "2022-11-15", "day", False)]),
    ("2〜3月 関係府省・国研協との調整", 2024, [("2〜3月", "2024-02/2024-03", "month", False)]),
    ("2〜3月 関係府省・国研協との調整", None, []),
    ("3月中 関係府省申し合わせ", 2024, [("3月中", "2024-03", "month", True)]),
    ("3月中 関係府省申し合わせ", None, []),
    ("6/1 運用業務担当理事 着任", 2021, [("6/1", "2021-06-01", "day", False)]),
    ("6/1 運用業務担当理事 着任", None, []),
    ("11/15", 2021, [("11/15", "2021-11-15", "day", False)]),
    # seasons and hedges
    ("今後、2023年秋の臨時国会で改正された国立大学法人法も踏まえた対象大学におけるガバナンス体制の変更", None,
     [("2023年秋", "2023", "season", False)]),
    ("・ バイオ戦略有識者会議における議論を踏まえ、2024年6月頃にバイオ戦略を改定(統合イノベーション戦略推進会議決定)予定。", None,
     [("2024年6月頃", "2024-06", "month", True)]),
    ("(2024年3月予定)", None, [("2024年3月予定", "2024-03", "month", True)]),
    ("等を経て、2024年度中の支援開始を予定。", None, [("2024年度中", "FY2024", "fiscal_year", True)]),
    ("後、令和6年度中に開始予定", None, [("令和6年度中", "FY2024", "fiscal_year", True)]),
    ("2024年2月 CSTI本会議にてパッケージの改定(予定)", None, [("2024年2月", "2024-02", "month", True)]),
    ("このため、2030年目標に向けた“量子産業の早期創出・発展に向けた推進方策”として、量子技術に関する既存3戦", None,
     [("2030年", "2030", "year", True)]),
    # numbers that are not dates
    ("例:主な大規模言語モデルAIの開発元 例:被引用論文数上位10%の", None, []),
    ("世界ランク(日本は13位)", 2024, []),
    ("50兆円規模に", 2024, []),
    ("OpenAI(米国)GPT-4", 2024, []),
    ("北京智源人工知能研究院(中国)悟道2.0", 2024, []),
    ("装置 JT-60SAの初プラズマ生成", 2024, []),
    ("スタートアップ育成5か年計画", 2024, []),
    ("2.第6期科学技術・イノベーション基本計画の進捗状況", 2024, []),
    ("また、2ヵ国での共著は被引用論文数を1/2とする分数カウント法を用いている。", 2024, []),
    ("④ 上記①〜③の実現に必要な基盤の強化", 2024, []),
]

OTHER = [
    ("令和3年1月28日成立・2月23日施行", None,
     [("令和3年1月28日", "2021-01-28", "day", False), ("2月23日", "2021-02-23", "day", False)]),
    ("平成31年4月1日から施行する。", None, [("平成31年4月1日", "2019-04-01", "day", False)]),
    ("平成31年4月", None, [("平成31年4月", "2019-04", "month", False)]),
    ("平成31年度予算", None, [("平成31年度", "FY2019", "fiscal_year", False)]),
    ("令和元年度", None, [("令和元年度", "FY2019", "fiscal_year", False)]),
    ("昭和64年1月7日", None, [("昭和64年1月7日", "1989-01-07", "day", False)]),
    ("令和六年二月十六日", None, [("令和六年二月十六日", "2024-02-16", "day", False)]),
    ("R6年度補正予算", None, [("R6年度", "FY2024", "fiscal_year", False)]),
    ("FY2024の実績", None, [("FY2024", "FY2024", "fiscal_year", False)]),
    ("令和4〜6年度の3か年", None, [("令和4〜6年度", "FY2022/FY2024", "fiscal_year", False)]),
    ("2023年4月〜2024年3月", None, [("2023年4月〜2024年3月", "2023-04/2024-03", "month", False)]),
    ("2023年11月〜2月に実施", None, [("2023年11月〜2月", "2023-11/2024-02", "month", False)]),
    ("2024年4〜6月期", None, [("2024年4〜6月", "2024-04/2024-06", "month", False)]),
    ("2023年度は、12月に公募、3月に採択", None,  # months after a fiscal year: March is in 2024
     [("2023年度", "FY2023", "fiscal_year", False), ("12月", "2023-12", "month", False),
      ("3月", "2024-03", "month", False)]),
    ("2023年度に開始し、翌年度から本格実施", None,
     [("2023年度", "FY2023", "fiscal_year", False), ("翌年度", "FY2024", "fiscal_year", False)]),
    ("2024年度末までに策定", None, [("2024年度末", "FY2024", "fiscal_year", False)]),
    ("2025年度以降", None, [("2025年度以降", "FY2025", "fiscal_year", True)]),
    ("2030年を目途に", None, [("2030年を目途", "2030", "year", True)]),
    ("2024年夏頃", None, [("2024年夏頃", "2024", "season", True)]),
    ("6月頃", 2024, [("6月頃", "2024-06", "month", True)]),
    ("2024/3/1 公表", None, [("2024/3/1", "2024-03-01", "day", False)]),
    ("H31.4.1施行", None, [("H31.4.1", "2019-04-01", "day", False)]),
    ("2024年2月29日", None, [("2024年2月29日", "2024-02-29", "day", False)]),
    # the same year in the other calendar, in brackets, belongs to the date
    ("2026年（令和8年）3月17日", None, [("2026年（令和8年）3月17日", "2026-03-17", "day", False)]),
    ("令和8年(2026年)3月17日", None, [("令和8年(2026年)3月17日", "2026-03-17", "day", False)]),
    ("令和6年度(2024年度)に開始", None, [("令和6年度(2024年度)", "FY2024", "fiscal_year", False)]),
    ("2023年2月29日", None, []),
    ("2000年代以降", None, []),
    ("30日以内に報告", 2024, []),
    ("補助率1/2", 2024, []),
    ("1,000万人", 2024, []),
    ("第6期", 2024, []),
]


def found(text: str, context_year: int | None) -> list[tuple[str, str, str, bool]]:
    return [(m.wording, answer_date(m), m.precision, m.hedged) for m in find_dates(text, context_year)]


@pytest.mark.parametrize("text, context_year, expected", CORPUS + OTHER)
def test_find_dates(text, context_year, expected):
    assert found(text, context_year) == expected


def test_corpus_cases_are_real_lines(doc_text):
    raw_lines = doc_text.splitlines()
    lines = {normalize_query(line) for line in raw_lines}
    joined = normalize_query("".join(line.strip() for line in raw_lines))  # vertical text
    for text, _, _ in CORPUS:
        assert text in lines or text in joined, text


@pytest.mark.parametrize("era, year, western", [
    ("令和", "元", 2019), ("令和", "1", 2019), ("令和", "6", 2024), ("令和", "六", 2024),
    ("平成", "31", 2019), ("平成", "元", 1989), ("平成", "1", 1989), ("平成", "32", 2020),
    ("昭和", "64", 1989), ("昭和", "元", 1926), ("R", "6", 2024), ("H", "31", 2019),
    ("平成", "三十一", 2019),
])
def test_era_to_year(era, year, western):
    assert era_to_year(era, year) == western


@pytest.mark.parametrize("era, year", [("西暦", "6"), ("令和", "0")])
def test_era_to_year_rejects(era, year):
    with pytest.raises(ValueError):
        era_to_year(era, year)


def test_fiscal_year_runs_april_to_march():
    assert fiscal_year_span(2024) == ("2024-04-01", "2025-03-31")
    assert fiscal_year_span(2019) == ("2019-04-01", "2020-03-31")


def test_mention_fields():
    text = "令和4年5月18日成立・11月15日施行"
    first, second = find_dates(text)
    assert first == DateMention(0, 9, "令和4年5月18日", "2022-05-18", None, "day", False)
    assert second == DateMention(12, 18, "11月15日", "2022-11-15", None, "day", False,
                                 year_inferred=True)
    (fy,) = find_dates("SIP第1期(2014〜2018年度)")
    assert (fy.start, fy.end, fy.date, fy.end_date) == (7, 18, "FY2014", "FY2018")
    (season,) = find_dates("2023年秋頃に改正")
    assert (season.date, season.precision, season.qualifier, season.hedged) == ("2023", "season", "秋頃", True)


def test_answer_date_formats():
    assert [answer_date(m) for m in find_dates("令和6年2月16日、2024年2月、2024年、2024年度")] == [
        "2024-02-16", "2024-02", "2024", "FY2024"]


def test_offsets_point_at_the_wording(doc_text):
    for line in doc_text.splitlines():
        text = normalize_query(line)
        for m in find_dates(text, context_year=2024):
            assert text[m.start:m.end] == m.wording


def test_spans_of_reported_dates():
    from stiqa.dates import iso_span, overlaps

    assert iso_span("2024-02") == ("2024-02-01", "2024-02-29")
    assert iso_span("2023") == ("2023-01-01", "2023-12-31")
    assert iso_span("FY2024") == ("2024-04-01", "2025-03-31")
    assert iso_span("2023-12-01") == ("2023-12-01", "2023-12-01")
    assert overlaps(iso_span("FY2023"), iso_span("2024-02")) and not overlaps(iso_span("FY2024"), iso_span("2024-03"))


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("本年２月１４日に開催された", "2022-04-27", "2022-02-14"),
        ("来月１２日に開催予定", "2023-04-12", "2023-05-12"),
        ("先月３１日に公表", "2023-04-12", "2023-03-31"),
        ("来月", "2023-12-05", "2024-01"),
        ("昨年６月に閣議決定", "2022-02-14", "2021-06"),
        ("本年度末まで", "2024-02-16", "FY2023"),
        ("来年度から", "2024-07-24", "FY2025"),
        ("８月２１日に", "2024-07-24", "2024-08-21"),
    ],
)
def test_dates_relative_to_the_documents_own_date(text, reference, expected):
    found = find_dates(unicodedata.normalize("NFKC", text), reference=reference)
    assert [m.date for m in found] == [expected]
    assert found[0].year_inferred


def test_a_title_page_date_in_both_calendars_is_the_documents_date():
    from stiqa.dates import document_date

    assert document_date("実践ガイドブック\nコアデータモデル全体概要\n2026年（令和8年）3月17日\nデジタル庁\n") == "2026-03-17"


def test_a_sentence_dating_something_else_is_not_the_documents_date():
    """A paper that opens on the model law it discusses: 「…2017年(平成29年)に公表された」 is the
    law's date, not the paper's; the paper's title page, when it has one, dates it."""
    from stiqa.dates import document_date

    body = "第1 はじめに\nMLETRは、UNCITRALが策定し、2017年(平成29年)に公表されたものである。\n"
    assert document_date("中間試案の補足説明\n" + body) is None
    assert document_date("実装データモデル\n2026年（令和8年）3月17日\n" + body) == "2026-03-17"
    assert document_date("第1 日 時 令和5年4月12日(水)\n" + body) == "2023-04-12"


def test_relative_dates_need_the_documents_date():
    assert find_dates("本年2月14日") == []
    assert find_dates("来月12日") == []
