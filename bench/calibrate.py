"""Calibrate the abstention thresholds and print their margins.

    python bench/calibrate.py [--set ../shared/eval/dev.jsonl] [--set bench/calibration.jsonl]

For every question of the sets (answerable ones have gold answers, the others
an empty list) it computes the answer evidence (stiqa.answer.Evidence), then,
separately for questions with Japanese words and without, the lowest score of
an answerable question and the highest of an unanswerable one that the
answer-kind check lets through. It prints, for the configured thresholds
(STIQA_MIN_EVIDENCE, STIQA_MIN_EVIDENCE_OTHER), the margin to the nearest
answerable question and to the nearest unanswerable one below, and the
unanswerable questions that no threshold separates from the answerable ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stiqa.config import Settings
from stiqa.pipeline import Assistant

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", type=Path, help="question set(s), JSON lines")
    args = ap.parse_args()
    sets = args.set or [ROOT.parent / "shared" / "eval" / "dev.jsonl", ROOT / "bench" / "calibration.jsonl"]
    rows = [json.loads(line) for s in sets for line in s.read_text(encoding="utf-8").splitlines() if line.strip()]

    settings = Settings.from_env()
    assistant = Assistant.load(settings)
    found = []
    for r in rows:
        result = assistant.ask(r["question"], 10)
        ev = result.evidence
        found.append((r, ev, result.answerable))

    print(f"{'id':5} {'ja':2} {'gold':6} {'kind':4} {'distinct':>8} {'cover':>6} {'score':>6}  decided")
    for r, ev, ok in sorted(found, key=lambda x: (x[1].japanese, bool(x[0]["answers"]), x[1].score)):
        gold = "answer" if r["answers"] else "none"
        right = ok == bool(r["answers"])
        print(
            f"{r['id']:5} {'ja' if ev.japanese else 'en':2} {gold:6} {'ok' if ev.kind_found else 'no':4} "
            f"{ev.distinctiveness:8.3f} {ev.coverage:6.3f} {ev.score:6.3f}  "
            f"{'answer' if ok else 'abstain'}{'' if right else '  <-- wrong'}"
        )

    print()
    for japanese, name, configured in (
        (True, "with Japanese words", settings.min_evidence),
        (False, "without Japanese words", settings.min_evidence_other),
    ):
        ans = sorted(ev.score for r, ev, _ in found if ev.japanese == japanese and r["answers"])
        una = sorted(
            (ev.score, r["id"]) for r, ev, _ in found
            if ev.japanese == japanese and not r["answers"] and ev.kind_found
        )
        if not ans or not una:
            print(f"questions {name}: too few to calibrate ({len(ans)} answerable, {len(una)} unanswerable)")
            continue
        below = [score for score, _ in una if score < configured]
        above = [qid for score, qid in una if score >= configured]
        print(
            f"questions {name}: {len(ans)} answerable score >= {ans[0]:.3f}; {len(una)} unanswerable pass the "
            f"kind check, highest {una[-1][0]:.3f} ({una[-1][1]})\n"
            f"  configured threshold {configured:.4f}: margin to the lowest answerable {ans[0] - configured:+.4f}, "
            f"to the highest unanswerable below it {configured - max(below, default=float('nan')):+.4f}; "
            f"unanswerable at or above it: {', '.join(above) or 'none'}"
        )
    wrong_abstain = sum(1 for r, _, ok in found if r["answers"] and not ok)
    wrong_answer = sum(1 for r, _, ok in found if not r["answers"] and ok)
    total_ans = sum(1 for r, _, _ in found if r["answers"])
    print(
        f"with the configured thresholds: false abstain {wrong_abstain}/{total_ans}, "
        f"answered unanswerable {wrong_answer}/{len(found) - total_ans}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
