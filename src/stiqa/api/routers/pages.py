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
from ..schemas import ErrorResponse

router = APIRouter(tags=["documents"])


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
    doc: str = PathParam(..., description="Document name, as in citation.doc (e.g. sti-policy-2024.txt)."),
    page: int = PathParam(..., ge=1, description="Page (slide) number, from 1."),
    assistant: Assistant = Depends(get_assistant),
) -> dict:
    index = assistant.index
    document = next((d for d in index.documents if d.name == doc), None)
    if document is None:
        names = ", ".join(d.name for d in index.documents)
        raise HTTPException(status_code=404, detail=f"no document named {doc!r}; the indexed documents are: {names}")
    found = index.page(doc, page)
    if found is None:
        raise HTTPException(
            status_code=404, detail=f"{doc} has no page {page}; its pages are 1-{len(document.pages)}"
        )
    return {
        "doc": found.doc,
        "page": found.number,
        "title": found.title,
        "text": found.text,
        "passages": page_passages(found, index.passages),
    }
