from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from stiqa.server.deps import get_assistant
from stiqa.server.schemas import HealthResponse
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="Liveness and what is loaded")
def health(request: Request, assistant: Assistant = Depends(get_assistant)) -> dict:
    """``index`` is the build in use (its folder under the index folder); on a cluster the
    assistant adds its live ``replicas`` and ``shards``."""
    reloader = getattr(request.app.state, "reloader", None)
    return {
        "status": "ok",
        "replicas": None,
        "shards": None,
        **assistant.status(),
        "reload_error": reloader.error if reloader is not None else None,
        "uploads": assistant.settings.allow_uploads,
    }
