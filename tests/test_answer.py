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
        ("When was the AI Safety Institute established?", "2024-02"),  # 令和6年2月
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


def test_a_date_after_its_subject_dates_that_subject(assistant):
    """A name then its date, as schedules and minutes write them: the date dates what comes before."""
    date_in = assistant.extractor.date_in
    table = ("法制審議会民法(成年後見等関係)部会第31回会議 令和7年12月23日 成年後見制度の見直しに関する諮問について"
             "法制審議会会社法制(株式・株主総会等関係)部会第9回会議 令和7年12月24日 会社法制の見直しに関する諮問について")
    words = set(assistant.tokenizer.words("会社法制(株式・株主総会等関係)部会の第9回会議の開催予定日"))
    assert date_in(table, words, names=frozenset({"第9回"})) == ("2025-12-24", None)
    minutes = "次回の第15回部会は、令和6年6月19日水曜日、午後1時30分から、法務省20階の第1会議室で開催します。"
    assert date_in(minutes, set(assistant.tokenizer.words("第15回部会の開催日"))) == ("2024-06-19", None)
    # a particle ties a date to what follows it, whatever precedes it
    tied = "部会は 令和5年4月12日に第9回を、令和5年5月31日に第10回を開催します。"
    assert date_in(tied, set(), names=frozenset({"第10回"})) == ("2023-05-31", None)


def test_an_english_question_dates_the_event_it_asks_about_through_its_translations(assistant):
    r = assistant.retriever
    text = ("次回の第9回の部会は、令和5年4月12日水曜日を予定しております。"
            "また、令和5年5月31日に中間試案の取りまとめに向けた第10回を開催いたします。")
    q = r.query("When will the interim proposal be compiled?", "hybrid", {})
    assert q.groups and not (set(q.words) & set(assistant.tokenizer.words(text)))
    assert assistant.extractor.date_in(text, set(q.words)) == ("2023-04-12", None)  # the words alone: the first
    assert assistant.extractor.date_in(text, set(q.words), groups=q.groups) == ("2023-05-31", None)
    # a numbered name the question gives counts as one of its words
    assert assistant.extractor.date_in(text, set(), names=frozenset({"第10回"})) == ("2023-05-31", None)


def test_a_law_number_is_not_the_date_of_a_decision(assistant):
    words = set(assistant.tokenizer.words("情報通信機器を使って法制審議会に出席できるとする決定"))
    text = ("令和2年10月29日法制審議会決定 情報通信機器を利用した法制審議会への出席について"
            "法制審議会令(昭和24年政令第134号)第9条の規定に基づき、情報通信機器を利用した出席に関し定める。")
    assert assistant.extractor.date_in(text, words) == ("2020-10-29", None)


def test_abstention_weighs_evidence_by_the_question_s_language_and_needs_the_kind():
    """The decision alone, on made-up evidence: no model, no index."""
    from stiqa.qa.answer import ANCHOR_WEIGHT, COVERAGE_WEIGHT, Evidence

    ja = Evidence(distinctiveness=0.0, coverage=0.4, kind_found=True, japanese=True, top=0.86, background=0.80)
    assert ja.score == pytest.approx(0.06 + COVERAGE_WEIGHT * 0.4)
    assert ja.supports_answer(min_score=ja.score, min_score_other=1.0)  # Japanese: the first threshold
    assert not ja.supports_answer(min_score=ja.score + 1e-6, min_score_other=0.0)
    en = Evidence(distinctiveness=0.0, coverage=0.0, kind_found=True, japanese=False, top=0.85, background=0.80)
    assert en.supports_answer(min_score=1.0, min_score_other=0.04)  # English: the other one
    assert not en.supports_answer(min_score=0.0, min_score_other=0.06)
    wrong_kind = Evidence(0.0, 1.0, kind_found=False, japanese=True, top=0.99, background=0.0)
    assert not wrong_kind.supports_answer(0.0, 0.0)  # a "when" question whose excerpt has no date
    other_meeting = Evidence(0.0, 1.0, kind_found=True, japanese=True, top=0.99, background=0.0, named_found=False)
    assert not other_meeting.fits and not other_meeting.supports_answer(0.0, 0.0)  # 第30回, answered from the 9th
    # a date or figure whose own clause holds none of the question's words weighs ANCHOR_WEIGHT less
    loose = Evidence(0.0, 0.4, kind_found=True, japanese=True, top=0.86, background=0.80, anchored=0.0)
    assert ja.score - loose.score == pytest.approx(ANCHOR_WEIGHT)


def test_an_english_sentence_quoting_a_japanese_term_is_held_to_the_english_threshold(assistant):
    from stiqa.qa.answer import written_in_english

    assert written_in_english("How often does the contact code (接触符号) change?")
    assert written_in_english("What is AI?") and not written_in_english("SBIRとは何ですか？")
    assert not written_in_english("Society 5.0とは何ですか？")  # an English name in a Japanese question
    r = assistant.retriever
    q = r.query("When does the 即時オープンアクセス policy start?", "hybrid", {})
    assert q.japanese  # retrieval reads its Japanese words
    assert not assistant.extractor.extract(q, r.search(q, 5, "hybrid", {}))[1].japanese


def test_a_passage_on_another_country_does_not_answer(assistant):
    from stiqa.records import Citation, Passage

    def passage(text: str, section: str = "") -> Passage:
        return Passage("p", text, Citation("doc", 1, section, 0, len(text)))

    r = assistant.retriever
    japan = r.query("How much did the Japanese government budget for AI safety?", "hybrid", {})
    about = assistant.extractor.about_country
    assert not about(japan, passage("NSFは、計11の研究プロジェクトに総額1,090万ドルを助成", "1-1.米国"))
    assert about(japan, passage("我が国では、AIセーフティ・インスティテュートを設立した。米国に続く。"))
    assert about(japan, passage("AIセーフティ・インスティテュートの予算を計上した。"))  # names no country
    plain = r.query("AIセーフティ・インスティテュートの予算はいくらですか？", "hybrid", {})
    assert about(plain, passage("NSFは総額1,090万ドルを助成", "1-1.米国"))  # the question names none


def test_the_value_answering_the_question_has_the_question_s_words_beside_it(assistant):
    r = assistant.retriever
    q = r.query("区分所有法制の中間試案に寄せられた意見のうち、賛成意見は何件でしたか？", "hybrid", {})
    anchored = assistant.extractor.anchored
    wanted = set(q.lexical_words)
    beside = "中間試案に寄せられた意見のうち、賛成意見は120件であった。"
    elsewhere = "中間試案について、部会では合計10件の資料を検討した。寄せられた意見の賛成や反対を整理した。"
    assert anchored(q, beside, wanted) > anchored(q, elsewhere, wanted)
    assert anchored(q, "寄せられた意見の賛成や反対を整理した。", wanted) == 0.0  # no figure at all
    plain = r.query("東北大学は何の認定候補に選ばれましたか？", "hybrid", {})
    assert anchored(plain, "東北大学を認定候補に選定。", set(plain.lexical_words)) == 1.0  # asks for no value


_RULES = (
    "接触確認アプリ利用規約\n\n第1条 目的\n"
    "本規約は、接触確認アプリの利用について定める。接触の通知は、陽性者との接触があった場合に行う。\n\n"
    "第2条 定義\n"
    "アプリ利用者及び接触(概ね1メートル以内の距離で、15分以上の近接した状態をいいます。)の記録は端末内に保存する。\n"
    "接触の記録は14日を経過した後に削除する。\n\n"
    "第3条 開始\n"
    "本アプリの基本方針(令和2年5月8日)を踏まえ、有識者会議が本規約の考え方を取りまとめた。\n"
    "本アプリの提供は、令和2年6月19日から開始する。\n\n"
    "第4条 背景\n"
    "はじめに、感染症の世界的な拡大を受けて、人と人との接触を減らすための様々な取組が国と地方公共団体と事業者によって"
    "長い期間にわたって進められてきたところ、"
    "技術の進歩により携帯端末の近接通信を用いて接触の可能性を本人に知らせる仕組みを実現できるようになったことから、"
    "これまでも各国において様々な方式が検討されてきたところであり、我が国においても関係者の協議を経て、"
    "最終的に端末の近接通信の記録を端末内にとどめる方式が採用されたところである。\n"
)


def built(folder, embedder, files: dict[str, str]):
    """An assistant over ``files`` (name: text), written under ``folder``."""
    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant

    (folder / "corpus").mkdir()
    for name, text in files.items():
        (folder / "corpus" / name).write_text(text, encoding="utf-8")
    return Assistant.build(Settings(corpus_dir=folder / "corpus", index_dir=folder / "index"), embedder)


@pytest.fixture(scope="module")
def rules(tmp_path_factory, embedder):
    """Terms of use the test writes: a definition, a start date, a long sentence."""
    return built(tmp_path_factory.mktemp("rules"), embedder, {"terms.txt": _RULES})


def _excerpt(assistant, question: str):
    """The answer chosen, whether or not the evidence is enough to give it (a corpus of one
    short file sets no background)."""
    r = assistant.retriever
    q = r.query(question, "hybrid", {})
    return assistant.extractor.extract(q, r.search(q, 5, "hybrid", {}))[0]


def test_what_a_word_means_is_answered_by_its_definition(rules):
    answer = _excerpt(rules, "このアプリでいう「接触」とはどのような状態ですか？")
    assert "概ね1メートル以内の距離で、15分以上" in answer.text


def test_from_when_is_answered_by_the_start_not_the_paper_before_it(rules):
    answer = _excerpt(rules, "本アプリの提供はいつから開始されますか？")
    assert answer.date == "2020-06-19" and "から開始" in answer.text


def test_a_long_sentence_is_shown_where_it_answers(rules):
    sentence = next(s for s in _RULES.splitlines() if len(s) > MAX_ANSWER_CHARS)
    assert sentence.index("方式が採用された") > MAX_ANSWER_CHARS  # its first 200 characters do not answer
    answer = _excerpt(rules, "我が国ではどのような方式が採用されたのですか？")
    assert len(answer.text) <= MAX_ANSWER_CHARS and answer.text in sentence
    assert "端末内にとどめる方式が採用された" in answer.text
    assert not answer.text.startswith("はじめに")  # not the sentence's first 200 characters


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    """A guide dated 2026 with its revision history, and minutes that announce their next meeting."""
    return built(tmp_path_factory.mktemp("dated"), embedder, {
        "guide.txt": "データモデル利用ガイド\n2026年（令和8年）3月17日\nデータ庁\n\n"
        "改訂履歴\n2022年6月30日 データモデルの改訂(イベントを追加)\n2022年5月9日 データモデルの改訂(土地を追加)\n",
        "minutes.txt": "第12回部会 議事録\n日時 令和5年10月4日(水)\n\n"
        "部会長 本日の審議はこの程度にいたします。次回の第13回部会は、令和5年11月15日水曜日に開催いたします。\n",
    })


def test_a_planned_date_is_not_a_past_one_of_the_document(dated):
    r = dated.retriever
    q = r.query("データモデルの次回の改訂はいつ予定されていますか？", "hybrid", {})
    assert q.upcoming
    answer, evidence = dated.extractor.extract(q, r.search(q, 5, "hybrid", {}, frozenset({"guide.txt"})))
    assert not evidence.kind_found and not evidence.supports_answer(-1.0, -1.0)  # its history dates past revisions
    q = r.query("次回の第13回部会はいつ開催される予定ですか？", "hybrid", {})
    answer, evidence = dated.extractor.extract(q, r.search(q, 5, "hybrid", {}, frozenset({"minutes.txt"})))
    assert evidence.kind_found and answer.date == "2023-11-15"


def test_an_articles_caption_alone_is_no_answer(tmp_path, embedder):
    """The caption of the next article, 「(庶務)」 at the end of a passage, shares the question's
    word but states nothing: the article under it answers."""
    articles = [
        ("議事", "審議会は、委員及び議事に関係のある臨時委員の三分の一以上が出席しなければ、会議を開き、議決することができない。"),
        ("部会", "審議会に部会を置くことができる。部会に属すべき委員は、会長が指名する。部会長は、部会の事務を総理する。"),
        ("庶務", "審議会の庶務は、法務省大臣官房司法法制部司法法制課において処理する。"),
        ("雑則", "この政令に定めるもののほか、審議会の議事及び部会に関し必要な事項は、審議会が定める。"),
    ]
    numerals = "七八九十"
    text = "審議会令\n\n" + "".join(f"（{c}）\n第{n}条 {body}\n" for (c, body), n in zip(articles, numerals))
    assistant = built(tmp_path, embedder, {"rules.txt": text})
    answer = _excerpt(assistant, "審議会の庶務はどこが担当していますか？")
    assert "司法法制課において処理する" in answer.text


def test_a_contact_is_answered_by_a_number_or_not_at_all(tmp_path, embedder):
    """"電話番号は" wants a telephone number: the line that gives one answers, and a document
    that gives none has no answer of that kind, however close its words."""
    assistant = built(tmp_path, embedder, {
        "center.txt": "動物保護センターのご案内\n\n譲渡を希望される方は、事前にセンターへお問い合わせください。見学は平日のみです。\n\n"
        "動物保護センター\n住所:千葉市稲毛区宮野木町445-1\n電話:043-258-7817\n",
        "council.txt": "審議会の運営について\n\n審議会の庶務は事務局が処理する。問い合わせは事務局が受け付ける。\n",
    })
    r = assistant.retriever
    q = r.query("動物保護センターの電話番号は？", "hybrid", {})
    answer, evidence = assistant.extractor.extract(q, r.search(q, 5, "hybrid", {}))
    assert q.contact and evidence.kind_found and "043-258-7817" in answer.text
    q = r.query("審議会の事務局に問い合わせる電話番号は？", "hybrid", {})
    answer, evidence = assistant.extractor.extract(q, r.search(q, 5, "hybrid", {}, frozenset({"council.txt"})))
    assert not evidence.kind_found and not evidence.supports_answer(-1.0, -1.0)


def test_a_long_excerpt_is_shown_where_it_gives_the_meeting_asked_about(tmp_path, embedder):
    """A schedule read as one long line: the window shown is the row of the meeting the question
    names, and its date is that row's, not the first row's."""
    rows = [("刑事法部会", 12, "令和7年12月2日", "刑事手続"), ("民法(成年後見)部会", 30, "令和7年12月2日", "成年後見制度"),
            ("民法(遺言)部会", 15, "令和7年12月9日", "遺言制度"), ("民法(成年後見)部会", 31, "令和7年12月23日", "成年後見制度"),
            ("会社法制部会", 9, "令和7年12月24日", "会社法制"),
            ("民法(遺言)部会", 16, "令和7年12月26日", "遺言制度")]
    table = " ".join(f"審議会{body}第{n}回会議 {day} {topic}の見直しに関する諮問について" for body, n, day, topic in rows)
    assert len(table) > MAX_ANSWER_CHARS and table.index("第16回") > MAX_ANSWER_CHARS
    assistant = built(tmp_path, embedder, {"schedule.txt": f"〔審議会〕\n12月開催予定表 会議名 年月日 議題 {table}\n"})
    r = assistant.retriever
    q = r.query("遺言部会の第16回会議はいつ開催されますか？", "hybrid", {})
    answer, evidence = assistant.extractor.extract(q, r.search(q, 5, "hybrid", {}))
    assert "第16回会議" in answer.text and answer.date == "2025-12-26"
