"""The documents' dated statements as a timeline: ``GET /api/timeline``."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from stiqa.server.deps import get_assistant
from stiqa.server.schemas import ErrorResponse, TimelineResponse, has_control_characters
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["timeline"])

FILTERS = ("from", "to", "q", "status")
MAX_BOUND_CHARS = 20  # "2024-02-16" with room for spaces around it
MAX_QUERY_CHARS = 200
# For the API docs (and schema-driven clients and fuzzers) only: the endpoint checks the
# values itself, so that a bad one gets a sentence naming the format, not a regex.
BOUND_PATTERN = r"^([0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)?$"


def plain_text_filters(request: Request) -> None:
    """A 422 for a filter sent as bytes that are not UTF-8 or holding control characters.

    Read from the raw query string: Starlette decodes it leniently (bad bytes become U+FFFD),
    which would turn garbage into an innocent-looking search. Other parameters are ignored.
    """
    for part in request.scope.get("query_string", b"").split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8", "replace")
        if name not in FILTERS:
            continue
        try:
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(
                status_code=422, detail=f"{name} is not valid UTF-8; percent-encode the text as UTF-8"
            ) from None
        if has_control_characters(value):
            raise HTTPException(
                status_code=422, detail=f"{name} contains control characters or invalid Unicode; send plain text"
            )


@router.get(
    "/timeline",
    response_model=TimelineResponse,
    responses={422: {"model": ErrorResponse}},
    summary="Dated statements of the documents",
    dependencies=[Depends(plain_text_filters)],
)
def timeline(
    from_: str = Query(
        "",
        alias="from",
        max_length=MAX_BOUND_CHARS,
        description="Only events that reach this date or later: YYYY, YYYY-MM or YYYY-MM-DD.",
        json_schema_extra={"pattern": BOUND_PATTERN},
    ),
    to: str = Query(
        "",
        max_length=MAX_BOUND_CHARS,
        description="Only events that start by this date: YYYY, YYYY-MM or YYYY-MM-DD.",
        json_schema_extra={"pattern": BOUND_PATTERN},
    ),
    q: str = Query(
        "",
        max_length=MAX_QUERY_CHARS,
        description="Words the event's text, date wording or section contains.",
    ),
    status: str = Query(
        "", max_length=MAX_BOUND_CHARS, description="planned or done.", json_schema_extra={"pattern": "^(planned|done)?$"}
    ),
    assistant: Assistant = Depends(get_assistant),
) -> dict:
    try:
        events = assistant.timeline(from_ or None, to or None, q or None, status or None)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from e
    return {"events": [e.to_dict() for e in events]}
