"""`stiqa index --ray` on a real three-node Ray cluster on this machine (one loopback address
per node), against the same build made on one machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from stiqa.cli import app
from stiqa.index import build_index, load_index
from stiqa.index.lexical import JapaneseTokenizer

from .conftest import CORPUS, free_port

ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
NODES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def _ray(*args: str, timeout: float = 120) -> None:
    out = subprocess.run([str(RAY), *args], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def cluster():
    """A head and two workers, one CPU each; its address."""
    port = free_port()
    address = f"{NODES[0]}:{port}"
    common = ("--num-cpus=1", "--disable-usage-stats")
    try:
        _ray("start", "--head", f"--node-ip-address={NODES[0]}", f"--port={port}", "--include-dashboard=false",
             f"--ray-client-server-port={free_port()}", *common)
        for ip in NODES[1:]:
            _ray("start", f"--address={address}", f"--node-ip-address={ip}", *common)
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

    # Unchanged passages keep their vectors: a second build sends nothing to the workers.
    again = subprocess.run([sys.executable, "-m", "stiqa.cli", "index", "--ray", cluster],
                           capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0 and "embedding 0 passages" in again.stderr, again.stderr

    for question in ("共同研究の締切はいつ？", "即時オープンアクセスはいつから？"):
        answers = []
        for index in ("ray", "local"):
            r = subprocess.run([sys.executable, "-m", "stiqa.cli", "ask", question, "--json"], capture_output=True,
                               text=True, timeout=300, env={**env, "STIQA_INDEX_DIR": str(tmp_path / index)})
            assert r.returncode == 0, r.stderr
            answers.append(r.stdout.split('"took_ms"')[0])
        assert answers[0] == answers[1]


def _kill_node(ip: str) -> int:
    """Kill a node of the loopback cluster the hard way: its raylet, which takes its workers."""
    pids = subprocess.run(["pgrep", "-f", f"raylet.*node_ip_address={ip}"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        os.kill(int(pid), 9)
    return len(pids)


def test_serving_on_ray_survives_a_node_dying(cluster, assistant, index_settings, tmp_path):
    """`stiqa serve --ray`: the same answers as one machine, through a worker node's death."""
    import httpx

    port = free_port()
    env = {**os.environ, "STIQA_INDEX_DIR": str(index_settings.index_dir), "STIQA_CORPUS_DIR": str(CORPUS)}
    log = open(tmp_path / "serve.log", "w")
    # A replica on every node: the node killed below certainly holds one.
    proc = subprocess.Popen([sys.executable, "-m", "stiqa.cli", "serve", "--ray", cluster, "--replicas", "3",
                             "--host", NODES[0], "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{NODES[0]}:{port}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        while httpx.get(f"{url}/api/health", timeout=10).json()["replicas"] != 3:  # the first answers first
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        questions = ["即時オープンアクセスはいつから？", "JT-60SAの運転開始記念式典はいつ？", "大学ファンドの運用益は？"]
        expected = {q: assistant.ask(q, 3).to_dict() for q in questions}
        failed, answered, killed = [], 0, 0
        for i in range(150):
            if i == 50:
                killed = _kill_node(NODES[1])
            q = questions[i % len(questions)]
            r = httpx.post(f"{url}/api/ask", json={"question": q, "k": 3}, timeout=60)
            if r.status_code != 200:
                failed.append((i, r.status_code, r.text[:200]))
                continue
            body = r.json()
            assert body["answer"] == expected[q]["answer"]
            assert [p["id"] for p in body["passages"]] == [p["id"] for p in expected[q]["passages"]]
            answered += 1
        assert killed >= 1
        assert not failed and answered == 150, failed
        deadline = time.time() + 60
        while (health := httpx.get(f"{url}/api/health", timeout=10).json())["replicas"] != 2 and time.time() < deadline:
            time.sleep(1)
        assert health["index"] == assistant.build_id and health["replicas"] == 2  # the dead node's is gone
    finally:
        proc.send_signal(15)
        assert proc.wait(timeout=120) == 0
        log.close()
