"""Indexing throughput on one machine and on a Ray cluster of loopback nodes, in one run (issue 13).

    python bench/cluster_index.py [--corpus ../shared/corpus-dev] [--nodes 3]

Builds the corpus cold (no embedding cache) twice: with `stiqa index` on this machine, then
with `stiqa index --ray` on a cluster this script starts on this machine (a head and
``--nodes`` - 1 workers, one loopback address and one CPU each) and stops afterwards. Prints
passages, seconds and passages/s for each, and checks that both builds hold the same
passages and vectors. The loopback nodes share this machine's cores: the figure shows the
overhead of the distribution, not the gain of real machines (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(nodes: int) -> str:
    ips = [f"127.0.0.{i + 2}" for i in range(nodes)]
    port = free_port()
    address = f"{ips[0]}:{port}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    subprocess.run([str(RAY), "start", "--head", f"--node-ip-address={ips[0]}", f"--port={port}",
                    "--include-dashboard=false", f"--ray-client-server-port={free_port()}", *common],
                   check=True, capture_output=True)
    for ip in ips[1:]:
        subprocess.run([str(RAY), "start", f"--address={address}", f"--node-ip-address={ip}", *common],
                       check=True, capture_output=True)
    return address


def build(corpus: Path, index: Path, ray_address: str | None) -> tuple[float, str]:
    env = {**os.environ, "STIQA_CORPUS_DIR": str(corpus), "STIQA_INDEX_DIR": str(index)}
    args = [sys.executable, "-m", "stiqa.cli", "index", *(["--ray", ray_address] if ray_address else [])]
    t0 = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(out.stdout + out.stderr)
    return seconds, out.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus-dev")
    ap.add_argument("--nodes", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from stiqa.config import DEFAULT_MODEL
    from stiqa.index import load_index

    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        here, line = build(args.corpus, Path(tmp) / "local", None)
        rows.append(("1 machine (`stiqa index`)", here, line))
        address = start_cluster(args.nodes)
        try:
            there, line = build(args.corpus, Path(tmp) / "ray", address)
            rows.append((f"{args.nodes} loopback nodes (`stiqa index --ray`)", there, line))
        finally:
            subprocess.run([str(RAY), "stop", "--force"], capture_output=True)
        local = load_index(Path(tmp) / "local", DEFAULT_MODEL)
        remote = load_index(Path(tmp) / "ray", DEFAULT_MODEL)
        same = [p.to_dict() for p in local.passages] == [p.to_dict() for p in remote.passages] and np.array_equal(
            local.vectors.reconstruct_n(0, local.vectors.ntotal), remote.vectors.reconstruct_n(0, remote.vectors.ntotal)
        )
        passages = local.manifest.passages
    print(f"corpus {args.corpus}: {passages} passages, cold builds (whole command, model loading included)")
    print("| build | seconds | passages/s |")
    print("|---|---|---|")
    for name, seconds, _ in rows:
        print(f"| {name} | {seconds:.0f} | {passages / seconds:.1f} |")
    print(f"same passages and vectors: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
