"""Character-level repair of PDF-extracted Japanese text, keeping source offsets.

Every repaired character remembers the index of the character it came from in
the original file, so that any span of repaired text can be cited as
``original[start:end]``. Queries go through the same character rules
(:func:`normalize_query`) so that they match the documents.

The rules are tables, not edits for particular sentences:

* Unicode NFKC (full-width ASCII, Kangxi radicals, compatibility ideographs);
* CJK Radicals Supplement forms that NFKC leaves alone, and the Japanese form of
  the few Kangxi radicals whose NFKC result is a traditional variant;
* private-use glyphs (symbol-font bullets) dropped;
* Devanagari and Arabic glyphs that a vertical font's broken mapping put in
  place of kana, replaced where they stand next to Japanese text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

NORMALIZATION_VERSION = "1"
# The kanji that write numbers in laws, decisions and minutes (第百二十一号, 第十五条).
KANJI_NUMERALS = "〇一二三四五六七八九十百千"

# CJK Radicals Supplement (U+2E80-U+2EFF) forms that have an ordinary kanji.
RADICAL_VARIANTS: dict[str, str] = {
    "\u2e9f": "母", "\u2ea0": "民", "\u2ea9": "王", "\u2ebc": "肉", "\u2ec4": "西",
    "\u2ec6": "角", "\u2ecf": "郎", "\u2ed1": "長", "\u2ed8": "青", "\u2edd": "食",
    "\u2ee3": "骨", "\u2ee4": "鬼", "\u2ee8": "麦", "\u2ee9": "黄", "\u2eeb": "斉",
    "\u2eed": "歯", "\u2eef": "竜", "\u2ef2": "亀",
}

# Kangxi radicals whose NFKC result is a form Japanese does not write.
KANGXI_JAPANESE: dict[str, str] = {
    "\u2fca": "黒", "\u2fad": "青", "\u2fd1": "斉", "\u2fd2": "歯", "\u2fd4": "亀",
}

# Glyphs a vertical-text font mapped to the wrong code points (kana -> Indic/Arabic).
VERTICAL_GLYPHS: dict[str, str] = {
    "\u092d": "の",  # भ
    "\u0932": "び",  # ल
    "\u091e": "た",  # ञ
    "\u0940": "め",  # ी
    "\u092a": "に",  # प
    "\u0918": "す",  # घ
    "\u094a": "る",  # ॊ
    "\u0951": "を",  # ॑
    "\u061e": "・",  # ؞
}



def is_enclosed_number(ch: str) -> bool:
    """①, ⑴, ㉑ ...: list markers that NFKC would flatten into plain digits."""
    return "\u2460" <= ch <= "\u24ff" or "\u3251" <= ch <= "\u325f" or "\u32b1" <= ch <= "\u32bf"


def is_private_use(ch: str) -> bool:
    return "\ue000" <= ch <= "\uf8ff"


def is_japanese(ch: str) -> bool:
    """Kana, kanji or the long-vowel mark: what vertical text is made of."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or o in (0x3005, 0x30FC, 0xFF70)
    )


def has_japanese(text: str) -> bool:
    return any(is_japanese(c) for c in text)


@dataclass
class Mapped:
    """Text with, for each character, its index in the original document."""

    text: str = ""
    src: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.text) != len(self.src):
            raise ValueError("text and offsets differ in length")

    def __len__(self) -> int:
        return len(self.text)

    def __add__(self, other: Mapped) -> Mapped:
        return Mapped(self.text + other.text, self.src + other.src)

    def slice(self, start: int, end: int) -> Mapped:
        return Mapped(self.text[start:end], self.src[start:end])

    def strip(self) -> Mapped:
        left = len(self.text) - len(self.text.lstrip())
        right = len(self.text.rstrip())
        return self.slice(left, max(left, right))

    def span(self) -> tuple[int, int]:
        """Half-open range of the original text this covers."""
        if not self.src:
            raise ValueError("empty text has no span")
        return min(self.src), max(self.src) + 1

    @classmethod
    def join(cls, parts: list[Mapped], sep: str = "", sep_src: int | None = None) -> Mapped:
        """Join parts; separator characters borrow the offset of the next part."""
        text: list[str] = []
        src: list[int] = []
        for i, part in enumerate(parts):
            if i and sep:
                anchor = sep_src if sep_src is not None else (part.src[0] if part.src else src[-1])
                text.append(sep)
                src.extend([anchor] * len(sep))
            text.append(part.text)
            src.extend(part.src)
        return cls("".join(text), src)


def _clusters(text: str):
    """Yield (start, cluster) where a cluster is a base char plus combining marks."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in "\u3099\u309a"):
            if text[j] in VERTICAL_GLYPHS:  # a mis-mapped kana, not a real mark
                break
            j += 1
        yield i, text[i:j]
        i = j


def map_chars(text: str, base: int = 0) -> Mapped:
    """Apply the per-character rules to ``text`` that starts at ``base`` in its file."""
    out: list[str] = []
    src: list[int] = []
    for i, cluster in _clusters(text):
        first = cluster[0]
        if is_private_use(first):
            continue
        if is_enclosed_number(first):
            out.append(cluster)
            src.extend(range(base + i, base + i + len(cluster)))
            continue
        if first in RADICAL_VARIANTS:
            repl = RADICAL_VARIANTS[first] + cluster[1:]
        elif first in KANGXI_JAPANESE:
            repl = KANGXI_JAPANESE[first] + cluster[1:]
        else:
            repl = unicodedata.normalize("NFKC", cluster)
            repl = "".join(RADICAL_VARIANTS.get(c, c) for c in repl)
        if repl == cluster:
            out.append(cluster)
            src.extend(range(base + i, base + i + len(cluster)))
        else:
            out.append(repl)
            src.extend([base + i] * len(repl))
    return Mapped("".join(out), src)


def fix_vertical_glyphs(m: Mapped) -> Mapped:
    """Replace kana stand-in glyphs that sit next to Japanese text.

    Runs to a fixed point so that a run of several stand-ins (e.g. ञी) is
    repaired once one of its ends touches a kanji or kana.
    """
    chars = list(m.text)
    changed = True
    while changed:
        changed = False
        for i, ch in enumerate(chars):
            if ch not in VERTICAL_GLYPHS:
                continue
            prev = next((c for c in reversed(chars[:i]) if not c.isspace()), "")
            nxt = next((c for c in chars[i + 1:] if not c.isspace()), "")
            if (prev and is_japanese(prev)) or (nxt and is_japanese(nxt)):
                chars[i] = VERTICAL_GLYPHS[ch]
                changed = True
    return Mapped("".join(chars), list(m.src))


_SPACES = re.compile(r"\s+")


def char_grams(text: str, n: int = 4) -> frozenset[str]:
    """The character ``n``-grams of ``text`` without its white space (the text itself if shorter):
    how much two renderings of one passage share, whatever their line breaks."""
    key = "".join(text.split())
    return frozenset(key[i:i + n] for i in range(max(1, len(key) - n + 1)))


def normalize_query(text: str) -> str:
    """The same character rules as documents, plus collapsed white space."""
    m = fix_vertical_glyphs(map_chars(text))
    return _SPACES.sub(" ", m.text).strip()


def has_extraction_faults(text: str) -> bool:
    """True if text still holds a glyph that repair should have removed."""
    return any(
        "\u2e80" <= c <= "\u2fdf" or is_private_use(c) or c in VERTICAL_GLYPHS for c in text
    )
