"""A running `stiqa serve` follows `stiqa index` without failing a request, and keeps the last
good index when a new build cannot be used."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from stiqa.index import CURRENT, build_index
from stiqa.index.lexical import JapaneseTokenizer

from .conftest import ROOT, small_corpus, start_serve, stop_serve

NEW_PAGE_QUESTION = "WOTAの水循環システムは何%を再生？"  # answered on page 4 only
OLD_PAGE_QUESTION = "国際卓越研究大学の認定候補は選定されましたか？"  # page 2


@pytest.fixture(scope="module")
def base(tmp_path_factory, doc_text, embedder) -> Path:
    """A 2-page corpus indexed once; each test works on its own copy."""
    root = tmp_path_factory.mktemp("reload-base")
    corpus = small_corpus(root / "corpus", doc_text, pages=2)
    build_index(corpus, root / "index", embedder, JapaneseTokenizer())
    return root


@pytest.fixture()
def copy(base, tmp_path) -> Path:
    shutil.copytree(base, tmp_path / "work")
    return tmp_path / "work"


def current(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def switch(index_dir: Path, build: str) -> None:
    """Point CURRENT at ``build`` the way `stiqa index` does (write aside, then rename)."""
    tmp = index_dir / ".CURRENT.test"
    tmp.write_text(build + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / CURRENT)


def add_build(index_dir: Path, name: str, damage=None) -> str:
    """A copy of the current build under ``name``, damaged by ``damage(path)`` if given."""
    shutil.copytree(index_dir / current(index_dir), index_dir / name)
    if damage is not None:
        damage(index_dir / name)
    return name


def wait_for(check, timeout: float = 20, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def health(url: str) -> dict:
    return httpx.get(f"{url}/api/health", timeout=30).json()


def answers_new_page(body: dict) -> bool:
    return bool(body.get("answer")) and "98%" in body["answer"]["text"]


class Askers:
    """One thread asking through a keep-alive client and a few asyncio clients, until stopped."""

    def __init__(self, url: str, n_async: int = 3) -> None:
        self.url = url
        self.n_async = n_async
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # per client: (question, status or error, answered from the new page, sent at, took)
        self.results: dict[str, list[tuple[str, int | str, bool, float, float]]] = {}
        self.threads = [
            threading.Thread(target=self._sync_client, daemon=True),
            threading.Thread(target=lambda: asyncio.run(self._async_clients()), daemon=True),
        ]

    def _record(self, client: str, question: str, outcome: int | str, new: bool, sent: float) -> None:
        with self.lock:
            self.results.setdefault(client, []).append((question, outcome, new, sent, time.time() - sent))

    def _sync_client(self) -> None:
        with httpx.Client(timeout=30) as c:
            i = 0
            while not self.stop.is_set():
                q = (NEW_PAGE_QUESTION, OLD_PAGE_QUESTION)[i % 2]
                i += 1
                sent = time.time()
                try:
                    r = c.post(f"{self.url}/api/ask", json={"question": q, "k": 3})
                    ok = r.status_code == 200 and answers_new_page(r.json())
                    self._record("sync", q, r.status_code, ok, sent)
                except httpx.HTTPError as e:
                    self._record("sync", q, type(e).__name__, False, sent)

    async def _async_clients(self) -> None:
        async def client(n: int) -> None:
            async with httpx.AsyncClient(timeout=30) as c:
                i = n
                while not self.stop.is_set():
                    q = (NEW_PAGE_QUESTION, OLD_PAGE_QUESTION)[i % 2]
                    i += 1
                    sent = time.time()
                    try:
                        r = await c.post(f"{self.url}/api/ask", json={"question": q, "k": 3})
                        ok = r.status_code == 200 and answers_new_page(r.json())
                        self._record(f"async{n}", q, r.status_code, ok, sent)
                    except httpx.HTTPError as e:
                        self._record(f"async{n}", q, type(e).__name__, False, sent)

        await asyncio.gather(*(client(n) for n in range(self.n_async)))

    def __enter__(self) -> Askers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def everyone_answered_from_the_new_index(self, since: float, n: int = 2) -> bool:
        with self.lock:
            return len(self.results) == 1 + self.n_async and all(
                sum(fresh for _, _, fresh, sent, _ in rs if sent > since) >= n for rs in self.results.values()
            )

    def count(self) -> int:
        with self.lock:
            return sum(len(r) for r in self.results.values())


def test_asking_through_a_rebuild_never_fails(copy, doc_text, tmp_path):
    corpus, index = copy / "corpus", copy / "index"
    proc, url = start_serve(index, corpus, tmp_path / "serve.log", env={"STIQA_WATCH_SECONDS": "0.2"})
    try:
        old = health(url)["index"]
        assert old == current(index)
        with Askers(url) as askers:
            wait_for(lambda: askers.count() >= 10, what="the first answers")
            # The corpus gains two pages; `stiqa index` rebuilds over the same folder while we ask.
            small_corpus(corpus, doc_text, pages=4)
            build = subprocess.run(
                [sys.executable, "-m", "stiqa.cli", "index", "--corpus", str(corpus), "--index", str(index)],
                cwd=ROOT, capture_output=True, text=True, timeout=180,
            )
            assert build.returncode == 0, build.stderr
            during = askers.count()
            new = current(index)
            assert new != old
            wait_for(lambda: health(url)["index"] == new, what="the server to switch")
            switched, switched_at = askers.count(), time.time()
            # Keep asking until every client has had answers from the new index (10 s at most).
            deadline = time.time() + 10
            while time.time() < deadline and not askers.everyone_answered_from_the_new_index(switched_at):
                time.sleep(0.1)
        results = askers.results
        total = askers.count()
        failures = [(c, q, o) for c, rs in results.items() for q, o, *_ in rs if o != 200]
        new_answers = sum(n for rs in results.values() for _, _, n, _, _ in rs)
        slowest, slowest_sent = max((took, sent) for rs in results.values() for *_, sent, took in rs)
        print(f"\n{total} requests by 4 clients ({during} before `stiqa index` ended, {switched} when health "
              f"showed the new build; {new_answers} answered from the new page; slowest {slowest:.2f} s, "
              f"sent {slowest_sent - switched_at:+.1f} s from the switch): {len(failures)} failed")
        assert failures == []
        assert total >= 40 and len(results) == 4
        for client, rs in results.items():
            wota = [(fresh, sent) for q, _, fresh, sent, _ in rs if q == NEW_PAGE_QUESTION]
            assert wota[0][0] is False, f"{client} began on the new index"
            # Asked once the switch showed: answered from the new index (asked before, either).
            assert all(fresh for fresh, sent in wota if sent > switched_at), f"{client} got the old index late"
            # And no client stayed stuck on a request across the switch while the others went on.
            assert sum(fresh for fresh, _ in wota) >= 2, f"{client} got no answers from the new index"
        h = health(url)
        assert h["index"] == new and h["reload_error"] is None
        docs = httpx.get(f"{url}/api/documents", timeout=30).json()["documents"]
        assert docs[0]["pages"] == 4
        body = httpx.post(f"{url}/api/ask", json={"question": NEW_PAGE_QUESTION, "k": 3}, timeout=30).json()
        assert answers_new_page(body) and body["passages"][0]["citation"]["page"] == 4
        assert f"switched to index {new}" in (tmp_path / "serve.log").read_text()
    finally:
        assert stop_serve(proc, signal.SIGINT) == 0  # Ctrl-C stops it gracefully too


def _truncate_vectors(build: Path) -> None:
    f = build / "passages.faiss"
    f.write_bytes(f.read_bytes()[:100])


def _other_model(build: Path) -> None:
    m = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    m["model"] = "intfloat/multilingual-e5-base"
    (build / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def test_an_unusable_build_is_refused_and_the_last_good_index_kept(copy, tmp_path):
    corpus, index = copy / "corpus", copy / "index"
    log = tmp_path / "serve.log"
    proc, url = start_serve(index, corpus, log, env={"STIQA_WATCH_SECONDS": "0.2"})
    try:
        good = health(url)["index"]
        question = {"question": OLD_PAGE_QUESTION, "k": 3}
        before = httpx.post(f"{url}/api/ask", json=question, timeout=30).json()

        for name, damage, reason in [
            ("29990101-000000-damage", _truncate_vectors, "is damaged"),
            ("29990101-000001-models", _other_model, "built with model 'intfloat/multilingual-e5-base'"),
        ]:
            switch(index, add_build(index, name, damage))
            h = wait_for(lambda n=name: (h := health(url))["reload_error"] and n in h["reload_error"] and h,
                         what=f"the server to refuse {name}")
            assert h["index"] == good and reason in h["reload_error"] and "stiqa index" in h["reload_error"]
            r = httpx.post(f"{url}/api/ask", json=question, timeout=30)
            assert r.status_code == 200 and r.json()["passages"] == before["passages"]
            time.sleep(1.0)  # five more looks at CURRENT: the broken build is not tried again
            assert log.read_text().count(f"index {name} not loaded") == 1
            r = httpx.post(f"{url}/api/admin/reload", timeout=30)
            assert r.status_code == 409
            assert name in r.json()["detail"] and reason in r.json()["detail"]
            assert f"still serving {good}" in r.json()["detail"]

        # A usable build again: the operator's reload loads it at once.
        fixed = "29990101-000002-fixedd"
        shutil.copytree(index / good, index / fixed)
        switch(index, fixed)
        r = httpx.post(f"{url}/api/admin/reload", timeout=30)
        assert r.status_code == 200 and r.json()["index"] == fixed
        h = health(url)
        assert h["index"] == fixed and h["reload_error"] is None
        assert httpx.post(f"{url}/api/ask", json=question, timeout=30).json()["passages"] == before["passages"]
        r = httpx.post(f"{url}/api/admin/reload", timeout=30)
        assert r.json() == {"index": fixed, "previous": fixed, "reloaded": False}
    finally:
        assert stop_serve(proc) == 0


def test_every_worker_follows_the_new_build(copy, tmp_path):
    corpus, index = copy / "corpus", copy / "index"
    proc, url = start_serve(
        index, corpus, tmp_path / "serve.log", env={"STIQA_WATCH_SECONDS": "0.2"}, args=("--workers", "2")
    )
    try:
        new = add_build(index, "29990101-000003-worker")
        switch(index, new)

        def all_switched() -> bool:  # a new connection each time: any worker may answer
            return all(
                httpx.get(f"{url}/api/health", timeout=30, headers={"connection": "close"}).json()["index"] == new
                for _ in range(20)
            )

        wait_for(all_switched, what="every worker to switch")
        r = httpx.post(f"{url}/api/ask", json={"question": OLD_PAGE_QUESTION}, timeout=30)
        assert r.status_code == 200
    finally:
        assert stop_serve(proc) == 0
