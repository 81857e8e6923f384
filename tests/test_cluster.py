"""`stiqa index --ray` on a real three-node Ray cluster on this machine (one loopback address
per node), against the same build made on one machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from stiqa.cli import app
from stiqa.config import Settings
from stiqa.index import build_index, load_index
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.service.assistant import Assistant

from .conftest import CORPUS, free_port

ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
NODES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def _ray(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> None:
    out = subprocess.run([str(RAY), *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def cluster():
    """A head and two workers, two (logical) CPUs each: a front end, shards of two builds and
    an indexing worker fit on each; its address."""
    port = free_port()
    address = f"{NODES[0]}:{port}"
    common = ("--num-cpus=2", "--disable-usage-stats")
    # A node is declared dead after 3 missed health checks 1 s apart (Ray's default:
    # 5 missed, 3 s apart), so the node-death test need not wait 15 s for it.
    quick = {"RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3"}
    try:
        _ray("start", "--head", f"--node-ip-address={NODES[0]}", f"--port={port}", "--include-dashboard=false",
             f"--ray-client-server-port={free_port()}", *common, env=quick)
        # One node at a time: two raylets starting together on two cores can miss Ray's
        # 30-second start-up deadline.
        for ip in NODES[1:]:
            _ray("start", f"--address={address}", f"--node-ip-address={ip}", *common, env=quick)
        deadline = time.time() + 60
        while True:
            out = subprocess.run(
                [sys.executable, "-c", f"import ray; ray.init(address='{address}', logging_level='ERROR'); "
                 "print(sum(n['Alive'] for n in ray.nodes()))"],
                capture_output=True, text=True, timeout=60,
            )
            if out.stdout.strip().endswith("3") or time.time() > deadline:
                break
            time.sleep(1)
        assert out.stdout.strip().endswith("3"), out.stdout + out.stderr
        yield address
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120)


def test_an_unreachable_cluster_is_refused_in_seconds(tmp_path):
    t0 = time.perf_counter()
    r = CliRunner().invoke(app, ["index", "--ray", f"127.0.0.9:{free_port()}", "--corpus", str(CORPUS),
                                 "--index", str(tmp_path / "index")])
    assert r.exit_code == 2 and "no Ray cluster at 127.0.0.9" in r.stderr
    assert time.perf_counter() - t0 < 30


def test_the_cluster_builds_the_same_index_as_one_machine(cluster, embedder, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "sti-policy-2024.txt", corpus)
    (corpus / "note.md").write_text(
        "# 研究室のお知らせ\n\n共同研究の締切は2025年3月31日です。\n\n## 申請\n\n申請書は研究推進課に提出してください。\n",
        encoding="utf-8",
    )
    env = {**os.environ, "STIQA_CORPUS_DIR": str(corpus), "STIQA_INDEX_DIR": str(tmp_path / "ray"), "STIQA_URL": "off"}
    out = subprocess.run([sys.executable, "-m", "stiqa.cli", "index", "--ray", cluster],
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Ray cluster at" in out.stderr and "indexed 2 document(s)" in out.stdout

    local = build_index(corpus, tmp_path / "local", embedder, JapaneseTokenizer())
    remote = load_index(tmp_path / "ray", embedder.name, corpus)
    assert [p.to_dict() for p in remote.passages] == [p.to_dict() for p in local.passages]
    assert remote.manifest.backend == local.manifest.backend
    a, b = local.vectors.reconstruct_n(0, local.vectors.ntotal), remote.vectors.reconstruct_n(0, remote.vectors.ntotal)
    assert np.array_equal(a, b)  # each text runs alone and unpadded: no worker or batch changes a vector
    assert np.array_equal(local.sentence_vectors, remote.sentence_vectors)
    # BM25 words found by the cluster's Sudachi workers: the same words, each with the same
    # scores (bm25s numbers the words in a set's order, which differs between processes).
    words = set(local.lexical.retriever.vocab_dict)
    assert set(remote.lexical.retriever.vocab_dict) == words
    for word in words - {""}:  # bm25s's own empty token has no scores
        assert np.array_equal(remote.lexical.scores([word]), local.lexical.scores([word])), word

    # Unchanged passages keep their vectors: a second build sends nothing to the workers.
    again = subprocess.run([sys.executable, "-m", "stiqa.cli", "index", "--ray", cluster],
                           capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0 and "embedding 0 passages" in again.stderr, again.stderr

    # The same answers over both builds.
    questions = ["共同研究の締切はいつ？", "即時オープンアクセスはいつから？"]
    for index in ("ray", "local"):
        settings = Settings(corpus_dir=corpus, index_dir=tmp_path / index)
        built = load_index(settings.index_dir, embedder.name, corpus)
        answers = _answers(settings, embedder, built.path.name, questions)
        if index == "ray":
            expected = answers
    assert answers == expected and answers[questions[0]]["answer"]["date"] == "2025-03-31"


def _kill_node(ip: str) -> int:
    """Kill a node of the loopback cluster the hard way: its raylet, which takes its workers."""
    pids = subprocess.run(["pgrep", "-f", f"raylet.*node_ip_address={ip}"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        os.kill(int(pid), 9)
    return len(pids)


def _answers(settings, embedder, build: str, questions: list[str]) -> dict[str, dict]:
    """What one machine answers over ``build``: answer and cited passages."""
    index = load_index(settings.index_dir, embedder.name, None, build=build)
    local = Assistant.from_parts(settings, embedder, index)
    return {q: _gist(local.ask(q, 3).to_dict()) for q in questions}


def _gist(body: dict) -> dict:
    return {"answer": body["answer"], "passages": [p["id"] for p in body["passages"]]}


class Stream(threading.Thread):
    """Questions asked one after another until stopped: each status, build and answer."""

    def __init__(self, url: str, questions: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.questions = url, questions
        self.results: list[tuple[str, int, str, dict | str]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        import httpx

        i = 0
        while not self.halt.is_set():
            q = self.questions[i % len(self.questions)]
            try:
                r = httpx.post(f"{self.url}/api/ask", json={"question": q, "k": 3}, timeout=60)
                ok = r.status_code == 200
                self.results.append((q, r.status_code, r.headers.get("x-stiqa-index", ""), _gist(r.json()) if ok else r.text[:200]))
            except Exception as e:  # a failed request is a result to assert on, not a crash of the stream
                self.results.append((q, 0, "", repr(e)[:200]))
            i += 1

    def wait_for(self, count: int, timeout: float = 300) -> None:
        deadline = time.time() + timeout
        while len(self.results) < count and time.time() < deadline and self.is_alive():
            time.sleep(0.2)
        assert len(self.results) >= count, f"{len(self.results)} answers in {timeout} s"


def test_serving_in_shards_through_a_rebuild_and_a_node_dying(cluster, embedder, tmp_path):
    """`stiqa serve --ray --shards 2`: one machine's answers while a new build rolls out (no
    answer mixes two builds) and then while a worker node dies."""
    import httpx

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "sti-policy-2024.txt", corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    first = build_index(corpus, settings.index_dir, embedder, JapaneseTokenizer()).path.name
    questions = ["即時オープンアクセスはいつから？", "JT-60SAの運転開始記念式典はいつ？", "大学ファンドの運用益は？",
                 "共同研究の申請締切はいつ？"]
    expected = {first: _answers(settings, embedder, first, questions)}
    port = free_port()
    env = {**os.environ, "STIQA_INDEX_DIR": str(settings.index_dir), "STIQA_CORPUS_DIR": str(corpus), "STIQA_URL": "off"}
    log = open(tmp_path / "serve.log", "w")
    # A front end on every node: the node killed below certainly holds one, and shard replicas.
    proc = subprocess.Popen([sys.executable, "-m", "stiqa.cli", "serve", "--ray", cluster, "--replicas", "3",
                             "--shards", "2", "--shard-replicas", "2", "--host", NODES[0], "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{NODES[0]}:{port}"

    def health() -> dict:
        return httpx.get(f"{url}/api/health", timeout=10).json()

    def wait(until, timeout: float = 300) -> dict:
        deadline = time.time() + timeout
        while True:
            try:
                now = health()
                if until(now):
                    return now
            except (httpx.HTTPError, ValueError):
                pass
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(1)

    stream = Stream(url, questions)
    try:
        wait(lambda h: h["replicas"] == 3 and h["shards"] == [2, 2] and h["index"] == first)
        stream.start()
        stream.wait_for(20)

        # A new build while questions stream in: it answers the last question differently.
        (corpus / "note.md").write_text(
            "# 研究室のお知らせ\n\n共同研究の申請締切は2025年3月31日です。\n\n申請書は研究推進課に提出してください。\n",
            encoding="utf-8",
        )
        # Built here, as `stiqa index` would (the cluster's indexing is the test above): the
        # roll-out follows CURRENT, whoever writes it.
        second = build_index(corpus, settings.index_dir, embedder, JapaneseTokenizer()).path.name
        expected[second] = _answers(settings, embedder, second, questions)
        assert expected[second][questions[3]] != expected[first][questions[3]]
        deadline = time.time() + 180  # every front end switched, and the first build's shards are gone
        while f"build {first}'s shards deleted" not in (tmp_path / "serve.log").read_text():
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        switched = len(stream.results)
        stream.wait_for(switched + 20)

        # A worker node dies mid-stream: its front end and shard replicas go with it.
        assert _kill_node(NODES[1]) >= 1
        killed = len(stream.results)
        stream.wait_for(killed + 40)
        after = wait(lambda h: h["replicas"] == 2 and h["shards"] == [2, 2], timeout=120)
    finally:
        stream.halt.set()
        stream.join(timeout=120)
        proc.send_signal(15)
        code = proc.wait(timeout=120)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert code == 0, text
    failed = [r for r in stream.results if r[1] != 200]
    assert not failed, failed[:5]
    for q, _, build, gist in stream.results:
        assert build in expected, build
        assert gist == expected[build][q]  # each answer is one build's, as one machine gives it
    builds = [r[2] for r in stream.results]
    assert builds[:20] == [first] * 20 and set(builds[switched:]) == {second}
    assert after["index"] == second
    assert f"build {first}'s shards deleted" in text


def test_a_build_gets_one_shard_per_share_of_memory(assistant, monkeypatch):
    from stiqa.cluster import serving

    build = assistant.index.path
    size = (build / "passages.faiss").stat().st_size + sum(f.stat().st_size for f in (build / "bm25").iterdir())
    assert serving.shards_for(build) == 1  # the deck: a few hundred kilobytes
    monkeypatch.setattr(serving, "SHARD_BYTES", size // 3 + 1)
    assert serving.shards_for(build) == 3
