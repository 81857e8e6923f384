"""Score `stiqa serve` with the shared harness, once per ranking mode, and print one table.

    python bench/eval_modes.py [--set ../shared/eval/dev.jsonl] [--modes hybrid,dense,lexical] [--rounds 3]

For each mode it starts `stiqa serve` with STIQA_MODE set (the index must be
built: `stiqa index`), waits for /api/health, runs ../shared/eval/evaluate.py
--json against it ``--rounds`` times and reports the quality figures of the
first round (they do not change) with the median of the rounds' p50/p95
latencies: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from server import ROOT, start_server, stop_server

EVAL = ROOT.parent / "shared" / "eval"
FIGURES = ("hit1", "hit5", "mrr", "answer1", "abstain", "false_abstain", "cite_ok", "date1", "p50_ms", "p95_ms")


def run_mode(mode: str, question_set: Path, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="stiqa-eval-") as tmp:
        proc, url, _ = start_server(Path(tmp) / "serve.log", env={"STIQA_MODE": mode})
        try:
            results = []
            for _ in range(rounds):
                out = subprocess.run(
                    [sys.executable, str(EVAL / "evaluate.py"), "--url", url, "--set", str(question_set), "--json"],
                    cwd=ROOT, check=True, capture_output=True, text=True,
                )
                results.append(json.loads(out.stdout))
        finally:
            stop_server(proc)
    summary = dict(results[0])
    for key in ("p50_ms", "p95_ms"):
        summary[key] = statistics.median(r[key] for r in results)
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=EVAL / "dev.jsonl")
    ap.add_argument("--modes", default="hybrid,dense,lexical")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rows = {mode: run_mode(mode, args.set, args.rounds) for mode in args.modes.split(",")}
    print(f"{'figure':14}" + "".join(f"{m:>10}" for m in rows))
    for fig in FIGURES:
        print(f"{fig:14}" + "".join(f"{rows[m][fig]:10.3f}" for m in rows))
    for m in rows:
        print(f"mrr_by_lang {m}: {json.dumps(rows[m]['mrr_by_lang'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
