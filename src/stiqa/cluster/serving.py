"""`stiqa serve --ray ADDRESS`: the HTTP API on Ray Serve, its index in shards, new builds
rolled out blue/green.

Three parts run on the cluster, all from the shared index folder:

- **Shards** (:class:`ShardServer`): each holds the FAISS vectors and BM25 scores of one
  range of passage rows of one build (:class:`stiqa.index.search.Shard`), with
  ``shard_replicas`` replicas on different nodes. Each build's shards are Serve
  applications of their own, ``stiqa-<build>-<n>``, with no HTTP route.
- **The front end**: the unchanged FastAPI app (:func:`stiqa.server.create_app`, same routes
  and contract, the chat page), one replica per node behind Serve's proxy at ``--host``/
  ``--port``. It holds the model, which embeds the question, and the build's passages,
  documents and sentence vectors, not its vectors or BM25 (:class:`ClusterAssistant`); it
  asks every shard of its build, merges (:func:`stiqa.index.search.merge`: the same
  candidates as one machine), fuses and answers.
- **The roll-out** (:class:`Rollout`, one small actor): the build every front end should
  serve. This driver process watches ``CURRENT``: when it names a new build, the driver
  deploys that build's shards beside the old ones, waits until every replica of every shard
  is up, publishes the build, waits until every front end has switched (each reports the
  build it serves every :data:`POLL_SECONDS`), lets the requests begun on the old build
  finish, and only then deletes the old shards. A front end switches between two requests
  (:class:`stiqa.server.reload.IndexReloader`), a request keeps the assistant it started
  with, and a shard refuses a question for another build: no answer mixes two builds.

A node that dies takes its replicas out of Serve's rotation; a shard call that fails on a
replica that died is retried on another (:data:`SHARD_TRIES`), and Serve starts replicas
again where there is room.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stiqa.cluster.indexing import ClusterError, connect
from stiqa.config import Settings
from stiqa.index import Index, IndexLoadError, current_build, load_index
from stiqa.index.search import Found, Request, Shard, merge_all
from stiqa.index.store import named_build
from stiqa.service.assistant import Assistant
from stiqa.service.library import embedder_for

APP = "stiqa"  # the front end's Serve application (and deployment)
SHARD = "shard"  # each shard application's one deployment
ROLLOUT = "stiqa-rollout"  # the roll-out actor's name, in NAMESPACE
NAMESPACE = "stiqa"
READY_SECONDS = 300  # how long replicas may take to load the model or the index
POLL_SECONDS = 0.5  # how often a front end asks which build to serve, and says which it serves
SWITCH_SECONDS = 120  # how long the driver waits for every front end to switch to a new build
LOST_SECONDS = 30.0  # a front end silent this long is gone (loading a build takes it seconds, not this)
DRAIN_SECONDS = 5.0  # after every front end switched: the requests begun on the old build finish
SHARD_TRIES = 3  # a shard call that fails (its replica died) goes to another replica
SHARD_TIMEOUT = 30.0  # seconds a shard may take to answer
FRONT_CPUS = 0.5  # Ray's logical CPUs per front-end replica (it runs the model on one thread)
SHARD_CPUS = 0.1  # per shard replica: a search costs it about a millisecond
# With --shards 0 (the default), a build gets one shard per this many bytes of vectors and BM25
# scores, so that a replica's share stays well inside a small node's memory.
SHARD_BYTES = 4 << 30
Progress = Callable[[str], None]


class MixedBuilds(RuntimeError):
    """A front end asked a shard of one build about another."""


def shard_app(build: str, number: int) -> str:
    return f"{APP}-{build}-{number}"


def shards_for(build: Path) -> int:
    """How many shards the build in the folder ``build`` needs: one per SHARD_BYTES of what a
    shard holds (its FAISS vectors and BM25 scores)."""
    size = (build / "passages.faiss").stat().st_size + sum(f.stat().st_size for f in (build / "bm25").iterdir())
    return max(1, math.ceil(size / SHARD_BYTES))


class ShardServer:
    """A Serve deployment: shard ``number`` of ``shards`` of the index build ``build``."""

    def __init__(self, settings_json: str, build: str, number: int, shards: int) -> None:
        settings = Settings.model_validate_json(settings_json)
        index = load_index(settings.index_dir, settings.model, None, settings.lexical_mode, build=build)
        self.shard = Shard.whole(index) if shards == 1 else Shard.of(index, number, shards)
        self.build = build

    def search(self, build: str, requests: list[Request]) -> list[Found]:
        if build != self.build:
            raise MixedBuilds(f"shard of build {self.build} asked about build {build}")
        return self.shard.search(requests)


class Rollout:
    """The build every front end should serve, and the build each one serves (a Ray actor)."""

    def __init__(self) -> None:
        self.build: str | None = None
        self.shards = 1
        self.beats: dict[str, tuple[str, float]] = {}

    def publish(self, build: str, shards: int) -> None:
        self.build, self.shards = build, shards

    def layout(self, replica: str | None = None, serving: str | None = None) -> tuple[str | None, int]:
        """The build to serve and its shard count; a front end says here which build it serves."""
        if replica is not None and serving is not None:
            self.beats[replica] = (serving, time.time())
        return self.build, self.shards

    def serving(self, within: float) -> dict[str, str]:
        """The build each front end that spoke in the last ``within`` seconds serves."""
        now = time.time()
        return {r: b for r, (b, t) in self.beats.items() if now - t <= within}


@dataclass
class ShardClient:
    """The searcher of a front end (:class:`stiqa.index.search.Searcher`): sends a batch of
    questions to every shard of ``build`` at once, one call each, and merges their answers."""

    build: str
    shards: int

    def __post_init__(self) -> None:
        from ray import serve

        self.handles = [serve.get_app_handle(shard_app(self.build, n)) for n in range(self.shards)]

    def search(self, requests: list[Request]) -> list[Found]:
        calls = [h.search.remote(self.build, requests) for h in self.handles]
        answers = []
        for handle, call in zip(self.handles, calls):
            for attempt in range(SHARD_TRIES):
                try:
                    answers.append(call.result(timeout_s=SHARD_TIMEOUT))
                    break
                except MixedBuilds:
                    raise
                except Exception:
                    if attempt == SHARD_TRIES - 1:
                        raise
                    call = handle.search.remote(self.build, requests)  # its replica died: Serve picks a live one
        return merge_all(answers, requests)


def _rollout() -> Any:
    import ray

    return ray.get_actor(ROLLOUT, namespace=NAMESPACE)


def _published(settings: Settings, model: str) -> tuple[Index, ShardClient]:
    """The build the roll-out publishes, as a front end holds it (passages, documents and
    sentence vectors; no vectors, no BM25), and the client of its shards."""
    import ray

    build, shards = ray.get(_rollout().layout.remote(), timeout=10)
    if build is None:
        raise IndexLoadError("the roll-out names no build yet")
    s = settings
    index = load_index(s.index_dir, model, s.corpus_dir, s.lexical_mode, build=build, searchable=False)
    return index, ShardClient(build, shards)


@dataclass(kw_only=True)
class ClusterAssistant(Assistant):
    """A front end's assistant: the build the roll-out names, searched on its shards."""

    @classmethod
    def join(cls, settings: Settings) -> ClusterAssistant:
        """The model and the published build, searched on its shards."""
        index, shards = _published(settings, settings.model)
        return cls.from_parts(settings, embedder_for(settings), index, searcher=shards)

    def latest_build(self) -> str:
        """The build the roll-out names; says to it which build this front end serves."""
        import ray

        replica = ray.get_runtime_context().get_actor_id() or "driver"
        try:
            build, _ = ray.get(_rollout().layout.remote(replica, self.build_id), timeout=10)
        except (ray.exceptions.RayError, ValueError):  # the roll-out restarts (its node died): keep this build
            return self.build_id
        return build or self.build_id

    def reload(self) -> ClusterAssistant:
        """The build the roll-out names, loaded beside this one (its shards are up already)."""
        index, shards = _published(self.settings, self.embedder.name)
        return self.with_index(index, shards)

    def status(self) -> dict[str, Any]:
        """Adds the live front-end replicas and, for each shard of the build, its live replicas."""
        client = self.retriever.searcher
        shards = client.shards if isinstance(client, ShardClient) else 0
        apps = _applications()
        return {
            **super().status(), "replicas": _live(apps, APP, APP),
            "shards": [_live(apps, shard_app(self.build_id, n), SHARD) or 0 for n in range(shards)],
        }


def _applications() -> dict[str, Any]:
    """Serve's applications as its controller sees them now (one call, however many are read)."""
    from ray import serve

    try:
        return dict(serve.status().applications)
    except RuntimeError:
        return {}


def _live(apps: dict[str, Any], app: str, deployment: str) -> int | None:
    """How many replicas of ``deployment`` of the application ``app`` run in ``apps`` (see
    :func:`_applications`); None if it is not there."""
    try:
        states = apps[app].deployments[deployment].replica_states
    except KeyError:
        return None
    return int(states.get("RUNNING", 0))


def _front_end(settings_json: str) -> Callable[[], Any]:
    """What each front-end replica runs to make its ASGI app: stiqa's own, over a ClusterAssistant."""

    def build() -> Any:
        from stiqa.server import create_app

        settings = Settings.model_validate_json(settings_json)
        return create_app(settings, ClusterAssistant.join(settings))

    return build


class ShardsFailed(ClusterError):
    """A build's shards could not start; the message says why."""


class Cluster:
    """What this driver deployed on the cluster, and the roll-out of new builds."""

    def __init__(self, settings: Settings, replicas: int, shards: int, shard_replicas: int) -> None:
        """``shards``: how many for every build; 0: as many as each build needs (:func:`shards_for`)."""
        import ray

        # Replicas start elsewhere, in their own working folders: paths must not be relative.
        self.settings = settings.updated(
            corpus_dir=settings.corpus_dir.resolve(), index_dir=settings.index_dir.resolve(), watch_seconds=POLL_SECONDS,
        )
        self.replicas, self.fixed_shards, self.shard_replicas = replicas, shards, shard_replicas
        self.shards: dict[str, int] = {}  # each deployed build's shard count
        self.serving: str | None = None
        self.failed: str | None = None  # a build whose shards failed: not tried again until CURRENT changes
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        self.rollout = ray.remote(Rollout).options(
            name=ROLLOUT, namespace=NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0, max_restarts=-1,
            scheduling_strategy=here,
        ).remote()

    def deploy_shards(self, build: str, stop: threading.Event | None = None) -> None:
        """Start every shard of ``build`` and wait until all their replicas run; ShardsFailed if they cannot."""
        from ray import serve

        count = self.shards[build] = self.fixed_shards or shards_for(named_build(self.settings.index_dir, build))
        deployment = serve.deployment(ShardServer, name=SHARD)
        for n in range(count):
            app = deployment.options(
                num_replicas=self.shard_replicas, max_replicas_per_node=1, ray_actor_options={"num_cpus": SHARD_CPUS},
            ).bind(self.settings.model_dump_json(), build, n, count)
            serve.run(app, name=shard_app(build, n), route_prefix=None, blocking=False)
        deadline = time.monotonic() + READY_SECONDS
        while True:
            apps = _applications()
            failed = [apps[a] for n in range(count) if (a := shard_app(build, n)) in apps
                      and str(apps[a].status).endswith("DEPLOY_FAILED")]
            if failed:
                raise ShardsFailed(" ".join(failed[0].message.split())[:300] or "a shard failed to start")
            if all((_live(apps, shard_app(build, n), SHARD) or 0) >= self.shard_replicas for n in range(count)):
                return
            if time.monotonic() > deadline or (stop and stop.is_set()):
                raise ShardsFailed(f"the shards were not up after {READY_SECONDS} s")
            time.sleep(0.5)

    def delete_shards(self, build: str) -> None:
        from ray import serve

        for n in range(self.shards.pop(build, 0)):
            serve.delete(shard_app(build, n), _blocking=False)

    def start(self, stop: threading.Event) -> str:
        """Deploy the shards of the current build, then the front end; the URL it answers at."""
        import ray
        from ray import serve

        build = current_build(self.settings.index_dir).name
        serve.start(http_options={"host": self.settings.host, "port": self.settings.port, "location": "HeadOnly"})
        try:
            self.deploy_shards(build, stop)
        except ShardsFailed as e:
            self.delete_shards(build)
            raise ShardsFailed(f"the shards of build {build} did not start: {e}") from None
        ray.get(self.rollout.publish.remote(build, self.shards[build]))
        self.serving = build
        front = serve.deployment(
            serve.ingress(_front_end(self.settings.model_dump_json()))(),
            name=APP, num_replicas=self.replicas, max_replicas_per_node=1, ray_actor_options={"num_cpus": FRONT_CPUS},
        )
        serve.run(front.bind(), name=APP, route_prefix="/", blocking=False)
        deadline = time.monotonic() + READY_SECONDS
        while (_live(_applications(), APP, APP) or 0) < self.replicas and time.monotonic() < deadline and not stop.is_set():
            time.sleep(0.5)  # serve.run returns when the first replica answers; the others load the model
        return f"http://{self.settings.host}:{self.settings.port}"

    def follow(self, say: Progress) -> None:
        """One look at ``CURRENT``: roll out the build it names if it is new (see the module's doc)."""
        import ray

        ray.get(self.rollout.publish.remote(self.serving, self.shards[self.serving]))  # again: the actor may have restarted
        try:
            latest = current_build(self.settings.index_dir).name
        except IndexLoadError:
            return
        if latest in (self.serving, self.failed):
            return
        say(f"stiqa: new index build {latest}: starting its shards beside {self.serving}'s")
        try:
            self.deploy_shards(latest)
        except RuntimeError as e:  # ShardsFailed, or Serve refusing the deployment
            self.failed = latest
            self.delete_shards(latest)
            say(f"stiqa: build {latest} cannot be served ({e}); still serving {self.serving}")
            return
        ray.get(self.rollout.publish.remote(latest, self.shards[latest]))
        deadline = time.monotonic() + SWITCH_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            serving = ray.get(self.rollout.serving.remote(LOST_SECONDS))
            if serving and set(serving.values()) == {latest}:
                break
        else:
            say(f"stiqa: not every front end switched to {latest} within {SWITCH_SECONDS} s")
        time.sleep(DRAIN_SECONDS)
        old, self.serving, self.failed = self.serving, latest, None
        if old:
            self.delete_shards(old)
        say(f"stiqa: serving build {latest}; build {old}'s shards deleted")

    def close(self) -> None:
        import ray
        from ray import serve

        serve.delete(APP)
        if self.serving:
            self.delete_shards(self.serving)
        ray.kill(self.rollout)
        # Serve's proxy keeps the host and port it started with; with nothing else on it, stop
        # it, so that a later `stiqa serve --ray` can listen where it is asked to.
        if all(name.startswith(APP) for name in _applications()):
            serve.shutdown()


def serve_on_ray(
    settings: Settings, address: str, replicas: int = 2, progress: Progress | None = None, shards: int = 0,
    shard_replicas: int = 2,
) -> None:
    """Deploy, roll out each new build, and keep the application up until SIGTERM or Ctrl-C;
    then take it down."""
    say = progress or (lambda _message: None)
    connect(address)  # first: joining the cluster installs Ray's own SIGTERM handler, which ours replaces
    stop = threading.Event()  # set by SIGTERM or Ctrl-C, even while the replicas still start
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    cluster = Cluster(settings, replicas, shards, shard_replicas)
    try:
        url = cluster.start(stop)
        if not stop.is_set():
            say(f"stiqa: serving on {url}: {replicas} front-end replicas (one per node), "
                f"{cluster.shards[cluster.serving]} shard(s) of build {cluster.serving} with {shard_replicas} "
                f"replicas each, on the cluster at {address}")
        while not stop.wait(1.0):
            try:
                cluster.follow(say)
            except Exception as e:  # the watch must outlive a cluster's hiccup; the next look tries again
                say(f"stiqa: following the index failed ({type(e).__name__}: {e}); trying again")
    finally:
        cluster.close()
        say("stiqa: the Ray Serve applications are deleted")

