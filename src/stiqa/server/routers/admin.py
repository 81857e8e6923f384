"""Operator actions: ``POST /api/admin/reload`` switches to the index build ``stiqa index`` made."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request

from stiqa.server.reload import ReloadFailed
from stiqa.server.schemas import ErrorResponse, ReloadResponse

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses={409: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    summary="Load the index build that <index_dir>/CURRENT names now",
)
async def reload(request: Request) -> dict:
    """Switch this server process to the build ``stiqa index`` last completed, at once (the
    server also looks for one every STIQA_WATCH_SECONDS). Requests already running finish on
    the old index. A build that cannot be used is refused with 409 and the reason; the server
    keeps the index it has. With several uvicorn workers this reloads the worker that answers;
    the others follow through their own watch."""
    reloader = getattr(request.app.state, "reloader", None)
    if reloader is None:
        raise HTTPException(status_code=503, detail="the server is still starting; try again shortly")
    try:
        outcome = await reloader.reload(retry=True)
    except ReloadFailed as e:
        raise HTTPException(status_code=409, detail=str(e)) from e
    return asdict(outcome)
