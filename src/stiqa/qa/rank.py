"""Order a question's candidate passages by what each one holds for it.

Reciprocal-rank fusion (:func:`stiqa.qa.retrieve.fuse`) sees only the two rankers' ranks.
It cannot tell a passage whose vector is near the question because its title is (every
passage of a set of minutes shares the meeting's title) from one that holds the question's
rare words, nor a passage with one sentence on the question among others from one that is
only loosely on its topic. The candidates it gathers are ordered instead by a linear score
of a few things read off each one:

* ``sentence``: the cosine between the question and the passage's closest sentence (the
  passage's own vector averages its sentences);
* ``lexical``: its BM25 rank as fusion counts it, ``vote / (RRF_K + rank)``, where the vote
  is the share of the question's words the corpus knows (0 when BM25 did not find it);
* ``translated``: the same for a question not in Japanese, whose BM25 words are mostly its
  English words' dictionary translations (:mod:`stiqa.qa.glossary`): looser evidence than
  the question's own words, so it has a weight of its own;
* ``coverage``: the IDF-weighted share of the question's words it holds with its title and
  section (:class:`stiqa.qa.words.WordStats`);
* ``prior``: retrieval's prior (the kind of answer asked for, the time asked about, the
  document the question names; :meth:`stiqa.qa.retrieve.Retriever.prior`);
* ``kind``: it holds the kind of answer asked for, in the unit asked (1 or 0).

The weights are fitted by ``bench/fit_ranker.py`` (pairwise logistic regression: each
passage that answers a question against each that does not) on the deck's questions and
corpus-dev's together; the script prints them with their cross-validated figures. No weight
depends on the size of the corpus: cosines, shares and ranks are comparable across indexes.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("sentence", "lexical", "coverage", "prior", "kind", "translated")
WEIGHTS = np.array([72.991, 39.433, 5.601, 19.963, 3.245, 141.168], dtype=np.float64)


def scores(features: np.ndarray, weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """The ranking score of each row of ``features`` (columns in :data:`FEATURES` order)."""
    return features @ weights


def relative(score: np.ndarray) -> np.ndarray:
    """Scores as shown with a hit: the odds, under the fitted model, that a passage rather
    than the first one answers the question (1.0 for the first, less below it)."""
    return np.exp(score - score.max()) if len(score) else score
