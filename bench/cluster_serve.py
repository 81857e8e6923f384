"""Serving through Ray Serve against plain `stiqa serve`, in one run (issue 13).

    python bench/cluster_serve.py [--index /tmp/idx_deck] [--rounds 3] [--clients 4]

Starts `stiqa serve` over the index, then a three-node loopback Ray cluster (two logical CPUs
per node) with `stiqa serve --ray` (a front end per node) over the same index, the index in one
shard and then in ``--shards`` shards (two replicas each). For each, it asks the shared dev
set's questions one at a time (p50, p95 over ``--rounds`` rounds) and then from ``--clients``
threads at once (questions/s). The loopback nodes share this machine's cores.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"
NODES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(url: str, question: str) -> float:
    body = json.dumps({"question": question, "k": 5}).encode()
    request = urllib.request.Request(f"{url}/api/ask", data=body, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    urllib.request.urlopen(request, timeout=60).read()
    return (time.perf_counter() - t0) * 1000


def wait(url: str, proc: subprocess.Popen, replicas: int | None = None) -> None:
    """Until the server answers (and, on Ray, every front end is up)."""
    deadline = time.time() + 300
    while True:
        try:
            health = json.loads(urllib.request.urlopen(f"{url}/api/health", timeout=5).read())
            if replicas is None or health.get("replicas") == replicas:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"the server at {url} did not start")
        time.sleep(1)


def measure(url: str, questions: list[str], rounds: int, clients: int) -> tuple[float, float, float]:
    for q in questions[:3]:
        ask(url, q)  # warm
    times = [ask(url, q) for _ in range(rounds) for q in questions]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda q: ask(url, q), questions * rounds))
    qps = len(questions) * rounds / (time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], qps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/idx_deck"))
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--shards", type=int, default=2)
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    env = {**os.environ, "STIQA_INDEX_DIR": str(args.index.resolve()), "STIQA_CORPUS_DIR": str(args.corpus.resolve())}
    rows = []
    port = free_port()
    plain = subprocess.Popen([sys.executable, "-m", "stiqa.cli", "serve", "--port", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait(f"http://127.0.0.1:{port}", plain)
        rows.append(("`stiqa serve` (1 process)", *measure(f"http://127.0.0.1:{port}", questions, args.rounds, args.clients)))
    finally:
        plain.terminate()
        plain.wait(timeout=60)
    head = f"{NODES[0]}:{free_port()}"
    common = ["--num-cpus=2", "--disable-usage-stats"]
    subprocess.run([str(RAY), "start", "--head", f"--node-ip-address={NODES[0]}", f"--port={head.split(':')[1]}",
                    "--include-dashboard=false", f"--ray-client-server-port={free_port()}", *common],
                   check=True, capture_output=True)
    try:
        for ip in NODES[1:]:
            subprocess.run([str(RAY), "start", f"--address={head}", f"--node-ip-address={ip}", *common],
                           check=True, capture_output=True)
        for shards in sorted({1, args.shards}):
            port = free_port()
            served = subprocess.Popen([sys.executable, "-m", "stiqa.cli", "serve", "--ray", head, "--replicas", "3",
                                       "--shards", str(shards), "--shard-replicas", "2",
                                       "--host", NODES[0], "--port", str(port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            try:
                url = f"http://{NODES[0]}:{port}"
                wait(url, served, replicas=3)
                name = f"`stiqa serve --ray` (3 front ends, {shards} shard(s) x 2 replicas, 3 loopback nodes)"
                rows.append((name, *measure(url, questions, args.rounds, args.clients)))
            finally:
                served.terminate()
                served.wait(timeout=120)
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True)
    print(f"{len(questions)} questions x {args.rounds} rounds; {args.clients} clients for questions/s")
    print("| server | p50 ms | p95 ms | questions/s |")
    print("|---|---|---|---|")
    for name, p50, p95, qps in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {qps:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
