from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from stiqa.questions import BadQuestion
from stiqa.server.deps import get_assistant
from stiqa.server.schemas import AskRequest, AskResponse, ErrorResponse
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["ask"])
INDEX_HEADER = "X-Stiqa-Index"


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={422: {"model": ErrorResponse}},
    summary="Answer a question with cited passages",
)
async def ask(body: AskRequest, request: Request, assistant: Assistant = Depends(get_assistant)) -> JSONResponse:
    request.state.question = body.question  # for the request log (its length; the text if enabled)
    try:
        result = await assistant.ask_async(body.question, body.k, body.mode, body.docs)
    except BadQuestion as e:
        raise HTTPException(status_code=422, detail=str(e)) from e
    timing = ", ".join(f"{name.removesuffix('_ms')};dur={ms:.2f}" for name, ms in result.timings.items())
    # Returned as is: the body is built to the AskResponse shape (records.AskResult.to_dict)
    # and tests check it against the schema, so it is not validated again on every request.
    # X-Stiqa-Index: the build that answered (a whole request is answered by one build, also
    # while a new one is switched to).
    return JSONResponse(result.to_dict(), headers={"Server-Timing": timing, INDEX_HEADER: assistant.build_id})
