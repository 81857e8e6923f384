from stiqa.qa.kinds import has_date, has_quantity, value_spans, wanted_unit, wants_date, wants_quantity


def test_when_questions():
    for q in ("即時オープンアクセスはいつから？", "設立時期は？", "何年に策定されましたか", "When was it founded?", "what year?"):
        assert wants_date(q), q
    assert not wants_date("東北大学は何の認定候補に選ばれましたか？")
    # A day named by what happens on it asks for a date: 開催予定日は, 施行日は.
    assert wants_date("第９回会議の開催予定日は？") and wants_date("改正法の施行日を教えてください")
    assert not wants_date("会議では毎日何を議論しますか")
    # whether at any time, not when
    assert not wants_date("接触確認アプリはいつでも使えますか？") and not wants_date("会議はいつも公開ですか")
    assert wants_date("いつまでに提出しますか") and wants_date("いつ頃開催されますか")


def test_how_many_questions():
    for q in ("拠点都市はいくつですか？", "何%以上を再生できますか", "世界ランクは何位ですか？", "How many showers?"):
        assert wants_quantity(q), q
    assert not wants_quantity("誰が主体となりますか？")


def test_dates_and_quantities_in_text():
    assert has_date("AIセーフティ・インスティテュートの設立(令和6年2月)")
    assert has_date("2025年度に開始") and has_date("6/1 着任") and has_date("令和元年6月11日")
    assert not has_date("東北大学を認定候補に選定")
    assert not has_date("補助率1/2")  # a fraction, by the rule dates.find_dates reads it with
    assert has_quantity("排水の98%以上") and has_quantity("拠点8都市") and has_quantity("50兆円規模")
    assert not has_quantity("第6期科学技術・イノベーション基本計画")


def test_periods_and_deadlines_are_told_apart():
    from stiqa.qa.kinds import has_span, wants_end, wants_span

    assert wants_span("日本がGPAIの議長国を務めたのはいつからいつまでですか？")
    assert not wants_span("How long is the public comment period?")  # a duration: a figure answers it
    assert not wants_span("中間試案のパブリック・コメントの期間はどのくらいですか？")
    assert not wants_span("GPAIはいつ設立されましたか？")
    assert wants_end("意見募集の締切はいつでしたか？") and wants_end("Until when can comments be sent?")
    assert not wants_end("いつから開始されますか？")
    assert has_span("2022年(令和4年)11月から2023年(令和5年)12月にかけて")
    assert not has_span("2020年6月に設立")


def test_people_counted_in_either_counter_and_times_of_day():
    from stiqa.qa.kinds import has_quantity, has_time, wanted_unit, wants_quantity, wants_time

    assert wants_quantity("賛成委員は何名でしたか？") and wanted_unit("賛成委員は何名でしたか？") == "名"
    assert has_quantity("委員12名が賛成", "名") and has_quantity("委員12人が賛成", "名")
    assert not has_quantity("12件の意見", "名")
    assert wants_time("第16回会議は何時に終了しましたか？") and wants_time("What time did it end?")
    assert not wants_time("何時間かかりましたか？")
    assert wants_time("譲渡犬を見学できる時間帯は？") and wants_time("窓口の受付時間は？")
    assert wants_time("What are the visiting hours?") and not wants_time("滞在時間はどのくらい？")
    assert has_time("至 午後5時49分") and has_time("17:30まで") and not has_time("長時間の審議")


def test_durations_and_kanji_numerals_are_figures():
    from stiqa.qa.kinds import has_quantity, wanted_unit, wants_date, wants_quantity

    assert wants_quantity("委員の任期は何年ですか？") and not wants_date("委員の任期は何年ですか？")
    assert wants_date("何年に設立されましたか？") and not wants_quantity("何年に設立されましたか？")
    assert wants_quantity("How long is the public comment period?")
    assert has_quantity("委員の任期は、二年とする") and has_quantity("委員二十人以内で組織する", "人")
    assert has_quantity("24時間単位で変更される") and has_quantity("おおむね1、2か月程度")
    assert has_quantity("22億2,000万ユーロを投資", wanted_unit("いくら投資するとしていますか"))
    assert not wants_quantity("スマホを何台も持っている人はどの端末に入れるべきですか？")  # 何台も: many, not how many


def test_a_date_relative_to_the_document_is_a_date_and_one_yet_to_be_fixed_is_not():
    from stiqa.qa.kinds import has_date

    assert has_date("先月３１日に無事パブリック・コメントに付すことができまして") and has_date("本年度中に取りまとめる")
    assert not has_date("前年比で増加した") and not has_date("前年度比で1割減")
    assert not has_date("11月以降の部会の日程につきましては、現在調整中でございますので、決まり次第お知らせします")
    # the date of the next sentence stands: only the undecided one's clause is discounted
    assert has_date("次回は令和5年10月4日水曜日を予定しております。11月以降の日程は調整中です。")


def test_the_countries_a_text_names_in_either_language():
    from stiqa.qa.kinds import countries

    assert countries("How much did the Japanese government budget for it?") == {"JP"}
    assert countries("日本国内の生成ＡＩの利用率") == {"JP"} and countries("我が国の研究者数") == {"JP"}
    assert countries("ＥＵのＡＩ法案が欧州議会で採択") == {"EU"}  # full-width letters too
    assert countries("米国・国立科学財団(NSF)と英国のAI安全研究所") == {"US", "UK"}
    assert countries("インド太平洋地域の中国地方") == set()  # a region, not a country
    assert countries("委員は法務大臣が任命する") == set()
    assert countries("政府は、閣議決定した計画に基づき") == {"JP"}  # a Japanese paper's own government
    assert countries("英国政府と米国の連邦政府") == {"UK", "US"}


def test_a_year_of_the_calendar_is_not_a_figure():
    from stiqa.qa.kinds import has_quantity, quantity_spans

    for text in ("(R3年度以前はこちら)", "2024年に開催", "令和5年3月", "撮影 (令和6–7年)", "5年4月1日から"):
        assert quantity_spans(text) == [], text
    assert has_quantity("任期は二年") and has_quantity("3年間の計画") and has_quantity("10年後の姿")


def test_how_many_things_is_answered_by_a_count_not_an_age_or_a_weight():
    from stiqa.qa.kinds import has_quantity, wanted_unit, wants_quantity

    assert wanted_unit("How many cats did the prefecture rehome?") == "count"
    assert wanted_unit("How many members attended the meeting?") == "count"
    assert wanted_unit("How many times did the council meet?") is None  # 回 or any figure
    assert wanted_unit("How many people attended?") == "人"
    assert wants_quantity("猫は何匹譲渡されましたか？") and wanted_unit("猫は何匹譲渡されましたか？") == "匹"
    assert has_quantity("猫12匹を譲渡", "count") and has_quantity("犬3頭", "匹") and has_quantity("合計10回の会議", "count")
    assert not has_quantity("推定5歳齢前後 体重 約5.5kg", "count")
    assert not has_quantity("第10回会議", "count")  # an ordinal, not a count


def test_a_plan_is_dated_as_planned_or_after_its_document():
    from stiqa.qa.kinds import has_upcoming, wants_upcoming

    assert wants_upcoming("次回改訂はいつ予定されていますか？") and wants_upcoming("When will the strategy be revised?")
    assert wants_upcoming("第11回部会で案内された次回部会の日程は？") and not wants_upcoming("いつ設立されましたか？")
    assert has_upcoming("次回は令和5年11月15日水曜日", "2023-10-04")
    assert has_upcoming("2024年6月頃に改定予定", "2024-12-01")  # given as planned, though before the document
    assert not has_upcoming("2025年3月25日 データ項目の再定義", "2026-03-17")
    assert not has_upcoming("2022年6月30日 P7-9 コアデータモデルにイベントを追加", "2026-03-17")  # its history
    assert has_upcoming("2022年6月30日に改訂", None)  # without the document's date, it cannot tell
    assert not has_upcoming("2026年（令和8年）3月17日 デジタル庁", "2026-03-17")  # the document's own date


def test_where_a_meeting_is_held_is_asked_and_answered_by_a_venue():
    from stiqa.qa.kinds import has_place, wants_place

    assert wants_place("第４回会議はどこで開かれましたか？") and wants_place("Where was the 4th meeting held?")
    assert wants_place("次回の会場は？")
    assert not wants_place("バイオコミュニティのグローバル拠点はどこですか？")  # どこです: which, not a venue
    assert not wants_place("アプリに関する紛争の第一審はどこの裁判所ですか？")
    assert has_place("第２ 場 所 法務省第一会議室") and has_place("法務省20階の第1会議室で開催します。")
    assert has_place("ウェブ会議により開催") and not has_place("令和6年7月24日に開催した。")


def test_an_age_is_asked_in_years_of_age():
    assert wants_quantity("How old is the dog チャコ estimated to be?") and wanted_unit("How old is the dog?") == "歳"
    assert wants_quantity("対象は何歳からですか？") and wanted_unit("対象は何歳からですか？") == "歳"
    assert has_quantity("年齢:10歳(推定)", "歳") and not has_quantity("予防歴:6種混合ワクチン", "歳")


def test_from_when_questions_want_a_date_that_something_starts_from():
    from stiqa.qa.kinds import has_start, wants_start

    for q in ("即時オープンアクセスはいつから開始されますか？", "何年度から始まりますか", "When will the new rule start?"):
        assert wants_start(q), q
    assert not wants_start("いつ決定されましたか？") and not wants_start("いつまでですか？")
    assert has_start("競争的研究費制度の2025年度新規公募分から、論文の掲載を義務づけ")
    assert has_start("令和6年4月1日より施行する。") and has_start("2024年以降に順次")
    # A date that only dates a paper is not where something starts.
    assert not has_start("「基本的な考え方」(令和5年10月30日)をとりまとめた。")
    assert not has_start("2025年度新規公募分。\nそこから始まる")  # not past the sentence's end


def test_what_a_word_means():
    from stiqa.qa.kinds import defined_term, defines

    assert defined_term("接触確認アプリでいう「接触」とはどのような状態ですか？") == "接触"
    assert defined_term("日次鍵とは何ですか") == "日次鍵"
    assert defined_term('What does "contact code" mean?') == "contact code"
    assert defined_term("いつ開催されますか？") is None
    assert defines("アプリ利用者及び接触(概ね1メートル以内の距離で、15分以上の近接した状態をいいます。", "接触")
    assert defines("「日次鍵」とは、端末と一対一の対応関係を持つ識別子をいう。", "日次鍵")
    assert not defines("接触確認アプリを利用する。", "接触")  # uses the word, defines nothing


def test_a_count_named_by_its_noun_is_a_quantity_in_its_unit():
    assert wants_quantity("ウイルス被害の届出の件数は？") and wanted_unit("ウイルス被害の届出の件数は？") == "件"
    assert wanted_unit("説明会の参加者の人数は？") == "人"
    assert not wants_quantity("件数の集計方法を教えてください")


def test_where_a_text_gives_the_value_asked_for():
    text = "本年8月7日をもちまして退任。補助率1/2、委員二十人以内で組織する。"
    dates = [text[a:b] for a, b in value_spans(text, True, False)]
    assert dates == ["本年", "8月"]  # a date relative to the document's own year; 1/2 is a fraction, not a date
    figures = [text[a:b] for a, b in value_spans(text, False, True)]
    assert figures == ["二十人"]
    assert value_spans(text, False, False) == []


def test_a_telephone_number_or_address_is_asked_and_answered_by_one():
    from stiqa.qa.kinds import has_contact, wants_contact

    assert wants_contact("この注意喚起についての問い合わせ電話番号は？") and wants_contact("事務局のFAX番号は？")
    assert not wants_contact("問い合わせ先はどこですか？")  # an office may answer it, without a number
    assert wants_contact("What is the phone number of the secretariat?") and wants_contact("Which e-mail address takes questions?")
    assert not wants_contact("If an iPhone shows a profile install screen, what should you tap?")
    assert not wants_contact("When did the contact-confirming app stop operating?")  # the app's name, not a contact
    assert wants_contact("What number should I phone before visiting?") and wants_contact("千葉市動物保護指導センターの電話番号は？")
    # such data as a topic: a privacy policy says whether it is collected
    assert not wants_contact("本アプリは電話番号を取得しますか？") and not wants_contact("Does the app collect e-mail addresses?")
    assert has_contact("住所:千葉市稲毛区宮野木町445-1 電話:043-258-7817") and has_contact("Tel: 03-5978-7591")
    assert has_contact("03(5978)7591") and has_contact("お問い合わせ: gif-info@digital.go.jp")
    assert not has_contact("2022-03-31") and not has_contact("〒540-8570 大阪市中央区大手前2丁目")
    assert not has_contact("住所:大阪市住之江区南港北1-14-16") and not has_contact("令和5年9月14日")
