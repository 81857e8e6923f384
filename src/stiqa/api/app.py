"""The FastAPI application: routers under /api, readable errors, the model loaded once."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..config import Settings
from ..pipeline import Assistant
from .routers import ask, documents, health, pages, timeline

log = logging.getLogger(__name__)

# The web chat (no build step): index.html, app.js, style.css at the repository's web/.
WEB_DIR = Path(__file__).resolve().parents[3] / "web"

# The chat's pages: no inline script or style, nothing from elsewhere, not framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
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


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request body"


def _message(exc: RequestValidationError) -> str:
    """One sentence a person can act on, from pydantic's error list."""
    msgs = []
    for err in exc.errors():
        kind = err.get("type", "")
        field = _field(tuple(err.get("loc", ())))
        if kind == "json_invalid":
            msgs.append("the request body is not valid JSON")
        elif kind == "missing":
            msgs.append(f"{field} is required")
        elif kind == "extra_forbidden":
            msgs.append(f"unknown field {field!r}")
        else:
            text = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
            msgs.append(f"{field}: {text}")
    return "; ".join(msgs) or "the request is invalid"


def create_app(
    settings: Settings | None = None, assistant: Assistant | None = None, web_dir: Path | None = WEB_DIR
) -> FastAPI:
    """Build the app; the assistant (model and index) is loaded once, at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "assistant", None) is None:
            app.state.assistant = Assistant.load(settings or Settings.from_env())
        yield

    app = FastAPI(
        title="stiqa",
        version=__version__,
        description="Cited answers from Japanese science, technology and innovation policy documents.",
        lifespan=lifespan,
    )
    app.state.assistant = assistant  # None: loaded at start-up (lifespan)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _message(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=500, content={"detail": "internal error; the server log has the details"})

    for router in (ask.router, documents.router, health.router, pages.router, timeline.router):
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
    return app
