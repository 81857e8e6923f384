import pytest

from stiqa.questions import BadQuestion


@pytest.mark.parametrize(
    "question, k, mode, message",
    [
        ("   ", 5, None, "empty"),
        ("\u200b\ufeff", 5, None, "no words"),
        ("？？ ・", 5, None, "no words"),
        ("あ" * 1001, 5, None, "1001 characters"),
        ("大学ファンドとは", 0, None, "between 1 and 50"),
        ("大学ファンドとは", 51, None, "between 1 and 50"),
        ("大学ファンドとは", 5, "fuzzy", "mode must be one of"),
    ],
)
def test_bad_questions_are_refused_with_a_reason(assistant, question, k, mode, message):
    with pytest.raises(BadQuestion, match=message):
        assistant.ask(question, k, mode)


def test_result_has_the_api_shape_and_timings(assistant):
    result = assistant.ask("  SBIR制度の抜本拡充とは？  ", 3, "hybrid")
    body = result.to_dict()
    assert body["question"] == "SBIR制度の抜本拡充とは？"
    assert set(body) == {"question", "answerable", "answer", "passages", "took_ms"}
    assert len(body["passages"]) == 3
    assert set(body["passages"][0]["citation"]) == {"doc", "page", "section", "start", "end"}
    assert {"embed_ms", "search_ms", "fuse_ms", "answer_ms"} <= set(result.timings)


def test_control_characters_and_lone_surrogates_are_not_questions(assistant):
    for bad in ("大学\x00ファンド", "大学\x1b[31m", "\ud800"):
        with pytest.raises(BadQuestion, match="control characters or invalid Unicode"):
            assistant.ask(bad)
    assert assistant.ask("大学ファンド\nの支援は？\t").question == "大学ファンド\nの支援は？"
