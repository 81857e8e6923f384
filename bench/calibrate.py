"""Calibrate the abstention thresholds on several question sets together and print their margins.

    # 1. measure: the evidence of every question, on the index it was written for
    python bench/calibrate.py measure --set ../shared/eval/dev.jsonl --set bench/calibration.jsonl --out /tmp/deck.json
    STIQA_CORPUS_DIR=../shared/corpus-dev STIQA_INDEX_DIR=/tmp/idx_dev \\
        python bench/calibrate.py measure --set bench/questions/corpus-dev.jsonl --out /tmp/dev.json
    # 2. fit: the thresholds that separate answerable from unanswerable over all of them
    python bench/calibrate.py fit /tmp/deck.json /tmp/dev.json
    # the same for another weight of the evidence score's anchor term (stiqa.qa.answer.ANCHOR_WEIGHT)
    python bench/calibrate.py fit /tmp/deck.json /tmp/dev.json --anchor-weight 0.05

Each question gets the answer evidence (stiqa.qa.answer.Evidence). For questions with Japanese
words and without, ``fit`` picks the threshold that keeps false abstention at most
``--max-false-abstain`` and abstains on as many unanswerable questions as it can, and prints
its margins: the distance to the nearest answerable question above and unanswerable one below.
The held-out questions are never measured here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stiqa.config import Settings
from stiqa.qa.answer import ANCHOR_WEIGHT
from stiqa.service.assistant import Assistant


def measure(sets: list[Path], out: Path) -> None:
    rows = [json.loads(line) for s in sets for line in s.read_text(encoding="utf-8").splitlines() if line.strip()]
    assistant = Assistant.load(Settings.from_env())
    found = []
    for r in rows:
        ev = assistant.ask(r["question"], 10).evidence
        found.append({"id": r["id"], "answerable": bool(r["answers"]), "japanese": ev.japanese,
                      "fits": ev.fits, "score": ev.score, "top": ev.top, "background": ev.background,
                      "distinctiveness": ev.distinctiveness, "coverage": ev.coverage, "anchored": ev.anchored})
    out.write_text(json.dumps(found, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(found)} questions -> {out}")


def fit(files: list[Path], max_false_abstain: float, anchor_weight: float) -> None:
    found = [q for f in files for q in json.loads(f.read_text(encoding="utf-8"))]
    for q in found:  # the score as it would be with ``anchor_weight`` in place of the one measured with
        q["score"] += (ANCHOR_WEIGHT - anchor_weight) * (1 - q["anchored"])
    for japanese, name in ((True, "in Japanese"), (False, "in English (or with no Japanese words)")):
        group = [q for q in found if q["japanese"] == japanese]
        # An answerable question whose excerpt does not fit (it lacks the kind asked for, or is
        # about another meeting than the one named) abstains whatever the threshold, and an
        # unanswerable one whose excerpt does not fit abstains anyway.
        ans = sorted(q["score"] for q in group if q["answerable"] and q["fits"])
        lost = sum(1 for q in group if q["answerable"] and not q["fits"])
        una = sorted(q["score"] for q in group if not q["answerable"] and q["fits"])
        caught = sum(1 for q in group if not q["answerable"] and not q["fits"])
        n_ans, n_una = len(ans) + lost, len(una) + caught
        if not ans or not n_una:
            continue
        # Candidates: halfway between neighbouring scores, so that each has a margin on both sides.
        scores = sorted(set(ans + una))
        cuts = [(a + b) / 2 for a, b in zip(scores, scores[1:])] + [scores[0] - 1e-4]

        def outcome(t: float) -> tuple[int, int]:
            return lost + sum(1 for x in ans if x < t), caught + sum(1 for x in una if x < t)

        allowed = [t for t in cuts if outcome(t)[0] <= max_false_abstain * n_ans] or [min(cuts)]
        # The most unanswerable questions caught, then the fewest answerable ones lost.
        threshold = max(allowed, key=lambda t: (outcome(t)[1], -outcome(t)[0]))
        false_abstain, abstains = outcome(threshold)
        above = min((x for x in ans if x >= threshold), default=float("nan"))
        below = max((x for x in una if x < threshold), default=float("nan"))
        print(f"questions {name}: {n_ans} answerable, {n_una} unanswerable")
        print(f"  threshold {threshold:.4f}: false abstain {false_abstain}/{n_ans} "
              f"({false_abstain / n_ans:.3f}), abstain {abstains}/{n_una} ({abstains / n_una:.3f})")
        print(f"  margins: {above - threshold:+.4f} to the lowest answerable above, "
              f"{threshold - below:+.4f} to the highest unanswerable below")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="the evidence of every question, on the configured index")
    m.add_argument("--set", action="append", type=Path, required=True, help="question set(s), JSON lines")
    m.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="thresholds and margins over measured sets")
    f.add_argument("files", nargs="+", type=Path)
    f.add_argument("--max-false-abstain", type=float, default=0.05)
    f.add_argument("--anchor-weight", type=float, default=ANCHOR_WEIGHT,
                   help=f"the evidence score's ANCHOR_WEIGHT to fit the thresholds for (now {ANCHOR_WEIGHT})")
    args = ap.parse_args()
    if args.command == "measure":
        measure(args.set, args.out)
    else:
        fit(args.files, args.max_false_abstain, args.anchor_weight)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
