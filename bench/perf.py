"""Performance of stiqa on this machine, in one run: latency, throughput, memory, build time, scale.

    python bench/perf.py [--quick] [--reps 3] [--requests 800] [--scale-max 1000000] [--json out.json]
    python bench/perf.py --only scale     # section 6 alone

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
6. the dense index at 10k / 100k / 1M synthetic passages (one subprocess per size),
   with vectors matched to the real index's statistics (6a): the index that
   ``stiqa.index.vectors.build_vector_index`` chooses, its build time, recall@10 against
   exact search, single-query p50 and exact search's for comparison (6b); the memory
   of fresh processes reading it privately or through ``read_vector_index``
   (memory-mapped), and what a second process mapping the same file shares (6c);
   HNSW on the same data up to --hnsw-max, the alternative not chosen (6d).

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
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from server import ROOT, start_server, stop_server

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


def tree_status(pid: int) -> dict[str, float]:
    """:func:`proc_status` summed over ``pid`` and its descendants (the server's workers)."""
    total: dict[str, float] = {}
    for p in process_tree(pid):
        try:
            for k, v in proc_status(p).items():
                total[k] = total.get(k, 0.0) + v
        except OSError:
            pass
    return total


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


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers are children of the supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its descendants."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


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


# ---------------------------------------------------------------- sections 1-5


def interleaved_latency(assistant, url: str, qs: list[str], reps: int, gap_s: float) -> dict[str, Any]:
    """In-process ask, bare pipeline and one HTTP client, question by question, in random order.

    The pause before each measurement lets the other process's OpenMP threads stop spinning:
    right after a request the server's idle team busy-waits for several ms and slows an
    in-process embedding on the same 2 cores by up to 1.5x (measured: 11.2 ms with no pause,
    9.8 ms after 2 ms, 7.0 ms after 10 ms)."""
    import httpx

    from stiqa.index.vectors import search

    emb, vectors = assistant.embedder, assistant.index.vectors
    depth = min(50, vectors.ntotal)  # what stiqa's dense side asks for (retrieve.DEPTH)

    def bare(q: str) -> None:
        emb.run(lambda: search(vectors, emb.queries([q]), depth))

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


def wrk_load(url: str, qs: list[str], conc: int, seconds: float) -> dict[str, Any]:
    """``conc`` keep-alive connections from wrk (one C thread, little CPU) for ``seconds``."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for q in qs:
            f.write(json.dumps({"question": q}, ensure_ascii=False) + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{conc}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(ROOT / "bench" / "wrk_ask.lua"), url],
            capture_output=True, text=True, env={**os.environ, "STIQA_WRK_BODIES": f.name}, check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    done = int(r["requests"] - r["non2xx"])
    return {"generator": "wrk", "done": done, "errors": int(r["errors"] + r["non2xx"]), "seconds": r["seconds"],
            "qps": done / r["seconds"], "p50": r["p50"], "p95": r["p95"], "capped": False}


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
    return {"generator": "httpx", "done": len(lat), "errors": errors, "seconds": elapsed, "qps": len(lat) / elapsed,
            "p50": p50(lat), "p95": pct(lat, 95), "capped": len(lat) + errors < n_req}


def index_builds(assistant, cold: bool) -> dict[str, float]:
    from stiqa.index import build_index
    from stiqa.index.lexical import JapaneseTokenizer

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

# Synthetic stand-ins for e5 passage and question embeddings (384-d, unit length), matched
# to the statistics of the real index (see ``calibration``): a shared direction (any two real
# passages have cosine ~0.87), topics of PER_TOPIC passages (a document's worth), variation
# with a power-law spectrum (real passages need ~18 / 68 / 113 principal directions for 50 /
# 80 / 90 % of their variance), and questions that are new points of the same topics moved
# by a shared offset (the query prompt) and by isotropic noise: about half of a real
# question's deviation lies outside the passages' principal directions. Questions are not
# perturbed copies of passages, whose true neighbour stands out and flatters an index.
SPECTRUM = 0.45  # singular values fall as i ** -SPECTRUM
SHARED = 3.2  # length of the shared direction; topic and within-topic variation are ~1 each
PER_TOPIC = 50
Q_SHIFT, Q_NOISE = 1.0, 1.5


def unit_rows(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_embeddings(n: int, nq: int, seed: int, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """``n`` passage vectors and ``nq`` question vectors, as described above."""
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0]
    spectrum = np.arange(1, DIM + 1) ** -SPECTRUM
    basis = (rotation * (spectrum / np.linalg.norm(spectrum))[:, None]).astype(np.float32)
    shared = rng.standard_normal(DIM).astype(np.float32)
    shared *= SHARED / np.linalg.norm(shared)
    shift = rng.standard_normal(DIM).astype(np.float32)
    shift *= Q_SHIFT / np.linalg.norm(shift)
    topics = rng.standard_normal((max(1, n // PER_TOPIC), DIM), dtype=np.float32) @ basis

    def draw(m: int) -> np.ndarray:
        t = rng.integers(0, len(topics), m)
        return topics[t] + rng.standard_normal((m, DIM), dtype=np.float32) @ basis + shared

    x = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        x[i:i + m] = unit_rows(draw(m))
    q = draw(nq) + shift + (Q_NOISE / np.sqrt(DIM)) * rng.standard_normal((nq, DIM), dtype=np.float32)
    return x, unit_rows(q)


def embedding_stats(p: np.ndarray, q: np.ndarray) -> dict[str, float]:
    s = q @ p.T
    top = -np.sort(-s, axis=1)
    pp, qq = p @ p.T, q @ q.T
    return {"question top-1 cosine (median)": float(np.median(top[:, 0])),
            "question top-10 cosine (median)": float(np.median(top[:, min(9, top.shape[1] - 1)])),
            "question-passage cosine (mean)": float(s.mean()),
            "passage-passage cosine (mean)": float(pp[np.triu_indices(len(p), 1)].mean()),
            "question-question cosine (mean)": float(qq[np.triu_indices(len(q), 1)].mean())}


def calibration(assistant) -> dict[str, dict[str, float]]:
    """The statistics of the real index (its passages, the bench questions) against synthetic
    data of the same size: the synthetic data is meant to be like this, at any size."""
    idx = assistant.index.vectors
    p = np.ascontiguousarray(idx.reconstruct_n(0, idx.ntotal))
    q = assistant.embedder.queries(questions())
    xs, qs = make_embeddings(len(p), len(q), seed=11)
    return {"real": embedding_stats(p, q), "synthetic": embedding_stats(xs, qs)}


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / exact.shape[1] for a, e in zip(approx, exact)]))


def timed_queries(
    index, q: np.ndarray, cap_s: float, max_n: int = 200, min_n: int = 10, start: int = 0
) -> list[float]:
    """Milliseconds of one-query searches: at most ``max_n``, at least ``min_n``, else until ``cap_s``."""
    from stiqa.index.vectors import search

    ts: list[float] = []
    t_end = time.perf_counter() + cap_s
    i = start
    while len(ts) < max_n and (time.perf_counter() < t_end or len(ts) < min_n):
        t = time.perf_counter()
        search(index, q[i % len(q)][None, :], 10)
        ts.append((time.perf_counter() - t) * 1000)
        i += 1
    return ts


def sweep_param(measure: Callable[[int], float], top: int) -> tuple[list, tuple]:
    """Powers of two up to ``top`` until recall@10 reaches the target, then 3/4 of the first that does."""
    sweep: list[tuple[int, float]] = []
    v = 1
    while True:
        sweep.append((min(v, top), measure(min(v, top))))
        if sweep[-1][1] >= RECALL_TARGET or v >= top:
            break
        v *= 2
    chosen = sweep[-1]
    if chosen[1] >= RECALL_TARGET and chosen[0] >= 4:
        mid = (chosen[0] * 3 // 4, measure(chosen[0] * 3 // 4))
        sweep.insert(-1, mid)
        if mid[1] >= RECALL_TARGET:
            chosen = mid
    return sweep, chosen


def hnsw_run(x: np.ndarray, q: np.ndarray, exact: np.ndarray, cap_s: float) -> dict[str, Any]:
    """The alternative: HNSW (M=16, efConstruction=40), its build time, the smallest efSearch
    reaching the recall target (up to 1024) and that setting's p50."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    h = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    h.hnsw.efConstruction = 40
    h.add(x)
    build_s = time.perf_counter() - t

    def measure(ef: int) -> float:
        h.hnsw.efSearch = max(ef, 10)
        return recall(h.search(q, 10)[1], exact)

    sweep, chosen = sweep_param(measure, 1024)
    faiss.omp_set_num_threads(1)
    h.hnsw.efSearch = max(chosen[0], 10)
    lat = timed_queries(h, q, cap_s)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return {"build_s": build_s, "ef": h.hnsw.efSearch, "recall10": chosen[1], "p50": p50(lat), "sweep": sweep}


def mapping_mib(path: str) -> dict[str, float]:
    """Rss and Pss of this process's mappings of ``path`` (/proc/self/smaps), MiB."""
    out = {"Rss": 0.0, "Pss": 0.0}
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5:
                inside = len(head) >= 6 and head[5] == path
            elif inside and head and head[0].rstrip(":") in out:
                out[head[0].rstrip(":")] += int(head[1]) / 1024
    return out


def run_reader(path: Path, how: str, hold: bool = False) -> tuple[dict, subprocess.Popen | None]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--reader", str(path), "--reader-flag", how] + (
        ["--hold"] if hold else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not hold:
        proc.communicate(timeout=300)
        proc = None
    return json.loads(line), proc


def reader_main(path: str, how: str, hold: bool) -> None:
    """A fresh process reads the index (``mapped``: read_vector_index, as stiqa does; ``private``:
    faiss.read_index), touches every vector once, times single queries, reports memory."""
    import faiss

    from stiqa.index.vectors import describe, read_vector_index

    folder = Path(path).parent
    q, exact = np.load(folder / "queries.npy"), np.load(folder / "exact.npy")
    before = proc_status()
    t = time.perf_counter()
    index = read_vector_index(path) if how == "mapped" else faiss.read_index(path)
    read_s = time.perf_counter() - t
    every = faiss.SearchParametersIVF(nprobe=index.nlist) if isinstance(index, faiss.IndexIVF) else None
    index.search(q[:1], 10, params=every)  # touches every stored vector
    lat = timed_queries(index, q, cap_s=3.0, max_n=200, min_n=20)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    r10 = recall(index.search(q, 10)[1], exact) if how == "mapped" else None
    after = proc_status()
    mapped = mapping_mib(str(Path(path).resolve()))
    res = {"how": how, "index": describe(index), "read_s": read_s, "p50": p50(lat), "n_timed": len(lat),
           "recall10": r10, "anon_mib": after["RssAnon"] - before["RssAnon"],
           "file_mib": after["RssFile"] - before["RssFile"], "map_rss_mib": mapped["Rss"],
           "map_pss_mib": mapped["Pss"], "rss_mib": after["VmRSS"]}
    print(json.dumps(res), flush=True)
    if hold:
        sys.stdin.read()  # keep the mapping alive until the parent closes our stdin


def scale_worker(n: int, nq: int, cap_s: float, mmap_check: bool, hnsw_max: int) -> None:
    """One size: exact reference, build_vector_index, then fresh processes read what it wrote."""
    import faiss

    from stiqa.index.vectors import build_vector_index, describe, write_vector_index

    res: dict[str, Any] = {"n": n, "nq": nq}
    ncpu = os.cpu_count() or 1
    say(f"scale {n:,}: data")
    faiss.omp_set_num_threads(ncpu)
    t = time.perf_counter()
    x, q = make_embeddings(n, nq, seed=3)
    res["gen_s"] = time.perf_counter() - t
    flat = faiss.IndexFlatIP(DIM)
    flat.add(x)
    top, exact = flat.search(q, 10)
    res["top1_cos"], res["top10_cos"] = float(np.median(top[:, 0])), float(np.median(top[:, 9]))
    # exact search of one query, the reference: 1 OpenMP thread (as stiqa searches) and, interleaved
    # in blocks, FAISS's default team (all cores), which stiqa.index.vectors avoids for single queries
    one: list[float] = []
    team: list[float] = []
    t_end = time.perf_counter() + 2 * cap_s
    while (time.perf_counter() < t_end and len(one) < 200) or len(one) < 10:
        for threads, acc in ((1, one), (ncpu, team)):
            faiss.omp_set_num_threads(threads)
            acc += timed_queries(flat, q, cap_s=0, max_n=5, min_n=5, start=len(acc))
    res["flat_p50"], res["flat_p50_team"] = p50(one), p50(team)
    faiss.omp_set_num_threads(ncpu)
    del flat

    say(f"scale {n:,}: build_vector_index")
    t = time.perf_counter()
    index = build_vector_index(x)
    res["build_s"] = time.perf_counter() - t
    res["index"], res["type"] = describe(index), type(index).__name__
    res["recall10"] = recall(index.search(q, 10)[1], exact)
    if isinstance(index, faiss.IndexIVF):  # the margin: recall with half the probes
        half = faiss.SearchParametersIVF(nprobe=max(1, index.nprobe // 2))
        res["recall10_half"] = recall(index.search(q, 10, params=half)[1], exact)
    tmp = Path(tempfile.mkdtemp(prefix="stiqa-perf-faiss-"))
    try:
        path = tmp / "passages.faiss"
        write_vector_index(index, path)
        res["index_mib"] = path.stat().st_size / 2**20
        res["vectors_mib"] = n * DIM * 4 / 2**20
        del index
        if n <= hnsw_max:
            say(f"scale {n:,}: HNSW for comparison")
            res["hnsw"] = hnsw_run(x, q, exact, cap_s)
        del x
        if mmap_check:
            say(f"scale {n:,}: readers (fresh processes)")
            np.save(tmp / "queries.npy", q)
            np.save(tmp / "exact.npy", exact)
            mem: dict[str, Any] = {}
            mem["private"], _ = run_reader(path, "private")
            mem["mapped"], holder = run_reader(path, "mapped", hold=True)
            mem["mapped_2nd"], _ = run_reader(path, "mapped")
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
               "--cap", str(args.cap), "--hnsw-max", str(args.hnsw_max)] + ([] if args.no_mmap else ["--mmap-check"])
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # numpy's BLAS does not fight FAISS's OpenMP team
        t = time.perf_counter()
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
        out.append({**json.loads(lines[-1][7:]), "worker_s": time.perf_counter() - t})
    return out


def report_scale(scale: list[dict[str, Any]], cal: dict[str, dict[str, float]] | None,
                 report: dict[str, Any]) -> list[list[Any]]:
    """Print the section 6 tables; return its rows for the summary."""
    from stiqa.index.vectors import EXACT_MAX

    if cal:
        table("6a. Synthetic vectors against the real index (same sizes: its passages, the bench questions)",
              ["statistic", "real e5 (stiqa index)", "synthetic"],
              [[k, f"{cal['real'][k]:.3f}", f"{cal['synthetic'][k]:.3f}"] for k in cal["real"]],
              f"Synthetic: shared direction {SHARED}, topics of {PER_TOPIC}, spectrum i^-{SPECTRUM}, "
              f"questions = new topic points + shift {Q_SHIFT} + isotropic noise {Q_NOISE} (see make_embeddings).")
    if not scale:
        return []
    rows = []
    for r in scale:
        mapped = r.get("mem", {}).get("mapped", {})
        served = mapped.get("p50", float("nan"))
        half = r.get("recall10_half")
        rows.append([f"{r['n']:,}", r["index"], r["build_s"], r["index_mib"], f"{r['recall10']:.3f}",
                     "-" if half is None else f"{half:.3f}",
                     served, r["flat_p50"], r["flat_p50_team"], r["flat_p50"] / served, r["worker_s"]])
    table(f"6b. FAISS at scale: what build_vector_index chooses ({scale[0]['nq']} synthetic questions, k=10)",
          ["passages", "index (lists/probed)", "build s", "file MiB", "recall@10", "recall@10, half the probes",
           "p50 ms (read_vector_index, 1 query)", "exact p50 ms (flat, 1 thread)",
           f"exact p50 ms ({os.cpu_count()} threads)", "speed-up vs exact (1 thread)", "worker s"], rows,
          f"Exact (IndexFlatIP) up to {EXACT_MAX:,} passages, IVF above. recall@10 against exact search of the same "
          "questions; p50 in a fresh process that read the index as stiqa does (memory-mapped), one question at a "
          "time, 1 FAISS thread. Builds use FAISS's team (2 threads).")
    mrows = []
    for r in scale:
        mem = r.get("mem")
        if not mem:
            continue
        for key, label in (("private", "faiss.read_index (private copy)"), ("mapped", "read_vector_index (mapped)"),
                           ("mapped_2nd", "  2nd process, same file, 1st still running")):
            e = mem[key]
            mrows.append([f"{r['n']:,}", label, e["anon_mib"], e["file_mib"], e["map_rss_mib"], e["map_pss_mib"],
                          e["read_s"], e["p50"]])
    if mrows:
        table("6c. Memory of a worker: a fresh process reads the index, touches every vector, searches",
              ["passages", "how read", "+anon MiB", "+file-backed MiB", "index mapping Rss MiB",
               "index mapping Pss MiB", "read s", "p50 ms"], mrows,
              "Anonymous memory is private to each worker; the mapped index is file-backed, in the page cache once: "
              "its proportional share (Pss) halves when a second process maps the same file.")
    hrows = [[f"{r['n']:,}", r["hnsw"]["build_s"], r["build_s"], r["hnsw"]["ef"], f"{r['hnsw']['recall10']:.3f}",
              r["hnsw"]["p50"], r.get("mem", {}).get("mapped", {}).get("p50")] for r in scale if r.get("hnsw")]
    if hrows:
        table("6d. The alternative not chosen: HNSW (M=16, efConstruction=40) on the same data",
              ["passages", "HNSW build s", "chosen index build s", "efSearch", "recall@10", "HNSW p50 ms",
               "chosen index p50 ms"], hrows,
              "efSearch: the smallest power of two (then 3/4 of it) reaching recall@10 >= 0.95, up to 1024.")
    fit = [(r["n"], r["flat_p50"]) for r in scale if r["n"] >= 100_000] or [(r["n"], r["flat_p50"]) for r in scale]
    per_million = 1e6 * max(b / a for a, b in fit)
    report["flat_ms_per_million"] = per_million
    print(f"\nExact search costs about {per_million:.0f} ms per million vectors (one query, 1 thread): "
          f"{per_million * EXACT_MAX / 1e6:.1f} ms at the bound of {EXACT_MAX:,} passages.")
    srow = []
    for r in scale:
        mapped = r.get("mem", {}).get("mapped", {})
        ok = r["recall10"] >= RECALL_TARGET
        srow.append([f"{r['n']:,}: {r['index']}: recall@10, p50 ms (exact p50 ms)",
                     f"{r['recall10']:.3f}, {fmt(mapped.get('p50'))} ({fmt(r['flat_p50'])})", f">= {RECALL_TARGET}",
                     "met" if ok else "NOT met"])
        if mapped:
            srow.append([f"{r['n']:,}: mapped index Pss MiB, 1 / 2 workers",
                         f"{fmt(mapped['map_pss_mib'])} / {fmt(r['mem']['mapped_2nd']['map_pss_mib'])}", "", ""])
    return srow


def scale_sizes(args) -> list[int]:
    return [n for n in (10_000, 100_000, 1_000_000) if n <= args.scale_max]


def only_scale(args, report: dict[str, Any], t_start: float) -> int:
    """``--only scale``: section 6 alone; the calibration table if the real index loads."""
    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant

    cal = None
    try:
        assistant = Assistant.load(Settings.from_env())
    except Exception as e:  # no index, no model: the synthetic figures still stand
        say(f"no comparison with the real index ({type(e).__name__}: {e})")
    else:
        cal = calibration(assistant)
        assistant.close()
        del assistant
    scale = run_scale(scale_sizes(args), args)
    report.update({"calibration": cal, "scale": scale})
    srow = report_scale(scale, cal, report)
    total = time.perf_counter() - t_start
    srow.append(["benchmark wall time (s)", total, "", ""])
    table("Summary (scale)", ["figure", "value", "target", "status"], srow)
    report["total_s"] = total
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 rep, 200 load requests, scale up to 100k (HNSW 10k), warm build only")
    ap.add_argument("--reps", type=int, default=3, help="passes over the questions (interleaved latency)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=800, help="requests in the concurrent load test")
    ap.add_argument("--load-seconds", type=float, default=30.0, help="time cap of the load test")
    ap.add_argument("--gap-ms", type=float, default=10.0, help="pause before each interleaved measurement")
    ap.add_argument("--workers", type=int, default=1, help="stiqa serve --workers (1 is recommended on 2 cores)")
    ap.add_argument("--load-generator", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx",
                    help="wrk (apt install wrk; default when installed) or an async httpx client in this process")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server (e.g. OMP_WAIT_POLICY=passive); repeatable")
    ap.add_argument("--scale-max", type=int, default=1_000_000, help="largest synthetic index (0: no scale section)")
    ap.add_argument("--nq", type=int, default=200, help="queries for recall@10")
    ap.add_argument("--cap", type=float, default=3.0, help="seconds per single-query latency loop")
    ap.add_argument("--hnsw-max", type=int, default=100_000, help="largest size also indexed with HNSW, for comparison")
    ap.add_argument("--scale-timeout", type=float, default=600.0, help="seconds per scale worker")
    ap.add_argument("--only", choices=["scale"], help="run only this section (scale: no model, server or index needed)")
    ap.add_argument("--no-mmap", action="store_true", help="skip the memory / mmap readers")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold index build")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--scale-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--mmap-check", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reader", help=argparse.SUPPRESS)
    ap.add_argument("--reader-flag", default="mapped", help=argparse.SUPPRESS)
    ap.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.reader:
        reader_main(args.reader, args.reader_flag, args.hold)
        return 0
    if args.scale_worker:
        scale_worker(args.scale_worker, args.nq, args.cap, args.mmap_check, args.hnsw_max)
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
    omp = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    print(f"command: {omp}python bench/perf.py {' '.join(sys.argv[1:])}".rstrip())
    if args.server_env:
        print(f"server environment: {' '.join(args.server_env)}")
    print(f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB, load average {m['load_avg']}; "
          f"Python {m['python']}, faiss {m['faiss']}, commit {m['commit']}")
    if args.only == "scale":
        return only_scale(args, report, t_start)

    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant

    qs = questions()
    say(f"loading the assistant in-process ({len(qs)} questions)")
    t = time.perf_counter()
    assistant = Assistant.load(Settings.from_env())
    load_s = time.perf_counter() - t
    tmpdir = Path(tempfile.mkdtemp(prefix="stiqa-perf-"))
    say("starting stiqa serve")
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    proc, url, start_s = start_server(tmpdir / "serve.log", env=server_env, args=("--workers", str(args.workers)))
    try:
        rss_idle = tree_status(proc.pid)
        say(f"server up in {start_s:.1f} s at {url}; interleaved latency, {args.reps} rep(s)")
        lat = interleaved_latency(assistant, url, qs, args.reps, args.gap_ms / 1000)
        emb = batched_embedding(assistant, qs, rounds=10 if args.quick else 20, batch=args.concurrency)
        say(f"load test: {args.concurrency} clients, {args.requests} requests, cap {args.load_seconds:.0f} s")
        cpu0, cl0, w0 = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
        if args.load_generator == "wrk":
            load = wrk_load(url, qs, args.concurrency, args.load_seconds)
        else:
            load = asyncio.run(load_test(url, qs, args.requests, args.concurrency, args.load_seconds))
        wall = time.perf_counter() - w0
        load["server_cpu"] = (cpu_seconds(proc.pid) - cpu0) / wall
        load["client_cpu"] = (time.process_time() - cl0) / wall
        rss = tree_status(proc.pid)
    finally:
        stop_server(proc)

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
    table(f"3. HTTP (python -m stiqa.cli serve --workers {args.workers}, 1 model thread each)",
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
           ["uvicorn workers", args.workers],
           ["load generator", load["generator"]]],
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
    cal = calibration(assistant)
    # free the in-process model before the scale section: its OpenMP team stays idle anyway
    del assistant

    scale = run_scale(scale_sizes(args), args)
    report.update({"calibration": cal, "scale": scale})
    scale_rows = report_scale(scale, cal, report)

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
    srow += scale_rows
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
