"""One slide (page) of a document as repaired text, with where each of its passages lies in it.

Serves the web chat's source viewer. Only documents and pages of the loaded index are
readable: the name is looked up among the indexed documents, never used as a path.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from stiqa.ingest import ReadError
from stiqa.ingest.pdf import render_page, span_rects
from stiqa.server.deps import get_assistant
from stiqa.server.routers.documents import (
    DOC_PARAM_DESCRIPTION,
    LOOKUP_ERRORS,
    NAME_PATTERN,
    doc_param,
    indexed_document,
)
from stiqa.server.schemas import DocumentOut
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["documents"])
IMAGE_CACHE = 64  # rendered pages (and pages' rectangles) kept in memory

MAX_PAGE_DIGITS_SHOWN = 20


class PagePassageOut(BaseModel):
    id: str
    start: int = Field(description="Offset of the passage in this page's `text`.")
    end: int = Field(description="End offset: the passage is `text[start:end]` of the page.")
    rects: list[list[float]] | None = Field(
        None, description="PDF pages: where the passage lies on the page image, one [left, top, right, bottom] "
        "per line, as fractions of the image's width and height."
    )


class PageResponse(BaseModel):
    doc: str = Field(description="The document id: its path under corpus/.")
    page: int = Field(description="A PDF's page number; for formats without pages, the section number (from 1).")
    title: str = Field(description="The page's (slide's) title, or the section's heading.")
    text: str = Field(description="The page's repaired text (units joined by newlines).")
    passages: list[PagePassageOut] = Field(description="The indexed passages of this page, in order.")
    image: str | None = Field(None, description="PDF pages: the URL of the page's image (PNG).")


@router.get(
    "/documents/{doc:docid}/pages/{page}",
    response_model=PageResponse,
    responses=LOOKUP_ERRORS,
    summary="One page (slide) of a document, with its passages' offsets",
)
def document_page(
    doc: str = PathParam(
        ...,
        description=DOC_PARAM_DESCRIPTION,
        examples=["sti-policy-2024.txt"],
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
    page: int = PathParam(..., ge=1, examples=[1], description="A PDF's page number, or the section number for other formats, from 1."),
    assistant: Assistant = Depends(get_assistant),
) -> dict:
    document = indexed_document(assistant, doc)
    found = assistant.page(doc, page)
    if found is None:
        shown = page if page < 10**MAX_PAGE_DIGITS_SHOWN else f"{str(page)[:MAX_PAGE_DIGITS_SHOWN]}…"
        raise HTTPException(
            status_code=404, detail=f"{doc} has no page {shown}; its pages are 1-{len(document.pages)}"
        )
    spans = assistant.page_passages(doc, found.number)
    located = [{"id": pid, "start": a, "end": b} for pid, a, b, _, _ in spans]
    image = None
    if document.format == "pdf":
        image = f"/api/documents/{quote(document.name)}/pages/{found.number}/image"
        _add_rects(assistant, document.name, found.number, located, [(a, b) for *_, a, b in spans])
    return {"doc": found.doc, "page": found.number, "title": found.title, "text": found.text,
            "passages": located, "image": image}


def _add_rects(
    assistant: Assistant, doc: str, number: int, located: list[dict], cited: list[tuple[int, int]]
) -> None:
    """The page rectangles of each located passage: its citation's offsets (``cited``), less
    the page's start in the extracted text (pages are separated by form feeds there), are
    PDFium's character indices on the page."""
    text = assistant.text(doc) or ""
    page_start = 0
    for _ in range(number - 1):
        page_start = text.find("\f", page_start) + 1
    spans = [(a - page_start, b - page_start) for a, b in cited]
    path = assistant.settings.corpus_dir / doc
    try:
        rects = _rects(str(path), path.stat().st_mtime_ns, number, tuple(spans))
    except (OSError, ReadError):
        return  # the text stays; only the highlight on the image is missing
    for x, r in zip(located, rects):
        x["rects"] = [list(box) for box in r]


@lru_cache(maxsize=IMAGE_CACHE)
def _rects(path: str, mtime_ns: int, page: int, spans: tuple[tuple[int, int], ...]) -> list:
    return span_rects(Path(path).read_bytes(), page, list(spans))


MIN_SCALE, MAX_SCALE = 0.5, 3.0


@lru_cache(maxsize=IMAGE_CACHE)
def _rendered(path: str, mtime_ns: int, page: int, scale: float) -> bytes:
    """A rendered page, cached by the file's path and modification time (a replaced file renders anew)."""
    return render_page(Path(path).read_bytes(), page, scale)


@router.get(
    "/documents/{doc:docid}/pages/{page}/image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **LOOKUP_ERRORS},
    summary="A PDF page as a PNG image (for the page viewer)",
)
def page_image(
    doc: str = PathParam(..., description=DOC_PARAM_DESCRIPTION, json_schema_extra={"pattern": NAME_PATTERN}),
    page: int = PathParam(..., ge=1, description="The PDF page number, from 1."),
    scale: float = Query(1.5, ge=MIN_SCALE, le=MAX_SCALE, description="Pixels per PDF point (1.5: 108 dpi)."),
    assistant: Assistant = Depends(get_assistant),
) -> Response:
    document = indexed_document(assistant, doc)
    if document.format != "pdf":
        raise HTTPException(status_code=404, detail=f"{document.name} is a {document.format} document: only PDF pages have images")
    if page > document.page_count:
        raise HTTPException(status_code=404, detail=f"{document.name} has no page {page}; its pages are 1-{document.page_count}")
    path = assistant.settings.corpus_dir / document.name
    try:
        png = _rendered(str(path), path.stat().st_mtime_ns, page, scale)
    except (OSError, ReadError) as e:
        raise HTTPException(status_code=404, detail=f"{document.name} cannot be rendered: {e}") from e
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


# Last of the /documents/{doc}/... routes (this router is included after the documents
# router): its path also matches theirs, and the first route that matches answers.
@router.get("/documents/{doc:docid}", response_model=DocumentOut, responses=LOOKUP_ERRORS, summary="One document")
def document(doc: str = doc_param(), assistant: Assistant = Depends(get_assistant)) -> dict:
    name = indexed_document(assistant, doc).name
    return next(d for d in assistant.documents() if d["name"] == name)
