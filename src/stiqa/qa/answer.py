"""Pick the answer excerpt from the retrieved passages, or abstain.

Each sentence of the top passages is scored by

* its cosine similarity to the question (sentence vectors come from the index);
* the IDF-weighted share of the question's *focus* words it contains: the
  question words that the passage's section title does not already explain
  ("パッケージの次の改定はいつ" under the title "…研究大学総合振興パッケージ":
  改定 and 予定 pick the sentence, the title words do not);
* a small bonus when it holds the kind of answer asked for (a date, a figure);
* a small preference for sentences of higher-ranked passages.

Sentences with the kind of answer asked for come first; among them, those of a passage
that gives the meeting the question names by number (第9回), then for 「Xとは」 the sentence
that defines X, and for a "from when" question those whose date is one that something
starts from (「2025年度新規公募分から」). The best sentence is widened by a neighbour when
it is too short to stand alone (a heading such as "2030年目標" followed by its figure). The
excerpt never exceeds 200 characters: of a longer sentence, the window that holds the
question's words is shown.

Whether to answer at all is decided by :class:`Evidence`: the excerpt must
hold the kind of answer the question asks for (a date for "いつ", a figure in
the unit asked for "何人" or "いくら"), come from a passage that gives the meeting
or paper the question names by number (「第30回会議」; its title and section count) and, when
the question names a country, from one on that country or on none (「米国」 alone does not answer
a question on Japan's budget), and an
evidence score (how much closer the best passage comes to the question than ordinary policy
text that stiqa ships, plus a little for how many of the question's words the top passages
hold, less a little when the clause of the excerpt's date or figure holds few of them) must
reach a threshold calibrated on answerable and unanswerable questions over the
deck and the development corpus together (``bench/calibrate.py`` measures the thresholds
and their margins). A question in English (with no Japanese words, or quoting a Japanese term
in an English sentence) cannot match the text word for word, so it has its own threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stiqa.dates import find_dates
from stiqa.index import Index
from stiqa.index.lexical import STOP_WORDS, Group
from stiqa.qa.kinds import clause, countries, is_start, value_spans
from stiqa.qa.retrieve import Query, Retrieved, designators
from stiqa.qa.words import WordStats
from stiqa.records import Answer, Hit, Passage

MAX_ANSWER_CHARS = 200
SHORT_ANSWER = 40  # an excerpt shorter than this gets its neighbour sentence
FOCUS_WEIGHT = 0.4
KIND_WEIGHT = 0.03
RANK_WEIGHT = 0.02
COVERAGE_WEIGHT = 0.05  # weight of word coverage in the evidence score
ANCHOR_WEIGHT = 0.025  # weight in the evidence score of the question's words missing beside the answer's value
HEADING_CHARS = 20
# A label in brackets alone ("(庶務)", "【今後の予定】") heads an answer but states none: the
# caption of the next article, at the end of a passage, shares the question's words.
LABEL = re.compile(r"[(\[【<〈《][^)\]】>〉》]{1,20}[)\]】>〉》]")
LABEL_PENALTY = 1.0  # more than any cosine and word share: a label answers only where nothing else does
ENGLISH_FUNCTION_WORDS = frozenset(w for w in STOP_WORDS if w.isascii())  # the, is, how, does …
CLAUSE_START = re.compile(r"[、。,，(（「]")  # where a window of a long excerpt may begin (just after)
LAW_NUMBER = re.compile(r"\s*(?:法律|政令|省令|府令|内閣府令|規則|条例|告示|訓令)\s*第")  # (令和3年法律第35号)
# A date that names no event after it, at the end of its subject: 「次回の第15回部会は、令和6年6月19日」,
# or a table row read as text, 「…部会第9回会議 令和7年12月24日 …」 (a name, then its date).
SUBJECT_BEFORE = re.compile(r"(?:[はが][、,]?|[:：]|[^\s。、,(（「]\s+)$")
# A particle that ties a date to what follows it: 「5月31日に第10回を開催」, 「令和3年1月19日の…WG」.
EVENT_AFTER = re.compile(r"\s*(?:に|の|から|まで|より|以降|以後|付|を|頃|ごろ|、|,)")


@dataclass
class Evidence:
    """What the decision to answer or abstain rests on."""

    distinctiveness: float  # best passage cosine minus the DEPTH-th best (see retrieve); reported only
    coverage: float  # IDF-weighted share of the question's words in the best of the top passages
    kind_found: bool  # the excerpt holds the kind of answer asked for (or none is asked)
    japanese: bool  # the question is written in Japanese, so word coverage can count (see written_in_english)
    top: float = 0.0  # the best passage's cosine similarity to the question
    background: float = 0.0  # the question's mean cosine to text that only sounds like the documents
    named_found: bool = True  # the answer's passage, title or section gives a numbered name the question gives
    anchored: float = 1.0  # share of the question's words in the clause of the excerpt's date or figure
    country_found: bool = True  # the answer's passage is about a country the question asks about, or names none

    @property
    def fits(self) -> bool:
        """The excerpt is an answer of the kind asked for, about the meeting or paper the
        question names (第30回会議 is not answered from the minutes of the 9th) and the country
        it asks about (Japan's budget is not answered by a passage on the United States')."""
        return self.kind_found and self.named_found and self.country_found

    @property
    def score(self) -> float:
        """How much closer the best passage comes to the question than ordinary policy text
        does (:attr:`stiqa.model.embedder.Embedder.reference`), plus a little for the question's
        words it holds. Nothing here depends on how many passages the corpus has (a rank-based
        reference such as the 50th best cosine sits near the top of a large corpus) or on one
        document; the reference also takes out how high a question's cosines run in general
        (English questions over Japanese text score lower on everything).

        A date or figure answers the question only if it is the one the question is about: a
        question the documents do not answer ("賛成意見は何件", "施行日はいつ") still finds a
        passage on its subject with some date or count in it, but that value's own clause holds
        few of the question's words ("合計10回の会議を開催"). The words missing there
        (:attr:`anchored`) take a little off."""
        return self.top - self.background + COVERAGE_WEIGHT * self.coverage - ANCHOR_WEIGHT * (1 - self.anchored)

    def supports_answer(self, min_score: float, min_score_other: float) -> bool:
        threshold = min_score if self.japanese else min_score_other
        return self.fits and self.score >= threshold


@dataclass
class _Candidate:
    hit: Hit
    first: int  # sentences first..last of the passage
    last: int
    kind: bool  # holds the kind of answer asked for
    named: bool  # its passage gives the meeting or paper the question names, if it names one
    defines: bool  # defines the word whose meaning the question asks (「接触」とは)
    starts: bool  # gives a date something starts from, asked "from when"
    score: float


def written_in_english(question: str) -> bool:
    """The question is an English sentence, though it may quote a Japanese term ("How often
    does the contact code (接触符号) change?"): it has English function words. Its cosines run
    as English questions' do, so it is held to their threshold; 「SBIRとは何ですか」 is Japanese."""
    return sum(w.lower() in ENGLISH_FUNCTION_WORDS for w in re.findall(r"[A-Za-z]+", question)) >= 2


def is_heading(text: str) -> bool:
    """A short line without a full stop ("2030年目標", "【今後の予定】") that heads what follows."""
    return len(text) <= HEADING_CHARS and not text.endswith("。")


class AnswerExtractor:
    def __init__(self, index: Index, words: WordStats, top_passages: int = 3) -> None:
        self.index = index
        self.words = words
        self.tokenizer = words.tokenizer
        self.top_passages = top_passages
        self.row_of = {p.id: i for i, p in enumerate(index.passages)}

    def extract(self, q: Query, retrieved: Retrieved) -> tuple[Answer | None, Evidence]:
        """The best excerpt of the top hits and the evidence behind it."""
        japanese = q.japanese and not written_in_english(q.text)
        hits = retrieved.hits
        if not hits:
            return None, Evidence(retrieved.distinctiveness, 0.0, False, japanese, retrieved.top, q.background)
        wanted = set(q.words)
        # The words that pick a sentence are those BM25 looks for: an English question's
        # English words would pick the stray English of a Japanese text (a source line);
        # their translations (q.groups) pick the Japanese sentence.
        matched = set(q.lexical_words)
        cands: list[_Candidate] = []
        for hit in hits[: self.top_passages]:
            row = self.row_of[hit.passage.id]
            lo, hi = int(self.index.sentence_start[row]), int(self.index.sentence_start[row + 1])
            cos = self.index.sentence_vectors[lo:hi] @ q.vector
            # The question's words that the section does not already give: every sentence of a
            # speaker's turn is under "第4 議事 > 渡辺幹事". An excerpt that holds its section's own
            # heading (the article's caption (庶務) above the article) counts them.
            titled = matched & self.words.words_of(hit.passage.citation.section)
            focus = matched - titled
            heading = hit.passage.citation.section.rsplit(" > ", 1)[-1]
            reference = self.reference(hit.passage)
            named = self.gives_names(q, hit.passage)
            sents = hit.passage.sentences
            for last in range(len(sents)):
                # A sentence alone, and with the heading above it (the heading names the topic).
                starts = [last, last - 1] if last and is_heading(sents[last - 1].text) else [last]
                for first in starts:
                    first, end = self._with_kind(q, sents, first, last)
                    texts = [x.text for x in sents[first:end + 1]]
                    words = frozenset().union(*(self.words.words_of(t) for t in texts))
                    kind = any(q.finds_kind(t, reference) for t in texts)
                    begins = any(q.finds_start(t) for t in texts)
                    defining = any(q.finds_definition(t) for t in texts)
                    score = (
                        float(cos[first:end + 1].max())
                        + FOCUS_WEIGHT * self.words.weighted_share(focus | titled if heading in texts else focus, words, q.groups)
                        + KIND_WEIGHT * kind
                        - RANK_WEIGHT * (hit.rank - 1)
                        - LABEL_PENALTY * all(LABEL.fullmatch(t) for t in texts)
                    )
                    cands.append(_Candidate(hit, first, end, kind, named, defining, begins, score))
        # A "when" question is answered by a date, a "how many" by a figure: only when
        # no excerpt has one does the best one without it stand (and abstention follows).
        # The meeting a question names answers it, not another one. 「接触」とは wants the
        # sentence that defines 接触 rather than one that uses it. "From when" wants the date
        # something starts from, not the date of the paper that announced it, however many of
        # the question's words that paper's sentence shares.
        best = max(
            cands, key=lambda c: (c.kind, c.named, c.defines, c.starts, round(c.score, 6), c.first - c.last)
        )  # ties: the shorter
        passage = best.hit.passage
        text = self._excerpt(q, best, matched - self.words.words_of(passage.citation.section))
        reference = self.reference(passage)
        kind_found = not q.asks_kind or q.finds_kind(text, reference)
        cov = max(
            self.words.weighted_share(wanted, self.words.passages[self.row_of[h.passage.id]])
            for h in hits[: self.top_passages]
        )
        evidence = Evidence(
            retrieved.distinctiveness, cov, bool(kind_found), japanese, retrieved.top, q.background, best.named,
            self.anchored(q, text, matched), self.about_country(q, passage),
        )
        dated = self.date_in(text, wanted, reference, q.until, q.since, q.groups, q.names) if q.wants_date else None
        date, end = dated or (None, None)
        return Answer(text=text, passage_id=passage.id, date=date, end_date=end), evidence

    def reference(self, passage: Passage) -> str | None:
        """The date ``passage``'s document gives for itself, which dates its 本年 and 来月."""
        document = self.index.document(passage.citation.doc)
        return document.date if document else None

    def date_in(
        self, text: str, wanted: set[str], reference: str | None = None, until: bool = False, since: bool = False,
        groups: Sequence[Group] = (), names: frozenset[str] = frozenset(),
    ) -> tuple[str, str | None] | None:
        """The date of ``text`` that the question asks about, normalised ("2024-02", "FY2025"),
        and the end of its range if it is one ("FY2014", "FY2018" for 2014〜2018年度). The
        date is the range's start, or its end when the question asks until when (``until``); a
        "from when" question (``since``) takes a date that something starts from, if there is one.

        Dates relative to the document ("本年8月21日", "来月") are read from ``reference``,
        the date the document gives for itself. A year that only names a law
        ("(昭和24年政令第134号)") is not an event's date. Of several dates, the one whose
        event holds most of the question's words. A date in brackets dates what comes before
        it ("…記念式典(2023年12月1日)"); any other date, what comes after it ("令和3年1月19日の
        …WGにおいて取り上げられ"). Its event's words count fully, the words on its other side
        half, and neither reaches past a neighbouring date or a line break. An English
        question's words count through their translations (``groups``), and a numbered name
        the question gives (``names``: 第10回) counts as one more word. A date whose event gives
        that name comes first: in a schedule's 「…第15回会議 12月9日 … 第16回会議 12月26日」 the
        words around both dates are alike.
        """
        found = find_dates(text, reference=reference)  # 本年, 来月: from the document's own date
        mentions = [m for m in found if not LAW_NUMBER.match(text, m.end)] or found
        if since:  # from when: the dates that something starts from, if the text gives one
            mentions = [m for m in mentions if is_start(text, m)] or mentions
        if not mentions:
            return None

        def relevance(i: int) -> tuple[bool, float]:
            m = mentions[i]
            lo = max(mentions[i - 1].end if i else 0, text.rfind("\n", 0, m.start) + 1)
            nxt = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
            line_end = text.find("\n", m.end)
            hi = min(nxt, line_end if line_end >= 0 else len(text))
            head = text[lo:m.start]
            # Not words_of: these pieces are new on every question and must not be cached.
            before, named_before = self._mentions(head, wanted, groups, names)
            after, named_after = self._mentions(text[m.end:hi], wanted, groups, names)
            backward = head.rstrip().endswith(("(", "「")) or (
                SUBJECT_BEFORE.search(head) is not None and not EVENT_AFTER.match(text, m.end)
            )
            return (named_before, before + 0.5 * after) if backward else (named_after, after + 0.5 * before)

        m = mentions[max(range(len(mentions)), key=lambda i: (relevance(i), -i))]
        return (m.range_end if until and m.range_end else m.date), m.range_end

    def anchored(self, q: Query, text: str, wanted: set[str]) -> float:
        """The IDF-weighted share of ``wanted`` words (and ``q``'s translated groups) in the
        clause of ``text`` that holds its date or figure, the best of them: 1.0 when ``q`` asks
        for neither, 0.0 when ``text`` has none."""
        if not (q.wants_date or q.wants_quantity):
            return 1.0
        clauses = {clause(text, start, end) for start, end in value_spans(text, q.wants_date, q.wants_quantity)}
        shares = [
            # Not words_of: clauses of excerpts are new text on every question and must not be cached.
            self.words.weighted_share(wanted, frozenset(self.tokenizer.words(c)), q.groups) for c in clauses
        ]
        return max(shares, default=0.0)

    def _mentions(
        self, piece: str, wanted: set[str], groups: Sequence[Group], names: frozenset[str]
    ) -> tuple[int, bool]:
        """How many of the question's words, translated words and numbered names ``piece`` gives,
        and whether it gives one of those names."""
        words = set(self.tokenizer.words(piece))
        found = sum(any(words.issuperset(alt) for alt in group) for group in groups)
        named = names & designators(piece)
        return len(wanted & words) + found + len(named), bool(named)

    def about_country(self, q: Query, passage: Passage) -> bool:
        """``passage``, with its section, names a country the question asks about, or none at
        all: a passage on the United States alone does not answer a question on Japan."""
        if not q.countries:
            return True
        named = countries(f"{passage.citation.section}\n{passage.text}")
        return not named or bool(named & q.countries)

    def gives_names(self, q: Query, passage: Passage) -> bool:
        """``passage``, with its title and section, gives a numbered name the question gives
        (第9回, 資料7), or the question gives none."""
        return not q.names or bool(q.names & designators(self.index.embedding_text(passage)))

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

    def _excerpt(self, q: Query, c: _Candidate, focus: set[str]) -> str:
        sents = c.hit.passage.sentences
        first, last = c.first, c.last
        text = "\n".join(s.text for s in sents[first:last + 1])
        if len(text) < SHORT_ANSWER:
            if last + 1 < len(sents) and len(text) + 1 + len(sents[last + 1].text) <= MAX_ANSWER_CHARS:
                text = f"{text}\n{sents[last + 1].text}"
            elif first > 0 and len(text) + 1 + len(sents[first - 1].text) <= MAX_ANSWER_CHARS:
                text = f"{sents[first - 1].text}\n{text}"
        return self._window(q, text, focus) if len(text) > MAX_ANSWER_CHARS else text

    def _window(self, q: Query, text: str, focus: set[str]) -> str:
        """The part of a text too long to show whole (a 300-character sentence of a paper)
        that answers the question: of the windows of at most MAX_ANSWER_CHARS that start at a
        clause, the one with the kind of answer asked for, the meeting or paper the question names
        (a schedule's row 「…部会第16回会議 令和7年12月26日」) and most of the question's focus words;
        the earliest of equals."""
        starts = [0] + [m.end() for m in CLAUSE_START.finditer(text, 0, len(text) - SHORT_ANSWER)]
        best, best_score = text[:MAX_ANSWER_CHARS], -1.0
        for start in starts:
            window = text[start:start + MAX_ANSWER_CHARS]
            # Not words_of: windows are new text on every question and must not be cached.
            score = self.words.weighted_share(focus, frozenset(self.tokenizer.words(window)), q.groups)
            score += q.asks_kind and q.finds_kind(window)
            score += bool(q.names & designators(window))
            if score > best_score:
                best, best_score = window, score
        return best
