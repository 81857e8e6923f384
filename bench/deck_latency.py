"""HTTP p50 on the deck's dev set against an earlier revision, in one run (issue 11's latency bar).

    python bench/deck_latency.py --old-root /tmp/wt_old [--rounds 5] [--json out.json]

``--old-root`` is a checkout of the earlier revision (``git worktree add /tmp/wt_old b2d43da``);
it runs in this interpreter with that checkout's ``src`` first on the path, so both use the
same libraries and the same prepared model. Each revision builds its own index of the bundled
deck, then the two servers are asked the shared harness's questions in alternating rounds
(the machine is shared and noisy); the table gives each one's median p50 and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT.parent / "shared" / "eval" / "evaluate.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(src: Path, index: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Build the deck's index with the code in ``src`` and serve it; (process, URL) once it answers."""
    env = {**os.environ, "PYTHONPATH": str(src), "STIQA_CORPUS_DIR": str(ROOT / "corpus"), "STIQA_INDEX_DIR": str(index)}
    cli = [sys.executable, "-c", "from stiqa.cli import main; main()"]
    subprocess.run([*cli, "index"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the server of {src} did not start; see {log}")


def harness(url: str) -> dict:
    out = subprocess.run([sys.executable, str(HARNESS), "--url", url, "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-root", type=Path, required=True, help="a checkout of the earlier revision")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        for name, src in (("old", args.old_root / "src"), ("new", ROOT / "src")):
            servers[name] = serve(src, Path(tmp) / f"index-{name}", Path(tmp) / f"{name}.log")
        try:
            runs: dict[str, list[dict]] = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name, (_, url) in servers.items():
                    runs[name].append(harness(url))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
    rows = {name: {"p50_ms": statistics.median(r["p50_ms"] for r in rs), "hit1": rs[0]["hit1"], "mrr": rs[0]["mrr"],
                   "answer1": rs[0]["answer1"], "abstain": rs[0]["abstain"]} for name, rs in runs.items()}
    print("| revision | HTTP p50 (median of rounds) | hit@1 | MRR | answer@1 | abstain |\n|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['p50_ms']:.1f} ms | {r['hit1']:.3f} | {r['mrr']:.3f} | {r['answer1']:.3f} | {r['abstain']:.3f} |")
    print(f"new / old p50: {rows['new']['p50_ms'] / rows['old']['p50_ms']:.2f} (bar: <= 1.5)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
