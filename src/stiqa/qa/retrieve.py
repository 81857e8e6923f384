"""Find the passages for a question: dense (FAISS), lexical (BM25) or both fused.

Hybrid ranking is reciprocal-rank fusion (RRF): it needs no score calibration
between cosine similarities and BM25 scores, and a side that finds nothing
(BM25 for an English question over Japanese text) simply does not vote.

The dense side adds a small prior for passages that can give the kind of
answer asked for (a date for "when", a figure for "how many"; see
:mod:`stiqa.qa.kinds`), for a question about a time ("2024年度に予定されて
いる取組は？") for passages with a date in that span or of a document dated in
it (minutes of a meeting then), and for a question that names a meeting or a
paper by number for the passages of the documents whose titles give it. In hybrid mode the
fused candidates are then ordered by :mod:`stiqa.qa.rank`, which reads more of each one than
its two ranks. Passages overlap (see :mod:`stiqa.ingest.segment`), so of two that share most
of their text only the better ranked one is returned.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from stiqa.dates import find_dates, iso_span, mention_span, overlaps
from stiqa.index import Index
from stiqa.index.lexical import Group, JapaneseTokenizer, is_code
from stiqa.index.search import Found, Request, Searcher, Shard, Shards
from stiqa.model.embedder import Embedder
from stiqa.normalize import KANJI_NUMERALS, char_grams, has_japanese, normalize_query
from stiqa.qa import rank
from stiqa.qa.glossary import Glossary
from stiqa.qa.kinds import (
    countries,
    defined_term,
    defines,
    has_contact,
    has_date,
    has_place,
    has_quantity,
    has_span,
    has_start,
    has_time,
    has_upcoming,
    wanted_unit,
    wants_contact,
    wants_date,
    wants_end,
    wants_place,
    wants_quantity,
    wants_span,
    wants_start,
    wants_time,
    wants_upcoming,
)
from stiqa.qa.words import WordStats
from stiqa.records import Hit

RRF_K = 60
DEPTH = 50  # candidates taken from each ranker; also the reference rank for distinctiveness
KIND_PRIOR = 0.03  # cosine bonus for a passage that holds the kind of answer asked for
MAX_OVERLAP = 0.5  # share of the shorter passage two results may have in common
# The query embedding reads at most this many characters of a question. Real questions are
# far shorter; a long one costs the model time that grows faster than its length (here 134
# ms at 256 characters, 800 ms at 1,000), all of it on the one model thread other requests
# wait for. The lexical side still reads the whole question.
MAX_EMBED_CHARS = 256
NAME_PRIOR = 0.03  # cosine bonus for a passage that gives a name the question gives, or whose title does
# What names one document among its siblings: the meeting, part or paper number in a title
# ("第9回会議", "部会資料 7") and in a question ("第９回会議の開催予定日は？", "the 8th meeting").
_DESIGNATOR = re.compile(rf"第(\d+|[{KANJI_NUMERALS}]+)\s*([回部章節号])|資料\s*(\d+)")
_ENGLISH_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\s+(meeting|session)", re.IGNORECASE)
# An English ordinal's number: Japanese writes "the 198th meeting" 第198回, whose BM25 word is 198
# (Sudachi reads "198th" as 19 and 8th, which match nothing).
_ORDINAL_SUFFIX = re.compile(r"(?<![A-Za-z0-9])(\d+)(?:st|nd|rd|th)(?![A-Za-z])", re.IGNORECASE)
_KANJI_DIGITS = {c: n for n, c in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}


def kanji_number(numeral: str) -> int:
    """A number written in digits or kanji, as rules and decisions number things: 百二十一 is
    121, 三十 is 30, 二〇 is 20."""
    if numeral.isdigit():
        return int(numeral)
    if not any(c in _KANJI_UNITS for c in numeral):
        return int("".join(str(_KANJI_DIGITS[c]) for c in numeral))
    total, digit = 0, 0
    for c in numeral:
        if c in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[c]
            digit = 0
        else:
            digit = _KANJI_DIGITS[c]
    return total + digit


def designators(text: str) -> frozenset[str]:
    """The numbered names in ``text`` (NFKC): {"第9回", "資料7"}; 「諮問第百二十一号」 is 第121号
    and English "8th meeting" 第8回."""
    found = {f"第{kanji_number(m[1])}{m[2]}" if m[1] else f"資料{m[3]}" for m in _DESIGNATOR.finditer(text)}
    found.update(f"第{m[1]}回" for m in _ENGLISH_ORDINAL.finditer(text))
    return frozenset(found)


@dataclass
class Retrieved:
    hits: list[Hit]
    # How far the best passage stands out: its cosine minus the DEPTH-th best one's.
    # Off-topic questions score every passage about the same.
    distinctiveness: float
    top: float = 0.0  # the best passage's cosine similarity to the question


@dataclass
class Query:
    """A question as the retrievers see it."""

    text: str
    vector: np.ndarray
    words: list[str]  # content words
    lexical_words: list[str]  # the words BM25 looks for
    groups: list[Group] = field(default_factory=list)  # and its English words' Japanese alternatives
    japanese: bool = True
    wants_date: bool = False
    wants_quantity: bool = False
    unit: str | None = None  # the unit a "how many" question names
    span: tuple[str, str] | None = None  # the time a question is about ("2024年度の…")
    names: frozenset[str] = field(default_factory=frozenset)  # numbered names it gives (see designators)
    background: float = 0.0  # mean cosine to the reference lines (see Embedder.reference)
    until: bool = False  # asks until when: a range's end answers it
    since: bool = False  # asks from when (いつから): a date that something starts from answers it
    term: str | None = None  # the word whose meaning it asks (「接触」とは): its definition answers it
    period: bool = False  # asks for a period (いつからいつまで): an answer gives two dates
    clock: bool = False  # asks what time of day (何時に): an answer gives a clock time
    place: bool = False  # asks where something is held (どこで開催): an answer names a venue
    contact: bool = False  # asks a telephone number or an e-mail address: an answer gives one
    upcoming: bool = False  # asks when a plan or the next meeting is: a date given as planned, or after its document's
    countries: frozenset[str] = field(default_factory=frozenset)  # the countries it asks about (see kinds.countries)

    @property
    def asks_kind(self) -> bool:
        """It asks for a kind of answer: a date, a figure, a time of day, a venue or a contact."""
        return self.wants_date or self.wants_quantity or self.clock or self.place or self.contact

    def finds_start(self, text: str) -> bool:
        """``text`` gives what a "from when" question asks: a date that something starts from."""
        return self.since and has_start(text)

    def finds_definition(self, text: str) -> bool:
        """``text`` defines the word whose meaning the question asks."""
        return self.term is not None and defines(text, self.term)

    def finds_kind(self, text: str, reference: str | None = None) -> bool:
        """``text`` holds the kind of answer asked for (a date, a figure in the unit asked);
        ``reference``, the date of its document, tells whether its date can be a plan's."""
        if self.clock:
            return has_time(text)
        if self.place:
            return has_place(text)
        if self.contact:
            return has_contact(text)
        if self.wants_date and has_date(text):
            return (not self.period or has_span(text)) and (not self.upcoming or has_upcoming(text, reference))
        return self.wants_quantity and has_quantity(text, self.unit)


class Retriever:
    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        tokenizer: JapaneseTokenizer,
        searcher: Searcher | None = None,
        words: WordStats | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.index = index
        self.glossary = glossary or Glossary(tokenizer)
        self.words = words or WordStats(index, tokenizer)
        # Where the candidates come from: the index's own vectors and BM25 (one shard of all
        # rows), or shards elsewhere (stiqa.cluster); the rest of retrieval is the same.
        self.searcher = searcher or Shards([Shard.whole(index)])
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.reference = embedder.reference
        self.dated = np.array([has_date(p.text) for p in index.passages], dtype=bool)
        self.counted = np.array([has_quantity(p.text) for p in index.passages], dtype=bool)
        self.placed = np.array([has_place(p.text) for p in index.passages], dtype=bool)
        self.contacts = np.array([has_contact(p.text) for p in index.passages], dtype=bool)
        self.spans = np.array([(p.citation.start, p.citation.end) for p in index.passages], dtype=np.int64)
        self.docs = [p.citation.doc for p in index.passages]
        rows: dict[str, list[int]] = {}
        for row, doc in enumerate(self.docs):
            rows.setdefault(doc, []).append(row)
        self.rows_of_doc = {d: np.asarray(r, dtype=np.int64) for d, r in rows.items()}
        self.doc_names = {d.name: designators(d.title) for d in index.documents}
        # The names each passage gives: its document's title's, and its own (minutes announce
        # 「次回の第15回部会は…」 in the 14th's).
        self.passage_names = [
            self.doc_names.get(doc, frozenset()) | designators(p.text) for doc, p in zip(self.docs, index.passages)
        ]
        dated_docs = {d.name: iso_span(d.date) for d in index.documents if d.date}
        self.doc_spans = [dated_docs.get(doc) for doc in self.docs]
        self.date_spans = [[mention_span(m) for found in dates for m in found] for dates in index.sentence_dates]

    def query(self, question: str, mode: str, timings: dict[str, float]) -> Query:
        """``question`` as the retrievers see it (embedded in every mode: answer
        choice and abstention use the vector too)."""
        return self.queries([question], [timings])[0]

    def queries(self, questions: list[str], timings: list[dict[str, float]]) -> list[Query]:
        """Several questions at once, embedded in one model call (cheaper per question
        than one call each; see :class:`stiqa.service.batching.Batcher`). Each question's
        ``timings`` get its own analysis time and the batch's embedding time."""
        texts, analysed = [], []
        for question, tm in zip(questions, timings):
            t0 = time.perf_counter()
            text = normalize_query(question)
            texts.append(text)
            analysed.append(self._analyse(text))
            tm["normalize_ms"] = (time.perf_counter() - t0) * 1000
        t1 = time.perf_counter()
        vectors = self.embedder.queries([t[:MAX_EMBED_CHARS] for t in texts]) if texts else []
        embed_ms = (time.perf_counter() - t1) * 1000
        for tm in timings:
            tm["embed_ms"] = embed_ms
        return [
            Query(text, vector, background=float((self.reference @ vector).mean()), **fields)
            for text, vector, fields in zip(texts, vectors, analysed)
        ]

    def _analyse(self, text: str) -> dict:
        """The Query fields read from the text alone: words, language and what kind of answer is asked for."""
        terms = self.tokenizer.terms(_ORDINAL_SUFFIX.sub(r"\1", text))
        japanese = has_japanese(text)
        words = [w for w, _ in terms]
        # Over Japanese text, the English words of an English question match only stray
        # English (citations, labels); its acronyms and numbers match what they name.
        lexical_words = words if japanese else [w for w, surface in terms if is_code(surface)]
        when = wants_date(text)
        spans = [] if when else [mention_span(m) for m in find_dates(text)]
        span = (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
        return {
            "words": words, "lexical_words": lexical_words, "groups": self.glossary.groups(text),
            "japanese": japanese, "wants_date": when,
            "wants_quantity": wants_quantity(text), "unit": wanted_unit(text), "span": span,
            "names": designators(text), "until": wants_end(text), "since": wants_start(text),
            "term": defined_term(text), "period": wants_span(text), "clock": wants_time(text), "place": wants_place(text),
            "contact": wants_contact(text),
            "upcoming": when and wants_upcoming(text), "countries": countries(text),
        }

    def rows(self, docs: frozenset[str] | None) -> np.ndarray | None:
        """The passage rows of ``docs`` (None: every passage)."""
        if docs is None:
            return None
        found = [self.rows_of_doc[d] for d in docs if d in self.rows_of_doc]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def named_rows(self, q: Query, rows: np.ndarray | None) -> np.ndarray | None:
        """The rows of the documents whose titles give a name the question gives (among ``rows``)."""
        if not q.names:
            return None
        docs = {d for d, names in self.doc_names.items() if q.names & names}
        found = self.rows(frozenset(docs))
        if rows is not None:
            found = np.intersect1d(found, rows)
        return found if len(found) else None

    def prior(self, q: Query, i: int) -> float:
        fits = (
            (q.wants_date and self.dated[i]) + (q.wants_quantity and self.counted[i]) + (q.place and self.placed[i])
            + (q.contact and self.contacts[i])
        )
        if q.span is not None:
            own = self.doc_spans[i]  # the document's own date: minutes of a meeting in that period
            fits += any(overlaps(q.span, s) for s in self.date_spans[i]) or (own is not None and overlaps(q.span, own))
        named = bool(q.names & self.passage_names[i])
        return KIND_PRIOR * fits + NAME_PRIOR * named

    def distinct(self, ranked: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """The best ``k`` of ``ranked`` with no two sharing most of their text (see :meth:`overlap`)."""
        kept: list[tuple[int, float]] = []
        grams: dict[int, frozenset[str]] = {}
        for i, s in ranked:
            if any(self.overlap(i, j, grams) for j, _ in kept):
                continue
            kept.append((i, s))
            if len(kept) == k:
                break
        return kept

    def overlap(self, i: int, j: int, grams: dict[int, frozenset[str]]) -> bool:
        """Passages ``i`` and ``j`` share most of their text: overlapping windows of one
        document, or the same text in two files (minutes published both as PDF and as text).
        ``grams`` caches the passages' character grams for one question."""
        if self.docs[i] == self.docs[j]:
            (a, b), (c, d) = self.spans[i], self.spans[j]
            return min(b, d) - max(a, c) > MAX_OVERLAP * min(b - a, d - c)
        for row in (i, j):
            if row not in grams:
                grams[row] = char_grams(self.index.passages[row].text)
        mine, theirs = grams[i], grams[j]
        return len(mine & theirs) > MAX_OVERLAP * min(len(mine), len(theirs))

    def search(
        self, q: Query, k: int, mode: str, timings: dict[str, float], docs: frozenset[str] | None = None
    ) -> Retrieved:
        """The top ``k`` distinct passages for ``q``, best first; of the documents ``docs`` only, if given."""
        return self.search_many([(q, k, mode, docs)], [timings])[0]

    def request(self, q: Query, k: int, mode: str, docs: frozenset[str] | None = None) -> Request:
        """What a search for the top ``k`` passages of ``q`` asks the searcher: enough
        candidates from each ranker for fusion, ranking and de-duplication to choose from."""
        rows = self.rows(docs)
        return Request(
            q.vector, q.lexical_words, max(DEPTH, 4 * k), rows, self.named_rows(q, rows), lexical=mode != "dense", groups=q.groups
        )

    def search_many(
        self, asked: list[tuple[Query, int, str, frozenset[str] | None]], timings: list[dict[str, float]]
    ) -> list[Retrieved]:
        """:meth:`search` for several questions, with one call into the searcher for all of
        them (one round trip to each shard on a cluster). Each question's ``timings`` get the
        batch's search time."""
        requests = [self.request(q, k, mode, docs) for q, k, mode, docs in asked]
        t0 = time.perf_counter()
        found = self.searcher.search(requests)
        search_ms = (time.perf_counter() - t0) * 1000
        for tm in timings:
            tm["search_ms"] = search_ms
        return [self._ranked(q, k, mode, f, tm) for (q, k, mode, _), f, tm in zip(asked, found, timings)]

    def _ranked(self, q: Query, k: int, mode: str, found: Found, timings: dict[str, float]) -> Retrieved:
        """The candidates ``found`` for ``q``, with priors, ordered and made distinct."""
        t0 = time.perf_counter()
        dense = self.dense(found)
        if mode == "dense":
            ranked = self.with_prior(dense, {i: self.prior(q, i) for i, _ in dense})
        elif mode == "lexical":
            ranked = found.lexical
        else:
            rows, vote, prior = self.fused(q, found)
            score = rank.relative(rank.scores(self.features(q, rows, found.lexical, vote, prior)))
            order = np.argsort(-score, kind="stable")  # ties keep fusion's order
            ranked = [(int(rows[j]), float(score[j])) for j in order]
        cosine = dict(dense)
        bm25 = dict(found.lexical)
        hits = [
            Hit(self.index.passages[i], score=s, rank=r, dense=cosine.get(i), lexical=bm25.get(i))
            for r, (i, s) in enumerate(self.distinct(ranked, k), start=1)
        ]
        timings["fuse_ms"] = (time.perf_counter() - t0) * 1000
        spread = dense[0][1] - dense[min(DEPTH, len(dense)) - 1][1] if dense else 0.0
        return Retrieved(hits, spread, dense[0][1] if dense else 0.0)

    @staticmethod
    def dense(found: Found) -> list[tuple[int, float]]:
        """The dense side's candidates by cosine, with those of the documents the question
        names: they compete even if the model ranks them low."""
        if not found.named:
            return found.dense
        seen = {i for i, _ in found.dense}
        return sorted(found.dense + [h for h in found.named if h[0] not in seen], key=lambda h: (-h[1], h[0]))

    @staticmethod
    def with_prior(dense: list[tuple[int, float]], prior: dict[int, float]) -> list[tuple[int, float]]:
        """The dense candidates by cosine plus their ``prior``."""
        return sorted(((i, c + prior[i]) for i, c in dense), key=lambda x: -x[1])

    def fused(self, q: Query, found: Found) -> tuple[np.ndarray, float, dict[int, float]]:
        """The hybrid candidates for ``q`` in fusion's order (what the ranker orders), BM25's
        vote (the share of the question's words it can find in the corpus) and each
        candidate's prior (read once: fusion and the ranker both use it)."""
        dense = self.dense(found)
        prior = {i: self.prior(q, i) for i in {i for i, _ in dense} | {i for i, _ in found.lexical}}
        vote = min(1.0, found.known / max(1, len(q.words)))
        fused = fuse([self.with_prior(dense, prior), found.lexical], [1.0, vote])
        return np.array([i for i, _ in fused], dtype=np.int64), vote, prior

    def features(
        self, q: Query, rows: np.ndarray, lexical: list[tuple[int, float]], vote: float, prior: dict[int, float]
    ) -> np.ndarray:
        """What the ranker reads off each candidate ``rows`` for ``q`` (columns in
        :data:`stiqa.qa.rank.FEATURES` order); ``lexical`` is BM25's ranking, ``vote`` its
        weight in fusion, ``prior`` each row's :meth:`prior`."""
        out = np.zeros((len(rows), len(rank.FEATURES)), dtype=np.float64)
        if not len(rows):
            return out
        starts = self.index.sentence_start[rows]
        ends = self.index.sentence_start[rows + 1]
        counts = ends - starts
        sentences = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
        if len(sentences):
            cos = np.asarray(self.index.sentence_vectors[sentences]) @ q.vector
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
            best = np.maximum.reduceat(cos, np.minimum(offsets, len(cos) - 1))
            out[:, 0] = np.where(counts > 0, best, 0.0)
        lexical_rank = {i: r for r, (i, _) in enumerate(lexical, start=1)}
        wanted = set(q.words) if q.japanese else set(q.lexical_words)  # English words are translated
        bm25 = rank.FEATURES.index("lexical" if q.japanese else "translated")  # its own words, or mostly translations
        for n, i in enumerate(rows.tolist()):
            out[n, bm25] = vote / (RRF_K + lexical_rank[i]) if i in lexical_rank else 0.0
            out[n, 2] = self.words.weighted_share(wanted, self.words.passages[i], q.groups)
            out[n, 3] = prior[i]
        out[:, 4] = self.holds_kind(q, rows)
        return out

    def holds_kind(self, q: Query, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` hold the kind of answer ``q`` asks for (:meth:`Query.finds_kind`),
        from what the retriever read once per passage where that is enough."""
        if not q.asks_kind:
            return np.zeros(len(rows), dtype=bool)
        if q.place and not q.clock:
            return self.placed[rows]
        if q.contact and not q.clock:
            return self.contacts[rows]
        if not (q.clock or q.period or q.unit):
            return (q.wants_date & self.dated[rows]) | (q.wants_quantity & self.counted[rows])
        return np.array([q.finds_kind(self.index.passages[i].text) for i in rows.tolist()], dtype=bool)


def fuse(
    rankings: list[list[tuple[int, float]]], weights: list[float] | None = None, k: int = RRF_K
) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion, scaled so that first place in every ranking scores 1.0.

    Equal scores are common (two passages in swapped places in two equally weighted
    rankings); the first ranking (the model's) decides them, not the passages' order
    in the corpus.
    """
    weights = weights or [1.0] * len(rankings)
    first = {i: place for place, (i, _) in enumerate(rankings[0])} if rankings else {}
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for place, (i, _) in enumerate(ranking, start=1):
            scores[i] = scores.get(i, 0.0) + w / (k + place)
    best = sum(weights) / (k + 1)
    unranked = len(first)
    return sorted(((i, s / best) for i, s in scores.items()), key=lambda x: (-x[1], first.get(x[0], unranked), x[0]))
