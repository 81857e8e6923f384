"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis) and print the counts.

    .venv/bin/stiqa index --index /tmp/fuzzindex --corpus corpus
    .venv/bin/python bench/fuzz.py --index /tmp/fuzzindex [--max-examples 50] [--cli]
    .venv/bin/python bench/fuzz.py --url http://127.0.0.1:8000      # a server already running

Starts ``stiqa serve`` on a free port of 127.0.0.1 over ``--index`` (no API key, no rate
limit, whatever the environment says), then for every operation of /openapi.json sends
``--max-examples`` valid and ``--max-examples`` invalid generated requests (Hypothesis,
derandomized: the same requests every run). It counts instead of stopping at the first
failure: a server error is any 5xx; a bad 4xx is one whose body is not JSON
``{"detail": "<one line>"}`` or that shows a stack trace. Ends with the line

    examples N, server errors M, bad 4xx K

and exits 1 if M or K is not 0. With ``--cli`` it also runs schemathesis's own runner
(``st run``: its examples, coverage and fuzzing phases, ``--checks not_a_server_error``)
against the same server and prints its summary. tests/test_fuzz.py is the CI version
(in-process, failing on the first problem).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from server import ROOT, start_server, stop_server

LEAKS = ("Traceback", 'File "', "site-packages")


def bad_4xx(response) -> str | None:
    """Why a 4xx body is not {"detail": "<one line>"}, or None when it is."""
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    if not isinstance(body, dict) or set(body) != {"detail"}:
        return "not {'detail': ...}"
    detail = body["detail"]
    if not isinstance(detail, str) or not detail.strip() or "\n" in detail:
        return "detail is not one line of text"
    return None


def fuzz(operation, mode: GenerationMode, session: requests.Session, max_examples: int) -> dict:
    """Send up to ``max_examples`` generated requests; the counts, and a few failing requests."""
    found = {"examples": 0, "statuses": Counter(), "server_errors": 0, "bad_4xx": 0, "failures": []}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        found["examples"] += 1
        response = case.call(session=session, timeout=60)
        status = response.status_code
        found["statuses"][f"{status // 100}xx"] += 1
        problem = None
        if status >= 500:
            found["server_errors"] += 1
            problem = f"server error {status}"
        elif 400 <= status < 500 and (why := bad_4xx(response)):
            found["bad_4xx"] += 1
            problem = f"{status}: {why}"
        if problem is None and any(leak in response.text for leak in LEAKS):
            found["bad_4xx"] += 1
            problem = f"{status}: the body shows a stack trace"
        if problem and len(found["failures"]) < 3:
            found["failures"].append(f"{problem}: {case.as_curl_command()}")

    run()
    return found


def run_cli(url: str, max_examples: int) -> None:
    st = Path(sys.executable).with_name("st")
    cmd = [str(st), "run", f"{url}/openapi.json", "--max-examples", str(max_examples),
           "--checks", "not_a_server_error", "--workers", "1", "--generation-deterministic"]
    print(f"\n$ st {' '.join(cmd[1:])}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:  # st keeps a .schemathesis/ cache in its folder
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=scratch)
    text = out.stdout + out.stderr
    at = text.find("SUMMARY")
    print(text[text.rfind("\n", 0, at) + 1:].strip() if at != -1 else text[-3000:].strip())
    m = re.search(r"(\d+) generated", text)
    generated = m.group(1) if m else "?"
    print(f"st run: {generated} test cases, exit status {out.returncode} (0: no server error)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index", help="index folder for the server it starts")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--url", help="fuzz this running server instead of starting one")
    ap.add_argument("--max-examples", type=int, default=50, help="per operation and mode (valid, invalid)")
    ap.add_argument("--cli", action="store_true", help="also run schemathesis's `st run` against the server")
    args = ap.parse_args()

    proc = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"stiqa-fuzz-serve-{os.getpid()}.log"
        # No key and no rate limit, whatever this shell's environment says.
        proc, url, _ = start_server(log, env={
            "STIQA_INDEX_DIR": str(args.index.resolve()), "STIQA_CORPUS_DIR": str(args.corpus.resolve()),
            "STIQA_API_KEY": None, "STIQA_RATE_LIMIT": None,
        })
    try:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        totals = Counter()
        t0 = time.perf_counter()
        print("| operation | mode | examples | 2xx | 4xx | 5xx | bad 4xx |\n|---|---|---:|---:|---:|---:|---:|")
        with requests.Session() as session:
            for result in schema.get_all_operations():
                operation = result.ok()
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    takes_input = operation.path_parameters or operation.query or operation.body
                    if mode is GenerationMode.NEGATIVE and not takes_input:
                        continue
                    found = fuzz(operation, mode, session, args.max_examples)
                    s = found["statuses"]
                    print(f"| {operation.label} | {mode.value} | {found['examples']} | {s['2xx']} | {s['4xx']} "
                          f"| {s['5xx']} | {found['bad_4xx']} |", flush=True)
                    for failure in found["failures"]:
                        print(f"    {failure}")
                    totals.update(examples=found["examples"], server_errors=found["server_errors"],
                                  bad_4xx=found["bad_4xx"])
        took = time.perf_counter() - t0
        print(f"\nfuzzed {url} in {took:.0f} s (--max-examples {args.max_examples} per operation and mode)")
        print(f"examples {totals['examples']}, server errors {totals['server_errors']}, bad 4xx {totals['bad_4xx']}")
        if args.cli:
            run_cli(url, args.max_examples)
        return 1 if totals["server_errors"] or totals["bad_4xx"] else 0
    finally:
        if proc is not None:
            stop_server(proc)


if __name__ == "__main__":
    sys.exit(main())
