"""Access control, CORS, the body limit, rate limiting and the request log, through the real app."""

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from stiqa.server import create_app
from stiqa.server.middleware import ACCESS_LOG

KEY = "k3y-for-tests-0123456789"
QUESTION = {"question": "拠点都市はいくつ集中支援されますか？", "k": 2}


def client_for(assistant, **settings) -> TestClient:
    return TestClient(create_app(assistant.settings.updated(**settings), assistant))


@pytest.fixture(scope="module")
def keyed(assistant):
    with client_for(assistant, api_key=KEY) as c:
        yield c


def test_without_a_key_configured_the_api_is_open(assistant):
    with client_for(assistant) as c:
        assert c.post("/api/ask", json=QUESTION).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-0123456789"},
                                     {"X-API-Key": KEY[:-1]}, {"Authorization": f"Basic {KEY}"},
                                     {"Authorization": KEY}])
def test_api_needs_the_key(keyed, headers):
    for call in (lambda: keyed.post("/api/ask", json=QUESTION, headers=headers),
                 lambda: keyed.get("/api/documents", headers=headers),
                 lambda: keyed.get("/api/timeline", headers=headers)):
        r = call()
        assert r.status_code == 401
        assert "Authorization: Bearer" in r.json()["detail"] and r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"authorization": f"bearer {KEY}"},
                                     {"X-API-Key": KEY}])
def test_the_key_opens_the_api(keyed, headers):
    r = keyed.post("/api/ask", json=QUESTION, headers=headers)
    assert r.status_code == 200 and "8都市" in r.json()["answer"]["text"]


def test_health_and_the_chat_page_stay_open(keyed):
    assert keyed.get("/api/health").json()["status"] == "ok"
    page = keyed.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_no_cross_origin_access_by_default(assistant):
    with client_for(assistant) as c:
        r = c.post("/api/ask", json=QUESTION, headers={"Origin": "https://portal.example"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        pre = c.options("/api/ask", headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers


def test_cors_allow_list(assistant):
    with client_for(assistant, cors_origins=("https://portal.example",), api_key=KEY) as c:
        pre = c.options("/api/ask", headers={
            "Origin": "https://portal.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        })  # a preflight carries no key, and must still be answered
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://portal.example"
        ok = c.post("/api/ask", json=QUESTION, headers={"Origin": "https://portal.example", "X-API-Key": KEY})
        assert ok.headers["access-control-allow-origin"] == "https://portal.example"
        other = c.post("/api/ask", json=QUESTION, headers={"Origin": "https://evil.example", "X-API-Key": KEY})
        assert "access-control-allow-origin" not in other.headers


def test_body_limit(assistant):
    with client_for(assistant, max_body_bytes=2048) as c:
        big = json.dumps({"question": "あ" * 900}).encode()  # 2.7 kB: over this server's limit
        r = c.post("/api/ask", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "2048 bytes" in r.json()["detail"]

        def chunks():  # no Content-Length: the limit still holds
            yield big[:1000]
            yield big[1000:]

        r = c.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert c.post("/api/ask", json=QUESTION).status_code == 200


def test_default_body_limit_refuses_a_huge_body(client_default):
    r = client_default.post("/api/ask", content=b'{"question": "' + b"a" * 200_000 + b'"}',
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.fixture(scope="module")
def client_default(assistant):
    with client_for(assistant) as c:
        yield c


def test_rate_limit_answers_429_with_retry_after(assistant):
    with client_for(assistant, rate_limit="3/minute") as c:
        assert [c.post("/api/ask", json=QUESTION).status_code for _ in range(3)] == [200] * 3
        r = c.post("/api/ask", json=QUESTION)
        assert r.status_code == 429 and "3 per 1 minute" in r.json()["detail"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert c.get("/api/documents").status_code == 429  # the whole API, per client
        assert c.get("/api/health").status_code == 200  # load balancers are not limited


def test_rate_limit_is_off_by_default(client_default):
    assert all(client_default.get("/api/documents").status_code == 200 for _ in range(30))


@pytest.fixture()
def log_lines():
    """The request log's lines, as JSON, while the test runs."""
    out = io.StringIO()
    logger = logging.getLogger(ACCESS_LOG)
    handler, level = logging.StreamHandler(out), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_one_structured_log_line_per_request_without_the_question(client_default, log_lines):
    client_default.post("/api/ask", json=QUESTION)
    client_default.post("/api/ask", json={"question": ""})
    client_default.get("/api/health")
    lines = log_lines()
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/api/ask", 200), ("POST", "/api/ask", 422), ("GET", "/api/health", 200)]
    assert lines[0]["question_chars"] == len(QUESTION["question"]) and "question" not in lines[0]
    assert all(x["ms"] > 0 and x["time"].endswith("+00:00") and x["client"] for x in lines)


def test_question_text_is_logged_only_when_enabled(assistant, log_lines):
    with client_for(assistant, log_questions=True) as c:
        c.post("/api/ask", json=QUESTION)
    assert log_lines()[-1]["question"] == QUESTION["question"]
