"""What every request passes through before a router: the request log, a body limit,
per-client rate limiting and the API key.

Plain ASGI middleware (no per-request ``BaseHTTPMiddleware`` task), so the cost on
a 10 ms request stays in microseconds. :func:`add_middleware` puts them in order.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from datetime import datetime, timezone

from fastapi import FastAPI
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stiqa.config import Settings

ACCESS_LOG = "stiqa.access"
OPEN_PATHS = ("/api/health",)  # for load balancers: no key, no rate limit

access_log = logging.getLogger(ACCESS_LOG)


async def _reply(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra],
    })
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def _guarded(scope: Scope) -> bool:
    """An API call that the key and the rate limit apply to (not health, not the web page)."""
    if scope["type"] != "http":
        return False
    path = scope["path"]
    return path.startswith("/api/") and path not in OPEN_PATHS


class RequestLog:
    """One JSON line per request: time, method, path, status, latency, client, question length.

    The question's text is logged only when ``log_questions`` is set; routers
    put what they know in ``request.state`` (``question``) for this line.
    """

    def __init__(self, app: ASGIApp, log_questions: bool = False) -> None:
        self.app = app
        self.log_questions = log_questions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 499  # no response: the client went away first (nginx's code for it)
        state = scope.setdefault("state", {})

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except BaseException:
            status = 500
            raise
        finally:
            line = {
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round((time.perf_counter() - t0) * 1000, 2),
                "client": (scope.get("client") or ("-", 0))[0],
            }
            question = state.get("question")
            if isinstance(question, str):
                line["question_chars"] = len(question)
                if self.log_questions:
                    line["question"] = question
            access_log.info(json.dumps(line, ensure_ascii=False))


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 and a JSON message, before any of it is parsed.

    The body is read here (up to the limit) and handed on whole, so a chunked
    upload without Content-Length is held to the same limit. (FastAPI's own
    ``max_body_size`` answers with plain text, unlike every other error here.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads or {}  # path -> the larger limit of the uploads POSTed there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.uploads.get(scope["path"], self.max_bytes) if scope["method"] == "POST" else self.max_bytes
        too_big = f"the request body is larger than the limit of {limit} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reply(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)


class RateLimit:
    """Per-client request rate on the API (a moving window), 429 with Retry-After past it.

    A client is its address. Counts are per process: with several workers each
    one allows the full rate.
    """

    def __init__(self, app: ASGIApp, rate: str) -> None:
        self.app = app
        self.item = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _guarded(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("-", 0))[0]
        if not self.limiter.hit(self.item, client):
            reset = self.limiter.get_window_stats(self.item, client).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            await _reply(
                send, 429, f"too many requests: the limit is {self.item}; retry in {wait} s",
                {"Retry-After": str(wait)},
            )
            return
        await self.app(scope, receive, send)


class ApiKey:
    """With a key configured, /api/* (except health) needs ``Authorization: Bearer <key>``
    or ``X-API-Key: <key>``, compared in constant time."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode()

    def allowed(self, scope: Scope) -> bool:
        given = _header(scope, b"x-api-key")
        if given is None:
            scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
            given = token.strip() if scheme.lower() == "bearer" else ""
        return hmac.compare_digest(given.encode("latin-1"), self.key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _guarded(scope) or self.allowed(scope):
            await self.app(scope, receive, send)
            return
        await _reply(
            send, 401, "this API needs a key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            {"WWW-Authenticate": 'Bearer realm="stiqa"'},
        )


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app``, outermost first: request log, CORS, body limit, rate limit, API key.

    CORS sits outside the key so browsers' preflight requests (which carry no
    key) are answered; the rate limit sits outside the key so guessing keys is
    limited too.
    """
    layers: list[tuple[type, dict[str, object]]] = []
    if settings.api_key:
        layers.append((ApiKey, {"key": settings.api_key}))
    if settings.rate_limit:
        layers.append((RateLimit, {"rate": settings.rate_limit}))
    uploads = {"/api/documents": settings.max_upload_bytes} if settings.allow_uploads else {}
    layers.append((BodyLimit, {"max_bytes": settings.max_body_bytes, "uploads": uploads}))
    if settings.cors_origins:
        layers.append((CORSMiddleware, {
            "allow_origins": list(settings.cors_origins),
            "allow_methods": ["GET", "POST", "DELETE"],
            "allow_headers": ["Authorization", "X-API-Key", "Content-Type"],
            "expose_headers": ["Server-Timing", "Retry-After"],
            "max_age": 600,
        }))
    layers.append((RequestLog, {"log_questions": settings.log_questions}))
    for cls, options in layers:  # add_middleware wraps: the last added is the outermost
        app.add_middleware(cls, **options)
