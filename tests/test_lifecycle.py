"""The index's life cycle through the real CLI: `stiqa serve` refuses an index it cannot use,
a killed `stiqa index` leaves the previous index usable, and SIGTERM lets requests finish."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stiqa.config import Settings
from stiqa.index import CURRENT, LOCK_FILE, IndexLoadError, build_index, load_index
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.service.assistant import Assistant

from .conftest import ROOT, free_port, small_corpus, start_serve, stop_serve


@pytest.fixture(scope="module")
def base(tmp_path_factory, doc_text, embedder) -> Path:
    """A 3-page corpus indexed once; each test works on copies."""
    root = tmp_path_factory.mktemp("lifecycle-base")
    corpus = small_corpus(root / "corpus", doc_text, pages=3)
    build_index(corpus, root / "index", embedder, JapaneseTokenizer())
    return root


def copy_of(base: Path, to: Path) -> tuple[Path, Path, Path]:
    """(corpus, index folder, current build) of a fresh copy of ``base``."""
    shutil.copytree(base, to)
    index = to / "index"
    return to / "corpus", index, index / (index / CURRENT).read_text().strip()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stiqa.cli", *args]


# --------------------------------------------------------------------------- refusing to start


def _manifest(build: Path, **changes) -> None:
    m = json.loads((build / "manifest.json").read_text())
    (build / "manifest.json").write_text(json.dumps({**m, **changes}))


def _truncate(path: Path, keep: int = 100) -> None:
    path.write_bytes(path.read_bytes()[:keep])


DAMAGE = {
    "missing vectors": (lambda b: (b / "passages.faiss").unlink(), "passages.faiss"),
    "truncated vectors": (lambda b: _truncate(b / "passages.faiss"), "passages.faiss"),
    "corrupted manifest": (lambda b: (b / "manifest.json").write_text('{"format": 1, "mod'), "manifest"),
    "another model": (lambda b: _manifest(b, model="intfloat/multilingual-e5-base"), "built with model 'intfloat/multilingual-e5-base'"),
}
MORE_DAMAGE = {
    "truncated sentence vectors": (lambda b: _truncate(b / "sentences.npy", 200), "damaged"),
    "manifest of another shape": (lambda b: (b / "manifest.json").write_text("[1, 2]"), "manifest"),
    "manifest fields of the wrong type": (lambda b: _manifest(b, documents=["excerpt.txt"]), "manifest"),
    "corrupted passages": (lambda b: (b / "passages.json").write_bytes(b"[{\xff\xfe"), "damaged"),
    "lexical index missing": (lambda b: shutil.rmtree(b / "bm25"), "damaged"),
    "pointer to a missing build": (lambda b: shutil.rmtree(b), "names a missing build"),
    "unreadable pointer": (lambda b: (b.parent / CURRENT).write_bytes(b"\xff\xfe\x00"), CURRENT),
}


def test_serve_refuses_an_unusable_index_with_one_line_and_the_fix(base, tmp_path):
    """`stiqa serve` itself, every case at once (each process imports torch: that is the cost)."""
    runs = {}
    for n, (case, (damage, _)) in enumerate(DAMAGE.items()):
        corpus, index, build = copy_of(base, tmp_path / f"case{n}")
        damage(build)
        env = {**os.environ, "STIQA_INDEX_DIR": str(index), "STIQA_CORPUS_DIR": str(corpus)}
        runs[case] = subprocess.Popen(
            cli("serve", "--port", str(free_port())), cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
    problems = []
    for case, proc in runs.items():
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            problems.append(f"{case}: still running (it served the damaged index)")
            continue
        lines = [line for line in err.splitlines() if line.strip()]
        if proc.returncode == 0 or len(lines) != 1 or "Traceback" in err:
            problems.append(f"{case}: exit {proc.returncode}, stderr {err!r}")
        else:
            problems += _check_reason(case, lines[0].removeprefix("stiqa: "), DAMAGE[case][1])
    assert problems == []


def _check_reason(case: str, reason: str, expected: str) -> list[str]:
    if "\n" in reason or "run `stiqa index`" not in reason or expected not in reason:
        return [f"{case}: {reason!r} does not say {expected!r} and the fix on one line"]
    if len(reason) > 400:
        return [f"{case}: a {len(reason)}-character reason"]
    return []


def test_other_damage_is_refused_with_one_line_and_the_fix(base, tmp_path, embedder):
    """What `stiqa serve` prints for more kinds of damage (the loader's message, in-process)."""
    problems = []
    for n, (case, (damage, expected)) in enumerate(MORE_DAMAGE.items()):
        corpus, index, build = copy_of(base, tmp_path / f"case{n}")
        damage(build)
        try:
            load_index(index, embedder.name, corpus)
            problems.append(f"{case}: loaded")
        except IndexLoadError as e:
            problems += _check_reason(case, str(e), expected)
    assert problems == []


# --------------------------------------------------------------------------- a killed build


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, "the build ended before it could be killed"
        assert time.time() < deadline, "the build never got there"
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.parametrize("when", ["embedding", "writing"])
def test_a_killed_build_leaves_the_previous_index_usable(base, tmp_path, doc_text, embedder, when):
    corpus, index, build = copy_of(base, tmp_path / "work")
    small_corpus(corpus, doc_text, pages=5)  # two more pages to embed
    cache = build / "embeddings.npz"
    if when == "embedding":  # nothing carried over from the last build: seconds of embedding
        cache.rename(tmp_path / cache.name)
    log = tmp_path / "index.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(cli("index", "--corpus", str(corpus), "--index", str(index)),
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    if when == "embedding":
        _kill_when(proc, lambda: "embedding" in log.read_text())
    else:  # the new build's folder exists: files are being written into it
        _kill_when(proc, lambda: any(p.name.endswith(".tmp") for p in index.iterdir()))
        assert [p for p in index.iterdir() if p.name.endswith(".tmp")], "killed after the writing"

    assert (index / CURRENT).read_text().strip() == build.name
    small_corpus(corpus, doc_text, pages=3)  # the corpus the previous index was built from
    previous = load_index(index, embedder.name, corpus)
    assert previous.path == build
    assistant = Assistant.from_parts(Settings(corpus_dir=corpus, index_dir=index), embedder, previous)
    assert assistant.ask("SBIR制度の抜本拡充とは？", 3).hits

    if when == "embedding":
        (tmp_path / cache.name).rename(cache)
    # The next build completes and clears what the killed one left.
    small_corpus(corpus, doc_text, pages=5)
    rebuilt = build_index(corpus, index, embedder, JapaneseTokenizer())
    assert sorted(p.name for p in index.iterdir()) == sorted([CURRENT, LOCK_FILE, build.name, rebuilt.path.name])
    again = build_index(corpus, index, embedder, JapaneseTokenizer())  # the one it replaced is kept, no older
    assert sorted(p.name for p in index.iterdir()) == sorted([CURRENT, LOCK_FILE, rebuilt.path.name, again.path.name])


# --------------------------------------------------------------------------- graceful shutdown


def test_sigterm_lets_every_request_in_flight_finish(base, tmp_path):
    corpus, index, _ = copy_of(base, tmp_path / "work")
    proc, url = start_serve(index, corpus, tmp_path / "serve.log")
    port = int(url.rsplit(":", 1)[1])
    n = 20
    try:
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(n)]
        for c in conns:  # n open keep-alive connections
            c.request("GET", "/api/health")
            assert c.getresponse().read()
        body = json.dumps({"question": "SBIR制度の抜本拡充とは？", "k": 5})
        for c in conns:
            c.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)  # right after the last request was sent
        statuses = []
        for c in conns:
            r = c.getresponse()
            data = r.read()
            statuses.append(r.status)
            assert r.status == 200 and json.loads(data)["passages"], data
        assert statuses == [200] * n
        assert proc.wait(timeout=15) == 0
        print(f"\n{n} requests in flight at SIGTERM: {statuses.count(200)} answered; "
              f"exit 0 {time.perf_counter() - t0:.1f} s after the signal")
        # and it no longer listens
        with pytest.raises(OSError):
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/api/health")
            probe.getresponse()
    finally:
        if proc.poll() is None:
            stop_serve(proc, signal.SIGKILL)
