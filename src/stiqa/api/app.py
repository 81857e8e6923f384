"""The FastAPI application: routers under /api, readable errors, the model loaded once."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings
from ..pipeline import Assistant
from .routers import ask, documents, health


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


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Build the app; the assistant (model and index) is loaded once, at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if assistant is not None:
            app.state.assistant = assistant
        else:
            app.state.assistant = Assistant.load(settings or Settings.from_env())
        yield

    app = FastAPI(
        title="stiqa",
        version=__version__,
        description="Cited answers from Japanese science, technology and innovation policy documents.",
        lifespan=lifespan,
    )

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

    for router in (ask.router, documents.router, health.router):
        app.include_router(router, prefix="/api")
    return app
