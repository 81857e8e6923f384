"""The facade the outside calls: :class:`Assistant` answers questions over one loaded index
build (retrieve, then answer), and reads its documents, pages and timeline (see
:class:`~stiqa.service.library.Library`). Loaded once per process."""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stiqa.config import MODES, Settings
from stiqa.index import CURRENT, Index, load_index
from stiqa.index.lexical import JapaneseTokenizer
from stiqa.index.search import Searcher
from stiqa.model.embedder import Embedder
from stiqa.qa.answer import AnswerExtractor
from stiqa.qa.retrieve import Retriever
from stiqa.qa.words import WordStats
from stiqa.questions import MAX_K, BadQuestion, check_question
from stiqa.records import AskResult
from stiqa.service.batching import Batcher
from stiqa.service.library import Library, build, embedder_for

MAX_DOC_SHOWN = 80  # characters of an unknown document id echoed back
MAX_DOCS_SHOWN = 5
WARM_UP_WAIT = 2.0  # seconds a reloaded index's warm-up may wait for the model's thread

Request = tuple[str, int | None, str | None, tuple[str, ...] | None]  # question, k, mode, docs


@dataclass(kw_only=True)
class Assistant(Library):
    embedder: Embedder
    tokenizer: JapaneseTokenizer
    retriever: Retriever
    extractor: AnswerExtractor
    _queue: Batcher[Request, AskResult] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._queue = Batcher(self.embedder, self._ask_many)

    @classmethod
    def load(
        cls, settings: Settings, embedder: Embedder | None = None, progress: Callable[[str], None] | None = None,
        build_if_missing: bool = False,
    ) -> Assistant:
        """Load the index, then the model: an index that does not fit is refused in
        seconds, before the model loads. With ``build_if_missing``, a folder without an index
        gets one first."""
        if build_if_missing and not (settings.index_dir / CURRENT).exists():
            if progress:
                progress(f"no index in {settings.index_dir}/ yet: building it")
            return cls.build(settings, embedder, progress)
        model = embedder.name if embedder is not None else settings.model
        index = load_index(settings.index_dir, model, settings.corpus_dir, settings.lexical_mode)
        return cls.from_parts(settings, embedder or embedder_for(settings, progress), index)

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Assistant:
        """Build the index from the corpus, then load the assistant over it."""
        embedder = embedder or embedder_for(settings, progress)
        tokenizer = JapaneseTokenizer(settings.lexical_mode)
        return cls.from_parts(settings, embedder, build(settings, embedder, progress, tokenizer), tokenizer)

    @classmethod
    def from_parts(
        cls,
        settings: Settings,
        embedder: Embedder,
        index: Index,
        tokenizer: JapaneseTokenizer | None = None,
        warm_up: bool = True,
        searcher: Searcher | None = None,
    ) -> Assistant:
        """An assistant over ``index``, searching its own vectors and BM25 or, given a
        ``searcher``, the shards it reaches (see :mod:`stiqa.index.search`)."""
        tokenizer = tokenizer or JapaneseTokenizer(settings.lexical_mode)
        words = WordStats(index, tokenizer)  # read once, for ranking and answer choice
        retriever = Retriever(index, embedder, tokenizer, searcher, words)
        assistant = cls(
            settings=settings, index=index, embedder=embedder, tokenizer=tokenizer, retriever=retriever,
            extractor=AnswerExtractor(index, words),
        )
        if warm_up:
            assistant.ask("warm-up")  # first-call costs (threads, caches) before the first user
        return assistant

    def with_index(self, index: Index, searcher: Searcher | None = None) -> Assistant:
        """An assistant over ``index`` (searched by ``searcher`` if given) sharing this one's
        model and tokenizer, warmed up and with its timeline read: ready to take this one's
        place between two requests."""
        assistant = type(self).from_parts(self.settings, self.embedder, index, self.tokenizer, False, searcher)
        _ = assistant.events  # read now, not by the first /api/timeline after a switch
        # The new index's first-search costs, on the model's thread; but the model is warm
        # already, so not worth a long wait behind the requests queued there.
        warm = self.embedder.submit(assistant._ask, "warm-up", None, None, None)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            warm.result(timeout=WARM_UP_WAIT)
        return assistant

    def reload(self) -> Assistant:
        """The index build that ``<index_dir>/CURRENT`` names now, loaded beside this one
        (see :meth:`with_index`); IndexLoadError, saying why, if that build cannot be used.

        Loading runs on the calling thread; only the warm-up question runs on the model's.
        """
        index = load_index(self.settings.index_dir, self.embedder.name, self.settings.corpus_dir, self.settings.lexical_mode)
        return self.with_index(index)

    def rebuild(self, progress: Callable[[str], None] | None = None) -> Library:
        """Build the index of the corpus as it is now, with this assistant's model (reading and
        embedding only what changed since the current build); serving switches to it by reload."""
        return Library(self.settings, build(self.settings, self.embedder, progress, self.tokenizer))

    def status(self) -> dict[str, Any]:
        return {**super().status(), "backend": self.embedder.backend}

    def close(self) -> None:
        """Stop the model's thread once the work already queued on it is done (server shutdown).
        Every assistant made by :meth:`with_index` shares that thread."""
        self.embedder.close()

    def ask(
        self, question: str, k: int | None = None, mode: str | None = None, docs: Sequence[str] | None = None
    ) -> AskResult:
        """Answer ``question`` with cited passages, from the documents ``docs`` only if given;
        BadQuestion for input that cannot be asked.

        Runs on the model's thread: see :class:`stiqa.model.embedder.Embedder`.
        """
        return self.embedder.run(self._ask, question, k, mode, tuple(docs) if docs else None)

    async def ask_async(
        self, question: str, k: int | None = None, mode: str | None = None, docs: Sequence[str] | None = None
    ) -> AskResult:
        """:meth:`ask` for an event loop: awaits the model's thread without blocking the loop.

        Questions that arrive together are answered in one batch (see :mod:`stiqa.service.batching`).
        """
        return await self._queue((question, k, mode, tuple(docs) if docs else None))

    def _ask(self, question: str, k: int | None, mode: str | None, docs: tuple[str, ...] | None) -> AskResult:
        outcome = self._ask_many([(question, k, mode, docs)])[0]
        if isinstance(outcome, BadQuestion):
            raise outcome
        return outcome

    def _ask_many(self, requests: list[Request]) -> list[AskResult | BadQuestion]:
        """Answer several questions with one embedding call; a bad one fails alone."""
        t0 = time.perf_counter()
        outcomes: dict[int, AskResult | BadQuestion] = {}  # by position in ``requests``
        good: list[tuple[int, str, int, str, frozenset[str] | None]] = []
        for j, (question, k, mode, docs) in enumerate(requests):
            try:
                good.append((j, *self._checked(question, k, mode, docs)))
            except BadQuestion as e:
                outcomes[j] = e
        timings: list[dict[str, float]] = [{} for _ in good]
        queries = self.retriever.queries([g[1] for g in good], timings)
        found = self.retriever.search_many([(q, k, mode, docs) for (_, _, k, mode, docs), q in zip(good, queries)], timings)
        for (j, question, k, mode, docs), q, tm, retrieved in zip(good, queries, timings, found):
            t1 = time.perf_counter()
            answer, evidence = self.extractor.extract(q, retrieved)
            ok = answer is not None and evidence.supports_answer(
                self.settings.min_evidence, self.settings.min_evidence_other
            )
            tm["answer_ms"] = (time.perf_counter() - t1) * 1000
            took = (time.perf_counter() - t0) * 1000
            outcomes[j] = AskResult(question, ok, answer if ok else None, retrieved.hits, took, tm, evidence)
        return [outcomes[j] for j in range(len(requests))]

    def _checked(
        self, question: str, k: int | None, mode: str | None, docs: tuple[str, ...] | None
    ) -> tuple[str, int, str, frozenset[str] | None]:
        question = check_question(question)
        k = self.settings.k if k is None else k
        mode = mode or self.settings.mode
        if not 1 <= k <= MAX_K:
            raise BadQuestion(f"k must be between 1 and {MAX_K}, not {k}")
        if mode not in MODES:
            raise BadQuestion(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if docs is None:
            return question, k, mode, None
        unknown = [d for d in docs if self.index.document(d) is None]
        if unknown:
            shown = ", ".join(repr(d[:MAX_DOC_SHOWN]) for d in unknown[:MAX_DOCS_SHOWN])
            raise BadQuestion(f"docs: no indexed document named {shown}; GET /api/documents lists them")
        return question, k, mode, frozenset(docs)
