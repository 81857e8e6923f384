"""`stiqa eval`: the shared harness's figures, in-process and over HTTP."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stiqa.cli import app
from stiqa.client import Client
from stiqa.evaluation import (
    EvalError,
    LocalTarget,
    citation_ok,
    evaluate,
    holds_answer,
    read_questions,
)

from .conftest import ROOT

runner = CliRunner()
HARNESS = ROOT.parent / "shared" / "eval" / "evaluate.py"
QUESTIONS = [
    {"id": "a1", "question": "JT-60SAの運転開始記念式典はいつ？", "lang": "ja", "type": "schedule",
     "answers": ["運転開始記念式典(2023年12月1日)"], "dates": ["2023-12-01"]},
    {"id": "a2", "question": "WOTAの水循環システムは何%を再生？", "lang": "ja", "type": "number",
     "answers": ["98%以上"]},
    {"id": "a3", "question": "能登半島に手洗いスタンドは何台配備されましたか？", "lang": "ja", "type": "number",
     "answers": ["存在しない答えの文字列"]},
    {"id": "u1", "question": "原子力発電所の再稼働は何基ですか？", "lang": "ja", "type": "unanswerable",
     "answers": []},
]


@pytest.fixture()
def question_file(tmp_path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def test_answers_match_after_normalisation():
    assert holds_answer("所⻑は\n２０２３年１２月", ["所長は2023年12月"])  # radical form, width, line break
    assert not holds_answer("所長は2024年", ["所長は2023年"])
    assert not holds_answer("anything", [""])


def test_a_bad_question_file_names_its_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answers": []}\n{"answers": []}\n', encoding="utf-8")
    with pytest.raises(EvalError, match=r"bad.jsonl:2: not a question"):
        read_questions(path)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(EvalError, match="holds no questions"):
        read_questions(path)


def test_citations_must_hold_the_passage_on_its_page():
    text = "一枚目の本文です。\f二枚目には電子船荷証券記録の定義があります。"
    start = text.index("電子")
    cited = {"text": "電子船荷証券記録の定義", "citation": {"doc": "d", "page": 2, "start": start, "end": start + 11}}
    assert citation_ok(cited, text)
    assert not citation_ok({**cited, "citation": {**cited["citation"], "page": 1}}, text)  # wrong page
    assert not citation_ok({**cited, "citation": {**cited["citation"], "start": 0, "end": 8}}, text)  # wrong span
    assert not citation_ok(cited, None)


def test_in_process_figures(assistant, question_file):
    report = evaluate(read_questions(question_file), LocalTarget(assistant))
    s = report.summary
    assert s["questions"] == 4
    assert s["hit1"] == pytest.approx(2 / 3)  # a3's gold string is in no passage
    assert s["answer1"] == pytest.approx(2 / 3)
    assert s["date1"] == 1.0
    assert s["abstain"] == 1.0
    assert s["cite_ok"] == 1.0
    misses = {m["id"]: m["problems"] for m in report.to_dict()["misses"]}
    assert misses == {"a3": ["MISS", "ANSWER"]}


def test_over_http_the_figures_are_the_shared_harness_s(server, assistant, question_file, index_settings):
    """The same figures in-process, over HTTP, and from the shared harness (the reference)."""
    questions = read_questions(question_file)
    local = evaluate(questions, LocalTarget(assistant)).summary
    remote = evaluate(questions, Client(server)).summary
    keys = ("hit1", "hit5", "mrr", "answer1", "false_abstain", "abstain", "date1", "cite_ok")
    assert {k: remote[k] for k in keys} == {k: local[k] for k in keys}
    if not HARNESS.exists():
        pytest.skip(f"no shared harness at {HARNESS}")
    out = subprocess.run(
        [sys.executable, str(HARNESS), "--url", server, "--set", str(question_file),
         "--corpus", str(index_settings.corpus_dir), "--json"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    harness = json.loads(out.stdout)
    assert {k: harness[k] for k in keys} == {k: local[k] for k in keys}


def test_cli_eval_prints_figures_and_misses(server, question_file):
    r = runner.invoke(app, ["eval", str(question_file), "--url", server, "--misses"])
    assert r.exit_code == 0, r.output
    assert "hit1           0.667" in r.stdout
    assert "MISS/ANSWER a3 rank=None" in r.stdout
    r = runner.invoke(app, ["eval", str(question_file), "--url", server, "--json"])
    body = json.loads(r.stdout)
    assert body["summary"]["abstain"] == 1.0 and [m["id"] for m in body["misses"]] == ["a3"]


def test_cli_eval_refuses_what_it_cannot_measure(tmp_path, question_file):
    r = runner.invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "cannot read" in r.output
    r = runner.invoke(app, ["eval", str(question_file), "--url", "http://127.0.0.1:9"])
    assert r.exit_code == 1 and "no stiqa service answers" in r.output
