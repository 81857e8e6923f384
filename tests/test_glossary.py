"""English questions' words in Japanese, from the JMdict database jamdict-data ships."""

import pytest

from stiqa.index.lexical import JapaneseTokenizer
from stiqa.qa.glossary import Glossary, acts, forms, related, spellings


@pytest.fixture(scope="module")
def glossary():
    return Glossary(JapaneseTokenizer())


def alternatives(group) -> set[str]:
    return {"".join(alt) for alt in group}


def test_a_word_becomes_one_group_of_its_japanese_headwords(glossary):
    (group,) = glossary.groups("subcommittee")
    assert {"小委員会", "分科会"} <= alternatives(group)
    # each alternative is the BM25 words of its headword: 小委員会 -> 小, 委員, 会
    assert ("小", "委員", "会") in group


def test_inflected_words_find_their_stem(glossary):
    assert forms("appoints")[:2] == ["appoints", "appoint"]
    assert "study" in forms("studies") and "decide" in forms("decided") and "tap" in forms("tapping")
    (group,) = glossary.groups("appoints")
    assert {"命じる", "任じる"} <= alternatives(group)
    assert "to appoint" in spellings("appoint") and "Japan" in spellings("japan")


def test_a_verb_finds_the_verbal_nouns_of_its_act(glossary):
    assert {"appointment", "approval", "designation", "decision", "submission"} & set(
        acts("appoint") + acts("approve") + acts("designate") + acts("decide") + acts("submit")
    ) == {"appointment", "approval", "designation", "decision", "submission"}
    (appoints,) = glossary.groups("appoints")
    # 任命 is glossed "appointment" and takes する; アポイント ("appointment", a meeting) does not
    assert "任命" in alternatives(appoints) and "アポイント" not in alternatives(appoints)
    (approve,) = glossary.groups("approve")
    assert {"承認", "可決"} <= alternatives(approve)


def test_an_adjective_the_dictionary_does_not_gloss_is_read_as_its_noun(glossary):
    assert "legislation" in related("legislative") and "regulation" in related("regulatory")
    assert "technology" in related("technological")
    (legislative,) = glossary.groups("legislative")  # JMdict glosses "legislation", not "legislative"
    assert {"立法", "法制"} <= alternatives(legislative)
    (administrative,) = glossary.groups("administrative")  # glossed itself: its own headwords only
    assert "行政上" in alternatives(administrative) and "行政" not in alternatives(administrative)


def test_a_gloss_with_a_qualifier_in_brackets_translates_the_word(glossary):
    # JMdict glosses 審議会 "council (deliberative, consultative)" and 会長 "president (of a society)"
    (council,) = glossary.groups("council")
    assert {"審議会", "協議会"} <= alternatives(council)
    (president,) = glossary.groups("president")
    assert "会長" in alternatives(president)
    # "start (of) filming" is not a gloss of "start": the brackets do not end it
    from stiqa.qa.glossary import _QUALIFIER

    assert _QUALIFIER.fullmatch("council (deliberative, consultative)")[1] == "council"
    assert _QUALIFIER.fullmatch("start (of) filming") is None
    # a phrase is taken only as glossed exactly: "open access (library)" is 開架, open stacks,
    # and would stand in for "open" and "access" (公開, アクセス)
    found = [alternatives(g) for g in glossary.groups("immediate open access")]
    assert not any("開架" in g for g in found) and any("アクセス" in g for g in found)


def test_phrases_are_taken_whole_where_the_dictionary_has_them(glossary):
    groups = glossary.groups("Which bar association submitted comments?")
    found = [alternatives(g) for g in groups]
    assert any("弁護士会" in g for g in found)
    # "bar" was not translated on its own (バー): the phrase took it
    assert not any("バー" in g for g in found)
    assert [alternatives(g) for g in glossary.groups("a state of emergency")] == [{"緊急事態", "非常事態"}]


def test_names_of_several_words_come_from_jmnedict(glossary):
    groups = [alternatives(g) for g in glossary.groups("Besides the Japan Federation of Bar Associations, who?")]
    assert {"日本弁護士連合会"} in groups  # the whole name, as one word
    assert [alternatives(g) for g in glossary.groups("Tohoku University")] == [{"東北大学"}]
    # a single word is not read as a name: "Ida" would be 井田, 伊田, 飯田 …
    assert not any("井田" in g for g in map(alternatives, glossary.groups("Ida")))


def test_stop_words_codes_and_japanese_are_left_alone(glossary):
    assert glossary.groups("What is the of and") == []
    assert glossary.groups("AI EU 2024 SMS") == []  # the same in Japanese text: BM25 finds them as they are
    assert glossary.groups("即時オープンアクセスはいつから？") == []
    assert glossary.groups("zzqxv tsunamiology") == []


def test_katakana_loanwords_come_from_kana_only_entries(glossary):
    (group,) = glossary.groups("profile")
    assert "プロファイル" in alternatives(group)


def test_without_the_database_nothing_is_translated(tmp_path, caplog):
    missing = Glossary(JapaneseTokenizer(), str(tmp_path / "jamdict.db"))
    assert missing.groups("Which subcommittee?") == []
    assert "jamdict-data" in caplog.text
