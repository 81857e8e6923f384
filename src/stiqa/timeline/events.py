"""A timeline of the indexed documents: every dated statement as an event.

Each sentence of the index is read with :func:`stiqa.dates.find_dates`, one sentence at a
time (so a month or day written without a year is dated only from a year written earlier
in the *same* sentence; a timeline line such as 「6/1 着任」 is skipped, never guessed). Each
date becomes an :class:`Event`: the date as :func:`~stiqa.dates.answer_date` writes it
("2024-02-16", "2024-02", "2024", "FY2024"), the wording it came from, the clause it dates,
whether it is planned or done, and the citation of its sentence.

The clause is cut from the sentence by the shape of the writing:

* ``X(date ...)``: the words before the parenthesis, back to the start of the clause (line,
  、 or 。 outside brackets, or the previous date), or just the 「quoted title」 when they end
  with one; what the parenthesis says about this date (閣議決定, 補正予算, 改訂) is kept in
  brackets: 「バイオ戦略(統合イノベーション戦略推進会議決定)」;
* ``date X``: the words after the date to the end of the sentence (or the next date), less a
  leading particle: 「2023年4月14日 統合イノベーション戦略推進会議「量子未来産業創出戦略」決定」
  gives 「統合イノベーション戦略推進会議「量子未来産業創出戦略」決定」;
* a date in the middle of a clause: the clause, date included;
* a slide that writes the subject on one line and the date on the next (「量子未来社会ビジョン」
  then 「(2020年4月)」, or a law's name then 「令和4年5月18日成立・11月15日施行」) borrows the
  line before; the citation then covers both sentences;
* a sentence that is nothing but a date (the year labels of a table) yields no event.

Brackets listing ministries (「(総務省・外務省)」) are dropped and a text longer than
:data:`MAX_TEXT` keeps its first and last clauses around "…".

**Status.** An event is ``"planned"`` when its text or date wording says so (予定, 見込み,
目指す, 目途, 目標, 今後 ...) or when it starts after the document's own date; else ``"done"``.

**The document's date** is not written on the slides, so it is derived: the latest date of
day or month precision whose wording does not mark it as planned. A deck reports what has
been decided up to its meeting and plans from then on, so its last past event dates it.
For the bundled deck that is 令和6年2月16日 (the open-access policy decision): 2024-02-16;
「令和6年2月 CSTI本会議にてパッケージの改定(予定)」 and 「2024年3月予定」 do not count, and
fiscal years (FY2024 budgets) are too coarse to date a document. :func:`build_events` takes
``document_dates`` to set it instead.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date as Date
from typing import TYPE_CHECKING, Any

from stiqa.dates import DateMention, find_dates, iso_span
from stiqa.normalize import normalize_query
from stiqa.records import Citation

if TYPE_CHECKING:
    from stiqa.index import Index

__all__ = [
    "STATUSES",
    "Event",
    "build_events",
    "document_dates",
    "filter_events",
    "parse_bound",
    "span",
]

STATUSES = ("planned", "done")
MAX_TEXT = 80
# Wording that puts an event in the future (checked on the event's text and date wording).
PLAN_RE = re.compile(r"予定|見込み|見込|見通し|目指す|目指し|目途|目処|めど|目標|今後")

_BOUND_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_VALUE_RE = re.compile(r"(FY)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_OPEN, _CLOSE = "(「『[“【<", ")」』]”】>"
_PAIR = dict(zip(_CLOSE, _OPEN))
# Marks that start a list item or a line: 1. ① ・ ➢ ※ ■ 〇 ●
_MARKERS = re.compile(r"^(?:\s|[・•➢■□●〇○◆◇※▶►\-]|\d{1,2}[.)](?!\d)|[①-⑳])+")
_LEADING = ("には", "にて", "では", "から", "まで", "より", "は", "に", "の", "を", "で", "や", "と", "及び", "並びに")
_TRIM = " \t\n、,・:;。"
# A bracket that only lists who is responsible: (総務省・外務省), (全関係府省).
_WHO = re.compile(r"[ \t]?\((?:[^()\d]*?(?:省|庁|府|委員会|幹事会|事務局|機関|府省))\)")


@dataclass(frozen=True)
class Event:
    """One dated statement of a document.

    ``date``/``end`` are :func:`stiqa.dates.answer_date`-style values ("2024-02-16",
    "2024-02", "2024", "FY2024"); ``end`` is set for ranges only (「2014〜2018年度」).
    ``citation`` is the sentence the date was read from (offsets into the original file).
    """

    date: str
    end: str | None
    precision: str
    wording: str
    text: str
    status: str
    citation: Citation

    @property
    def span(self) -> tuple[Date, Date]:
        """First and last day the event covers: FY2024 is 2024-04-01..2025-03-31."""
        return span(self.date)[0], span(self.end or self.date)[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "end": self.end,
            "precision": self.precision,
            "wording": self.wording,
            "text": self.text,
            "status": self.status,
            "citation": asdict(self.citation),
        }


# --------------------------------------------------------------------------- spans


def span(value: str) -> tuple[Date, Date]:
    """The days an event date covers: "2024" the year, "2024-02" the month, "FY2024" April
    2024 to March 2025, "2024-02-16" that day (see :func:`stiqa.dates.iso_span`)."""
    if not _VALUE_RE.fullmatch(value):
        raise ValueError(f"not a date: {value!r}")
    first, last = iso_span(value)
    return Date.fromisoformat(first), Date.fromisoformat(last)


def parse_bound(value: str, name: str = "date") -> tuple[Date, Date]:
    """A filter bound "YYYY", "YYYY-MM" or "YYYY-MM-DD" as the days it covers.

    Raises ValueError with a message naming ``name`` when the value is not one of these.
    """
    m = _BOUND_RE.fullmatch(value.strip())
    if not m:
        raise ValueError(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    try:
        return span(m.group(0))
    except ValueError:
        raise ValueError(f"{name} is not a real date: {value!r}") from None


# --------------------------------------------------------------------------- building


def build_events(index: Index, document_dates: dict[str, str] | None = None) -> list[Event]:
    """Every dated statement of the index, sorted by date (fiscal years by their April start).

    Passages overlap, so a sentence is read once per document and offset. ``document_dates``
    maps a document name to its own date (any :func:`span` value); by default it is derived
    (see the module docstring).
    """
    found = _collect(index)
    dates = {**_document_dates(found), **(document_dates or {})}
    events = []
    for citation, text, m, planned in found:
        own = dates.get(citation.doc)
        if not planned and own is not None and span(m.date)[0] > span(own)[1]:
            planned = True
        events.append(Event(
            date=m.date,
            end=m.range_end,
            precision=m.precision,
            wording=m.wording,
            text=text,
            status="planned" if planned else "done",
            citation=citation,
        ))
    events.sort(key=lambda e: (*e.span, e.citation.doc, e.citation.start, e.citation.end))
    return events


def document_dates(index: Index) -> dict[str, str]:
    """Each document's own date as derived from its dated statements (see the module docstring)."""
    return _document_dates(_collect(index))


_Found = tuple[Citation, str, DateMention, bool]  # citation, clause, date, worded as planned


def _collect(index: Index) -> list[_Found]:
    found: list[_Found] = []
    seen: set[tuple[str, int, int, str]] = set()
    for passage, dates in zip(index.passages, index.sentence_dates):
        c = passage.citation
        for i, sentence in enumerate(passage.sentences):
            mentions = dates[i]
            previous = passage.sentences[i - 1] if i else None
            for k, m in enumerate(mentions):
                # The same sentence comes again in the overlapping passage; a sentence may
                # also write the same date twice (two 閣議決定 of 令和5年6月16日).
                key = (c.doc, sentence.start, m.start, m.wording)
                if key in seen:
                    continue
                seen.add(key)
                text, borrowed = _clause(sentence.text, mentions, k, previous.text if previous else None)
                if not text:
                    continue
                start = previous.start if borrowed and previous else sentence.start
                citation = Citation(c.doc, c.page, c.section, start, sentence.end)
                found.append((citation, text, m, _worded_planned(text, m)))
    return found


def _document_dates(found: list[_Found]) -> dict[str, str]:
    dates = {}
    for doc in sorted({f[0].doc for f in found}):
        own = _derive_document_date([(m, planned) for c, _, m, planned in found if c.doc == doc])
        if own:
            dates[doc] = own
    return dates


def _derive_document_date(mentions: list[tuple[DateMention, bool]]) -> str | None:
    done = [m for m, planned in mentions if not planned and m.precision in ("day", "month")]
    if not done:
        return None
    return max(done, key=lambda m: span(m.date)).date


def _worded_planned(text: str, m: DateMention) -> bool:
    return bool(PLAN_RE.search(text) or PLAN_RE.search(m.wording) or (m.qualifier and PLAN_RE.search(m.qualifier)))


# --------------------------------------------------------------------------- filtering


def filter_events(
    events: list[Event],
    start: str | None = None,
    end: str | None = None,
    query: str | None = None,
    status: str | None = None,
) -> list[Event]:
    """The events whose span overlaps [start, end], whose text, wording or section contains
    ``query`` (case-insensitive, after NFKC), and whose status is ``status``.

    ``start``/``end`` are "YYYY", "YYYY-MM" or "YYYY-MM-DD": ``start`` counts from its first
    day, ``end`` up to its last ("2024" to "2024" is the whole year). A fiscal-year event
    spans April to March, a month event the whole month. Raises ValueError on a bad bound,
    a start after the end, or a status other than "planned" or "done".
    """
    lo = parse_bound(start, "from")[0] if start else None
    hi = parse_bound(end, "to")[1] if end else None
    if lo and hi and lo > hi:
        raise ValueError(f"from ({start}) is after to ({end})")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be planned or done, not {status!r}")
    needle = normalize_query(query).casefold() if query and query.strip() else None
    out = []
    for e in events:
        first, last = e.span
        if (lo and last < lo) or (hi and first > hi):
            continue
        if status and e.status != status:
            continue
        if needle:
            hay = f"{e.text}\n{e.wording}\n{e.citation.section}"
            if needle not in normalize_query(hay).casefold():
                continue
        out.append(e)
    return out


# --------------------------------------------------------------------------- clauses


def _clause(s: str, mentions: list[DateMention], k: int, previous: str | None) -> tuple[str, bool]:
    """The clause of sentence ``s`` that mention ``k`` dates, and whether it borrowed the
    sentence before (``previous``)."""
    m = mentions[k]
    paren = _open_paren(s, m.start)
    prev_end = _after_previous(s, mentions[k - 1], paren) if k else 0
    nxt = mentions[k + 1].start if k + 1 < len(mentions) else len(s)
    if paren is not None:
        close = _closing(s, paren)
        left = max(_clause_start(s, paren), prev_end)
        before = _strip_leading(s[left:paren])
        if before.endswith("」") and "「" in before:
            before = before[_quote_start(before):]
        rest = s[m.end:min(close, nxt)].strip(_TRIM)
        borrowed = False
        if not before:
            before = _borrow(previous)
            borrowed = bool(before)
            if not before:
                return "", False
        elif len(before) < 8 and close < len(s):
            before += _after_paren(s, close + 1)  # 「SIP第1期(…)で研究開発を実施」
        text = f"{before}({rest})" if rest else before
        return _finish(text), borrowed
    left = max(_clause_start(s, m.start), prev_end)
    pre = _MARKERS.sub("", s[left:m.start]).strip(_TRIM)
    right = _clause_end(s, m.end)
    # A date in the middle of its clause dates the clause; but in 「令和4年5月18日成立・11月15日
    # 施行」 the words before 11月15日 belong to the first date: the second is read like it.
    if pre and not (k and left == prev_end and len(pre) <= 4):
        return _finish(_MARKERS.sub("", s[left:right])), False
    after = _strip_leading(s[m.end:min(right, nxt)])
    if not after and nxt < right:  # 「2023年度は、2022年度補正予算において…」
        after = _strip_leading(_drop_dates(s[m.end:right], mentions, m.end))
    if len(after) < 5:
        lead = _borrow(previous)
        if lead:
            return _finish(f"{lead} {after}".strip()), True
        whole = _MARKERS.sub("", s[left:right]).strip(_TRIM)
        if not after and whole.strip() == m.wording:
            return "", False
        return _finish(whole), False
    return _finish(after), False


def _open_paren(s: str, pos: int) -> int | None:
    """Where the round bracket that ``pos`` stands in opens (None if it is not in one)."""
    depth = 0
    for i in range(pos - 1, -1, -1):
        ch = s[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "\n" or ch == "。":
            return None
    return None


def _closing(s: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(s)):
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        elif s[i] in "\n。":
            return i
    return len(s)


def _clause_start(s: str, pos: int) -> int:
    """After the 、 。 or line break before ``pos`` that is not inside a bracket, or after the
    bracket that ``pos`` is quoted in (「2030年に…」)."""
    depth = 0
    for i in range(pos - 1, -1, -1):
        ch = s[i]
        if ch in _CLOSE:
            depth += 1
        elif ch in _OPEN:
            if depth == 0:
                return i + 1
            depth -= 1
        elif depth == 0 and ch in "、。\n,":
            return i + 1
    return 0


def _clause_end(s: str, pos: int) -> int:
    """The end of the sentence after ``pos``, or the bracket that closes one opened before it."""
    depth = 0
    for i in range(pos, len(s)):
        ch = s[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                return i
            depth -= 1
        elif ch in "。\n":
            return i
    return len(s)


def _after_previous(s: str, prev: DateMention, paren: int | None) -> int:
    """Where text may start after the previous date: past the bracket it stood in, unless
    both stand in the same one (「申合せ(令和5年5月、9月)」: both date 申合せ)."""
    prev_paren = _open_paren(s, prev.start)
    if prev_paren is None:
        return prev.end
    if prev_paren == paren:
        return 0
    return min(_closing(s, prev_paren) + 1, len(s))


def _after_paren(s: str, pos: int) -> str:
    """The predicate after a closing bracket when it ends the sentence: 「SIP第1期(…)で研究
    開発を実施。」, not the 「において掲げた目標である「…」」 that leads on to another clause."""
    end = pos
    while end < len(s) and s[end] not in "、。\n(「":
        end += 1
    if end < len(s) and s[end] not in "。\n":
        return ""
    return s[pos:end].rstrip(_TRIM)


def _quote_start(text: str) -> int:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == "」":
            depth += 1
        elif text[i] == "「":
            depth -= 1
            if depth == 0:
                return i
    return 0


def _strip_leading(text: str) -> str:
    text = _MARKERS.sub("", text).strip(_TRIM)
    changed = True
    while changed and text:
        changed = False
        for w in _LEADING:
            if text.startswith(w):
                text = text[len(w):].lstrip(_TRIM)
                changed = True
                break
    return text.strip(_TRIM)


def _drop_dates(text: str, mentions: list[DateMention], offset: int) -> str:
    """``text`` (which starts at ``offset`` of the sentence) with the date wordings removed."""
    out, at = [], 0
    for m in mentions:
        a, b = m.start - offset, m.end - offset
        if a < at or a >= len(text):
            continue
        out.append(text[at:a])
        at = b
    out.append(text[at:])
    return "".join(out)


def _borrow(previous: str | None) -> str:
    """The line before, when it names the subject: undated and not a bare heading word."""
    if not previous or find_dates(previous):
        return ""
    lead = previous.strip(_TRIM)
    if "、" in lead:
        lead = lead.rsplit("、", 1)[1]
    lead = _MARKERS.sub("", lead).strip(_TRIM)
    return lead if len(lead) >= 6 else ""


def _finish(text: str) -> str:
    text = _WHO.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(_TRIM)
    if len(text) <= MAX_TEXT:
        return text
    parts = text.split("、")
    head = parts[0] if len(parts[0]) <= MAX_TEXT // 2 else ""
    tail: list[str] = []
    for p in reversed(parts[1:]):
        if len(head) + 1 + len("、".join([p, *tail])) > MAX_TEXT:
            break
        tail.insert(0, p)
    if head and tail:
        return f"{head}…{'、'.join(tail)}"
    tail = []
    for p in reversed(parts[1:]):
        if 1 + len("、".join([p, *tail])) > MAX_TEXT:
            break
        tail.insert(0, p)
    if tail:  # the predicate, which Japanese writes last: 「…東北大学を認定候補に選定」
        return "…" + "、".join(tail)
    return text[: MAX_TEXT - 1] + "…"
