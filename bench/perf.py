"""Performance of stiqa on this machine, in one run: latency, throughput, memory, build time, scale.

    python bench/perf.py [--quick] [--reps 3] [--requests 800] [--scale-max 1000000] [--json out.json]

Full run: about 4 minutes on 2 cores; --quick: under a minute.

Sections (each prints one Markdown table; a summary table closes the run):

1. in-process ``Assistant.ask`` over the development and calibration questions
   (repeated ``--reps`` times), total and the p50 of every stage of ``result.timings``;
2. a bare pipeline (query embedding + FAISS search over the same vectors, no HTTP)
   and stiqa's HTTP p50 as a ratio to it (target <= 1.6x); also what embedding 8
   questions in one call would cost per question;
3. HTTP against ``python -m stiqa.cli serve`` (a subprocess, 1 uvicorn worker): one
   keep-alive client (measured interleaved with 1 and 2, question by question), then 8
   concurrent clients (bounded request count and time);
4. index build time into a temporary folder, cold (no embedding cache) and warm;
5. the server's resident memory after the load test;
6. FAISS at 10k / 100k / 1M synthetic 384-d unit vectors (one subprocess per size):
   exact IndexFlatIP p50 for one query, IVF (and HNSW up to --hnsw-max) p50 at the
   smallest setting reaching recall@10 >= 0.95 against exact, on the brief's isotropic
   data and on low-rank data; memory, and whether a memory-mapped index is shared
   between processes.

The machine is shared and noisy: figures are medians, compared things are measured
interleaved, and every loop is bounded in time. Only 127.0.0.1 is contacted.
Needs the index built (`stiqa index`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CALIBRATION = ROOT / "bench" / "calibration.jsonl"
DIM = 384
RECALL_TARGET = 0.95
RATIO_TARGET = 1.6
QPS_TARGET = 150.0
SWITCH_MS = 2.0  # exact search is fine while one query costs less than this

# ---------------------------------------------------------------- helpers


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(xs, p)) if len(xs) else float("nan")


def p50(xs: list[float]) -> float:
    return pct(xs, 50)


def fmt(x: Any, nd: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 100:
            return f"{x:.1f}"
        return f"{x:.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def table(title: str, headers: list[str], rows: list[list[Any]], note: str | None = None) -> None:
    cells = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(vals: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"

    print(f"\n### {title}\n")
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print(line(r))
    if note:
        print(f"\n{note}")
    sys.stdout.flush()


def say(msg: str) -> None:
    print(f"[perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile in MiB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(rest.split()[0]) / 1024
    return out


def smaps_pss(pid: int | str = "self") -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss", "Pss_Anon", "Pss_File"):
                    out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    import faiss

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_avg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "commit": commit,
    }


def questions() -> list[str]:
    qs: list[str] = []
    for path in (DEV, CALIBRATION):
        with open(path, encoding="utf-8") as f:
            qs += [json.loads(line)["question"] for line in f if line.strip()]
    return qs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- sections 1-5


def start_server(log_path: Path, timeout: float = 180, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen, str, float]:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "stiqa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"stiqa serve exited with {proc.returncode}; log:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise SystemExit("stiqa serve did not become healthy")


def interleaved_latency(assistant, url: str, qs: list[str], reps: int, gap_s: float) -> dict[str, Any]:
    """In-process ask, bare pipeline and one HTTP client, question by question, in random order.

    The pause before each measurement lets the other process's OpenMP threads stop spinning:
    right after a request the server's idle team busy-waits for several ms and slows an
    in-process embedding on the same 2 cores by up to 1.5x (measured: 11.2 ms with no pause,
    9.8 ms after 2 ms, 7.0 ms after 10 ms)."""
    import httpx

    emb, vectors = assistant.embedder, assistant.index.vectors
    depth = min(50, vectors.ntotal)  # what stiqa's dense side asks for (retrieve.DEPTH)

    def bare(q: str) -> None:
        emb.run(lambda: vectors.search(emb.queries([q]), depth))

    out: dict[str, Any] = {"ask_wall": [], "ask_took": [], "bare": [], "http": [], "http_took": [], "health": [],
                           "stages": {}, "results": []}
    rng = random.Random(7)
    with httpx.Client(base_url=url, timeout=30) as client:
        def http(q: str) -> None:
            r = client.post("/api/ask", json={"question": q})
            r.raise_for_status()
            out["http_took"].append(r.json()["took_ms"])

        def health(_q: str) -> None:
            client.get("/api/health").raise_for_status()

        def ask(q: str) -> None:
            res = assistant.ask(q)
            out["results"].append(res)
            out["ask_took"].append(res.took_ms)
            for k, v in res.timings.items():
                out["stages"].setdefault(k, []).append(v)

        kinds: list[tuple[str, Callable[[str], None]]] = [
            ("http", http), ("ask_wall", ask), ("bare", bare), ("health", health)]
        for q in qs[:10]:  # warm-up, not counted
            for _, fn in kinds:
                fn(q)
        out["http_took"].clear()
        out["ask_took"].clear()
        out["stages"].clear()
        out["results"].clear()
        for _ in range(reps):
            order = qs[:]
            rng.shuffle(order)
            for q in order:
                for name, fn in rng.sample(kinds, len(kinds)):  # each kind follows each other equally often
                    time.sleep(gap_s)
                    t = time.perf_counter()
                    fn(q)
                    out[name].append((time.perf_counter() - t) * 1000)
    return out


def serialisation_ms(results: list) -> float:
    """p50 of building the /api/ask body the way the router does (to_dict + JSONResponse)."""
    from fastapi.responses import JSONResponse

    ts = []
    for res in results:
        t = time.perf_counter()
        JSONResponse(res.to_dict())
        ts.append((time.perf_counter() - t) * 1000)
    return p50(ts)


def batched_embedding(assistant, qs: list[str], rounds: int, batch: int = 8) -> dict[str, float]:
    """ms per question: one call per question vs one call for ``batch`` questions (interleaved)."""
    emb = assistant.embedder
    single, batched = [], []
    for r in range(rounds):
        group = [qs[(r * batch + j) % len(qs)] for j in range(batch)]
        t = time.perf_counter()
        for q in group:
            emb.queries([q])
        single.append((time.perf_counter() - t) * 1000 / batch)
        t = time.perf_counter()
        emb.queries(group)
        batched.append((time.perf_counter() - t) * 1000 / batch)
    return {"single_ms": p50(single), "batched_ms": p50(batched), "batch": batch}


async def load_test(url: str, qs: list[str], n_req: int, conc: int, cap_s: float) -> dict[str, Any]:
    import httpx

    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(client.post("/api/ask", json={"question": qs[i]}) for i in range(conc)))  # connect
        todo = iter(range(n_req))
        t0 = time.perf_counter()
        deadline = t0 + cap_s

        async def worker() -> None:
            nonlocal errors
            for i in todo:
                if time.perf_counter() > deadline:
                    break
                t = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": qs[i % len(qs)]})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    lat.append((time.perf_counter() - t) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(conc)))
        elapsed = time.perf_counter() - t0
    return {"done": len(lat), "errors": errors, "seconds": elapsed, "qps": len(lat) / elapsed,
            "p50": p50(lat), "p95": pct(lat, 95), "capped": len(lat) + errors < n_req}


def index_builds(assistant, cold: bool) -> dict[str, float]:
    from stiqa.index import build_index
    from stiqa.lexical import JapaneseTokenizer

    s = assistant.settings
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="stiqa-perf-index-") as tmp:
        target = Path(tmp) / "index"
        if not cold:  # seed the cache from the real index so that the first build is warm too
            shutil.copytree(s.index_dir, target)
        for name in ("cold", "warm") if cold else ("warm",):
            tok = JapaneseTokenizer(s.lexical_mode)
            t = time.perf_counter()
            built = build_index(s.corpus_dir, target, assistant.embedder, tok)
            out[name] = time.perf_counter() - t
            out["passages"] = built.manifest.passages
            out["sentences"] = built.manifest.sentences
    return out


# ---------------------------------------------------------------- section 6: scale (subprocesses)


def unit_rows(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_data(kind: str, n: int, seed: int, chunk: int = 100_000) -> np.ndarray:
    """``iso``: random normal, normalised. ``lowrank``: a 32-d random subspace plus noise, normalised
    (a stand-in for real embeddings, whose neighbourhoods have a low intrinsic dimension)."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, DIM), dtype=np.float32)
    w = rng.standard_normal((32, DIM), dtype=np.float32) / np.sqrt(32)
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        if kind == "iso":
            b = rng.standard_normal((m, DIM), dtype=np.float32)
        else:
            b = rng.standard_normal((m, 32), dtype=np.float32) @ w
            b += 0.3 * rng.standard_normal((m, DIM), dtype=np.float32)
        x[i:i + m] = unit_rows(b)
    return x


def perturbed_queries(x: np.ndarray, nq: int, seed: int) -> np.ndarray:
    """Database vectors plus noise (cosine ~0.89 to their source), so each has a true neighbour."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(x), nq, replace=False)
    q = x[ids] + (0.5 / np.sqrt(DIM)) * rng.standard_normal((nq, DIM), dtype=np.float32)
    return unit_rows(q.astype(np.float32))


def recall(approx: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    r10 = float(np.mean([len(set(a) & set(e)) / exact.shape[1] for a, e in zip(approx, exact)]))
    r1 = float(np.mean(approx[:, 0] == exact[:, 0]))
    return r10, r1


def timed_queries(
    index, q: np.ndarray, cap_s: float, max_n: int = 200, min_n: int = 10, start: int = 0
) -> list[float]:
    """Milliseconds of one-query searches: at most ``max_n``, at least ``min_n``, else until ``cap_s``."""
    ts: list[float] = []
    t_end = time.perf_counter() + cap_s
    i = start
    while len(ts) < max_n and (time.perf_counter() < t_end or len(ts) < min_n):
        t = time.perf_counter()
        index.search(q[i % len(q)][None, :], 10)
        ts.append((time.perf_counter() - t) * 1000)
        i += 1
    return ts


def nlist_for(n: int, override_1m: int) -> int:
    if n >= 1_000_000:
        return override_1m
    return max(64, 1 << int(math.log2(4 * math.sqrt(n))))  # <= 4 sqrt(n), a power of two


def ivf_run(x: np.ndarray, q: np.ndarray, exact: np.ndarray, nlist: int, cap_s: float) -> dict[str, Any]:
    """Build IVF{nlist},Flat; the smallest power-of-two nprobe reaching the recall target; its p50."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    ivf = faiss.index_factory(DIM, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10
    ivf.cp.max_points_per_centroid = 40  # train on <= 40 * nlist points
    ivf.train(x[: min(len(x), 40 * nlist)])
    ivf.add(x)
    build_s = time.perf_counter() - t

    def measure(nprobe: int) -> tuple[int, float, float]:
        ivf.nprobe = nprobe
        _, ids = ivf.search(q, 10)
        return (nprobe, *recall(ids, exact))

    sweep, chosen = sweep_param(measure, nlist)
    faiss.omp_set_num_threads(1)  # one query per request, on the model's thread
    ivf.nprobe = chosen[0]
    lat = timed_queries(ivf, q, cap_s)
    r16 = next((s for s in sweep if s[0] == 16), None)
    return {"index": ivf, "nlist": nlist, "build_s": build_s, "param": chosen[0], "recall10": chosen[1],
            "recall1": chosen[2], "p50": p50(lat), "n_timed": len(lat), "sweep": sweep,
            "recall10_at_16": r16[1] if r16 else None, "exhaustive": chosen[0] >= nlist,
            "name": f"IVF{nlist},Flat", "param_name": "nprobe"}


def sweep_param(measure: Callable[[int], tuple[int, float, float]], top: int) -> tuple[list, tuple]:
    """Powers of two up to ``top`` until recall@10 reaches the target, then 3/4 of the first that does."""
    sweep: list[tuple[int, float, float]] = []
    v = 1
    while True:
        sweep.append(measure(min(v, top)))
        if sweep[-1][1] >= RECALL_TARGET or v >= top:
            break
        v *= 2
    chosen = sweep[-1]
    if chosen[1] >= RECALL_TARGET and chosen[0] >= 4:
        mid = measure(chosen[0] * 3 // 4)
        sweep.insert(-1, mid)
        if mid[1] >= RECALL_TARGET:
            chosen = mid
    return sweep, chosen


def hnsw_run(x: np.ndarray, q: np.ndarray, exact: np.ndarray, cap_s: float) -> dict[str, Any]:
    """HNSW (M=16, efConstruction=40): build time, the smallest efSearch reaching the target, its p50."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    h = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    h.hnsw.efConstruction = 40
    h.add(x)
    build_s = time.perf_counter() - t

    def measure(ef: int) -> tuple[int, float, float]:
        h.hnsw.efSearch = max(ef, 10)
        _, ids = h.search(q, 10)
        return (max(ef, 10), *recall(ids, exact))

    sweep, chosen = sweep_param(measure, 1024)
    faiss.omp_set_num_threads(1)
    h.hnsw.efSearch = chosen[0]
    lat = timed_queries(h, q, cap_s)
    return {"build_s": build_s, "param": chosen[0], "recall10": chosen[1], "recall1": chosen[2], "p50": p50(lat),
            "n_timed": len(lat), "sweep": sweep, "recall10_at_16": None, "exhaustive": False,
            "name": "HNSW16,efC40", "param_name": "efSearch", "nlist": None}


def run_reader(path: Path, flag: str, nprobe: int, hold: bool = False) -> tuple[dict, subprocess.Popen | None]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--reader", str(path), "--reader-flag", flag,
           "--reader-nprobe", str(nprobe)] + (["--hold"] if hold else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not hold:
        proc.communicate(timeout=120)
        proc = None
    return json.loads(line), proc


def reader_main(path: str, flag: str, nprobe: int, hold: bool) -> None:
    """Load an index (normally or memory-mapped), touch every vector once, report memory."""
    import faiss

    flags = {"load": 0, "mmap": faiss.IO_FLAG_MMAP, "mmap_ifc": faiss.IO_FLAG_MMAP_IFC}[flag]
    faiss.omp_set_num_threads(1)
    before = proc_status()
    t = time.perf_counter()
    index = faiss.read_index(path, flags)
    read_s = time.perf_counter() - t
    q = perturbed_queries(np.random.default_rng(5).standard_normal((50, DIM), dtype=np.float32), 20, 6)
    if hasattr(index, "nprobe"):
        index.nprobe = index.nlist
    index.search(q[:1], 10)  # touches every stored vector
    if hasattr(index, "nprobe"):
        index.nprobe = nprobe
    lat = timed_queries(index, q, cap_s=2.0, max_n=30, min_n=5)
    after = proc_status()
    res = {"flag": flag, "type": type(index).__name__, "read_s": read_s, "p50": p50(lat),
           "anon_mib": after["RssAnon"] - before["RssAnon"], "file_mib": after["RssFile"] - before["RssFile"],
           "rss_mib": after["VmRSS"], **{f"smaps_{k}": v for k, v in smaps_pss().items()}}
    print(json.dumps(res), flush=True)
    if hold:
        sys.stdin.read()  # keep the mapping alive until the parent closes our stdin


def scale_worker(n: int, nq: int, cap_s: float, nlist_1m: int, mmap_check: bool, hnsw_max: int) -> None:
    import faiss

    res: dict[str, Any] = {"n": n}
    ncpu = os.cpu_count() or 1
    nlist = nlist_for(n, nlist_1m)

    # low-rank data first: its nprobe is the one the memory readers use
    say(f"scale {n:,}: IVF{nlist} on low-rank data")
    faiss.omp_set_num_threads(ncpu)
    x = make_data("lowrank", n, seed=3)
    q = perturbed_queries(x, nq, seed=4)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(x)
    _, exact = flat.search(q, 10)
    del flat
    low = ivf_run(x, q, exact, nlist, cap_s)
    low.pop("index")
    res["lowrank"] = low
    if n <= hnsw_max:
        say(f"scale {n:,}: HNSW on low-rank data")
        res["lowrank_hnsw"] = hnsw_run(x, q, exact, cap_s)
    del x

    faiss.omp_set_num_threads(ncpu)
    t = time.perf_counter()
    x = make_data("iso", n, seed=1)
    res["gen_s"] = time.perf_counter() - t
    q = perturbed_queries(x, nq, seed=2)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(x)
    _, exact = flat.search(q, 10)
    res["flat_mib"] = n * DIM * 4 / 2**20

    # exact search, one query: 1 OpenMP thread (serving) against the default team, interleaved blocks
    one: list[float] = []
    team: list[float] = []
    t_end = time.perf_counter() + 2 * cap_s
    while (time.perf_counter() < t_end and len(one) < 200) or len(one) < 10:
        for threads, acc in ((1, one), (ncpu, team)):
            faiss.omp_set_num_threads(threads)
            acc += timed_queries(flat, q, cap_s=0, max_n=5, min_n=5, start=len(acc))
    res["flat_p50_1t"], res["flat_p95_1t"], res["flat_p50_team"] = p50(one), pct(one, 95), p50(team)
    res["flat_timed"] = len(one)

    say(f"scale {n:,}: IVF{nlist} on iso data")
    iso = ivf_run(x, q, exact, nlist, cap_s)
    del x
    tmp = Path(tempfile.mkdtemp(prefix="stiqa-perf-faiss-"))
    try:
        if mmap_check:
            faiss.write_index(flat, str(tmp / "flat.faiss"))
            faiss.write_index(iso["index"], str(tmp / "ivf.faiss"))
        del flat
        iso.pop("index")
        res["iso"] = iso
        if mmap_check:
            say(f"scale {n:,}: memory and mmap readers")
            probe = low["param"]
            mem: dict[str, Any] = {"nprobe": probe}
            mem["flat_load"], _ = run_reader(tmp / "flat.faiss", "load", 1)
            mem["flat_mmap"], _ = run_reader(tmp / "flat.faiss", "mmap", 1)
            mem["flat_ifc"], holder = run_reader(tmp / "flat.faiss", "mmap_ifc", 1, hold=True)
            mem["flat_ifc_2nd"], _ = run_reader(tmp / "flat.faiss", "mmap_ifc", 1)
            holder.stdin.close()
            holder.wait(timeout=60)
            mem["ivf_load"], _ = run_reader(tmp / "ivf.faiss", "load", probe)
            mem["ivf_mmap"], holder = run_reader(tmp / "ivf.faiss", "mmap", probe, hold=True)
            mem["ivf_mmap_2nd"], _ = run_reader(tmp / "ivf.faiss", "mmap", probe)
            holder.stdin.close()
            holder.wait(timeout=60)
            res["mem"] = mem
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("RESULT " + json.dumps(res), flush=True)


def run_scale(sizes: list[int], args) -> list[dict[str, Any]]:
    out = []
    for n in sizes:
        say(f"scale {n:,}: worker")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-worker", str(n), "--nq", str(args.nq),
               "--cap", str(args.cap), "--nlist-1m", str(args.nlist_1m),
               "--hnsw-max", str(args.hnsw_max)] + ([] if args.no_mmap else ["--mmap-check"])
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # numpy's BLAS does not fight FAISS's OpenMP team
        try:
            p = subprocess.run(
                cmd, check=False, capture_output=True, text=True, timeout=args.scale_timeout, env=env
            )
        except subprocess.TimeoutExpired:
            say(f"scale {n:,}: timed out after {args.scale_timeout} s, skipped")
            continue
        sys.stderr.write(p.stderr)
        lines = [line for line in p.stdout.splitlines() if line.startswith("RESULT ")]
        if p.returncode != 0 or not lines:
            say(f"scale {n:,}: worker failed ({p.returncode})")
            continue
        out.append(json.loads(lines[-1][7:]))
    return out


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 rep, 200 load requests, scale up to 100k (HNSW 10k), warm build only")
    ap.add_argument("--reps", type=int, default=3, help="passes over the questions (interleaved latency)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=800, help="requests in the concurrent load test")
    ap.add_argument("--load-seconds", type=float, default=30.0, help="time cap of the load test")
    ap.add_argument("--gap-ms", type=float, default=10.0, help="pause before each interleaved measurement")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server (e.g. OMP_WAIT_POLICY=passive); repeatable")
    ap.add_argument("--scale-max", type=int, default=1_000_000, help="largest synthetic index (0: no scale section)")
    ap.add_argument("--nq", type=int, default=200, help="queries for recall@10")
    ap.add_argument("--cap", type=float, default=3.0, help="seconds per single-query latency loop")
    ap.add_argument("--nlist-1m", type=int, default=2048, help="IVF lists at 1M (4096 builds ~3x slower here)")
    ap.add_argument("--hnsw-max", type=int, default=100_000, help="largest size also indexed with HNSW")
    ap.add_argument("--scale-timeout", type=float, default=240.0, help="seconds per scale worker")
    ap.add_argument("--no-mmap", action="store_true", help="skip the memory / mmap readers")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold index build")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--scale-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--mmap-check", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reader", help=argparse.SUPPRESS)
    ap.add_argument("--reader-flag", default="load", help=argparse.SUPPRESS)
    ap.add_argument("--reader-nprobe", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.reader:
        reader_main(args.reader, args.reader_flag, args.reader_nprobe, args.hold)
        return 0
    if args.scale_worker:
        scale_worker(args.scale_worker, args.nq, args.cap, args.nlist_1m, args.mmap_check, args.hnsw_max)
        return 0
    if args.quick:
        args.reps, args.requests, args.no_cold = 1, 200, True
        args.scale_max = min(args.scale_max, 100_000)
        args.hnsw_max = min(args.hnsw_max, 10_000)

    t_start = time.perf_counter()
    os.chdir(ROOT)
    report: dict[str, Any] = {"machine": machine(), "argv": sys.argv[1:]}
    m = report["machine"]
    print(f"# stiqa performance ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
    print(f"command: python bench/perf.py {' '.join(sys.argv[1:])}".rstrip())
    if args.server_env:
        print(f"server environment: {' '.join(args.server_env)}")
    print(f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB, load average {m['load_avg']}; "
          f"Python {m['python']}, faiss {m['faiss']}, commit {m['commit']}")

    from stiqa.config import Settings
    from stiqa.pipeline import Assistant

    qs = questions()
    say(f"loading the assistant in-process ({len(qs)} questions)")
    t = time.perf_counter()
    assistant = Assistant.load(Settings.from_env())
    load_s = time.perf_counter() - t
    tmpdir = Path(tempfile.mkdtemp(prefix="stiqa-perf-"))
    say("starting stiqa serve")
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    proc, url, start_s = start_server(tmpdir / "serve.log", env=server_env)
    try:
        rss_idle = proc_status(proc.pid)
        say(f"server up in {start_s:.1f} s at {url}; interleaved latency, {args.reps} rep(s)")
        lat = interleaved_latency(assistant, url, qs, args.reps, args.gap_ms / 1000)
        emb = batched_embedding(assistant, qs, rounds=10 if args.quick else 20, batch=args.concurrency)
        say(f"load test: {args.concurrency} clients, {args.requests} requests, cap {args.load_seconds:.0f} s")
        cpu0, cl0, w0 = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
        load = asyncio.run(load_test(url, qs, args.requests, args.concurrency, args.load_seconds))
        wall = time.perf_counter() - w0
        load["server_cpu"] = (cpu_seconds(proc.pid) - cpu0) / wall
        load["client_cpu"] = (time.process_time() - cl0) / wall
        rss = proc_status(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    ser_ms = serialisation_ms(lat.pop("results"))
    stages = {k: p50(v) for k, v in lat["stages"].items()}
    ask_p50, ask_p95 = p50(lat["ask_wall"]), pct(lat["ask_wall"], 95)
    bare_p50, http_p50 = p50(lat["bare"]), p50(lat["http"])
    took_p50 = p50(lat["ask_took"])
    ratio = http_p50 / bare_p50
    n_meas = len(lat["ask_wall"])
    rows = [[k.removesuffix("_ms"), v, pct(lat["stages"][k], 95), 100 * v / took_p50] for k, v in stages.items()]
    rows.append(["sum of stage p50s", sum(stages.values()), None, 100 * sum(stages.values()) / took_p50])
    rows.append(["took_ms (inside ask)", took_p50, pct(lat["ask_took"], 95), 100.0])
    rows.append(["ask() wall, caller side", ask_p50, ask_p95, 100 * ask_p50 / took_p50])
    table(f"1. In-process Assistant.ask ({len(qs)} questions x {args.reps} = {n_meas}, default k=5, hybrid)",
          ["stage", "p50 ms", "p95 ms", "% of took p50"], rows,
          f"Assistant.load (model + index) took {load_s:.1f} s. The wall time adds the hop onto the model's thread.")

    table("2. Bare pipeline vs stiqa (same questions, interleaved question by question)",
          ["pipeline", "p50 ms", "p95 ms", "x bare"],
          [["bare: embedder.queries([q]) + index.vectors.search(k=50)", bare_p50, pct(lat["bare"], 95), 1.0],
           ["stiqa in-process ask()", ask_p50, ask_p95, ask_p50 / bare_p50],
           ["stiqa HTTP POST /api/ask (1 keep-alive client)", http_p50, pct(lat["http"], 95), ratio],
           ["GET /api/health round trip (HTTP floor, same client)", p50(lat["health"]), pct(lat["health"], 95),
            p50(lat["health"]) / bare_p50],
           ["building the /api/ask body (to_dict + JSONResponse), in-process", ser_ms, None, None],
           [f"query embedding, 1 question per call (x{emb['batch']} in a row)", emb["single_ms"], None, None],
           [f"query embedding, {emb['batch']} questions in one call, per question", emb["batched_ms"], None, None]],
          f"HTTP p50 / bare p50 = {ratio:.3f}x (target <= {RATIO_TARGET}x: "
          f"{'met' if ratio <= RATIO_TARGET else 'NOT met'}).")

    http_over = [h - t for h, t in zip(lat["http"], lat["http_took"])]
    ceiling = 1000 / took_p50
    table("3. HTTP (python -m stiqa.cli serve, 1 uvicorn worker, 1 model thread)",
          ["measure", "value"],
          [["server start to healthy (s)", start_s],
           ["1 client: p50 ms", http_p50], ["1 client: p95 ms", pct(lat["http"], 95)],
           ["1 client: HTTP + app overhead p50 ms (round trip - took_ms)", p50(http_over)],
           [f"{args.concurrency} clients: requests done / errors", f"{load['done']} / {load['errors']}"
            + (" (time cap hit)" if load["capped"] else "")],
           [f"{args.concurrency} clients: throughput (questions/s)", load["qps"]],
           [f"{args.concurrency} clients: p50 ms", load["p50"]],
           [f"{args.concurrency} clients: p95 ms", load["p95"]],
           ["server CPU during load (cores)", load["server_cpu"]],
           ["server CPU per question (core-ms)", 1000 * load["server_cpu"] / load["qps"]],
           [f"CPU budget per question at {QPS_TARGET:.0f} q/s on {os.cpu_count()} cores (core-ms)",
            1000 * (os.cpu_count() or 1) / QPS_TARGET],
           ["load client CPU (cores, same machine)", load["client_cpu"]],
           ["ceiling: 1000 / in-process took p50 (questions/s)", ceiling],
           ["uvicorn workers", 1]],
          f"Throughput target >= {QPS_TARGET:.0f} questions/s with {args.concurrency} clients: "
          f"{'met' if load['qps'] >= QPS_TARGET else 'NOT met'}.")

    say("index builds (temporary folder)")
    builds = index_builds(assistant, cold=not args.no_cold)
    table(f"4. Index build ({builds['passages']} passages, {builds['sentences']} sentences; in-process build_index, model loaded)",
          ["build", "seconds"],
          [["cold (empty index folder: embeds every text)", builds.get("cold")],
           ["warm (embedding cache of the previous build)", builds["warm"]],
           ["model + index load (Assistant.load, imports excluded)", load_s]])

    table("5. Server memory (/proc/<pid>/status)", ["when", "VmRSS MiB", "RssAnon MiB", "RssFile MiB", "VmHWM MiB"],
          [["after start", rss_idle["VmRSS"], rss_idle["RssAnon"], rss_idle["RssFile"], rss_idle["VmHWM"]],
           ["after the load test", rss["VmRSS"], rss["RssAnon"], rss["RssFile"], rss["VmHWM"]]])

    report.update({"load_s": load_s, "latency": {k: v for k, v in lat.items() if k != "stages"},
                   "stages_p50": stages, "embedding": emb, "load": load, "builds": builds,
                   "rss_idle": rss_idle, "rss": rss, "start_s": start_s})
    # free the in-process model before the scale section: its OpenMP team stays idle anyway
    del assistant

    scale: list[dict[str, Any]] = []
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= args.scale_max]
    if sizes:
        scale = run_scale(sizes, args)
        report["scale"] = scale
    if scale:
        rows = []
        for r in scale:
            for kind in ("iso", "lowrank", "lowrank_hnsw"):
                a = r.get(kind)
                if not a:
                    continue
                rows.append([f"{r['n']:,}", kind.removesuffix("_hnsw"), r["flat_p50_1t"], r["flat_p50_team"], a["name"],
                             a["build_s"], f"{a['param_name']} {a['param']}" + (" (all)" if a["exhaustive"] else ""),
                             a["recall10"], a["recall1"], a["recall10_at_16"], a["p50"], r["flat_p50_1t"] / a["p50"]])
        table("6a. FAISS scale: one query, k=10 (synthetic 384-d unit vectors, 200 perturbed-database queries)",
              ["passages", "data", "flat p50 ms (1 thread)", f"flat p50 ms ({os.cpu_count()} threads)", "approx index",
               "build s", "setting", "recall@10", "recall@1", "recall@10 at nprobe 16", "approx p50 ms (1 thread)",
               "speed-up vs flat"],
              rows,
              "setting: the smallest power of two (then 3/4 of it) reaching recall@10 >= 0.95 against exact search; "
              "(all) = every list probed, i.e. exhaustive. iso = random normal, normalised (the brief's data); "
              "lowrank = a random 32-d subspace plus noise (0.3 per dimension), normalised: neighbourhoods of low "
              "intrinsic dimension, like real embeddings. Builds use 2 threads, IVF k-means 10 iterations on 40 x nlist points.")
        hn = [r for r in scale if r.get("lowrank_hnsw")]
        if hn:
            big = max(hn, key=lambda r: r["n"])
            est = big["lowrank_hnsw"]["build_s"] * (1e6 / big["n"]) * math.log(1e6) / math.log(big["n"])
            report["hnsw_1m_build_estimate_s"] = est
            print(f"\nHNSW (M=16, efConstruction=40) built {big['n']:,} vectors in {big['lowrank_hnsw']['build_s']:.1f} s: "
                  f"about {est:.0f} s at 1M (n log n), {'over' if est > 120 else 'under'} the 2-minute budget"
                  + (", so 1M uses IVF only." if est > 120 else "."))
        mrows = []
        for r in scale:
            mem = r.get("mem")
            if not mem:
                continue
            for key, label in (("flat_load", "flat, read_index"), ("flat_mmap", "flat, IO_FLAG_MMAP"),
                               ("flat_ifc", "flat, IO_FLAG_MMAP_IFC"), ("flat_ifc_2nd", "  2nd process, same file"),
                               ("ivf_load", "IVF, read_index"), ("ivf_mmap", "IVF, IO_FLAG_MMAP"),
                               ("ivf_mmap_2nd", "  2nd process, same file")):
                e = mem[key]
                mrows.append([f"{r['n']:,}", label, e["type"], e["anon_mib"], e["file_mib"],
                              e.get("smaps_Pss"), e["read_s"], e["p50"]])
        if mrows:
            table("6b. FAISS memory: a fresh process reads the index, touches every vector, searches "
                  "(1 thread; IVF at the low-rank nprobe)",
                  ["passages", "how read", "type", "+anon MiB", "+file-backed MiB", "process Pss MiB",
                   "read s", "p50 ms"], mrows,
                  "Anonymous memory is private to each worker; file-backed pages of a memory-mapped index sit in "
                  "the page cache once, and Pss (proportional share) halves when a second process maps the same file.")
        fit = [(r["n"], r["flat_p50_1t"]) for r in scale]
        slope = max(b / a for a, b in fit if a >= 100_000) if any(a >= 100_000 for a, _ in fit) else fit[-1][1] / fit[-1][0]
        report["switch_n"] = int(SWITCH_MS / slope)
        print(f"\nExact search reaches {SWITCH_MS:.0f} ms a query at about {report['switch_n']:,} passages "
              f"({slope * 1e6:.1f} ms per million vectors, 1 thread).")

    srow = [["in-process ask p50 / p95 ms", f"{ask_p50:.2f} / {ask_p95:.2f}", "", ""],
            ["  of which query embedding p50 ms", stages.get("embed_ms"), "", ""],
            ["bare (embed + FAISS) p50 ms", bare_p50, "", ""],
            ["HTTP p50 / p95 ms (1 client)", f"{http_p50:.2f} / {pct(lat['http'], 95):.2f}", "", ""],
            ["HTTP p50 / bare p50", f"{ratio:.3f}x", f"<= {RATIO_TARGET}x", "met" if ratio <= RATIO_TARGET else "NOT met"],
            [f"throughput, {args.concurrency} clients (q/s)", load["qps"], f">= {QPS_TARGET:.0f}",
             "met" if load["qps"] >= QPS_TARGET else "NOT met"],
            [f"p95 ms, {args.concurrency} clients", load["p95"], "", ""],
            ["serial ceiling 1000/took p50 (q/s)", ceiling, "", ""],
            ["server CPU per question under load (core-ms)", 1000 * load["server_cpu"] / load["qps"],
             f"<= {1000 * (os.cpu_count() or 1) / QPS_TARGET:.1f} for {QPS_TARGET:.0f} q/s", ""],
            ["server VmRSS after load (MiB)", rss["VmRSS"], "", ""],
            ["index build cold / warm (s)", f"{fmt(builds.get('cold'))} / {fmt(builds['warm'])}", "", ""]]
    for r in scale:
        srow.append([f"{r['n']:,}: flat p50 ms (1 thread)", r["flat_p50_1t"], "", ""])
        for kind in ("iso", "lowrank", "lowrank_hnsw"):
            a = r.get(kind)
            if not a:
                continue
            ok = a["recall10"] >= RECALL_TARGET
            status = ("met only exhaustively (no speed-up)" if a["exhaustive"] else "met") if ok else "NOT met"
            label = f"{r['n']:,} {kind.removesuffix('_hnsw')}: {a['name']} {a['param_name']} {a['param']}: recall@10, p50 ms"
            srow.append([label, f"{a['recall10']:.3f}, {a['p50']:.2f}", f">= {RECALL_TARGET}", status])
    if "switch_n" in report:
        srow.append(["exact -> approximate above (passages)", report["switch_n"], f"flat p50 > {SWITCH_MS:.0f} ms", ""])
    total = time.perf_counter() - t_start
    srow.append(["benchmark wall time (s)", total, "", ""])
    table("Summary", ["figure", "value", "target", "status"], srow)
    report["total_s"] = total
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
