"""What a question to stiqa may be: the limits and the check that the pipeline, the API and
the CLI share. It imports nothing heavy, so that the CLI can refuse a bad question before it
loads the model."""

from __future__ import annotations

import unicodedata

MAX_QUESTION_CHARS = 1000
MAX_K = 50
MAX_DOCS = 100  # documents a question may be restricted to

__all__ = ["MAX_DOCS", "MAX_K", "MAX_QUESTION_CHARS", "BadQuestion", "check_question", "not_text"]


class BadQuestion(ValueError):
    """The request cannot be answered as asked; the message tells the user why."""


def not_text(ch: str) -> bool:
    """A control character (other than tab and newlines) or a lone UTF-16 surrogate."""
    o = ord(ch)
    return (o < 0x20 and ch not in "\t\n\r") or o == 0x7F or 0xD800 <= o <= 0xDFFF


def check_question(question: str) -> str:
    """The question trimmed, or BadQuestion saying what is wrong with it."""
    q = question.strip() if isinstance(question, str) else ""
    if any(not_text(c) for c in q):
        raise BadQuestion("the question contains control characters or invalid Unicode; send plain text")
    if not q:
        raise BadQuestion("the question is empty; type a question about the documents")
    if not any(unicodedata.category(c)[0] in "LN" for c in q):  # only marks, zero-width spaces…
        raise BadQuestion("the question has no words; type a question about the documents")
    if len(q) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"the question is {len(q)} characters long; the limit is {MAX_QUESTION_CHARS}"
        )
    return q
