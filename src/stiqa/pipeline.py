"""The question-answering pipeline, loaded once per process: retrieve, then answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from .answer import AnswerExtractor
from .config import MODES, Settings
from .embed import Embedder, load_embedder
from .events import Event, build_events
from .index import Index, build_index, load_index
from .lexical import JapaneseTokenizer
from .records import AskResult
from .retrieve import Retriever

MAX_QUESTION_CHARS = 1000
MAX_K = 50


class BadQuestion(ValueError):
    """The request cannot be answered as asked; the message tells the user why."""


@dataclass
class Assistant:
    settings: Settings
    embedder: Embedder
    tokenizer: JapaneseTokenizer
    index: Index
    retriever: Retriever
    extractor: AnswerExtractor

    @cached_property
    def events(self) -> list[Event]:
        """The documents' dated statements (the timeline), read once from the index."""
        return build_events(self.index)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        """Load the model and the index (refusing one that does not fit)."""
        embedder = embedder or embedder_for(settings)
        index = load_index(settings.index_dir, embedder.name, settings.corpus_dir)
        return cls.from_parts(settings, embedder, index)

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Assistant:
        """Build the index from the corpus, then load the assistant over it."""
        embedder = embedder or embedder_for(settings)
        tokenizer = JapaneseTokenizer(settings.lexical_mode)
        index = build_index(settings.corpus_dir, settings.index_dir, embedder, tokenizer, progress)
        return cls.from_parts(settings, embedder, index, tokenizer)

    @classmethod
    def from_parts(
        cls, settings: Settings, embedder: Embedder, index: Index, tokenizer: JapaneseTokenizer | None = None
    ) -> Assistant:
        tokenizer = tokenizer or JapaneseTokenizer(settings.lexical_mode)
        retriever = Retriever(index, embedder, tokenizer)
        assistant = cls(settings, embedder, tokenizer, index, retriever, AnswerExtractor(index, tokenizer))
        assistant.ask("warm-up")  # first-call costs (threads, caches) before the first user
        return assistant

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> AskResult:
        """Answer ``question`` with cited passages; BadQuestion for input that cannot be asked.

        Runs on the model's thread: see :class:`stiqa.embed.Embedder`.
        """
        return self.embedder.run(self._ask, question, k, mode)

    async def ask_async(self, question: str, k: int | None = None, mode: str | None = None) -> AskResult:
        """:meth:`ask` for an event loop: awaits the model's thread without blocking the loop."""
        return await asyncio.wrap_future(self.embedder.submit(self._ask, question, k, mode))

    def _ask(self, question: str, k: int | None, mode: str | None) -> AskResult:
        t0 = time.perf_counter()
        question = check_question(question)
        k = self.settings.k if k is None else k
        mode = mode or self.settings.mode
        if not 1 <= k <= MAX_K:
            raise BadQuestion(f"k must be between 1 and {MAX_K}, not {k}")
        if mode not in MODES:
            raise BadQuestion(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        timings: dict[str, float] = {}
        q = self.retriever.query(question, mode, timings)
        retrieved = self.retriever.search(q, k, mode, timings)
        t1 = time.perf_counter()
        answer, evidence = self.extractor.extract(q, retrieved)
        ok = answer is not None and evidence.supports_answer(
            self.settings.min_evidence, self.settings.min_evidence_other
        )
        timings["answer_ms"] = (time.perf_counter() - t1) * 1000
        took = (time.perf_counter() - t0) * 1000
        return AskResult(question, ok, answer if ok else None, retrieved.hits, took, timings, evidence)


def not_text(ch: str) -> bool:
    """A control character (other than tab and newlines) or a lone UTF-16 surrogate."""
    o = ord(ch)
    return (o < 0x20 and ch not in "\t\n\r") or o == 0x7F or 0xD800 <= o <= 0xDFFF


def embedder_for(settings: Settings) -> Embedder:
    """The embedding model that ``settings`` name, with their prompts."""
    return load_embedder(settings.model, settings.query_prompt, settings.passage_prompt, settings.allow_download)


def check_question(question: str) -> str:
    """The question trimmed, or BadQuestion saying what is wrong with it."""
    q = question.strip() if isinstance(question, str) else ""
    if not q:
        raise BadQuestion("the question is empty; type a question about the documents")
    if any(not_text(c) for c in q):
        raise BadQuestion("the question contains control characters or invalid Unicode; send plain text")
    if len(q) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"the question is {len(q)} characters long; the limit is {MAX_QUESTION_CHARS}"
        )
    return q
