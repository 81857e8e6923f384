import numpy as np
import pytest

from stiqa.qa import rank


def test_a_score_is_the_weighted_sum_of_the_features():
    features = np.array([[0.9, 0.01, 0.5, 0.03, 1.0, 0.0], [0.8, 0.0, 1.0, 0.0, 0.0, 0.012]])
    expected = [sum(w * x for w, x in zip(rank.WEIGHTS, row)) for row in features]
    assert rank.scores(features) == pytest.approx(expected)
    assert len(rank.WEIGHTS) == len(rank.FEATURES)


def test_every_feature_counts_for_a_passage():
    """More of anything the ranker reads makes a passage rank higher, never lower."""
    assert np.all(rank.WEIGHTS > 0)


def test_shown_scores_are_odds_against_the_first():
    shown = rank.relative(np.array([2.0, 3.0, 3.0 - np.log(4)]))
    assert shown == pytest.approx([np.exp(-1), 1.0, 0.25])
    assert rank.relative(np.array([])).size == 0


def test_a_closer_sentence_outranks_a_shared_title():
    """Two candidates alike but for their closest sentence's cosine: 0.02 of cosine decides,
    as it would between two passages of one set of minutes that share its title."""
    base = np.array([0.85, 0.01, 0.5, 0.0, 0.0, 0.0])
    closer = base + np.array([0.02, 0, 0, 0, 0, 0])
    assert rank.scores(closer[None])[0] > rank.scores(base[None])[0]
