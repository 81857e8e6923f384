"""Fit the candidate ranker's weights (stiqa.qa.rank) and print how well they rank, cross-validated.

    # 1. measure: every question's candidates, their features and which ones answer it,
    #    on the index it was written for
    STIQA_INDEX_DIR=/tmp/idx_deck python bench/fit_ranker.py measure \\
        --set ../shared/eval/dev.jsonl --set bench/calibration.jsonl --out /tmp/rank-deck.json
    STIQA_CORPUS_DIR=../shared/corpus-dev STIQA_INDEX_DIR=/tmp/idx_dev \\
        python bench/fit_ranker.py measure --set bench/questions/corpus-dev.jsonl --out /tmp/rank-dev.json
    # 2. fit: weights on all of them, and 5-fold cross-validated hit@1, hit@5 and MRR@10
    python bench/fit_ranker.py fit /tmp/rank-deck.json /tmp/rank-dev.json

A candidate *answers* a question when the harness would count it as a hit (it holds a gold
answer and is at most 400 characters long). The fit is a pairwise logistic regression: for
each answerable question, each answering candidate against each other one. Figures are taken
after retrieval's de-duplication of overlapping passages, as a user sees them, for fusion's
order (what ranking was before) and the ranker's; cross-validation holds out one fifth of
each file's questions at a time. The held-out questions are never measured here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stiqa.config import Settings
from stiqa.evaluation import MAX_PASSAGE_CHARS, holds_answer, read_questions
from stiqa.qa import rank
from stiqa.service.assistant import Assistant

FOLDS = 5
K = 10


def measure(sets: list[Path], out: Path) -> None:
    assistant = Assistant.load(Settings.from_env())
    r = assistant.retriever
    found_all = []
    for path in sets:
        for question in read_questions(path):
            q = r.query(question.question, "hybrid", {})
            found = r.searcher.search([r.request(q, K, "hybrid")])[0]
            rows, vote, prior = r.fused(q, found)
            passages = [r.index.passages[i] for i in rows]
            grams: dict[int, frozenset[str]] = {}
            found_all.append({
                "id": question.id,
                "answerable": question.answerable,
                "features": r.features(q, rows, found.lexical, vote, prior).round(6).tolist(),
                "answers": [len(p.text) <= MAX_PASSAGE_CHARS and holds_answer(p.text, question.answers) for p in passages],
                # pairs of candidates (by position) that de-duplication keeps only one of
                "overlaps": [
                    [a, b] for a in range(len(rows)) for b in range(a) if r.overlap(int(rows[a]), int(rows[b]), grams)
                ],
            })
    out.write_text(json.dumps(found_all), encoding="utf-8")
    print(f"{len(found_all)} questions -> {out}")


def first_answer(q: dict, order: list[int]) -> int | None:
    """The rank of the first answering candidate among the distinct top K in ``order``."""
    clash: dict[int, set[int]] = {}
    for a, b in q["overlaps"]:
        clash.setdefault(a, set()).add(b)
        clash.setdefault(b, set()).add(a)
    kept: list[int] = []
    for j in order:
        if clash.get(j, set()) & set(kept):
            continue
        kept.append(j)
        if q["answers"][j]:
            return len(kept)
        if len(kept) == K:
            return None
    return None


def figures(questions: list[dict], weights: list[np.ndarray | None]) -> tuple[float, float, float]:
    """hit@1, hit@5 and MRR@10 with each question's ``weights`` (None: fusion's order)."""
    ranks = []
    for q, w in zip(questions, weights):
        n = len(q["answers"])
        order = list(range(n)) if w is None else list(np.argsort(-rank.scores(np.array(q["features"]), w), kind="stable"))
        ranks.append(first_answer(q, order))
    count = len(ranks) or 1
    return (sum(r == 1 for r in ranks) / count, sum(bool(r and r <= 5) for r in ranks) / count,
            sum(1 / r for r in ranks if r) / count)


def fit_weights(
    questions: list[dict], used: list[int], l2: float = 1e-3, steps: int = 3000, rate: float = 0.5
) -> np.ndarray:
    """Pairwise logistic regression on standardised feature differences; each question weighs
    the same, however many pairs it gives."""
    pairs, share = [], []
    for q in questions:
        x = np.array(q["features"])[:, used]
        good = [j for j, a in enumerate(q["answers"]) if a]
        bad = [j for j, a in enumerate(q["answers"]) if not a]
        if not good or not bad:
            continue
        pairs.extend(x[g] - x[b] for g in good for b in bad)
        share.extend([1 / (len(good) * len(bad))] * (len(good) * len(bad)))
    d, share = np.array(pairs), np.array(share) / len(questions)
    scale = d.std(axis=0) + 1e-9
    z = d / scale
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        margin = z @ w
        w -= rate * (-(z * (share / (1 + np.exp(margin)))[:, None]).sum(axis=0) + l2 * w)
    full = np.zeros(len(rank.FEATURES))
    full[used] = w / scale
    return full


def fit(files: list[Path], drop: list[str]) -> None:
    # Answerable questions only; those with no answering candidate give no pair but count as misses.
    by_file = {f: [q for q in json.loads(f.read_text(encoding="utf-8")) if q["answerable"]] for f in files}
    used = [n for n, name in enumerate(rank.FEATURES) if name not in drop]
    weights = fit_weights([q for qs in by_file.values() for q in qs], used)
    print("weights (stiqa.qa.rank.WEIGHTS):", ", ".join(f"{w:.3f}" for w in weights), f"for {rank.FEATURES}")
    folded: dict[str, np.ndarray] = {}
    for fold in range(FOLDS):
        train = [q for qs in by_file.values() for n, q in enumerate(qs) if n % FOLDS != fold]
        w = fit_weights(train, used)
        folded.update({q["id"]: w for qs in by_file.values() for n, q in enumerate(qs) if n % FOLDS == fold})
    print("| answerable questions | order | hit@1 | hit@5 | MRR@10 |")
    print("|---|---|---|---|---|")
    for f, qs in by_file.items():
        for name, ws in (("fusion", [None] * len(qs)), ("ranker, all questions", [weights] * len(qs)),
                         ("ranker, 5-fold cross-validated", [folded[q["id"]] for q in qs])):
            h1, h5, mrr = figures(qs, ws)
            print(f"| {f.name} ({len(qs)}) | {name} | {h1:.3f} | {h5:.3f} | {mrr:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--set", type=Path, action="append", required=True)
    m.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit")
    f.add_argument("files", type=Path, nargs="+")
    f.add_argument("--drop", action="append", default=[], choices=rank.FEATURES, help="leave a feature out (weight 0)")
    args = parser.parse_args()
    if args.command == "measure":
        measure(args.set, args.out)
    else:
        fit(args.files, args.drop)


if __name__ == "__main__":
    main()
