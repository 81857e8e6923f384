"""The FastAPI application: routers under /api, readable errors, the model loaded once."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stiqa import __version__
from stiqa.config import Settings
from stiqa.server.jobs import Jobs
from stiqa.server.middleware import add_middleware
from stiqa.server.reload import IndexReloader
from stiqa.server.routers import (
    admin,
    ask,
    collection,
    documents,
    health,
    pages,
    timeline,
)
from stiqa.service.assistant import Assistant

log = logging.getLogger(__name__)

def web_dir() -> Path | None:
    """The web chat (no build step: index.html, style.css and the ES modules app.js imports):
    the repository's web/, shipped as the package data ``stiqa.web`` (see pyproject.toml);
    None if it is missing."""
    try:
        return Path(str(resources.files("stiqa.web")))
    except ModuleNotFoundError:
        return None


WEB_DIR = web_dir()

# The chat's pages: no inline script or style, nothing from elsewhere, not framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the CSP (and friends) to the web chat's responses; /api and the API docs are left alone
    (Swagger UI at /docs needs inline script)."""

    def __init__(self, app: ASGIApp, skip: tuple[str, ...]) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _shown(text: str, limit: int = 40) -> str:
    """``text`` for an error message: quoted, escaped, and cut when it is long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request body"


_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_MAX_PROBLEMS = 3  # a body with a thousand unknown fields gets one short message, not a thousand


def _is_json(content_type: str | None) -> bool:
    kind = (content_type or "application/json").split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _message(exc: RequestValidationError, content_type: str | None = None) -> str:
    """One sentence a person can act on, from pydantic's error list."""
    msgs = []
    for err in exc.errors():
        kind = err.get("type", "")
        loc = tuple(err.get("loc", ()))
        field = _field(loc)
        if kind == "json_invalid":
            msgs.append("the request body is not valid JSON")
        elif kind in _NOT_AN_OBJECT and loc == ("body",) and not _is_json(content_type):
            msgs.append("the request body must be a JSON object sent with Content-Type: application/json")
        elif kind == "missing":
            msgs.append(f"{field} is required")
        elif kind == "extra_forbidden":
            msgs.append(f"unknown field {_shown(field)}")
        else:
            text = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
            msgs.append(f"{_shown(field)[1:-1]}: {text}")
    if len(msgs) > _MAX_PROBLEMS:
        msgs = [*msgs[:_MAX_PROBLEMS], f"and {len(msgs) - _MAX_PROBLEMS} more problems"]
    return "; ".join(msgs) or "the request is invalid"


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    """FastAPI's bare 400 "There was an error parsing the body" (bytes that are not UTF-8, a
    number too long to convert, JSON nested too deep) as a sentence that says what to fix."""
    if exc.status_code != 400 or exc.detail != "There was an error parsing the body" or exc.__cause__ is None:
        return None
    if isinstance(exc.__cause__, UnicodeDecodeError):
        return "the request body is not valid UTF-8; send JSON encoded as UTF-8"
    return "the request body could not be read as JSON (a number too long or nesting too deep)"


def create_app(
    settings: Settings | None = None, assistant: Assistant | None = None, web_dir: Path | None = WEB_DIR
) -> FastAPI:
    """Build the app; the assistant (model and index) is loaded once, at start-up."""
    if settings is None:
        settings = assistant.settings if assistant is not None else Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = getattr(app.state, "assistant", None) is None
        if owned:
            app.state.assistant = Assistant.load(settings)
        # Follow `stiqa index`: a new build named by <index_dir>/CURRENT replaces the assistant
        # between two requests (see reload.py); POST /api/admin/reload does it at once.
        app.state.reloader = reloader = IndexReloader(app.state)
        reloader.start(settings.watch_seconds)
        app.state.jobs = jobs = Jobs()
        try:
            yield
        finally:
            # Uvicorn has let the requests in flight finish (timeout_graceful_shutdown).
            await asyncio.to_thread(jobs.close)  # a build under way finishes; its switch is not waited for
            await reloader.stop()
            if owned:  # an assistant given to create_app is its caller's to close
                await asyncio.to_thread(app.state.assistant.close)

    app = FastAPI(
        title="stiqa",
        version=__version__,
        description="Cited answers from Japanese science, technology and innovation policy documents.",
        lifespan=lifespan,
    )
    app.state.assistant = assistant  # None: loaded at start-up (lifespan)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _message(exc, request.headers.get("content-type"))
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return JSONResponse(status_code=422, content={"detail": unreadable})
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"detail": "internal error; the server log has the details"})

    for router in (admin.router, ask.router, collection.router, documents.router, health.router, pages.router,
                   timeline.router):
        app.include_router(router, prefix="/api")
    # The chat: its page at /, its script and style under /static/ (not a catch-all mount at /,
    # which would answer for /api paths too). Without web/ the API still runs.
    if web_dir is not None and (web_dir / "index.html").is_file():
        page = web_dir / "index.html"

        @app.get("/", include_in_schema=False)
        def chat_page() -> FileResponse:
            return FileResponse(page, media_type="text/html; charset=utf-8")

        app.mount("/static", StaticFiles(directory=web_dir), name="web")
    elif web_dir is not None:
        log.warning("web chat not served: %s has no index.html", web_dir)
    docs = tuple(u for u in (app.docs_url, app.redoc_url, app.openapi_url) if u)
    app.add_middleware(SecurityHeaders, skip=("/api/", *docs))
    add_middleware(app, settings)
    return app
