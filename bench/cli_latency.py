"""How long the `stiqa` command takes to answer, as a user runs it (issue 12's figures).

    python bench/cli_latency.py [--index /tmp/idx_deck] [--runs 7]

Times, as the median of ``--runs`` runs of a fresh process each: ``stiqa --help``, ``stiqa ask ""``
(refused), ``stiqa timeline`` (reads the index, no model), and ``stiqa ask "…"`` answered by a
``stiqa serve`` that this script starts on a free port over the same index. The index is built
first if the folder has none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "即時オープンアクセスはいつから？"


def stiqa() -> list[str]:
    found = shutil.which("stiqa", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "stiqa.cli"]


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[float, int]:
    """Median wall time in seconds of ``stiqa args`` and its exit status."""
    times, code = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        code = subprocess.run([*stiqa(), *args], env=env, capture_output=True, cwd=ROOT).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/idx_deck"))
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    env = {**os.environ, "STIQA_INDEX_DIR": str(args.index), "STIQA_CORPUS_DIR": str(args.corpus), "STIQA_URL": "off"}
    if not (args.index / "CURRENT").exists():
        subprocess.run([*stiqa(), "index"], env=env, check=True)
    rows = [
        ("stiqa --help", *timed(["--help"], env, args.runs)),
        ('stiqa ask ""', *timed(["ask", ""], env, args.runs)),
        ("stiqa timeline", *timed(["timeline"], env, args.runs)),
    ]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*stiqa(), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise SystemExit("stiqa serve did not start")
                time.sleep(0.2)
        rows.append((f'stiqa ask "{QUESTION}" (server)', *timed(["ask", QUESTION], {**env, "STIQA_URL": url}, args.runs)))
        rows.append((f'stiqa ask "{QUESTION}" (in-process)', *timed(["ask", QUESTION], env, max(3, args.runs // 2))))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"median of {args.runs} runs, fresh process each, index {args.index}")
    print("| command | median (s) | exit |")
    print("|---|---|---|")
    for name, seconds, code in rows:
        print(f"| `{name}` | {seconds:.2f} | {code} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
