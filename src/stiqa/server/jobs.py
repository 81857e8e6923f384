"""Index builds that the API starts (uploads, removals), one at a time, reported by id.

A request that changes the corpus answers at once with a job; the job rebuilds the
index on a thread of its own (reading and embedding only what changed, the model
shared with the requests being answered), then switches the server to the new build
before it reports ``done``, so a client that sees ``done`` asks the new index.
Jobs live in memory: the last :data:`KEPT` are kept.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

KEPT = 200


@dataclass
class FileResult:
    name: str  # the document id
    status: str  # queued, indexed, skipped or removed
    reason: str | None = None  # why a file was skipped
    passages: int | None = None


@dataclass
class Job:
    id: str
    kind: str  # add or remove
    files: list[FileResult]
    status: str = "queued"  # queued, running, done or failed
    progress: str = ""  # the build's last progress line
    index: str | None = None  # the build it made
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Jobs:
    """Runs jobs one after another on one thread (index builds of one folder cannot overlap)."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stiqa-jobs")

    def submit(self, kind: str, names: list[str], work: Callable[[Job], None]) -> Job:
        job = Job(uuid.uuid4().hex[:12], kind, [FileResult(n, "queued") for n in names])
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT:
                self._jobs.popitem(last=False)
        self._runner.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @staticmethod
    def _run(job: Job, work: Callable[[Job], None]) -> None:
        job.status = "running"
        try:
            work(job)
            job.status = "done"
        except Exception as e:  # noqa: BLE001 - reported in the job, the server goes on
            job.status, job.error = "failed", " ".join(str(e).split()) or type(e).__name__
        finally:
            job.finished = time.time()

    def close(self) -> None:
        self._runner.shutdown(wait=True)
