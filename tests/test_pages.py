"""GET /api/documents/{doc}/pages/{page}: a slide's repaired text and where its passages lie in it."""

import pytest
from fastapi.testclient import TestClient

from stiqa.index.pages import locate
from stiqa.records import Citation, Passage, Sentence
from stiqa.server import create_app

DOC = "sti-policy-2024.txt"


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant=assistant)) as c:
        yield c


def test_a_real_page(client, assistant):
    r = client.get(f"/api/documents/{DOC}/pages/5")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"doc", "page", "title", "text", "passages", "image"}
    assert body["image"] is None  # plain text: no page image, no rectangles
    assert body["doc"] == DOC and body["page"] == 5
    assert body["title"] == "(参考) AIに関する取組"
    assert body["text"].startswith("(参考) AIに関する取組\n")
    assert "AIセーフティ・インスティテュートの設立(令和6年2月)" in body["text"]
    expected = [p.id for p in assistant.index.passages if p.citation.doc == DOC and p.citation.page == 5]
    assert [p["id"] for p in body["passages"]] == expected and expected


def test_every_passage_offset_points_at_its_text(client, assistant):
    """On every page: each passage's span starts with its first sentence, ends with its last
    and holds all its sentences in order (a title line between two of them may stay inside)."""
    by_id = {p.id: p for p in assistant.index.passages}
    located = 0
    for page in assistant.index.documents[0].pages:
        body = client.get(f"/api/documents/{DOC}/pages/{page.number}").json()
        text = body["text"]
        for span in body["passages"]:
            passage = by_id[span["id"]]
            assert passage.citation.page == page.number
            piece = text[span["start"]:span["end"]]
            sentences = [s.text for s in passage.sentences]
            assert piece.startswith(sentences[0]) and piece.endswith(sentences[-1])
            at = 0
            for s in sentences:
                at = piece.index(s, at) + len(s)
            located += 1
    assert located == len(assistant.index.passages)


def test_the_answering_passage_is_found_on_its_page(client):
    ask = client.post("/api/ask", json={"question": "AIセーフティ・インスティテュートの設立時期は？", "k": 3}).json()
    top = ask["passages"][0]
    page = client.get(f"/api/documents/{top['citation']['doc']}/pages/{top['citation']['page']}").json()
    span = next(p for p in page["passages"] if p["id"] == top["id"])
    assert page["text"][span["start"]:span["end"]] == top["text"]


def test_a_repeated_sentence_is_located_near_its_original_offset():
    text = "見出し\n今後の予定\nA案\n今後の予定\nB案"
    p = Passage("x", "今後の予定\nB案", Citation("d", 1, "見出し", 20, 28), [Sentence("今後の予定", 20, 25), Sentence("B案", 26, 28)])
    assert locate(text, p, hint=14) == (text.rindex("今後の予定"), len(text))
    q = Passage("y", "今後の予定\nA案", Citation("d", 1, "見出し", 4, 12), [Sentence("今後の予定", 4, 9), Sentence("A案", 10, 12)])
    assert locate(text, q, hint=4) == (4, 12)
    assert locate(text, Passage("z", "ない", Citation("d", 1, "", 0, 2), [Sentence("ない", 0, 2)])) is None


@pytest.mark.parametrize(
    "path, message",
    [
        ("/api/documents/nope.txt/pages/1", "no document named 'nope.txt'"),
        (f"/api/documents/{DOC}/pages/15", "has no page 15; its pages are 1-14"),
        (f"/api/documents/{DOC}/pages/999999999999", "has no page"),
        ("/api/documents/..%2F..%2Fetc%2Fpasswd/pages/1", ""),
        ("/api/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd/pages/1", ""),
        ("/api/documents/%2E%2E/pages/1", "no document named '..'"),
        ("/api/documents/..%5C..%5Cwindows%5Cwin.ini/pages/1", "no document named"),
        (f"/api/documents/..%2Fcorpus%2F{DOC}/pages/1", ""),
        ("/api/documents/%252e%252e%252fetc%252fpasswd/pages/1", ""),
        ("/api/documents/passages.json/pages/1", "no document named"),
        ("/api/documents/manifest.json/pages/1", "no document named"),
    ],
)
def test_unknown_documents_and_pages_are_404(client, path, message):
    r = client.get(path)
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail and message in detail
    assert "root:" not in r.text


def test_unencoded_traversal_is_404(client):
    # Whether or not the client resolves "..", nothing outside the index is served.
    for raw in ("/api/documents/../../etc/passwd/pages/1", "/../../etc/passwd", "/..%2f..%2fetc%2fpasswd"):
        r = client.request("GET", raw, follow_redirects=False)
        assert r.status_code == 404 and r.json()["detail"]


@pytest.mark.parametrize(
    "page, message",
    [
        ("0", "page: Input should be greater than or equal to 1"),
        ("-1", "page: Input should be greater than or equal to 1"),
        ("x", "page: Input should be a valid integer"),
        ("1.5", "page: Input should be a valid integer"),
    ],
)
def test_page_must_be_a_positive_integer(client, page, message):
    r = client.get(f"/api/documents/{DOC}/pages/{page}")
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_listed_in_the_api_docs(client):
    assert "/api/documents/{doc}/pages/{page}" in client.get("/openapi.json").json()["paths"]


def test_the_chat_page_and_its_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="static/app.js"></script>' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        a = client.get(f"/static/{asset}")
        assert a.status_code == 200 and kind in a.headers["content-type"] and a.headers["content-security-policy"]
    assert "content-security-policy" not in client.get("/api/health").headers
    # The page does not shadow the API: a wrong method is still a 405, a wrong path a JSON 404.
    assert client.get("/api/ask").status_code == 405
    assert client.get("/api/nope").json() == {"detail": "Not Found"}
    assert client.get("/docs").status_code == 200


def test_the_api_runs_without_the_web_folder(assistant, tmp_path):
    with TestClient(create_app(assistant=assistant, web_dir=tmp_path / "missing")) as c:
        assert c.get("/api/health").status_code == 200
        r = c.get("/")
        assert r.status_code == 404 and r.json()["detail"]
