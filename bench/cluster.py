"""Issue 13's figures in one run: indexing throughput on one node and on a three-node loopback
cluster (``bench/cluster_index.py``), then serving p50, p95 and questions/s through the Ray
front end against plain `stiqa serve` (``bench/cluster_serve.py``).

    python bench/cluster.py [--corpus ../shared/corpus-dev] [--index /tmp/idx_deck]

Each part starts and stops its own cluster; their tables go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus-dev")
    ap.add_argument("--index", type=Path, default=Path("/tmp/idx_deck"))
    args = ap.parse_args()
    for script, options in (("cluster_index.py", ["--corpus", str(args.corpus)]),
                            ("cluster_serve.py", ["--index", str(args.index)])):
        print(f"## {script}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *options])
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
