"""Score stiqa on a question set, so that any user can measure it on their own documents.

The figures are those of the shared harness (``../shared/eval/evaluate.py``, the reference):
a passage *hits* when it holds a gold answer after normalisation (NFKC, radical forms,
white space removed) and is at most 400 characters long; answer@1 reads the answer excerpt
(at most 200 characters); date@1 compares ``answer.date`` with the gold dates; abstain and
false abstain read ``answerable``. A question set is JSON lines in the harness's format
(``id``, ``question``, ``answers``, optional ``lang``, ``type``, ``dates``).

Citations are checked against the text stiqa extracted (``GET /api/documents/{doc}/text``,
or the index in-process): ``text[start:end]`` must hold the passage (80% of its character
4-grams, or a similarity of 0.8 as the harness tests plain text), and for a PDF lie on the
cited page. The harness checks PDFs against another
reader's text; this check is stricter about offsets and needs no PDF library.

The questions are asked either of an assistant in this process or of a running service at
a URL, through the same ``/api/ask`` contract.
"""

from __future__ import annotations

import difflib
import json
import statistics
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stiqa.client import ClientError
from stiqa.normalize import KANGXI_JAPANESE, RADICAL_VARIANTS, char_grams

MAX_PASSAGE_CHARS = 400  # a longer passage cannot count as a hit (the harness's rule)
MAX_ANSWER_CHARS = 200
CITATION_OVERLAP = 0.8  # share of a passage's 4-grams its cited span must hold
GRAM = 4
PAGE_BREAK = "\f"  # between the pages of a PDF's extracted text
_VARIANTS = str.maketrans({**RADICAL_VARIANTS, **{unicodedata.normalize("NFKC", k): v for k, v in KANGXI_JAPANESE.items()}})


class EvalError(ValueError):
    """A question set or a service that cannot be evaluated; the message says why."""


def match_key(text: str) -> str:
    """``text`` as answers are matched: NFKC, radical forms as ordinary kanji, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).translate(_VARIANTS).split())


def holds_answer(text: str, answers: Iterable[str]) -> bool:
    key = match_key(text)
    return any(match_key(a) and match_key(a) in key for a in answers)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    lang: str = "?"
    type: str = "?"
    dates: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def read_questions(path: Path) -> list[Question]:
    """The questions of a JSON-lines file; EvalError naming the line that is not one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise EvalError(f"cannot read {path}: {e}") from e
    questions = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(
                id=str(row.get("id", f"line{n}")),
                question=str(row["question"]),
                answers=tuple(str(a) for a in row.get("answers") or ()),
                lang=str(row.get("lang", "?")),
                type=str(row.get("type", "?")),
                dates=tuple(str(d) for d in row.get("dates") or ()),
            ))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise EvalError(f"{path}:{n}: not a question ({e.__class__.__name__}: {e}); "
                            'each line needs {"question": ..., "answers": [...]}') from e
    if not questions:
        raise EvalError(f"{path} holds no questions")
    return questions


class Target(Protocol):
    """What is evaluated: answers questions and gives documents' extracted text."""

    def ask(self, question: str, k: int) -> dict[str, Any]: ...

    def text(self, doc: str) -> str | None: ...


class LocalTarget:
    """An assistant loaded in this process."""

    def __init__(self, assistant: Any) -> None:
        self.assistant = assistant

    def ask(self, question: str, k: int) -> dict[str, Any]:
        return self.assistant.ask(question, k).to_dict()

    def text(self, doc: str) -> str | None:
        return self.assistant.text(doc)


def citation_ok(passage: dict[str, Any], text: str | None) -> bool:
    """The passage's citation points at text that holds it (and, in a PDF, on its page)."""
    c = passage.get("citation") or {}
    try:
        start, end, page = int(c["start"]), int(c["end"]), int(c["page"])
    except (KeyError, TypeError, ValueError):
        return False
    if text is None or not 0 <= start < end <= len(text):
        return False
    if PAGE_BREAK in text and text.count(PAGE_BREAK, 0, start) + 1 != page:
        return False
    cited, shown = match_key(text[start:end]), match_key(str(passage.get("text", "")))
    if not cited or not shown:
        return False
    wanted = char_grams(shown, GRAM)
    if len(wanted & char_grams(cited, GRAM)) / len(wanted) >= CITATION_OVERLAP:
        return True
    # Repair replaces characters (a vertical font's stand-in glyphs), which breaks 4-grams
    # but not the alignment: the harness's test for plain text.
    return difflib.SequenceMatcher(None, cited, shown, autojunk=False).ratio() >= CITATION_OVERLAP


@dataclass
class Outcome:
    """One question's result: what a per-question miss list shows."""

    id: str
    question: str
    lang: str
    type: str
    answerable: bool  # the gold: does the corpus answer it
    abstained: bool | None  # the response: answerable false (None: the request failed)
    rank: int | None = None  # of the first passage that holds an answer (answerable questions)
    answer_ok: bool | None = None
    date: str | None = None
    date_ok: bool | None = None
    top: str = ""  # the first passage's start
    error: str | None = None
    ms: float = float("nan")

    @property
    def problems(self) -> list[str]:
        """What went wrong, in the harness's words (MISS, NO-ABSTAIN, ...); empty if nothing."""
        if self.error:
            return ["ERROR"]
        if not self.answerable:
            return [] if self.abstained else ["NO-ABSTAIN"]
        found = []
        if self.rank != 1:
            found.append("MISS")
        if self.abstained:
            found.append("FALSE-ABSTAIN")
        elif not self.answer_ok:
            found.append("ANSWER")
        if self.date_ok is False:
            found.append("DATE")
        return found


@dataclass
class Report:
    summary: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "misses": [
            {**asdict(o), "problems": o.problems} for o in self.outcomes if o.problems
        ]}


def _mrr(ranks: list[int | None]) -> float:
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def evaluate(questions: list[Question], target: Target, k: int = 10) -> Report:
    """Ask every question of ``target`` and score the answers (see the module docstring)."""
    outcomes: list[Outcome] = []
    cites: list[bool] = []
    texts: dict[str, str | None] = {}
    for q in questions:
        o = Outcome(q.id, q.question, q.lang, q.type, q.answerable, None)
        t0 = time.perf_counter()
        try:
            data = target.ask(q.question, k)
        except (ClientError, OSError, ValueError) as e:  # Unreachable is an OSError
            o.error = str(e)
            outcomes.append(o)
            continue
        o.ms = (time.perf_counter() - t0) * 1000
        passages = data.get("passages") or []
        for p in passages[:k]:
            doc = str((p.get("citation") or {}).get("doc", ""))
            if doc not in texts:
                texts[doc] = target.text(doc)
            cites.append(citation_ok(p, texts[doc]))
        o.abstained = data.get("answerable") is False
        o.top = str(passages[0].get("text", ""))[:80].replace("\n", " ") if passages else ""
        if q.answerable:
            o.rank = next((i for i, p in enumerate(passages[:10], start=1)
                           if len(p.get("text", "")) <= MAX_PASSAGE_CHARS and holds_answer(p.get("text", ""), q.answers)),
                          None)
            answer = data.get("answer") or {}
            text = answer.get("text") or ""
            o.answer_ok = len(text) <= MAX_ANSWER_CHARS and holds_answer(text, q.answers)
            if q.dates:
                o.date = answer.get("date")
                o.date_ok = o.date in q.dates
        outcomes.append(o)
    return Report(summarise(outcomes, cites), outcomes)


def summarise(outcomes: list[Outcome], cites: list[bool]) -> dict[str, Any]:
    """The harness's summary figures of ``outcomes``, and MRR by language and by question type."""
    answerable = [o for o in outcomes if o.answerable]
    ranks = [o.rank for o in answerable]
    by_lang: dict[str, list[int | None]] = {}
    by_type: dict[str, list[int | None]] = {}
    for o in answerable:
        by_lang.setdefault(o.lang, []).append(o.rank)
        by_type.setdefault(o.type, []).append(o.rank)
    lat = sorted(o.ms for o in outcomes if o.ms == o.ms)
    return {
        "questions": len(outcomes),
        "hit1": _share([r == 1 for r in ranks]),
        "hit5": _share([r is not None and r <= 5 for r in ranks]),
        "mrr": _mrr(ranks),
        "answer1": _share([bool(o.answer_ok) for o in answerable]),
        "false_abstain": _share([bool(o.abstained) for o in answerable]),
        "abstain": _share([o.abstained is True for o in outcomes if not o.answerable]),
        "cite_ok": _share(cites),
        "date1": _share([bool(o.date_ok) for o in answerable if o.date_ok is not None]),
        "mrr_by_lang": {k: round(_mrr(v), 3) for k, v in sorted(by_lang.items())},
        "mrr_by_type": {k: round(_mrr(v), 3) for k, v in sorted(by_type.items())},
        "errors": sum(1 for o in outcomes if o.error),
        "p50_ms": statistics.median(lat) if lat else None,
        "p95_ms": lat[int(0.95 * (len(lat) - 1))] if lat else None,
    }


def format_report(report: Report, misses: bool = False) -> str:
    """The summary as aligned lines, then (with ``misses``) one block per question that missed."""
    lines = []
    for key, value in report.summary.items():
        if isinstance(value, float):
            lines.append(f"{key:14s} {value:.3f}")
        elif isinstance(value, dict):
            lines.append(f"{key:14s} " + "  ".join(f"{k} {v:.3f}" for k, v in value.items()))
        else:
            lines.append(f"{key:14s} {value}")
    if misses:
        for o in report.outcomes:
            if o.problems:
                extra = f" rank={o.rank}" if o.answerable else ""
                if o.date_ok is False:
                    extra += f" date={o.date}"
                lines.append(f"{'/'.join(o.problems)} {o.id}{extra} {o.question}")
                lines.append(f"    top: {o.error or o.top or '-'}")
    return "\n".join(lines)
