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
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
FIGURES = ("hit1", "hit5", "mrr", "answer1", "abstain", "false_abstain", "cite_ok", "date1", "p50_ms", "p95_ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"stiqa serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("stiqa serve did not become healthy")


def run_mode(mode: str, question_set: Path, rounds: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "STIQA_MODE": mode}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stiqa.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(url, proc)
        results = []
        for _ in range(rounds):
            out = subprocess.run(
                [sys.executable, str(EVAL / "evaluate.py"), "--url", url, "--set", str(question_set), "--json"],
                cwd=ROOT, check=True, capture_output=True, text=True,
            )
            results.append(json.loads(out.stdout))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
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
