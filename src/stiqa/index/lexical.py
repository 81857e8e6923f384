"""Lexical ranking: SudachiPy words scored with BM25 (bm25s).

Japanese has no spaces, so words come from SudachiPy. Japanese words are
reduced to their normalised form (so 行う/行なう match); ASCII words are kept
as written, lower-cased (Sudachi would normalise "open" to オープン, which makes
every English question match katakana loanwords at random). Function words
(particles, auxiliaries, symbols, question words) are left out: they carry no
topic and only add noise to BM25.
"""

from __future__ import annotations

import threading
from pathlib import Path

import bm25s
import numpy as np
from sudachipy import Dictionary, SplitMode

SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号", "代名詞", "連体詞", "接続詞", "感動詞"})
STOP_WORDS = frozenset(
    """為る 有る 居る 成る 出来る れる られる 言う 思う 下さる 行く 来る 的 等 など こと もの ため よう
    いつ どこ 何 誰 どれ どの どう 幾つ いくら 何時 何人 ごろ 頃 つく 教える 知る 説明 述べる 挙げる 下さい 欲しい
    a an the of to in on for and or is are was were be been by with from at as what when which who whom
    whose where why how does do did can could will would should may might much many this that these those""".split()
)


# A foreign word's alternatives in the corpus's language, each the BM25 words of one
# translation (see stiqa.qa.glossary): a passage scores the best alternative it holds.
Group = tuple[tuple[str, ...], ...]


def tokenizer_name(mode: str) -> str:
    """The BM25 words' tokenizer as an index's manifest names it."""
    return f"sudachi-core-{mode}"


class JapaneseTokenizer:
    """SudachiPy words for BM25; one Sudachi tokenizer per thread (they are not shared-safe).

    Text is analysed in Sudachi's longest units (mode C), where part of speech
    and question words are recognised best (いくつ, 何人), and each content word
    is then emitted in ``mode`` units (A by default: 東北大学 -> 東北, 大学) so
    that a word matches its compounds.
    """

    def __init__(self, mode: str = "A") -> None:
        self.mode = mode
        self.name = tokenizer_name(mode)  # what an index's manifest records, and loading checks
        self._split = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}[mode]
        self._dictionary = Dictionary(dict="core")
        self._local = threading.local()

    def _tokenizer(self):
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = self._dictionary.create(SplitMode.C)
        return tok

    def terms(self, text: str) -> list[tuple[str, str]]:
        """(word, surface) pairs of the content words of ``text``."""
        out = []
        for m in self._tokenizer().tokenize(text):
            pos = m.part_of_speech()
            if pos[0] in SKIP_POS or pos[1] in SKIP_POS or m.normalized_form() in STOP_WORDS:
                continue
            parts = list(m.split(self._split)) if self._split != SplitMode.C else []
            for part in parts or [m]:
                surface = part.surface().strip()
                word = surface.lower() if surface.isascii() else part.normalized_form()
                if word and word not in STOP_WORDS:
                    out.append((word, surface))
        return out

    def words(self, text: str) -> list[str]:
        return [w for w, _ in self.terms(text)]

    def words_many(self, texts: list[str]) -> list[list[str]]:
        """The words of each text (what an index build asks; a cluster's pool does it in parallel)."""
        return [self.words(t) for t in texts]


def is_code(surface: str) -> bool:
    """An acronym, code or coined name (SBIR, JT-60SA, 2030, iPhone, PaLM, ChatGPT): the same in
    any language, unlike "global" or "Council". Japanese text writes such names in Latin letters."""
    return surface.isascii() and (
        surface.isupper() or any(c.isdigit() for c in surface) or any(c.isupper() for c in surface[1:])
    )


class LexicalIndex:
    """BM25 over pre-tokenised passages."""

    def __init__(self, retriever: bm25s.BM25, size: int, df: np.ndarray | None = None, total: int | None = None) -> None:
        self.retriever = retriever
        self.size = size  # passages scored here
        # Passages holding each word (by vocabulary id) and passages in all, over the whole
        # corpus: a shard (stiqa.index.search) keeps them, so a group weighs the same in every shard.
        if df is None:  # bm25s's vocabulary ends with "" (the empty passage's word), which has no column
            df = np.zeros(len(retriever.vocab_dict), dtype=np.int64)
            counts = np.diff(retriever.scores["indptr"])
            df[: len(counts)] = counts
        self.df = df
        self.total = size if total is None else total

    @classmethod
    def build(cls, docs: list[list[str]]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index([d or [""] for d in docs], show_progress=False)
        return cls(retriever, len(docs))

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(directory)), size)

    def known(self, words: list[str], groups: list[Group] = ()) -> int:
        """How many of ``words`` and ``groups`` occur in the corpus at all (a group: any of
        its alternatives, whole)."""
        vocab = self.retriever.vocab_dict
        return sum(w in vocab for w in words) + sum(
            any(all(w in vocab for w in alt) for alt in group) for group in groups
        )

    def scores(self, words: list[str], groups: list[Group] = ()) -> np.ndarray:
        """BM25 score of every passage for ``words`` and ``groups``; zeros where nothing occurs.

        A group scores as one word that occurs wherever any of its alternatives does (a
        synonym set, as in structured cross-language queries): the passage's best
        alternative, its term weight replaced by the group's, whose document frequency is
        that of its alternatives together (their sum: an upper bound every shard computes
        alike). A group of common alternatives ("while": 間, 中, うち) weighs little, as a
        common word does, where the best alternative's own weight would let a rare
        mistranslation count most.
        """
        vocab = self.retriever.vocab_dict
        known = [w for w in words if w in vocab]
        total = np.zeros(self.size, dtype=np.float32)
        if known:
            total += np.asarray(self.retriever.get_scores(known), dtype=np.float32)
        for group in groups:
            best = np.zeros(self.size, dtype=np.float32)  # the best alternative's score over its weight
            df = 0
            for alt in group:
                ids = [vocab.get(w) for w in alt]
                if alt and None not in ids:
                    score = np.asarray(self.retriever.get_scores(list(alt)), dtype=np.float32)
                    np.maximum(best, score / sum(self.idf(int(self.df[i])) for i in ids), out=best)
                    df += int(min(self.df[i] for i in ids))  # an alternative is found at most where its rarest word is
            total += self.idf(min(df, self.total)) * best
        return total

    def idf(self, df: int) -> float:
        """BM25's weight of a word found in ``df`` passages of the corpus (bm25s's default, Lucene's)."""
        return float(np.log(1 + (self.total - df + 0.5) / (df + 0.5)))
