"""The documents' dated statements as a timeline: ``GET /api/timeline``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from ...events import filter_events
from ...pipeline import Assistant
from ..deps import get_assistant
from ..schemas import TimelineResponse

router = APIRouter(tags=["timeline"])


@router.get("/timeline", response_model=TimelineResponse, summary="Dated statements of the documents")
def timeline(
    from_: str | None = Query(
        None, alias="from", description="Only events that reach this date or later: YYYY, YYYY-MM or YYYY-MM-DD."
    ),
    to: str | None = Query(None, description="Only events that start by this date: YYYY, YYYY-MM or YYYY-MM-DD."),
    q: str | None = Query(None, description="Words the event's text, date wording or section contains."),
    status: str | None = Query(None, description="planned or done."),
    assistant: Assistant = Depends(get_assistant),
) -> dict:
    try:
        events = filter_events(assistant.events, from_ or None, to or None, q, status or None)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from e
    return {"events": [e.to_dict() for e in events]}
