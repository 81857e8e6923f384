from __future__ import annotations

from fastapi import APIRouter, Depends

from ... import __version__
from ...pipeline import Assistant
from ..deps import get_assistant
from ..schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="Liveness and what is loaded")
def health(assistant: Assistant = Depends(get_assistant)) -> dict:
    index = assistant.index
    return {
        "status": "ok",
        "version": __version__,
        "model": index.manifest.model,
        "index": index.path.name,
        "documents": len(index.documents),
        "passages": len(index.passages),
    }
