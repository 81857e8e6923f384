"""Shared fixtures: the real corpus, the real default model, and indexes built once per session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from stiqa.config import Settings
from stiqa.ingest.pages import page_spans

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DOC = CORPUS / "sti-policy-2024.txt"
DEV_CORPUS = ROOT.parent / "shared" / "corpus-dev"  # real documents beside the repository (shared/)


def minutes_texts(count: int, width: int = 200) -> list[str]:
    """``count`` pieces of ``width`` characters from the development corpus's plain-text
    council minutes (UTF-8 with a BOM or cp932, as published); skips the test without them."""
    files = sorted((DEV_CORPUS / "moj").glob("*.txt"))
    if not files:
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    pieces: list[str] = []
    for f in files:
        raw = f.read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp932")
        text = " ".join(text.split())
        pieces += [text[i : i + width] for i in range(0, min(len(text), width * 10), width)]
    return pieces[:: max(1, len(pieces) // count)][:count]


@pytest.fixture(scope="session")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def embedder():
    from stiqa.model.embedder import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory) -> Settings:
    """Where the bundled corpus is indexed for the session (see ``assistant``)."""
    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def assistant(index_settings, embedder):
    """The bundled corpus indexed once with the real default model."""
    from stiqa.service.assistant import Assistant

    return Assistant.build(index_settings, embedder)


def small_corpus(folder: Path, doc_text: str, pages: int = 2) -> Path:
    """A corpus of the first ``pages`` slides of the real document: quick to index."""
    folder.mkdir(parents=True, exist_ok=True)
    end = page_spans(doc_text)[pages - 1][1]
    (folder / "excerpt.txt").write_text(doc_text[:end].rstrip("\n") + "\n", encoding="utf-8")
    return folder


@pytest.fixture()
def small_settings(tmp_path, doc_text) -> Settings:
    corpus = small_corpus(tmp_path / "corpus", doc_text)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(assistant, index_settings, tmp_path_factory):
    """`stiqa serve` (the real CLI, the real default model) over the session's index; yields its URL."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc, url = start_serve(index_settings.index_dir, CORPUS, log)
    try:
        yield url
    finally:
        stop_serve(proc)


def start_serve(
    index_dir: Path, corpus_dir: Path, log: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, str]:
    """`stiqa serve` over ``index_dir`` on a free port, its output in ``log``; (process, URL) once it answers."""
    port = free_port()
    full_env = {
        **os.environ, "STIQA_INDEX_DIR": str(index_dir), "STIQA_CORPUS_DIR": str(corpus_dir), **(env or {})
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stiqa.cli", "serve", "--port", str(port), *args],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {log.read_text()}")
        time.sleep(0.2)


def stop_serve(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Stop a server from :func:`start_serve` with ``sig``; its exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


# A test is slow when it needs the real model (and so an index built with it), a server
# process, a browser or a wheel build: `pytest -m "not slow"` runs the rest in seconds.
SLOW_FIXTURES = {"embedder", "assistant", "server", "weights", "tiny_model"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
