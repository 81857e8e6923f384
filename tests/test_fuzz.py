"""Fuzzing the API from its own OpenAPI schema (schemathesis) over the real model and index.

Every operation gets a bounded, reproducible run (derandomized Hypothesis) of valid
("positive") and invalid ("negative") requests. Whatever is sent: no 5xx, and every 4xx is
JSON {"detail": "<a sentence>"} with no stack trace. ``bench/fuzz.py`` runs the same against
``stiqa serve`` over HTTP and prints the counts.
"""

from __future__ import annotations

import traceback

import pytest
import schemathesis
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi

from stiqa.config import Settings
from stiqa.server import create_app

MAX_EXAMPLES = 50  # per operation and mode
# Every operation the API documents (read from the app, so a new endpoint is fuzzed too).
OPERATIONS = [f"{m.upper()} {path}" for path, ops in create_app(Settings()).openapi()["paths"].items() for m in ops]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
LEAKS = ("Traceback", 'File "', "site-packages", "/work/", "/tmp/")


def detail_is_a_sentence(ctx, response, case) -> None:
    """A 4xx answers with JSON {"detail": one non-empty line}; no response leaks a stack trace."""
    text = response.text or ""
    for leak in LEAKS:
        assert leak not in text, f"the response leaks {leak!r}: {text[:200]}"
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"a {response.status_code} without a JSON body: {text[:200]!r}") from None
        assert isinstance(body, dict) and set(body) == {"detail"}, f"not {{'detail': ...}}: {text[:200]}"
        detail = body["detail"]
        assert isinstance(detail, str) and detail.strip() and "\n" not in detail, f"detail is not a sentence: {detail!r}"


CHECKS = [not_a_server_error, detail_is_a_sentence]


@pytest.fixture(scope="module")
def app(assistant):
    return create_app(assistant.settings, assistant)


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def api_client(app):
    with asgi.get_client(app) as client:
        yield client


def fuzz(operation, mode: GenerationMode, session, max_examples: int = MAX_EXAMPLES) -> int:
    """Run ``max_examples`` generated requests against ``operation``; returns how many ran.

    Raises on the first failing check (Hypothesis then shrinks it to a minimal request)."""
    ran = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case) -> None:
        nonlocal ran
        ran += 1
        response = case.call(session=session)
        case.validate_response(response, checks=CHECKS)

    run()
    return ran


def test_every_endpoint_is_fuzzed(api_schema):
    labels = {op.ok().label for op in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)
    assert {"POST /api/ask", "GET /api/documents", "GET /api/documents/{doc}/pages/{page}", "GET /api/health",
            "GET /api/timeline"} <= labels


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_fuzz_finds_no_server_error(api_schema, api_client, label, mode):
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    takes_input = operation.path_parameters or operation.query or operation.body
    if mode is GenerationMode.NEGATIVE and not takes_input:
        pytest.skip("nothing to make invalid: the operation takes no input")
    assert fuzz(operation, mode, api_client) > 0


@pytest.mark.parametrize(
    "reply, found",
    [
        (JSONResponse({"detail": "boom"}, status_code=500), "Server error"),
        (JSONResponse({"detail": [{"msg": "a list, not a sentence"}]}, status_code=422), "detail is not a sentence"),
        (JSONResponse({"error": "no detail"}, status_code=400), "not {'detail': ...}"),
    ],
)
def test_the_fuzzer_catches_a_broken_endpoint(assistant, reply, found):
    """The harness can fail: an endpoint that answers some input badly is found and reported."""
    app = create_app(assistant.settings, assistant)

    @app.get("/api/fragile")
    def fragile(word: str = "") -> dict:
        return reply if len(word) > 2 else {"word": word}

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    with asgi.get_client(app) as client, pytest.raises((Exception, FailureGroup)) as failure:
        fuzz(schema["/api/fragile"]["GET"], GenerationMode.POSITIVE, client)
    report = "".join(traceback.format_exception(failure.value))
    assert found in report, report
