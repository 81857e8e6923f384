"""A corpus of every format, with sub-folders and broken files, indexed and served through the HTTP API."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from stiqa.config import Settings
from stiqa.server import create_app
from stiqa.service.assistant import Assistant
from tests.conftest import DEV_CORPUS
from tests.test_ingest import make_pdf

MINUTES_PDF = DEV_CORPUS / "moj" / "001374091.pdf"
MINUTES_SJIS = DEV_CORPUS / "moj" / "001406391.txt"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    if not MINUTES_PDF.exists():
        pytest.skip(f"no development corpus at {DEV_CORPUS}")
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "moj").mkdir()
    shutil.copy(MINUTES_PDF, corpus / "moj" / MINUTES_PDF.name)
    shutil.copy(MINUTES_SJIS, corpus / "moj" / MINUTES_SJIS.name)
    (corpus / "notes.md").write_text(
        "# 申請の手引き\n\n## 受付期間\n\n**令和７年４月１日**から[窓口](https://example.jp)で受け付けます。\n", encoding="utf-8"
    )
    (corpus / "english.pdf").write_bytes(make_pdf(["The grant programme opens on 1 April 2025.", "", "Page three."]))
    (corpus / "scan.pdf").write_bytes(make_pdf(["", ""]))
    (corpus / "image.txt").write_bytes(bytes(range(256)) * 4)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"))
    assistant = Assistant.build(settings, embedder)
    with TestClient(create_app(assistant=assistant)) as client:
        yield corpus, assistant, client


def test_every_readable_file_is_indexed_and_the_others_named_with_their_reason(mixed):
    _, assistant, client = mixed
    docs = {d["name"]: d for d in client.get("/api/documents").json()["documents"]}
    assert set(docs) == {"moj/001374091.pdf", "moj/001406391.txt", "notes.md", "english.pdf", "scan.pdf", "image.txt"}
    assert docs["moj/001374091.pdf"] | {"title": ""} == {
        "name": "moj/001374091.pdf", "title": "", "format": "pdf", "pages": 28,
        "passages": docs["moj/001374091.pdf"]["passages"], "date": "2022-04-27", "status": "indexed", "reason": None,
    }
    assert docs["moj/001406391.txt"]["format"] == "text" and docs["moj/001406391.txt"]["passages"] > 50
    assert docs["notes.md"]["title"] == "申請の手引き" and docs["notes.md"]["pages"] == 2
    assert docs["scan.pdf"]["status"] == "skipped" and "no text layer" in docs["scan.pdf"]["reason"]
    assert docs["image.txt"]["status"] == "skipped" and "binary" in docs["image.txt"]["reason"]


def test_a_pdf_answer_cites_its_page_and_offsets_into_the_extracted_text(mixed):
    _, _, client = mixed
    body = client.post("/api/ask", json={"question": "船荷証券部会の部会長は誰が選出されましたか？", "k": 5}).json()
    pdf_hits = [p for p in body["passages"] if p["citation"]["doc"] == "moj/001374091.pdf"]
    assert pdf_hits
    text = client.get("/api/documents/moj/001374091.pdf/text").text
    pages = text.split("\f")
    assert len(pages) == 28
    for p in pdf_hits:
        c = p["citation"]
        cited = text[c["start"]:c["end"]]
        assert cited and "\f" not in cited
        assert text.count("\f", 0, c["start"]) + 1 == c["page"]  # the offsets fall on the cited page


def test_english_pdf_page_numbers_skip_nothing(mixed):
    _, _, client = mixed
    body = client.post("/api/ask", json={"question": "When does the grant programme open?", "k": 3}).json()
    top = body["passages"][0]["citation"]
    assert top["doc"] == "english.pdf" and top["page"] == 1
    page3 = client.get("/api/documents/english.pdf/pages/3").json()
    assert page3["page"] == 3 and page3["text"] == "Page three."


def test_the_original_file_is_downloadable_and_unknown_documents_are_404(mixed):
    corpus, _, client = mixed
    r = client.get("/api/documents/notes.md/file")
    assert r.status_code == 200 and r.content == (corpus / "notes.md").read_bytes()
    r = client.get("/api/documents/moj/001374091.pdf/file")
    assert r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    for bad in ("..%2Fpyproject.toml", "moj/..%2F..%2Fnotes.md", "scan.pdf", "nothing.pdf"):
        r = client.get(f"/api/documents/{bad}/file")
        assert r.status_code == 404, bad
        assert "no document named" in r.json()["detail"]  # looked up among the indexed, never opened


def test_markdown_citations_index_the_file_itself(mixed):
    corpus, _, client = mixed
    body = client.post("/api/ask", json={"question": "受付はいつからですか？", "k": 1}).json()
    c = body["passages"][0]["citation"]
    assert c["doc"] == "notes.md" and c["section"] == "受付期間" and c["page"] == 2
    raw = (corpus / "notes.md").read_text(encoding="utf-8")
    assert "令和７年４月１日" in raw[c["start"]:c["end"]]
    assert body["answer"]["date"] == "2025-04-01"


def test_a_question_can_be_limited_to_some_documents(mixed):
    _, _, client = mixed
    question = {"question": "会議はいつ開催されましたか？", "k": 5}
    everywhere = client.post("/api/ask", json=question).json()["passages"]
    assert len({p["citation"]["doc"] for p in everywhere}) >= 1
    only = client.post("/api/ask", json=question | {"docs": ["moj/001406391.txt"]}).json()["passages"]
    assert len(only) == 5 and {p["citation"]["doc"] for p in only} == {"moj/001406391.txt"}
    few = client.post("/api/ask", json={"question": "When does it open?", "docs": ["english.pdf"]}).json()["passages"]
    assert {p["citation"]["doc"] for p in few} == {"english.pdf"}  # fewer passages than k there
    r = client.post("/api/ask", json=question | {"docs": ["nothing.pdf"]})
    assert r.status_code == 422 and "no indexed document named 'nothing.pdf'" in r.json()["detail"]
    r = client.post("/api/ask", json=question | {"docs": []})
    assert r.status_code == 422


def test_a_pdf_page_renders_as_png_and_other_formats_have_no_image(mixed):
    _, _, client = mixed
    r = client.get("/api/documents/moj/001374091.pdf/pages/2/image?scale=0.5")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(r.content[16:20], "big"), int.from_bytes(r.content[20:24], "big")
    assert 250 <= width <= 320 and 380 <= height <= 440  # an A4 page at 36 pixels per inch
    assert client.get("/api/documents/moj/001374091.pdf/pages/29/image").status_code == 404
    assert client.get("/api/documents/moj/001374091.pdf/pages/1/image?scale=9").status_code == 422
    r = client.get("/api/documents/notes.md/pages/1/image")
    assert r.status_code == 404 and "only PDF pages have images" in r.json()["detail"]


def test_one_document_by_its_id_and_its_sub_resources_are_not_shadowed(mixed):
    _, _, client = mixed
    doc = client.get("/api/documents/moj/001374091.pdf").json()
    assert doc["name"] == "moj/001374091.pdf" and doc["pages"] == 28
    assert client.get("/api/documents/moj/001374091.pdf/text").headers["content-type"].startswith("text/plain")
    assert client.get("/api/documents/moj/001374091.pdf/pages/1").json()["page"] == 1
    assert client.get("/api/documents/moj/none.pdf").status_code == 404


def test_a_pdf_page_gives_its_image_and_where_each_passage_lies_on_it(mixed):
    _, _, client = mixed
    page = client.get("/api/documents/moj/001374091.pdf/pages/2").json()
    assert page["image"] == "/api/documents/moj/001374091.pdf/pages/2/image"
    assert page["passages"] and all(p["rects"] for p in page["passages"])
    for p in page["passages"]:
        for left, top, right, bottom in p["rects"]:
            assert 0 <= left < right <= 1 and 0 <= top < bottom <= 1
            assert bottom - top < 0.05  # a line each
    long = next(p for p in page["passages"] if p["end"] - p["start"] > 150)
    assert len(long["rects"]) >= 3  # a passage of several lines of the minutes: a rectangle per line
    md = client.get("/api/documents/notes.md/pages/2").json()
    assert md["image"] is None and md["passages"][0]["rects"] is None
