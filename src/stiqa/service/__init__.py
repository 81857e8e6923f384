"""Stage 4, the facade: :class:`.assistant.Assistant` is what the outside (the HTTP server,
the CLI, benchmarks) calls to ask, list documents, read pages, see the timeline and the
status, rebuild and reload. It owns the model's thread and batches questions onto it
(:mod:`.batching`).

May import every stage before it; the server and the CLI import it, never what lies behind it.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stiqa.service.assistant import Assistant

__all__ = ["Assistant"]


def __getattr__(name: str) -> Any:
    if name == "Assistant":  # lazy: the CLI checks its input before loading the stages
        from stiqa.service.assistant import Assistant

        return Assistant
    raise AttributeError(name)
