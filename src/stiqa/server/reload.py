"""Switching a running server to a new index build, without failing a request.

``stiqa index`` writes a build beside the one in use and then replaces
``<index_dir>/CURRENT`` atomically (see :mod:`stiqa.index`). The server follows:
a watch reads CURRENT every ``watch_seconds`` (and ``POST /api/admin/reload``
asks at once); when it names another build, that build is loaded off the event
loop into a new :class:`~stiqa.service.assistant.Assistant` that shares the loaded model
and tokenizer, and ``app.state.assistant`` is replaced in one assignment.
Requests already running keep the assistant they started with.

A build that cannot be used (damaged, another model, another corpus...) is
logged once with the reason and shown by ``/api/health``; the server keeps the
index it has, and the watch does not try that build again until CURRENT names
another one (the endpoint always tries). Each uvicorn worker process runs its
own watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from stiqa.service.library import CURRENT

log = logging.getLogger(__name__)



class ReloadFailed(RuntimeError):
    """The build CURRENT names cannot be used; the message says why and what is served instead."""


@dataclass(frozen=True)
class Reloaded:
    index: str  # the build now serving
    previous: str  # the build served before
    reloaded: bool  # False: CURRENT already named the build in use


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


class IndexReloader:
    """Loads the build CURRENT names into ``state.assistant``: on a timer and on request."""

    def __init__(self, state) -> None:
        self.state = state  # the app's state: .assistant is what requests use
        self.error: str | None = None  # why the last reload failed; None after a good one
        self.failed: str | None = None  # the CURRENT that failed; the watch skips it
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ the watch

    def start(self, interval: float) -> None:
        """Read CURRENT every ``interval`` seconds (0: never)."""
        if interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch(interval), name="stiqa-index-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload(retry=False)
            except ReloadFailed:
                pass  # logged and kept in .error
            except Exception:  # the watch must outlive any surprise
                log.exception("index watch: unexpected error")

    # ------------------------------------------------------------------ reloading

    async def reload(self, retry: bool = True) -> Reloaded:
        """Switch to the build CURRENT names if it is not the one in use.

        ReloadFailed (after logging it) if that build cannot be used; with ``retry=False``
        a build that failed before is not tried again and returns as if nothing changed.
        """
        async with self._lock:
            current = self.state.assistant
            loaded = current.build_id
            index_dir = current.settings.index_dir
            pointed = await asyncio.to_thread(current.latest_build)
            if pointed == loaded:
                self.error = self.failed = None  # CURRENT is (back) at the build in use
                return Reloaded(loaded, loaded, False)
            if pointed == self.failed and not retry:
                return Reloaded(loaded, loaded, False)
            for _attempt in range(3):
                try:
                    new = await asyncio.to_thread(current.reload)
                    break
                except Exception as e:  # IndexLoadError above all; anything else is as unusable
                    now = await asyncio.to_thread(current.latest_build)
                    if now == loaded:  # CURRENT went back to the build in use meanwhile
                        self.error = self.failed = None
                        return Reloaded(loaded, loaded, False)
                    if now != pointed:  # a newer build replaced (and maybe pruned) that one: try it
                        pointed = now
                        continue
                    reason = _one_line(e)
                    if not reason.startswith(("index", "no index", "corpus")) and "stiqa index" not in reason:
                        reason = f"{type(e).__name__}: {reason}"
                    build = pointed or f"{CURRENT} (missing)"
                    self.failed = pointed
                    self.error = f"index {build} not loaded, still serving {loaded}: {reason}"
                    log.warning("stiqa: %s", self.error)
                    raise ReloadFailed(self.error) from e
            else:
                raise ReloadFailed(f"{CURRENT} in {index_dir} keeps changing; still serving {loaded}")
            self.state.assistant = new  # one assignment: running requests keep the old one
            self.error = self.failed = None
            log.info(
                "stiqa: switched to index %s (%d passages), was %s",
                new.build_id, new.status()["passages"], loaded,
            )
            return Reloaded(new.build_id, loaded, True)
