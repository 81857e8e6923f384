from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from stiqa.server.deps import get_assistant
from stiqa.server.schemas import HealthResponse
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="Liveness and what is loaded")
def health(request: Request, assistant: Assistant = Depends(get_assistant)) -> dict:
    """``index`` is the build in use (its folder under the index folder); ``replicas`` comes
    from whoever deployed the app (``app.state.live_replicas``, set on Ray Serve)."""
    reloader = getattr(request.app.state, "reloader", None)
    live_replicas = getattr(request.app.state, "live_replicas", None)
    return {
        "status": "ok",
        **assistant.status(),
        "reload_error": reloader.error if reloader is not None else None,
        "uploads": assistant.settings.allow_uploads,
        "replicas": live_replicas() if live_replicas is not None else None,
    }
