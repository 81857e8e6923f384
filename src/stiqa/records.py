"""Plain records that flow from the corpus to the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Citation:
    """Where a passage came from: ``original_text[start:end]`` of ``doc``."""

    doc: str
    page: int
    section: str
    start: int
    end: int


@dataclass
class Sentence:
    text: str
    start: int
    end: int


@dataclass
class Passage:
    id: str
    text: str
    citation: Citation
    sentences: list[Sentence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        return cls(
            id=d["id"],
            text=d["text"],
            citation=Citation(**d["citation"]),
            sentences=[Sentence(**s) for s in d.get("sentences", [])],
        )


@dataclass
class Page:
    """One slide (or page) of a document, repaired."""

    doc: str
    number: int
    title: str
    text: str
    start: int
    end: int


@dataclass
class Document:
    name: str  # the id: the file's path under corpus/
    title: str  # the title the document gives itself; "" when it has none
    pages: list[Page]  # the pages (or sections) that hold text
    sha256: str  # of the extracted text
    format: str = "text"  # pdf, docx, html, markdown or text
    page_count: int = 0  # a PDF's pages, empty ones too; the sections of other formats
    date: str | None = None  # the date the document gives for itself (ISO 8601)


@dataclass
class Hit:
    """A retrieved passage with its score and rank for one question."""

    passage: Passage
    score: float
    rank: int
    dense: float | None = None
    lexical: float | None = None


@dataclass
class Answer:
    text: str
    passage_id: str
    date: str | None = None  # one date: a range's start, or its end for "until when"
    end_date: str | None = None  # the range's end, when the date is the start of one


@dataclass
class AskResult:
    question: str
    answerable: bool
    answer: Answer | None
    hits: list[Hit]
    took_ms: float
    timings: dict[str, float] = field(default_factory=dict)
    evidence: Any = None  # answer.Evidence: why it answered or abstained

    def to_dict(self) -> dict[str, Any]:
        """The ``/api/ask`` response body, checked against the contract (:mod:`stiqa.contract`)."""
        from stiqa.contract import (
            AskResponse,  # pydantic: loaded when the first answer is given
        )

        return AskResponse.model_validate({
            "question": self.question,
            "answerable": self.answerable,
            "answer": asdict(self.answer) if self.answer else None,
            "passages": [
                {
                    "id": h.passage.id,
                    "rank": h.rank,
                    "score": round(h.score, 4),
                    "text": h.passage.text,
                    "citation": asdict(h.passage.citation),
                }
                for h in self.hits
            ],
            "took_ms": round(self.took_ms, 2),
        }).model_dump()
