"""The /api/ask contract, defined once: the request and the response as pydantic models.

The HTTP API validates requests and documents both with them, the pipeline's results are
dumped through :class:`AskResponse` (:meth:`stiqa.records.AskResult.to_dict`), and the CLI
prints that same body; the shared harness's README (../shared/eval/README.md) fixes its shape.
A foundation module: it imports only the other foundation modules.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stiqa.config import Mode
from stiqa.questions import (
    MAX_DOCS,
    MAX_K,
    MAX_QUESTION_CHARS,
    BadQuestion,
    check_question,
)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ...,
        description=f"A question about the documents, at most {MAX_QUESTION_CHARS} characters.",
        examples=["即時オープンアクセスはいつから？"],
    )
    k: int = Field(5, ge=1, le=MAX_K, strict=True, description="How many passages to return.")
    mode: Mode | None = Field(
        None, description="Ranking: dense vectors, BM25 words, or both fused (the default)."
    )
    docs: list[str] | None = Field(
        None, min_length=1, max_length=MAX_DOCS,
        description="Search only these documents (ids as in citation.doc and GET /api/documents); all if absent.",
        examples=[["sti-policy-2024.txt"]],
    )

    @field_validator("question")
    @classmethod
    def _question(cls, v: str) -> str:
        try:
            return check_question(v)
        except BadQuestion as e:
            raise ValueError(str(e)) from e


class CitationOut(BaseModel):
    doc: str = Field(description="The document's id: its path under corpus/ (folders separated by '/').")
    page: int = Field(
        description="The PDF page number, from 1. Formats without pages (Word, HTML, Markdown, plain "
        "text) number their sections (the parts under each heading) instead, from 1; plain text "
        "splits pages at form feeds."
    )
    section: str = Field(description="The heading the passage is under (a slide's title, a section's heading).")
    start: int = Field(
        description="Offset of the passage in the document's text as stiqa extracted it (Python str "
        "index), which GET /api/documents/{doc}/text returns; for plain text and Markdown that is the "
        "decoded file itself."
    )
    end: int = Field(description="End offset: the passage came from text[start:end].")


class PassageOut(BaseModel):
    id: str
    rank: int
    score: float
    text: str
    citation: CitationOut


class AnswerOut(BaseModel):
    text: str = Field(description="The shortest excerpt that answers, at most 200 characters.")
    passage_id: str
    date: str | None = Field(
        None, description="The normalised date when the question asks when: a range's start, or its end when the "
        "question asks until when."
    )
    end_date: str | None = Field(None, description="The end of the range when the answer's date is one.")


class AskResponse(BaseModel):
    question: str
    answerable: bool = Field(description="False when the documents do not answer the question.")
    answer: AnswerOut | None
    passages: list[PassageOut]
    took_ms: float
