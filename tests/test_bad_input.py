"""Every class of bad input against every endpoint, in one place (issue 5, "Bad input and security").

Each case must get a 4xx (or a proper 200 where the input is in fact valid) whose body is JSON
``{"detail": "<one readable sentence>"}``: no 5xx, no stack trace, no server file path, and no
file outside the index readable. Bytes are sent raw (``content=``) where the case is about bytes.
The body size limit (413) belongs to the middleware and is tested with it.
"""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from stiqa.questions import MAX_K, MAX_QUESTION_CHARS
from stiqa.server import create_app

DOC = "sti-policy-2024.txt"
JSON = {"content-type": "application/json"}

ASK = ("POST", "/api/ask")
DOCUMENTS = ("GET", "/api/documents")
PAGE = ("GET", f"/api/documents/{DOC}/pages/1")
TIMELINE = ("GET", "/api/timeline")
HEALTH = ("GET", "/api/health")
ENDPOINTS = [ASK, DOCUMENTS, PAGE, TIMELINE, HEALTH]
GETS = [DOCUMENTS, PAGE, TIMELINE, HEALTH]

# What must never appear in a response: a stack trace, a source or server path, a system file.
LEAKS = ("Traceback", 'File "', ".py", "/work/", "/home/", "/tmp/", "site-packages", "root:x:0:0", "[project]")


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant.settings, assistant), raise_server_exceptions=False) as c:
        yield c


def rejected(r, status: int | tuple[int, ...] | None = None, says: str = "") -> str:
    """Assert a clean 4xx: JSON {"detail": one readable line}, nothing leaked; returns the detail."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if status is not None:
        assert r.status_code in ((status,) if isinstance(status, int) else status), (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"detail"}, body
    detail = body["detail"]
    assert isinstance(detail, str) and detail.strip(), body
    assert "\n" not in detail and len(detail) <= 300, detail
    assert says in detail, detail
    no_leak(r)
    return detail


def no_leak(r) -> None:
    for leak in LEAKS:
        assert leak not in r.text, (leak, r.text[:300])


def ok(r):
    assert r.status_code == 200, (r.status_code, r.text[:300])
    no_leak(r)
    return r.json()


def ask_raw(client, body: bytes, headers: dict | None = JSON):
    return client.post("/api/ask", content=body, headers=headers or {})


def ask_json(client, body):
    return ask_raw(client, json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- every endpoint, valid


@pytest.mark.parametrize("method, url", ENDPOINTS)
def test_every_endpoint_answers_a_valid_request(client, method, url):
    kw = {"json": {"question": "大学ファンドとは"}} if method == "POST" else {}
    ok(client.request(method, url, **kw))


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    "body, headers, says",
    [
        (b"", JSON, "request body is required"),
        (b"", None, "request body is required"),
        (b"   ", JSON, "not valid JSON"),
        (b"not json", JSON, "not valid JSON"),
        (b'{"question": ', JSON, "not valid JSON"),
        (b"{'question': 'a'}", JSON, "not valid JSON"),
        (b'{"question": "a"}{"question": "b"}', JSON, "not valid JSON"),
        (b'{"question": "a",}', JSON, "not valid JSON"),
        (b"question=a", {"content-type": "application/x-www-form-urlencoded"}, "Content-Type: application/json"),
        (b'{"question": "a"}', {"content-type": "text/plain"}, "Content-Type: application/json"),
        (b"<question>a</question>", {"content-type": "application/xml"}, "Content-Type: application/json"),
    ],
)
def test_empty_and_non_json_bodies(client, body, headers, says):
    rejected(ask_raw(client, body, headers), 422, says)


@pytest.mark.parametrize("body", [b"[]", b'["question"]', b'"a question"', b"42", b"4.2", b"null", b"true", b"false"])
def test_json_of_the_wrong_type(client, body):
    rejected(ask_raw(client, body), 422, "request body: Input should be a valid dictionary")


@pytest.mark.parametrize(
    "body, says",
    [
        ({"question": 42}, "question: Input should be a valid string"),
        ({"question": 4.2}, "question: Input should be a valid string"),
        ({"question": None}, "question: Input should be a valid string"),
        ({"question": True}, "question: Input should be a valid string"),
        ({"question": ["大学"]}, "question: Input should be a valid string"),
        ({"question": {"text": "大学"}}, "question: Input should be a valid string"),
        ({"question": "大学", "k": "many"}, "k: Input should be a valid integer"),
        ({"question": "大学", "k": 2.5}, "k: Input should be a valid integer"),
        ({"question": "大学", "k": None}, "k: Input should be a valid integer"),
        ({"question": "大学", "k": [5]}, "k: Input should be a valid integer"),
        ({"question": "大学", "mode": 1}, "mode: Input should be"),
        ({"question": "大学", "mode": "fuzzy"}, "mode: Input should be"),
        ({"question": "大学", "mode": ["dense"]}, "mode: Input should be"),
        ({"k": 3}, "question is required"),
        ({}, "question is required"),
    ],
)
def test_wrong_field_types(client, body, says):
    rejected(ask_json(client, body), 422, says)


def test_unknown_fields_are_named_and_the_message_stays_short(client):
    rejected(ask_json(client, {"question": "大学", "top": 3}), 422, "unknown field 'top'")
    rejected(ask_json(client, {"question": "大学", "Question": "x"}), 422, "unknown field 'Question'")
    many = {"question": "大学", **{f"f{i}": i for i in range(500)}}
    detail = rejected(ask_json(client, many), 422, "unknown field 'f0'")
    assert "more problems" in detail and len(detail) < 200
    long_name = "x" * 5000
    detail = rejected(ask_json(client, {"question": "大学", long_name: 1}), 422, "unknown field 'xxx")
    assert len(detail) < 100


@pytest.mark.parametrize(
    "raw, says",
    [
        (b"0", "greater than or equal to 1"),
        (b"-1", "greater than or equal to 1"),
        (str(MAX_K + 1).encode(), f"less than or equal to {MAX_K}"),
        (b"1000000000", f"less than or equal to {MAX_K}"),
        (b"1e9", "k: Input should be a valid integer"),
        (b"5.0", "k: Input should be a valid integer"),
        (b"true", "k: Input should be a valid integer"),
        (b'"5"', "k: Input should be a valid integer"),
        (b"1e400", "k: Input should be a valid integer"),
        (b"NaN", "k: Input should be a valid integer"),
        (b"-Infinity", "k: Input should be a valid integer"),
        (b"1" + b"0" * 30, f"less than or equal to {MAX_K}"),
        (b"9" * 5000, "could not be read as JSON"),  # past Python's int-from-text limit
    ],
)
def test_k_out_of_range_or_not_an_integer(client, raw, says):
    rejected(ask_raw(client, b'{"question": "\xe5\xa4\xa7\xe5\xad\xa6", "k": ' + raw + b"}"), 422, says)


def test_k_within_range_is_answered(client):
    for k in (1, MAX_K):
        assert len(ok(ask_json(client, {"question": "大学", "k": k}))["passages"]) == k


def test_deep_nesting_is_a_422(client):
    rejected(ask_raw(client, b"[" * 20000 + b"]" * 20000), 422, "could not be read as JSON")
    rejected(ask_raw(client, b'{"question": ' + b"[" * 20000 + b"]" * 20000 + b"}"), 422)


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize("question", ["大学\x00ファンド", "\x07大学", "大学\x1b[31m", "大学\x7f", "a\x0bb", "\x00"])
def test_control_characters_in_the_question(client, question):
    rejected(ask_json(client, {"question": question}), 422, "control characters or invalid Unicode")


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "\\ud800"}',
        b'{"question": "\\udfff\\u5927\\u5b66"}',
        b'{"question": "\\ud800\\ud800"}',
        b'{"question": "\xed\xa0\x80"}',  # a surrogate written in (invalid) UTF-8
    ],
)
def test_lone_surrogates_in_the_question(client, body):
    rejected(ask_raw(client, body), 422, "control characters or invalid Unicode")


def test_a_proper_surrogate_pair_is_a_character(client):
    ok(ask_raw(client, b'{"question": "\\ud842\\udfb7\\u91ce\\u5bb6"}'))  # 𠮷野家


@pytest.mark.parametrize(
    "body",
    [b"\xff", b'{"question": "\xff\xfe"}', b'{"question": "\xc0\xaf"}', b'{"question": "\xe3\x81"}', b'{"question": "a\x80"}'],
)
def test_invalid_utf8_in_the_body(client, body):
    rejected(ask_raw(client, body), 422, "not valid UTF-8")


@pytest.mark.parametrize("name", ["from", "to", "q", "status"])
@pytest.mark.parametrize("value", ["%FF", "%C0%AF", "2024%E3%81", "%ED%A0%80"])
def test_invalid_utf8_in_timeline_filters(client, name, value):
    rejected(client.get(f"/api/timeline?{name}={value}"), 422, f"{name} is not valid UTF-8")


@pytest.mark.parametrize("name", ["from", "to", "q", "status"])
@pytest.mark.parametrize("value", ["%00", "2024%00", "%0A2024", "2024%0D", "%09", "%1B%5B31m", "%7F", "%C2%85"])
def test_control_characters_in_timeline_filters(client, name, value):
    rejected(client.get(f"/api/timeline?{name}={value}"), 422, f"{name} contains control characters")


@pytest.mark.parametrize("segment", ["%FF", "%C0%AF", "%ED%A0%80", "%00", "a%00b", "sti-policy-2024.txt%00.json", "%0A", "%1B"])
def test_invalid_utf8_and_control_characters_in_the_document_name(client, segment):
    rejected(client.get(f"/api/documents/{segment}/pages/1"), 422, "control characters or bytes that are not UTF-8")


@pytest.mark.parametrize("page", ["%FF", "%C0%AF", "%00", "1%00", "x", "1.5", "1e3", "0x1", "-1", "0", "9" * 5000])
def test_bad_page_numbers(client, page):
    rejected(client.get(f"/api/documents/{DOC}/pages/{page}"), 422, "page: ")


def test_huge_page_numbers_are_404_and_not_echoed_in_full(client):
    for digits in (12, 40, 4300):
        detail = rejected(client.get(f"/api/documents/{DOC}/pages/{'9' * digits}"), 404, "has no page")
        assert "its pages are 1-14" in detail


@pytest.mark.parametrize("method, url", [DOCUMENTS, PAGE, HEALTH, TIMELINE])
@pytest.mark.parametrize("query", ["x=%FF", "x=%00", "%FF=1", "k=0", "question=%00", "debug=1&debug=2", "a" * 2000 + "=1"])
def test_unknown_query_parameters_are_harmless(client, method, url, query):
    plain = ok(client.request(method, url))
    assert ok(client.request(method, f"{url}?{query}")) == plain


def test_unknown_query_parameters_do_not_change_an_answer(client):
    body = {"question": "拠点都市はいくつ集中支援されますか？", "k": 3}
    plain = ok(client.post("/api/ask", json=body))
    odd = ok(client.post("/api/ask?k=50&mode=fuzzy&x=%FF&q=%00", json=body))
    assert [p["id"] for p in odd["passages"]] == [p["id"] for p in plain["passages"]]


@pytest.mark.parametrize("method, url", GETS)
def test_a_body_on_a_get_is_ignored(client, method, url):
    plain = ok(client.request(method, url))
    assert ok(client.request(method, url, content=b"\xff\x00 not json", headers=JSON)) == plain


# --------------------------------------------------------------------------- lengths

# Measured on the 2-core machine: 1000 kana (about 1000 model tokens, two 512-token windows)
# cost 1.3-1.6 s of CPU on one core, 1000 "a" 0.2 s; the wall time was 1.6-3.6 s while other
# test runs shared the cores. The budget leaves room for a busy CI machine.
LONG_QUESTION_BUDGET_S = 10.0


@pytest.mark.parametrize(
    "question",
    ["a" * MAX_QUESTION_CHARS, "あ" * MAX_QUESTION_CHARS, "𠮷" * MAX_QUESTION_CHARS, "研究開発" * (MAX_QUESTION_CHARS // 4)],
    ids=["latin", "kana", "astral", "kanji"],
)
def test_a_long_single_token_within_the_limit_is_answered_in_time(client, question):
    """A question of the largest allowed size with no space in it is a valid question: it is
    answered (200), in time; the cost is the embedding model's and grows with the length."""
    t0 = time.perf_counter()
    body = ok(ask_json(client, {"question": question, "k": MAX_K}))
    took = time.perf_counter() - t0
    assert body["question"] == question and len(body["passages"]) == MAX_K
    assert took < LONG_QUESTION_BUDGET_S, f"{took:.2f} s"



@pytest.mark.parametrize("n", [MAX_QUESTION_CHARS + 1, 5 * MAX_QUESTION_CHARS, 15 * MAX_QUESTION_CHARS])
def test_an_over_long_question_is_a_quick_422(client, n):
    t0 = time.perf_counter()
    rejected(ask_json(client, {"question": "あ" * n}), 422, f"{n} characters long; the limit is {MAX_QUESTION_CHARS}")
    assert time.perf_counter() - t0 < 1.0


def test_timeline_filters_have_length_limits(client):
    assert ok(client.get("/api/timeline", params={"q": "あ" * 200})) == {"events": []}
    rejected(client.get("/api/timeline", params={"q": "あ" * 201}), 422, "q: String should have at most 200 characters")
    rejected(client.get("/api/timeline", params={"q": "a" * 20_000}), 422, "q: String should have at most 200")
    for name in ("from", "to", "status"):
        detail = rejected(client.get("/api/timeline", params={name: "2" * 21}), 422, f"{name}: String should have at most 20")
        assert "222" not in detail


def test_an_over_long_document_name_is_not_echoed_in_full(client):
    detail = rejected(client.get(f"/api/documents/{'x' * 5000}/pages/1"), 404, "no document named 'xxx")
    assert len(detail) < 200


# --------------------------------------------------------------------------- path-like names


@pytest.mark.parametrize(
    "segment",
    [
        "..",
        "%2E%2E",
        ".%2E",
        "..%5C..%5Cetc%5Cpasswd",
        "%5Cetc%5Cpasswd",
        "C:%5CWindows%5Cwin.ini",
        "C:",
        "~",
        "~root",
        "%252e%252e%252fetc%252fpasswd",
        "%25%32%65%25%32%65",
        "..%c0%af..%c0%afetc%c0%afpasswd",
        "..%252f..%252fetc%252fpasswd",
        "file:%5C%5Cetc",
        "sti-policy-2024.txt.",
        "STI-POLICY-2024.TXT",
        "%20sti-policy-2024.txt",
        "sti-policy-2024",
        "manifest.json",
        "passages.json",
        "vectors.npy",
        "CURRENT",
        ".env",
        "pyproject.toml",
    ],
)
def test_path_like_document_names_find_nothing(client, segment):
    r = client.get(f"/api/documents/{segment}/pages/1")
    rejected(r, (404, 422))


@pytest.mark.parametrize(
    "path",
    [
        "/api/documents/..%2F..%2Fetc%2Fpasswd/pages/1",
        "/api/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd/pages/1",
        "/api/documents/%2Fetc%2Fpasswd/pages/1",
        "/api/documents/%2F/pages/1",
        f"/api/documents/..%2Fcorpus%2F{DOC}/pages/1",
        f"/api/documents/corpus%2F{DOC}/pages/1",
        "/api/documents/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd/pages/1",
        "/api/documents/%2e%2e/%2e%2e/etc/passwd/pages/1",
        "/api/documents/../../etc/passwd/pages/1",
        "/api/documents//etc/passwd/pages/1",
        "/api/documents/%00/../pages/1",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/../../pyproject.toml",
        "/static/..%5C..%5Cpyproject.toml",
        "/static/%2Fetc%2Fpasswd",
        "/static//etc/passwd",
        f"/static/..%2Fcorpus%2F{DOC}",
        "/static/%00",
        "/api/..%2F..%2Fetc%2Fpasswd",
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_traversal_reads_no_file(client, path):
    r = client.request("GET", path, follow_redirects=False)
    rejected(r, (404, 422))
    assert "root:" not in r.text and "[project]" not in r.text and "我が国" not in r.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("method_url", ENDPOINTS)
def test_wrong_methods_are_405(client, method, method_url):
    if method == "DELETE" and method_url == PAGE:
        # A document id may hold "/": this is the deletion of a document of that id, which
        # needs uploads on (and the id would not be found).
        rejected(client.request(method, method_url[1]), 403)
        return
    rejected(client.request(method, method_url[1]), 405)


def test_get_on_ask_and_post_on_a_get_are_405(client):
    rejected(client.get("/api/ask"), 405)
    for _, url in GETS:
        if url == DOCUMENTS[1]:  # POST there is an upload: off on this server
            rejected(client.post(url, json={"question": "大学"}), 403)
            continue
        rejected(client.post(url, json={"question": "大学"}), 405)


# --------------------------------------------------------------------------- server errors


def test_an_unexpected_error_is_a_500_without_a_stack_trace(assistant):
    app = create_app(assistant.settings, assistant)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /work/main/src/stiqa/pipeline.py line 1")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error; the server log has the details"}
    assert "secret" not in r.text and "Traceback" not in r.text
