"""Request and response bodies of the HTTP API (the /api/ask contract is in ../shared/eval/README.md)."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, Field

from stiqa.contract import AnswerOut, AskRequest, AskResponse, CitationOut, PassageOut

__all__ = ["AnswerOut", "AskRequest", "AskResponse", "CitationOut", "PassageOut"]  # the contract, defined once


def has_control_characters(text: str) -> bool:
    """True if ``text`` holds a control character (tab and newlines included) or a lone
    surrogate: never part of a document name or a filter value."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


class EventOut(BaseModel):
    date: str = Field(description='Start: "2024-02-16", "2024-02", "2024" or a fiscal year "FY2024".')
    end: str | None = Field(None, description="End of a range (「2014〜2018年度」), else null.")
    precision: str = Field(description="day, month, year, fiscal_year or season.")
    wording: str = Field(description="The date as written (NFKC), e.g. 令和6年2月.")
    text: str = Field(description="The clause the date belongs to, at most 80 characters.")
    status: Literal["planned", "done"] = Field(
        description="planned (worded as a plan, or after the document's date) or done."
    )
    citation: CitationOut = Field(description="The dated sentence: text[start:end] of the document.")


class TimelineResponse(BaseModel):
    events: list[EventOut] = Field(description="Sorted by date; fiscal years by their April start.")


class DocumentOut(BaseModel):
    name: str = Field(description="The document's id: its path under corpus/ (citation.doc).")
    title: str = Field(description="From the file's metadata or its first heading; empty for a skipped file.")
    format: str = Field(description="pdf, docx, html, markdown or text (decided by the file's content).")
    pages: int = Field(description="A PDF's pages; for the other formats, its sections (citations number them as pages).")
    passages: int
    date: str | None = Field(None, description="The date the document gives for itself (a meeting's 日時, a 発行日), ISO 8601.")
    status: Literal["indexed", "skipped"] = "indexed"
    reason: str | None = Field(None, description="Why a skipped file could not be read.")


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    model: str
    backend: str = Field(description="What runs the embedding model, e.g. 'onnx int8 smoothed (avx512_vnni kernels)' or 'torch fp32'.")
    index: str
    documents: int
    passages: int
    reload_error: str | None = Field(
        None,
        description="Why the last switch to a new index build failed (the server keeps the index it "
        "has); null when the build in use is the one <index_dir>/CURRENT names.",
    )
    uploads: bool = Field(False, description="Whether documents may be uploaded and deleted over HTTP (STIQA_ALLOW_UPLOADS).")
    replicas: int | None = Field(
        None, description="Under `stiqa serve --ray`: how many front-end replicas are live; null otherwise."
    )
    shards: list[int] | None = Field(
        None, description="Under `stiqa serve --ray`: for each shard of the build in use, how many of its "
        "replicas are live; null otherwise.",
    )


class ReloadResponse(BaseModel):
    index: str = Field(description="The index build now serving (its folder name under the index folder).")
    previous: str = Field(description="The build served before this request.")
    reloaded: bool = Field(description="False when CURRENT already named the build in use.")


class ErrorResponse(BaseModel):
    detail: str


class JobFileOut(BaseModel):
    name: str = Field(description="The document id.")
    status: Literal["queued", "indexed", "skipped", "removed"]
    reason: str | None = Field(None, description="Why a file was skipped.")
    passages: int | None = None


class JobResponse(BaseModel):
    id: str
    kind: Literal["add", "remove"]
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="done: the index was rebuilt and the server answers from it."
    )
    files: list[JobFileOut]
    progress: str = Field(description="The index build's last progress line.")
    index: str | None = Field(None, description="The build the job made.")
    error: str | None = None
    created: float
    finished: float | None = None
