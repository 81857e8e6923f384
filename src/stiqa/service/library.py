"""The documents of one loaded index build, as the outside reads them: the list, a document,
its text and pages, the timeline and the status. Needs no model, so that `stiqa documents`
and `stiqa timeline` answer without loading one; :class:`stiqa.service.assistant.Assistant`
adds the questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from stiqa import __version__
from stiqa.config import Settings
from stiqa.index import (
    CURRENT,
    Index,
    IndexBusyError,
    IndexLoadError,
    build_index,
    load_index,
)
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.index.store import pointed_build
from stiqa.model.embedder import Embedder, ModelLoadError, load_embedder
from stiqa.records import Document, Page
from stiqa.timeline.events import Event, build_events, filter_events

__all__ = [
    "CURRENT", "NO_BUILD", "IndexBusyError", "IndexLoadError", "Library", "ModelLoadError", "build", "embedder_for",
    "model_options",
]

NO_BUILD = ""  # what latest_build() gives when CURRENT is missing or unreadable
Progress = Callable[[str], None]


@dataclass
class Library:
    settings: Settings
    index: Index

    @classmethod
    def open(cls, settings: Settings, build_if_missing: bool = False, progress: Progress | None = None) -> Library:
        """The build ``<index_dir>/CURRENT`` names; IndexLoadError, saying why and what to run,
        when it cannot be used. With ``build_if_missing``, a folder without an index gets one
        first (which loads the model)."""
        if build_if_missing and not (settings.index_dir / CURRENT).exists():
            if progress:
                progress(f"no index in {settings.index_dir}/ yet: building it")
            return cls(settings, build(settings, progress=progress))
        return cls(settings, load_index(settings.index_dir, settings.model, settings.corpus_dir, settings.lexical_mode))

    @property
    def build_id(self) -> str:
        """The id of the loaded build (its folder's name under the index folder)."""
        return self.index.path.name

    def latest_build(self) -> str:
        """The build ``CURRENT`` names now, or NO_BUILD: a server compares it with :attr:`build_id`
        to know when to reload."""
        return pointed_build(self.settings.index_dir) or NO_BUILD

    def documents(self) -> list[dict[str, Any]]:
        """Every file of the corpus folder: the indexed documents and the ones that could not
        be read, with the reason (``GET /api/documents``, ``stiqa documents``)."""
        return self.index.listing()

    def names(self) -> list[str]:
        return [d.name for d in self.index.documents]

    def document(self, doc: str) -> Document | None:
        return self.index.document(doc)

    def text(self, doc: str) -> str | None:
        """The document's text as stiqa extracted it: what citations' offsets index."""
        return self.index.text(doc)

    def page(self, doc: str, number: int) -> Page | None:
        return self.index.page(doc, number)

    def page_passages(self, doc: str, number: int) -> list[tuple[str, int, int, int, int]]:
        """The passages of one page: id, start and end in the page's text (computed when the
        index was built), start and end in the document's text."""
        by_id = self.index.passages_by_id
        return [
            (pid, a, b, by_id[pid].citation.start, by_id[pid].citation.end)
            for pid, a, b in self.index.page_spans.get((doc, number), ())
        ]

    @cached_property
    def events(self) -> list[Event]:
        """The documents' dated statements, read once from the index."""
        return build_events(self.index)

    def timeline(
        self, start: str | None = None, end: str | None = None, query: str | None = None, status: str | None = None
    ) -> list[Event]:
        """The events in [start, end] that contain ``query`` and have ``status``; ValueError
        for a bound or status that cannot be read."""
        return filter_events(self.events, start, end, query, status)

    def summary(self) -> dict[str, Any]:
        """What a build holds and what it took, as `stiqa index` reports it."""
        m = self.index.manifest
        return {
            "documents": len(self.index.documents), "pages": sum(d.page_count for d in self.index.documents),
            "characters": sum(p.end - p.start for d in self.index.documents for p in d.pages),
            "passages": m.passages, "sentences": m.sentences, "model": m.model, "dim": m.dim,
            "seconds": m.build_seconds, "path": str(self.index.path), "skipped": dict(m.skipped),
        }

    def status(self) -> dict[str, Any]:
        """What is loaded: version, model, build, documents and passages."""
        return {
            "version": __version__,
            "model": self.index.manifest.model,
            "index": self.build_id,
            "documents": len(self.index.documents),
            "passages": len(self.index.passages),
        }


def model_options(settings: Settings) -> dict[str, Any]:
    """The arguments of :func:`stiqa.model.embedder.load_embedder` that ``settings`` name: the
    model, its prompts, backend, cache and threads (a cluster's workers load it from these)."""
    return {
        "name": settings.model, "query_prompt": settings.query_prompt, "passage_prompt": settings.passage_prompt,
        "allow_download": settings.allow_download, "backend_name": settings.backend,
        "cache_dir": settings.model_cache, "threads": settings.threads,
    }


def embedder_for(settings: Settings, progress: Progress | None = None) -> Embedder:
    """The embedding model that ``settings`` name, with their prompts, backend and threads."""
    return load_embedder(**model_options(settings), progress=progress)


def build(
    settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None,
    tokenizer: JapaneseTokenizer | None = None,
) -> Index:
    """Build the index of the corpus as it is now beside the current build and switch to it
    (reading and embedding only what changed since); IndexBusyError if another build runs.
    A loaded model and tokenizer are reused when given."""
    embedder = embedder or embedder_for(settings, progress)
    tokenizer = tokenizer or JapaneseTokenizer(settings.lexical_mode)
    return build_index(settings.corpus_dir, settings.index_dir, embedder, tokenizer, progress)
