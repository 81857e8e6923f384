"""Pick the answer excerpt from the retrieved passages, or abstain.

Each sentence of the top passages is scored by

* its cosine similarity to the question (sentence vectors come from the index);
* the IDF-weighted share of the question's *focus* words it contains: the
  question words that the passage's section title does not already explain
  ("パッケージの次の改定はいつ" under the title "…研究大学総合振興パッケージ":
  改定 and 予定 pick the sentence, the title words do not);
* a small bonus when it holds the kind of answer asked for (a date, a figure);
* a small preference for sentences of higher-ranked passages.

The best sentence is widened by a neighbour when it is too short to stand
alone (a heading such as "2030年目標" followed by its figure), and the
excerpt never exceeds 200 characters.

Whether to answer at all is decided by :class:`Evidence`: the excerpt must
hold the kind of answer the question asks for (a date for "いつ", a figure in
the unit asked for "何人" or "いくら"), and an evidence score (how much closer
the best passage comes to the question than ordinary policy text that stiqa
ships, plus a little for how many of the question's words the top passages
hold) must reach a threshold calibrated on answerable
and unanswerable questions over the deck and the development corpus together
(``bench/calibrate.py`` measures the thresholds and their margins). A question with no Japanese words cannot match the text word
for word, so it has its own threshold.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from stiqa.dates import find_dates
from stiqa.index import Index
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.qa.retrieve import Query, Retrieved
from stiqa.records import Answer, Hit

MAX_ANSWER_CHARS = 200
SHORT_ANSWER = 40  # an excerpt shorter than this gets its neighbour sentence
FOCUS_WEIGHT = 0.4
KIND_WEIGHT = 0.03
RANK_WEIGHT = 0.02
COVERAGE_WEIGHT = 0.05  # weight of word coverage in the evidence score
HEADING_CHARS = 20
LAW_NUMBER = re.compile(r"\s*(?:法律|政令|省令|府令|内閣府令|規則|条例|告示|訓令)\s*第")  # (令和3年法律第35号)


@dataclass
class Evidence:
    """What the decision to answer or abstain rests on."""

    distinctiveness: float  # best passage cosine minus the DEPTH-th best (see retrieve); reported only
    coverage: float  # IDF-weighted share of the question's words in the best of the top passages
    kind_found: bool  # the excerpt holds the kind of answer asked for (or none is asked)
    japanese: bool  # the question has Japanese text, so word coverage can count
    top: float = 0.0  # the best passage's cosine similarity to the question
    background: float = 0.0  # the question's mean cosine to text that only sounds like the documents

    @property
    def score(self) -> float:
        """How much closer the best passage comes to the question than ordinary policy text
        does (:attr:`stiqa.model.embedder.Embedder.reference`), plus a little for the question's
        words it holds. Nothing here depends on how many passages the corpus has (a rank-based
        reference such as the 50th best cosine sits near the top of a large corpus) or on one
        document; the reference also takes out how high a question's cosines run in general
        (English questions over Japanese text score lower on everything)."""
        return self.top - self.background + COVERAGE_WEIGHT * self.coverage

    def supports_answer(self, min_score: float, min_score_other: float) -> bool:
        threshold = min_score if self.japanese else min_score_other
        return self.kind_found and self.score >= threshold


@dataclass
class _Candidate:
    hit: Hit
    first: int  # sentences first..last of the passage
    last: int
    kind: bool  # holds the kind of answer asked for
    score: float


def is_heading(text: str) -> bool:
    """A short line without a full stop ("2030年目標", "【今後の予定】") that heads what follows."""
    return len(text) <= HEADING_CHARS and not text.endswith("。")


class AnswerExtractor:
    def __init__(self, index: Index, tokenizer: JapaneseTokenizer, top_passages: int = 3) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.top_passages = top_passages
        self.row_of = {p.id: i for i, p in enumerate(index.passages)}
        df: Counter[str] = Counter()
        self.words: dict[str, frozenset[str]] = {}  # words of every sentence, title and passage
        for p in index.passages:
            df.update(self.words_of(index.embedding_text(p)))
            self.words_of(p.citation.section)
            for s in p.sentences:
                self.words_of(s.text)
        n = len(index.passages)
        self.idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def words_of(self, text: str) -> frozenset[str]:
        found = self.words.get(text)
        if found is None:
            found = self.words[text] = frozenset(self.tokenizer.words(text))
        return found

    def weighted_share(self, wanted: set[str], found: frozenset[str]) -> float:
        """IDF-weighted share of ``wanted`` words that are in ``found``."""
        total = sum(self.idf.get(w, self.unseen_idf) for w in wanted)
        if not total:
            return 0.0
        return sum(self.idf.get(w, self.unseen_idf) for w in wanted & found) / total

    def extract(self, q: Query, retrieved: Retrieved) -> tuple[Answer | None, Evidence]:
        """The best excerpt of the top hits and the evidence behind it."""
        japanese = q.japanese
        hits = retrieved.hits
        if not hits:
            return None, Evidence(retrieved.distinctiveness, 0.0, False, japanese, retrieved.top, q.background)
        wanted = set(q.words)
        cands: list[_Candidate] = []
        for hit in hits[: self.top_passages]:
            row = self.row_of[hit.passage.id]
            lo, hi = int(self.index.sentence_start[row]), int(self.index.sentence_start[row + 1])
            cos = self.index.sentence_vectors[lo:hi] @ q.vector
            focus = wanted - self.words_of(hit.passage.citation.section)
            sents = hit.passage.sentences
            for last in range(len(sents)):
                # A sentence alone, and with the heading above it (the heading names the topic).
                starts = [last, last - 1] if last and is_heading(sents[last - 1].text) else [last]
                for first in starts:
                    first, end = self._with_kind(q, sents, first, last)
                    texts = [x.text for x in sents[first:end + 1]]
                    words = frozenset().union(*(self.words_of(t) for t in texts))
                    kind = any(q.finds_kind(t) for t in texts)
                    score = (
                        float(cos[first:end + 1].max())
                        + FOCUS_WEIGHT * self.weighted_share(focus, words)
                        + KIND_WEIGHT * kind
                        - RANK_WEIGHT * (hit.rank - 1)
                    )
                    cands.append(_Candidate(hit, first, end, kind, score))
        # A "when" question is answered by a date, a "how many" by a figure: only when
        # no excerpt has one does the best one without it stand (and abstention follows).
        best = max(cands, key=lambda c: (c.kind, round(c.score, 6), c.first - c.last))  # ties: the shorter
        passage = best.hit.passage
        text = self._excerpt(best)
        kind_found = not q.asks_kind or q.finds_kind(text)
        cov = max(
            self.weighted_share(wanted, self.words_of(self.index.embedding_text(h.passage)))
            for h in hits[: self.top_passages]
        )
        evidence = Evidence(retrieved.distinctiveness, cov, bool(kind_found), japanese, retrieved.top, q.background)
        document = self.index.document(passage.citation.doc)
        dated = self.date_in(text, wanted, document.date if document else None, q.until) if q.wants_date else None
        date, end = dated or (None, None)
        return Answer(text=text, passage_id=passage.id, date=date, end_date=end), evidence

    def date_in(
        self, text: str, wanted: set[str], reference: str | None = None, until: bool = False
    ) -> tuple[str, str | None] | None:
        """The date of ``text`` that the question asks about, normalised ("2024-02", "FY2025"),
        and the end of its range if it is one ("FY2014", "FY2018" for 2014〜2018年度). The
        date is the range's start, or its end when the question asks until when (``until``).

        Dates relative to the document ("本年8月21日", "来月") are read from ``reference``,
        the date the document gives for itself. A year that only names a law
        ("(昭和24年政令第134号)") is not an event's date. Of several dates, the one whose
        event holds most of the question's words. A date in brackets dates what comes before
        it ("…記念式典(2023年12月1日)"); any other date, what comes after it ("令和3年1月19日の
        …WGにおいて取り上げられ"). Its event's words count fully, the words on its other side
        half, and neither reaches past a neighbouring date or a line break.
        """
        found = find_dates(text, reference=reference)  # 本年, 来月: from the document's own date
        mentions = [m for m in found if not LAW_NUMBER.match(text, m.end)] or found
        if not mentions:
            return None

        def relevance(i: int) -> float:
            m = mentions[i]
            lo = max(mentions[i - 1].end if i else 0, text.rfind("\n", 0, m.start) + 1)
            nxt = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
            line_end = text.find("\n", m.end)
            hi = min(nxt, line_end if line_end >= 0 else len(text))
            # Not words_of: these pieces are new on every question and must not be cached.
            before = len(wanted & set(self.tokenizer.words(text[lo:m.start])))
            after = len(wanted & set(self.tokenizer.words(text[m.end:hi])))
            bracketed = text[:m.start].rstrip().endswith(("(", "「"))
            return before + 0.5 * after if bracketed else after + 0.5 * before

        m = mentions[max(range(len(mentions)), key=lambda i: (relevance(i), -i))]
        return (m.range_end if until and m.range_end else m.date), m.range_end

    @staticmethod
    def _with_kind(q: Query, sents: list, first: int, last: int) -> tuple[int, int]:
        """Widen first..last by a neighbour that holds the date or figure asked for, if it lacks one."""
        if not q.asks_kind or any(q.finds_kind(s.text) for s in sents[first:last + 1]):
            return first, last
        size = sum(len(s.text) + 1 for s in sents[first:last + 1])
        for lo, hi, extra in ((first, last + 1, last + 1), (first - 1, last, first - 1)):
            if 0 <= extra < len(sents) and q.finds_kind(sents[extra].text):
                if size + len(sents[extra].text) <= MAX_ANSWER_CHARS:
                    return lo, hi
        return first, last

    def _excerpt(self, c: _Candidate) -> str:
        sents = c.hit.passage.sentences
        first, last = c.first, c.last
        text = "\n".join(s.text for s in sents[first:last + 1])
        if len(text) < SHORT_ANSWER:
            if last + 1 < len(sents) and len(text) + 1 + len(sents[last + 1].text) <= MAX_ANSWER_CHARS:
                text = f"{text}\n{sents[last + 1].text}"
            elif first > 0 and len(text) + 1 + len(sents[first - 1].text) <= MAX_ANSWER_CHARS:
                text = f"{sents[first - 1].text}\n{text}"
        return text[:MAX_ANSWER_CHARS]
