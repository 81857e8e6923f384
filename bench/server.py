"""`stiqa serve` for the benchmarks: a free port of 127.0.0.1, its output in a log, back once healthy.

Shared by eval_modes.py, fuzz.py and perf.py (run as ``python bench/<script>.py``,
so this folder is on the import path).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    log: Path,
    env: Mapping[str, str | None] | None = None,
    args: Sequence[str] = (),
    timeout: float = 180,
    python: str = sys.executable,
    cwd: Path = ROOT,
) -> tuple[subprocess.Popen, str, float]:
    """(process, URL, seconds to healthy) of a new `stiqa serve`; SystemExit with its log if it fails.

    ``env`` changes the server's environment: a value of None removes the variable.
    ``python`` and ``cwd`` run another checkout's stiqa (bench/engines.py compares with one).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    t0 = time.perf_counter()
    with open(log, "w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [python, "-m", "stiqa.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=full_env,
        )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"stiqa serve exited with {proc.returncode}; its log:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise SystemExit(f"stiqa serve did not become healthy in {timeout:.0f} s; its log:\n{log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM (in-flight requests finish), then SIGKILL if it takes over 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
