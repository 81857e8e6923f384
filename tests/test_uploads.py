"""Managing documents over HTTP: uploads and deletions as jobs, while questions are answered."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from stiqa.server import create_app
from stiqa.service.assistant import Assistant
from tests.test_ingest import make_pdf

GRANT = make_pdf(["The grant programme opens on 1 April 2025.", "Applications close at the end of May 2025."])


@pytest.fixture()
def served(small_settings, embedder):
    settings = small_settings.updated(allow_uploads=True, max_upload_bytes=200_000, watch_seconds=0)
    assistant = Assistant.build(settings, embedder)
    with TestClient(create_app(settings, assistant)) as client:
        yield settings, client


def finished(client: TestClient, job: dict, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/api/jobs/{job['id']}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job['id']} did not finish: {body}")


def test_uploads_are_off_unless_the_server_allows_them(small_settings, embedder):
    assistant = Assistant.build(small_settings, embedder)
    with TestClient(create_app(small_settings, assistant)) as client:
        r = client.post("/api/documents", files={"files": ("a.pdf", GRANT, "application/pdf")})
        assert r.status_code == 403 and "STIQA_ALLOW_UPLOADS=1" in r.json()["detail"]
        assert client.delete("/api/documents/excerpt.txt").status_code == 403
    assert not (small_settings.corpus_dir / "a.pdf").exists()


def test_an_upload_is_indexed_by_its_job_while_questions_are_answered(served):
    settings, client = served
    statuses: list[int] = []
    stop = threading.Event()

    def ask_meanwhile() -> None:
        while not stop.is_set():
            statuses.append(client.post("/api/ask", json={"question": "拠点都市はいくつ？"}).status_code)

    asker = threading.Thread(target=ask_meanwhile)
    asker.start()
    try:
        r = client.post(
            "/api/documents",
            files=[("files", ("grant.pdf", GRANT, "application/pdf")), ("files", ("scan.pdf", make_pdf(["", ""]), "application/pdf"))],
            data={"folder": "grants"},
        )
        assert r.status_code == 202, r.text
        assert r.headers["location"] == f"/api/jobs/{r.json()['id']}"
        job = finished(client, r.json())
    finally:
        stop.set()
        asker.join()
    assert job["status"] == "done", job
    files = {f["name"]: f for f in job["files"]}
    assert files["grants/grant.pdf"]["status"] == "indexed" and files["grants/grant.pdf"]["passages"] >= 1
    assert files["grants/scan.pdf"]["status"] == "skipped" and "no text layer" in files["grants/scan.pdf"]["reason"]
    assert statuses and set(statuses) == {200}  # no request failed during the build and the switch
    health = client.get("/api/health").json()
    assert health["index"] == job["index"]  # the server answers from the new build
    body = client.post("/api/ask", json={"question": "When does the grant programme open?", "docs": ["grants/grant.pdf"]}).json()
    assert body["passages"][0]["citation"] == body["passages"][0]["citation"] | {"doc": "grants/grant.pdf", "page": 1}

    r = client.post("/api/documents", files={"files": ("grant.pdf", make_pdf(["Another text."]), "application/pdf")}, data={"folder": "grants"})
    assert r.status_code == 409 and "replace=true" in r.json()["detail"]
    r = client.delete("/api/documents/grants/grant.pdf")
    assert r.status_code == 202
    assert finished(client, r.json())["files"] == [{"name": "grants/grant.pdf", "status": "removed", "reason": None, "passages": None}]
    names = {d["name"] for d in client.get("/api/documents").json()["documents"]}
    assert "grants/grant.pdf" not in names and "grants/scan.pdf" in names
    assert client.delete("/api/documents/grants/grant.pdf").status_code == 404


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/stiqa.txt", ".hidden.txt", "a/../../b.txt"])
def test_upload_names_cannot_leave_the_corpus(served, name, tmp_path):
    settings, client = served
    r = client.post("/api/documents", files={"files": (name, b"text", "text/plain")})
    assert r.status_code == 422 and "cannot be a document's name" in r.json()["detail"]
    assert not (settings.corpus_dir.parent / "outside.txt").exists()


def test_an_upload_over_the_limit_is_refused_before_it_is_read(served):
    _, client = served
    r = client.post("/api/documents", files={"files": ("big.txt", b"x" * 300_000, "text/plain")})
    assert r.status_code == 413 and "200000 bytes" in r.json()["detail"]
    assert client.get("/api/jobs/0123456789ab").status_code == 404
    assert client.get("/api/jobs/unknown").status_code == 422
