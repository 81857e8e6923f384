"""One slide (page) of a document as repaired text, with where each of its passages lies in it.

Serves the web chat's source viewer. Only documents and pages of the loaded index are
readable: the name is looked up among the indexed documents, never used as a path.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from ...pipeline import Assistant
from ...records import Page, Passage
from ..deps import get_assistant
from ..schemas import ErrorResponse, has_control_characters

router = APIRouter(tags=["documents"])

MAX_NAME_SHOWN = 80  # characters of an unknown name echoed in the 404
MAX_PAGE_DIGITS_SHOWN = 20
# In the API docs only (no control characters, no slash); the endpoint checks names itself.
NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f/]+$"


class PagePassageOut(BaseModel):
    id: str
    start: int = Field(description="Offset of the passage in this page's `text`.")
    end: int = Field(description="End offset: the passage is `text[start:end]` of the page.")


class PageResponse(BaseModel):
    doc: str = Field(description="File name under corpus/.")
    page: int = Field(description="Page (slide) number, from 1.")
    title: str = Field(description="The slide title.")
    text: str = Field(description="The slide's repaired text (units joined by newlines).")
    passages: list[PagePassageOut] = Field(description="The indexed passages of this page, in order.")


def locate(page_text: str, passage: Passage, hint: int | None = None) -> tuple[int, int] | None:
    """Where ``passage`` lies in ``page_text``: its sentences found in order.

    A sentence may occur more than once on a slide (a repeated heading), so every
    occurrence of the first sentence is tried and the one nearest ``hint`` (the
    passage's offset in the original page, which repair shifts only a little) wins.
    """
    parts = [s.text for s in passage.sentences if s.text] or [passage.text]
    found: list[tuple[int, int]] = []
    at = page_text.find(parts[0])
    while at != -1:
        cursor, ok = at + len(parts[0]), True
        for part in parts[1:]:
            i = page_text.find(part, cursor)
            if i == -1:
                ok = False
                break
            cursor = i + len(part)
        if ok:
            found.append((at, cursor))
        at = page_text.find(parts[0], at + 1)
    if not found:
        return None
    return min(found, key=lambda span: abs(span[0] - hint)) if hint is not None else found[0]


def page_passages(page: Page, passages: list[Passage]) -> list[dict]:
    out = []
    for p in passages:
        if p.citation.doc != page.doc or p.citation.page != page.number:
            continue
        span = locate(page.text, p, hint=p.citation.start - page.start)
        if span is not None:
            out.append({"id": p.id, "start": span[0], "end": span[1]})
    return out


@router.get(
    "/documents/{doc}/pages/{page}",
    response_model=PageResponse,
    responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="One page (slide) of a document, with its passages' offsets",
)
def document_page(
    doc: str = PathParam(
        ...,
        description="Document name, as in citation.doc (e.g. sti-policy-2024.txt).",
        examples=["sti-policy-2024.txt"],
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
    page: int = PathParam(..., ge=1, examples=[1], description="Page (slide) number, from 1."),
    assistant: Assistant = Depends(get_assistant),
) -> dict:
    if "\ufffd" in doc or has_control_characters(doc):
        # The server decodes the path leniently: bytes that are not UTF-8 arrive as U+FFFD.
        raise HTTPException(
            status_code=422,
            detail="the document name holds control characters or bytes that are not UTF-8; "
            "use a name from /api/documents",
        )
    index = assistant.index
    document = next((d for d in index.documents if d.name == doc), None)
    if document is None:
        names = ", ".join(d.name for d in index.documents)
        shown = repr(doc if len(doc) <= MAX_NAME_SHOWN else doc[:MAX_NAME_SHOWN] + "…")
        raise HTTPException(status_code=404, detail=f"no document named {shown}; the indexed documents are: {names}")
    found = index.page(doc, page)
    if found is None:
        shown = page if page < 10**MAX_PAGE_DIGITS_SHOWN else f"{str(page)[:MAX_PAGE_DIGITS_SHOWN]}…"
        raise HTTPException(
            status_code=404, detail=f"{doc} has no page {shown}; its pages are 1-{len(document.pages)}"
        )
    return {
        "doc": found.doc,
        "page": found.number,
        "title": found.title,
        "text": found.text,
        "passages": page_passages(found, index.passages),
    }
