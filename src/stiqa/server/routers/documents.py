"""The indexed documents: the list (with the files that could not be read), each one's
extracted text, and its original file.

A document is looked up among those of the loaded index by its id, never used as a
path: an id that is not indexed is a 404, whatever it holds.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, PlainTextResponse
from starlette.convertors import Convertor, register_url_convertor

from stiqa.records import Document
from stiqa.server.deps import get_assistant
from stiqa.server.schemas import (
    DocumentsResponse,
    ErrorResponse,
    has_control_characters,
)
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["documents"])


class DocumentIdConvertor(Convertor):
    """A document id in a path: folders ("/") and any other character, so that a name that
    cannot be an id (a line break, a NUL) reaches the endpoint and gets its 422, not a 404."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("docid", DocumentIdConvertor())

MAX_NAME_SHOWN = 80  # characters of an unknown name echoed in the 404
MAX_NAMES_LISTED = 20  # indexed names a 404 lists
# In the API docs only (no control characters; "/" separates folders); the endpoints check names themselves.
NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
DOC_PARAM_DESCRIPTION = "Document id, as in citation.doc: its path under corpus/ (e.g. sti-policy-2024.txt, moj/001374091.pdf)."
LOOKUP_ERRORS = {404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}  # of indexed_document
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}


def indexed_document(assistant: Assistant, doc: str) -> Document:
    """The indexed document ``doc``; 422 for a name that cannot be one, 404 for one not indexed."""
    if "\ufffd" in doc or has_control_characters(doc):
        # The server decodes the path leniently: bytes that are not UTF-8 arrive as U+FFFD.
        raise HTTPException(
            status_code=422,
            detail="the document name holds control characters or bytes that are not UTF-8; "
            "use a name from /api/documents",
        )
    document = assistant.document(doc)
    if document is None:
        names = assistant.names()
        more = len(names) - MAX_NAMES_LISTED
        listed = ", ".join(names[:MAX_NAMES_LISTED]) + (f" and {more} more" if more > 0 else "")
        shown = repr(doc if len(doc) <= MAX_NAME_SHOWN else doc[:MAX_NAME_SHOWN] + "…")
        raise HTTPException(status_code=404, detail=f"no document named {shown}; the indexed documents are: {listed}")
    return document


def doc_param() -> str:
    return PathParam(..., description=DOC_PARAM_DESCRIPTION, examples=["sti-policy-2024.txt"],
                     json_schema_extra={"pattern": NAME_PATTERN})


@router.get("/documents", response_model=DocumentsResponse, summary="The indexed documents")
def documents(assistant: Assistant = Depends(get_assistant)) -> dict:
    return {"documents": assistant.documents()}


TEXT_SUMMARY = "A document's text as stiqa extracted it: what citations' start and end index"


@router.get("/documents/{doc:docid}/text", response_class=PlainTextResponse, responses=LOOKUP_ERRORS, summary=TEXT_SUMMARY)
def document_text(doc: str = doc_param(), assistant: Assistant = Depends(get_assistant)) -> PlainTextResponse:
    return PlainTextResponse(assistant.text(indexed_document(assistant, doc).name) or "")


@router.get("/documents/{doc:docid}/file", response_class=FileResponse, responses=LOOKUP_ERRORS,
            summary="The document's original file, as it lies in corpus/")
def document_file(doc: str = doc_param(), assistant: Assistant = Depends(get_assistant)) -> FileResponse:
    document = indexed_document(assistant, doc)
    path = assistant.settings.corpus_dir / document.name
    if not path.is_file():
        raise HTTPException(status_code=404, detail=f"{document.name} is indexed but no longer in the corpus folder")
    return FileResponse(path, media_type=MEDIA_TYPES.get(document.format, "application/octet-stream"),
                        filename=path.name)
