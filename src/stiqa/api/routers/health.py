from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ... import __version__
from ...pipeline import Assistant
from ..deps import get_assistant
from ..schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="Liveness and what is loaded")
def health(request: Request, assistant: Assistant = Depends(get_assistant)) -> dict:
    """``index`` is the build in use (its folder under the index folder)."""
    index = assistant.index
    reloader = getattr(request.app.state, "reloader", None)
    return {
        "status": "ok",
        "version": __version__,
        "model": index.manifest.model,
        "backend": assistant.embedder.backend,
        "index": index.path.name,
        "documents": len(index.documents),
        "passages": len(index.passages),
        "reload_error": reloader.error if reloader is not None else None,
        "uploads": assistant.settings.allow_uploads,
    }
