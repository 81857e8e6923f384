"""`stiqa serve --ray ADDRESS`: the HTTP API on Ray Serve.

The application is the one `stiqa serve` runs (:func:`stiqa.server.create_app`, same routes,
same contract), built on each replica from the same settings. Each replica loads the model
and the whole index (one shard: a replica holds the index in memory), follows new builds of
the shared index folder by itself (its ``CURRENT`` watch), and the replicas sit on different
nodes. Ray Serve's proxy on the head node listens at ``--host``/``--port`` and sends each
request to a live replica, so a node that dies takes its replica out of the rotation and
Serve starts another where there is room.

Not yet: index shards with global BM25 statistics, and a roll-out that switches every
replica at once (each replica switches on its own, so two answers in a row may come from
two builds; no single answer mixes them).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from stiqa.cluster.indexing import connect
from stiqa.config import Settings

APP = "stiqa"
READY_SECONDS = 300  # how long the replicas may take to load the model and the index
Progress = Callable[[str], None]


def _builder(settings_json: str) -> Callable[[], Any]:
    """What each replica runs to make its ASGI app: stiqa's own, from these settings."""

    def build() -> Any:
        from stiqa.config import Settings
        from stiqa.server import create_app

        app = create_app(Settings.model_validate_json(settings_json))
        app.state.live_replicas = live_replicas  # /api/health reports them
        return app

    return build


def live_replicas() -> int | None:
    """How many replicas of the application are running now, as Serve's controller counts them."""
    from ray import serve

    try:
        states = serve.status().applications[APP].deployments[APP].replica_states
    except (KeyError, RuntimeError):
        return None
    return int(states.get("RUNNING", 0))


def deploy(settings: Settings, address: str, replicas: int = 2, stop: threading.Event | None = None) -> str:
    """Deploy the API on the Ray cluster at ``address``; the URL it answers at."""
    connect(address)
    from ray import serve

    # Replicas start elsewhere, in their own working folders: paths must not be relative.
    settings = settings.updated(corpus_dir=settings.corpus_dir.resolve(), index_dir=settings.index_dir.resolve())
    serve.start(http_options={"host": settings.host, "port": settings.port, "location": "HeadOnly"})
    deployment = serve.deployment(
        serve.ingress(_builder(settings.model_dump_json()))(),
        name=APP, num_replicas=replicas, max_replicas_per_node=1, ray_actor_options={"num_cpus": 1},
    )
    serve.run(deployment.bind(), name=APP, route_prefix="/", blocking=False)
    deadline = time.monotonic() + READY_SECONDS
    while (live_replicas() or 0) < replicas and time.monotonic() < deadline and not (stop and stop.is_set()):
        time.sleep(0.5)  # serve.run returns when the first replica answers; the others load the model
    return f"http://{settings.host}:{settings.port}"


def serve_on_ray(settings: Settings, address: str, replicas: int = 2, progress: Progress | None = None) -> None:
    """Deploy, then keep the application up until SIGTERM or Ctrl-C, and take it down."""
    say = progress or (lambda _message: None)
    connect(address)  # first: joining the cluster installs Ray's own SIGTERM handler, which ours replaces
    stop = threading.Event()  # set by SIGTERM or Ctrl-C, even while the replicas still start
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    url = deploy(settings, address, replicas, stop)
    if not stop.is_set():
        say(f"stiqa: serving on {url} from {replicas} Ray Serve replicas (one per node) of the cluster at {address}")
    stop.wait()
    from ray import serve

    serve.delete(APP)
    say("stiqa: the Ray Serve application is deleted")
