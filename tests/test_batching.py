"""Questions asked together are answered in one batch, each exactly as if asked alone."""

import asyncio

import pytest

from stiqa.questions import BadQuestion
from stiqa.service.batching import Batcher

QUESTIONS = [
    "即時オープンアクセスはいつから？",
    "AIセーフティ・インスティテュートの設立時期は？",
    "Which university was selected as the first International Research University candidate?",
    "拠点都市はいくつ集中支援されますか？",
    "東京大学の創立年は？",
    "博士後期課程学生の支援目標は？",
]


def test_concurrent_questions_get_the_answers_they_get_alone(assistant):
    alone = [assistant.ask(q) for q in QUESTIONS]

    async def together():
        return await asyncio.gather(*(assistant.ask_async(q) for q in QUESTIONS))

    for one, many in zip(alone, asyncio.run(together())):
        assert many.question == one.question and many.answerable == one.answerable
        assert (many.answer and many.answer.text) == (one.answer and one.answer.text)
        assert [h.passage.id for h in many.hits] == [h.passage.id for h in one.hits]
        assert [h.score for h in many.hits] == pytest.approx([h.score for h in one.hits], abs=1e-4)


def test_a_bad_question_fails_alone(assistant):
    async def together():
        return await asyncio.gather(
            assistant.ask_async(QUESTIONS[0]), assistant.ask_async("   "), assistant.ask_async(QUESTIONS[1], k=99),
            assistant.ask_async(QUESTIONS[3]), return_exceptions=True,
        )

    first, empty, big_k, last = asyncio.run(together())
    assert isinstance(empty, BadQuestion) and "empty" in str(empty)
    assert isinstance(big_k, BadQuestion) and "k must be between 1 and 50" in str(big_k)
    assert first.answerable and last.answerable and "8都市" in last.answer.text


def test_waiting_items_are_taken_together_and_a_lone_one_is_not_delayed(embedder):
    batches: list[list[str]] = []

    def handle(items: list[str]) -> list:
        batches.append(items)
        vectors = embedder.queries(items)
        return [ValueError(t) if t == "bad" else float(v @ v) for t, v in zip(items, vectors)]

    batcher = Batcher(embedder, handle, max_batch=4)

    async def run():
        lone = await batcher("一つだけ")
        many = await asyncio.gather(*(batcher(t) for t in ["a", "bad", "c", "d", "e", "f"]), return_exceptions=True)
        return lone, many

    lone, many = asyncio.run(run())
    assert lone == pytest.approx(1.0) and batches[0] == ["一つだけ"]
    assert isinstance(many[1], ValueError) and all(x == pytest.approx(1.0) for i, x in enumerate(many) if i != 1)
    # The six queue while the model thread works (the first may go alone): fewer calls than
    # questions, none over max_batch, each item handled once and in order.
    assert 2 <= len(batches[1:]) < 6 and all(len(b) <= 4 for b in batches)
    assert [t for b in batches[1:] for t in b] == ["a", "bad", "c", "d", "e", "f"]


def test_an_error_in_the_handler_fails_its_whole_batch_only(embedder):
    calls = []

    def handle(items: list[str]) -> list:
        calls.append(items)
        if "boom" in items:
            raise RuntimeError("engine failed")
        return [len(t) for t in items]

    batcher = Batcher(embedder, handle)

    async def run():
        first = await asyncio.gather(batcher("boom"), return_exceptions=True)
        return first, await batcher("fine")

    (failed,), fine = asyncio.run(run())
    assert isinstance(failed, RuntimeError) and fine == 4
