"""A question's English words in Japanese, for BM25 over Japanese documents.

Over Japanese text, the English words of an English question find nothing, so BM25 had
only its acronyms and numbers to go on, and the model alone ranked (it is weakest across
languages). JMdict, the Japanese-English dictionary that the ``jamdict-data`` package ships
as an SQLite database, gives each Japanese headword its English glosses; read backwards, it
gives an English word or phrase its Japanese headwords ("subcommittee" -> 小委員会, 分科会).

A word's headwords are one group of alternatives, and a passage scores the best of them
(:meth:`stiqa.index.lexical.LexicalIndex.scores`): a word with forty translations counts
once, as one word, and a passage need not hold every translation.

Policy text says what is done with verbal nouns (任命する, 承認, 公表): "appoints" is
任命, but JMdict glosses 任命 "appointment", and "to appoint" only 任じる, 命じる. So an
English word also finds the verbal nouns (those that take する) glossed by the nouns English
makes of it: appoint -> appointment, approve -> approval, designate -> designation.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from pathlib import Path

import jamdict_data

from stiqa.index.lexical import STOP_WORDS, JapaneseTokenizer, Group, is_code

log = logging.getLogger(__name__)

MAX_PHRASE = 6  # the longest English phrase looked up whole ("Japan Federation of Bar Associations")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*")
# Each English gloss's Japanese headwords: the kanji spellings, or the kana ones of an
# entry written in kana only (katakana loanwords: "profile" -> プロファイル). The unary
# plus keeps SQLite on the gloss text index (it would scan every English gloss by language).
_LOOKUP = """
SELECT g.text, COALESCE(k.text, n.text),
       EXISTS (SELECT 1 FROM pos p WHERE p.sid = s.ID AND p.text = 'noun or participle which takes the aux. verb suru')
FROM SenseGloss g
JOIN Sense s ON s.ID = g.sid
LEFT JOIN Kanji k ON k.idseq = s.idseq
LEFT JOIN Kana n ON n.idseq = s.idseq AND k.ID IS NULL
WHERE (g.text IN ({}) OR {}) AND +g.lang = 'eng'
"""
# A gloss with its qualifier in brackets: "council (deliberative, consultative)" -> 審議会,
# "president (of a society)" -> 会長. Looked up as a range of the text index: from "council (" to
# "council )", since ")" follows "(" in every collation.
_QUALIFIED = "(g.text >= ? AND g.text < ?)"
_QUALIFIER = re.compile(r"(.+?) \([^()]*\)")
# Names of organisations, places and works from JMnedict, which jamdict-data ships beside
# JMdict: "Ministry of Justice" -> 法務省, "Tohoku University" -> 東北大学. Looked up only for
# phrases of two words or more, as written: a single word names too many things (Ida -> 井田,
# 伊田, 飯田 …).
_NAMES = """
SELECT g.text, k.text FROM NETransGloss g
JOIN NETranslation t ON t.ID = g.tid
JOIN NEKanji k ON k.idseq = t.idseq
WHERE g.text IN ({})
"""
# How English makes the noun of an act from its verb: (the verb's ending, the noun's).
_ACTS = (("", "ment"), ("", "ion"), ("", "ation"), ("e", "ion"), ("e", "ation"), ("e", "al"), ("ate", "ation"),
         ("ide", "ision"), ("it", "ission"), ("ify", "ification"), ("ish", "ication"), ("ize", "ization"))
# How English makes an adjective of a noun: (the adjective's ending, the noun's). JMdict glosses
# few such adjectives (legislative, regulatory, budgetary), so an unknown one is read as its noun.
_RELATED = (("ive", "ion"), ("ory", "ion"), ("ical", "y"), ("ical", "ics"), ("al", ""), ("ial", "e"), ("ary", ""))


def forms(word: str) -> list[str]:
    """``word`` and the stems it may be inflected from, most likely first (appoints -> appoint)."""
    out = [word]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    for suffix, silent_e in (("ed", word[:-1]), ("ing", word[:-3] + "e")):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            out += [silent_e, stem]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # tapping -> tap, stopped -> stop
    return list(dict.fromkeys(f for f in out if len(f) > 1))


def _reformed(word: str, endings: tuple[tuple[str, str], ...], min_stem: int) -> list[str]:
    """``word`` with each of ``endings``' first parts replaced by its second, where the stem
    left is longer than ``min_stem`` letters."""
    return [word[: len(word) - len(end)] + new for end, new in endings if word.endswith(end) and len(word) > len(end) + min_stem]


def acts(word: str) -> list[str]:
    """The nouns English may make of ``word`` as a verb, by its regular endings (appoint ->
    appointment, approve -> approval, decide -> decision); most are not words, and find nothing."""
    return _reformed(word, _ACTS, 2)


def related(word: str) -> list[str]:
    """The nouns ``word`` may be the adjective of (legislative -> legislation, regulatory ->
    regulation, technological -> technology); most are not words, and find nothing."""
    return _reformed(word, _RELATED, 3)


def spellings(phrase: str) -> list[str]:
    """How JMdict may write ``phrase`` (lower case) as a gloss: "appoint" is glossed
    "to appoint", "Japan" capitalised, "council" as "council" or "the council"."""
    return [phrase, phrase.capitalize(), phrase.title(), f"to {phrase}", f"a {phrase}", f"an {phrase}", f"the {phrase}"]


class Glossary:
    """English words and phrases to groups of Japanese BM25 words, from JMdict."""

    def __init__(self, tokenizer: JapaneseTokenizer, path: str = jamdict_data.JAMDICT_DB_PATH) -> None:
        self.tokenizer = tokenizer
        self.path = path
        # Without the database (a broken install), English questions are searched as before:
        # by the model and their codes alone.
        self.available = Path(path).is_file()
        if not self.available:
            log.warning("JMdict database not found at %s: English questions are not translated "
                        "(reinstall it: pip install --force-reinstall jamdict-data)", path)
        self._local = threading.local()  # one read-only connection per thread
        self._words: dict[str, tuple[str, ...]] = {}  # a headword's BM25 words, read once

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
        return db

    def headwords(
        self, phrases: list[str], nouns: list[str] = (), names: dict[str, str] | None = None
    ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Each of ``phrases`` (lower case) with the Japanese headwords that gloss it, and each of
        ``nouns`` with the verbal nouns (those that take する) that it glosses, in one query; then
        the names of ``names`` (as written, to the lower-case phrase) in a second one."""
        spelled = {s: p for p in phrases for s in spellings(p)}
        looked = list(dict.fromkeys([*spelled, *nouns]))
        found: dict[str, set[str]] = {}
        verbal: dict[str, set[str]] = {}
        if looked:
            # Qualified glosses of single words only: a phrase's qualifier narrows it to one field
            # ("open access (library)" is 開架), and a phrase stands in for its words' own translations.
            single = [g for g in looked if " " not in spelled.get(g, g)]
            query = _LOOKUP.format(",".join("?" * len(looked)), " OR ".join([_QUALIFIED] * len(single)) or "0")
            ranges = [bound for g in single for bound in (f"{g} (", f"{g} )")]
            for gloss, head, suru in self._db().execute(query, looked + ranges):
                bare = _QUALIFIER.fullmatch(gloss)
                gloss = bare[1] if bare else gloss
                if head and gloss in spelled:
                    found.setdefault(spelled[gloss], set()).add(head)
                if head and suru:
                    verbal.setdefault(gloss, set()).add(head)
        if names:
            for gloss, head in self._db().execute(_NAMES.format(",".join("?" * len(names))), list(names)):
                if head:
                    found.setdefault(names[gloss], set()).add(head)
        return found, {n: verbal[n] for n in nouns if n in verbal}

    def _bm25_words(self, head: str) -> tuple[str, ...]:
        if head not in self._words:
            self._words[head] = tuple(self.tokenizer.words(head))
        return self._words[head]

    def groups(self, text: str) -> list[Group]:
        """The English words and phrases of ``text`` that JMdict knows, each as its group of
        Japanese alternatives (each alternative the BM25 words of one headword). Phrases are
        taken whole where JMdict or JMnedict has them ("bar association" -> 弁護士会,
        "Ministry of Justice" -> 法務省), longest first;
        stop words, one-letter words and codes (AI, 2024: the same in Japanese text) are not
        translated."""
        words = _WORD.findall(text) if self.available else []
        tokens = [w.lower() for w in words]
        wanted: list[str] = []
        names: dict[str, str] = {}  # a phrase as written -> in lower case
        # Each word's nouns of its act, were it a verb (none for stop words)
        nouns = [[] if t in STOP_WORDS else [a for f in forms(t) for a in acts(f)] for t in tokens]
        for i in range(len(tokens)):
            for n in range(1, MAX_PHRASE + 1):
                phrase = tokens[i:i + n]
                if len(phrase) == n and phrase[0] not in STOP_WORDS and phrase[-1] not in STOP_WORDS:
                    wanted += [" ".join(phrase)] if n > 1 else forms(phrase[0]) + related(phrase[0])
                    if n > 1:
                        names[" ".join(words[i:i + n])] = " ".join(phrase)
        known, verbal = self.headwords(wanted, [a for acted in nouns for a in acted], names)
        out: list[Group] = []
        i = 0
        while i < len(tokens):
            n, heads = self._longest(tokens, i, known)
            if n == 1:
                heads = heads | {h for a in nouns[i] for h in verbal.get(a, ())}
            if heads and not is_code(words[i]):
                group = tuple(sorted({w for w in map(self._bm25_words, heads) if w}))
                if group:
                    out.append(group)
            i += n
        return out

    @staticmethod
    def _longest(tokens: list[str], i: int, known: dict[str, set[str]]) -> tuple[int, set[str]]:
        """The longest phrase at ``tokens[i]`` that JMdict glosses: (its length, its headwords)."""
        for n in range(MAX_PHRASE, 1, -1):
            heads = known.get(" ".join(tokens[i:i + n])) if i + n <= len(tokens) else None
            if heads:
                return n, heads
        if len(tokens[i]) < 2 or tokens[i] in STOP_WORDS:
            return 1, set()
        # The word as written or inflected; else, an adjective JMdict does not gloss, as its noun.
        return 1, next((known[f] for f in forms(tokens[i]) + related(tokens[i]) if f in known), set())
