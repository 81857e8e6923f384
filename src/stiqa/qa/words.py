"""The content words of an index's passages and how rare each word is: read once per loaded
index and shared by ranking (how much of a question a passage covers) and answer choice (which
sentence holds the question's focus words)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from stiqa.index import Index
from stiqa.index.lexical import Group, JapaneseTokenizer

MAX_GROUPS = 4096  # translated groups kept read (a question has a dozen; the cache is cleared when full)


class WordStats:
    """Content words (:class:`JapaneseTokenizer`) of every passage as it was indexed (title,
    section and text), with BM25's IDF over those passages."""

    def __init__(self, index: Index, tokenizer: JapaneseTokenizer) -> None:
        self.tokenizer = tokenizer
        self._cache: dict[str, frozenset[str]] = {}
        self._groups: dict[Group, tuple[frozenset[str], list[tuple[str, ...]], float]] = {}
        self.passages = [self.words_of(index.embedding_text(p)) for p in index.passages]  # by row
        for p in index.passages:  # answer choice reads these on every question
            self.words_of(p.citation.section)
            for s in p.sentences:
                self.words_of(s.text)
        df: Counter[str] = Counter()
        for words in self.passages:
            df.update(words)
        n = len(index.passages)
        self.idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def words_of(self, text: str) -> frozenset[str]:
        """The content words of ``text``, cached: call it only for the index's own texts
        (passages, sentences, sections), which recur on every question."""
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = frozenset(self.tokenizer.words(text))
        return found

    def weighted_share(self, wanted: set[str], found: frozenset[str], groups: Sequence[Group] = ()) -> float:
        """IDF-weighted share of ``wanted`` words and translated ``groups`` that are in
        ``found``: a rare word the question and the text share counts for more than a common
        one. A group (:mod:`stiqa.qa.glossary`) is one word of the question: it is found
        when any of its alternatives is, and weighs as its most common alternative (the
        group occurs wherever any alternative does)."""
        # One order for both sums (a set's order varies with the process's hash seed): a text
        # with every wanted word gives exactly 1.0, and the same share in every process.
        weights = [(w in found, self.idf.get(w, self.unseen_idf)) for w in sorted(wanted)]
        for words, phrases, weight in map(self._group, groups):
            weights.append((not found.isdisjoint(words) or any(found.issuperset(p) for p in phrases), weight))
        total = sum(x for _, x in weights)
        if not total:
            return 0.0
        return sum(x for hit, x in weights if hit) / total

    def _group(self, group: Group) -> tuple[frozenset[str], list[tuple[str, ...]], float]:
        """A group's alternatives that occur in the corpus, as one-word ones (a set, tested in
        one call) and longer ones, with the group's weight: read once per question, since
        ranking tests the group against every candidate."""
        found = self._groups.get(group)
        if found is None:
            known = [alt for alt in group if alt and all(w in self.idf for w in alt)]
            weight = min((sum(self.idf[w] for w in alt) / len(alt) for alt in known), default=0.0)
            found = (frozenset(alt[0] for alt in known if len(alt) == 1), [alt for alt in known if len(alt) > 1], weight)
            if len(self._groups) >= MAX_GROUPS:
                self._groups.clear()
            self._groups[group] = found
        return found
