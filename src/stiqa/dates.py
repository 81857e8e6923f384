"""Dates in Japanese government writing: find them, read them, report them.

"いつ" questions are answered from passages such as 「(令和6年2月16日統合イノベーション
戦略推進会議決定)」, 「SIP第1期(2014〜2018年度)」 or 「2024年6月頃に改定予定」. To report an
answer's date, or to tell a planned date from one that has passed, these have to be read,
and government writing has its own habits:

* imperial eras: 令和6年 is 2024, 令和元年 2019, and 平成31年4月 is still written for 2019-04;
* fiscal years running April to March: 令和5年度補正予算 is FY2023 (2023-04-01 to 2024-03-31);
* ranges that write the unit once: 2014〜2018年度, 令和4〜6年度, 2〜3月;
* dates that leave the year to what came before: 令和4年5月18日成立・11月15日施行, or a
  timeline of "6/1 着任", "11/15" under a year heading;
* hedges: 頃, 予定, 見込み, 目途, 中, 以降.

This is a small hand-written grammar over text that is already NFKC-normalised (ASCII
digits, "(" and ":", "〜" left as U+301C). It needs nothing outside the standard library and
does not guess: a number becomes a date only with a date unit (年, 年度, 月, 日) or in a date
layout (2024/3/1, R6.2.16, 6/1), so 第6期, 5か年計画, 上位10%, 50兆円 or GPT-4 stay numbers;
and a month or day written without a year is dated from the year last *written* in the same
text, else from the caller's ``context_year``, else not reported at all.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DateMention",
    "Precision",
    "answer_date",
    "era_to_year",
    "find_dates",
    "fiscal_year_span",
    "iso_span",
    "mention_span",
    "overlaps",
]

Precision = Literal["day", "month", "year", "fiscal_year", "season"]

ERA_START: dict[str, int] = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
# Letters used in tables and file names: R6年度, H31.4.1.
ERA_LETTER: dict[str, str] = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}

KANJI_DIGIT: dict[str, int] = {
    "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}

SEASONS = "春夏秋冬"
# Words that place a date inside its month or year: 3月末, 2024年度末, 4月上旬.
POSITIONS = ("上半期", "下半期", "上期", "下期", "上旬", "中旬", "下旬", "初旬", "初め", "初頭",
             "半ば", "前半", "後半", "末")
# Words right after a date that make it approximate or not yet fixed.
HEDGES = ("中頃", "頃", "ごろ", "以降", "以後", "前後", "予定", "見込み", "見込", "見通し",
          "を目途", "を目処", "をめど", "目途", "目処", "めど")
# Planning words that hedge a date from later in the same clause: 「2024年2月 ...改定(予定)」.
PLAN_WORDS = re.compile(r"予定|見込み|見込|見通し|目途|目処|めど|目標")
# Words before a date that make it approximate.
HEDGE_PREFIXES = ("約", "概ね", "おおむね", "早ければ")
# How far after a date a planning word still belongs to it (never past 、。 or a line break).
CLAUSE_CHARS = 40

_S = r"[ \t]?"  # one optional space: PDF text often reads "2023 年 4 月"
_NUM = r"\d{1,2}|[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九]"
_KANJI_NUMBER = re.compile(r"[一二三四五六七八九]?十[一二三四五六七八九]?|[〇一二三四五六七八九]{1,4}")
_RANGE_MARK = re.compile(rf"{_S}[〜~\-–—]{_S}")

_START = re.compile(r"令和|平成|昭和|大正|明治|FY|[RHS](?=\d)|[同翌本今昨前来](?=[ \t]?年)|[今先来前翌](?=月)|\d")
_ERA_YEAR = re.compile(rf"(?P<era>令和|平成|昭和|大正|明治){_S}(?P<n>元|{_NUM})")
_LETTER_YEAR = re.compile(r"(?P<era>[RHS])(?P<n>\d{1,2})(?=[ \t]?年)")
_FISCAL_FY = re.compile(r"FY[ \t]?(?P<n>\d{4})(?!\d)(?:[ \t]?年度)?")
_WEST_YEAR = re.compile(r"(?P<n>(?:1[89]|2[01])\d{2})(?!\d)")
_SHORT_YEAR = re.compile(r"(?P<n>\d{1,2})(?!\d)(?=[ \t]?年)")
_RELATIVE_YEAR = re.compile(r"(?P<rel>[同翌本今昨前来])")
_RELATIVE_MONTH = re.compile(r"(?P<rel>[今先来前翌])月")
# Years and months counted from the text's own date (a meeting's, a notice's): 本年, 昨年度, 来月.
YEAR_OFFSET = {"本": 0, "今": 0, "昨": -1, "前": -1, "来": 1}
MONTH_OFFSET = {"今": 0, "先": -1, "前": -1, "来": 1, "翌": 1}
_YEAR_UNIT = re.compile(rf"{_S}(?P<unit>年度|年)(?![代間齢])")
# The same year in the other calendar, in brackets: 2026年（令和8年）3月17日, 令和6年度(2024年度).
_SAME_YEAR = re.compile(
    rf"{_S}[(（](?:(?:令和|平成|昭和|大正|明治){_S}(?:元|{_NUM})|(?:1[89]|2[01])\d{{2}}){_S}年度?[)）]"
)
_MONTH = re.compile(rf"{_S}(?P<n>{_NUM}){_S}月(?!間)")
_DAY = re.compile(rf"{_S}(?P<n>{_NUM}){_S}日")
_BARE = re.compile(r"(?P<n>\d{1,4})(?!\d)")
_SEASON = re.compile(rf"[{SEASONS}](?![\u4e00-\u9fff])|[{SEASONS}](?=頃|以降|以後|期|季|中|前)")

_YMD_SLASH = re.compile(r"(?P<y>(?:1[89]|2[01])\d{2})/(?P<m>\d{1,2})(?:/(?P<d>\d{1,2}))?(?![\d/.])")
_YMD_DOT = re.compile(r"(?P<y>(?:1[89]|2[01])\d{2})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})(?![\d.])")
_ERA_DOT = re.compile(r"(?P<era>[RHS])(?P<ey>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<d>\d{1,2}))?(?![\d.])")
_MD_SLASH = re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/.%])")
# A slash between small numbers is a fraction in 補助率1/2, 約1/3, 1/2とする, 1/2以下.
_FRACTION_BEFORE = ("率", "約", "各", "割合", "比", "うち")
_FRACTION_AFTER = re.compile(r"[ \t]?(?:と(?!も)|以下|以上|未満|程度|倍|超|強|弱|ずつ|相当|補助|負担)")


@dataclass(frozen=True)
class DateMention:
    """One date expression: where it is, what it says, and how sure it is.

    ``date``/``end_date`` are ISO 8601 at the precision written ("2024-02-16",
    "2024-02", "2024") or a Japanese fiscal year ("FY2024"); ``end_date`` is set for
    ranges only. ``qualifier`` keeps the words attached to the date (頃, 中, 末, 秋,
    上旬, 予定 ...); ``year_inferred`` says the year was not written but carried from an
    earlier date in the text or from ``context_year``.
    """

    start: int
    end: int
    wording: str
    date: str
    end_date: str | None
    precision: Precision
    hedged: bool
    qualifier: str | None = None
    year_inferred: bool = False

    @property
    def range_end(self) -> str | None:
        """The end of the range, or None when the mention is one date (or a range of one)."""
        return self.end_date if self.end_date and self.end_date != self.date else None


def era_to_year(era: str, year: str | int) -> int:
    """Western year of a Japanese era year: ("令和", "元") -> 2019, ("平成", "31") -> 2019.

    ``era`` is an era name (明治 to 令和) or its letter (M T S H R); ``year`` is digits,
    kanji numerals (六, 三十一) or 元 (the first year). Years past an era's end are kept
    as written arithmetic (平成32年 -> 2020), as plans made before 2019 wrote them.
    """
    name = ERA_LETTER.get(era.strip().upper(), era.strip())
    if name not in ERA_START:
        raise ValueError(f"unknown era {era!r}")
    n = 1 if str(year).strip() == "元" else _number(str(year).strip())
    if n < 1:
        raise ValueError(f"era year must be 元 or at least 1, got {year!r}")
    return ERA_START[name] + n - 1


def fiscal_year_span(fy: int) -> tuple[str, str]:
    """First and last day of Japanese fiscal year ``fy``: 2024 -> ("2024-04-01", "2025-03-31")."""
    return f"{fy:04d}-04-01", f"{fy + 1:04d}-03-31"


def iso_span(date: str) -> tuple[str, str]:
    """First and last day that a reported date covers: "2024-02" -> ("2024-02-01", "2024-02-29")."""
    if date.startswith("FY"):
        return fiscal_year_span(int(date[2:]))
    parts = [int(x) for x in date.split("-")]
    if len(parts) == 3:
        return date, date
    if len(parts) == 2:
        y, m = parts
        return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"
    return f"{parts[0]:04d}-01-01", f"{parts[0]:04d}-12-31"


def mention_span(mention: DateMention) -> tuple[str, str]:
    """The days a mention covers, ranges included, as ISO dates (they compare as strings)."""
    return iso_span(mention.date)[0], iso_span(mention.end_date or mention.date)[1]


def overlaps(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def answer_date(mention: DateMention) -> str:
    """The date to report for an answer: "2024-02-16", "2024-02", "2024" or "FY2024".

    A range reports both ends as an ISO 8601 interval: "FY2014/FY2018", "2024-02/2024-03".
    """
    return f"{mention.date}/{mention.range_end}" if mention.range_end else mention.date


def find_dates(text: str, context_year: int | None = None, reference: str | None = None) -> list[DateMention]:
    """Every date expression in ``text`` (NFKC-normalised), in order of position.

    ``context_year`` dates months and days written without a year ("6/1 着任", "3月中")
    when no year was written before them in ``text``; without either they are skipped.
    ``reference`` is the date the text gives for itself (ISO 8601, as :func:`document_date`
    finds it: the day of the meeting its minutes record): it dates 本年, 昨年度, 来月 and
    the like, and is the ``context_year`` when none is given.
    """
    ref = _reference(reference)
    if context_year is None and ref is not None:
        context_year = ref[0]
    mentions: list[DateMention] = []
    carry: tuple[int, bool] | None = None  # the year last written, and whether it was a 年度
    for expr in _expressions(text):
        if not _resolve(expr, carry, context_year, ref):
            continue
        mentions.append(_mention(text, expr))
        if expr.first.year_written or expr.first.relative:
            last = expr.last or expr.first
            carry = (last.year, last.fiscal)  # type: ignore[assignment]
    return mentions


def _reference(date: str | None) -> tuple[int, int] | None:
    """The year and month of an ISO date ("2023-04-12" -> (2023, 4)); None without a month."""
    m = re.match(r"(\d{4})-(\d{2})", date or "")
    return (int(m[1]), int(m[2])) if m else None


# Words that introduce the date a document gives for itself: a meeting's 日時, a
# publication's 発行日 or 公表日, a page's 更新日.
_OWN_DATE = re.compile(r"(?:日\s*時|開催日|年月日|日\s*付|発行|公表|作成|策定|決定|更新日|最終更新)")
OWN_DATE_CHARS = 3000  # it is looked for in the document's beginning only


def document_date(text: str) -> str | None:
    """The date a document gives for itself, as ISO 8601 (a day where written): the first
    date on a line of its beginning that names one (日時, 発行, 更新日 ...), or the first
    full date of its first lines (a letter's or a notice's date); None if there is none.
    A sentence is not such a line: 「UNCITRAL が策定し、2017年(平成29年)に公表された」 dates
    the model law a paper discusses, not the paper."""
    head = unicodedata.normalize("NFKC", text[:OWN_DATE_CHARS])
    lines = head.splitlines()
    for i, line in enumerate(lines):
        if _OWN_DATE.search(line) and not line.rstrip().endswith("。"):
            for candidate in (line, " ".join(lines[i + 1 : i + 2])):
                found = [m for m in find_dates(candidate) if not m.year_inferred]
                if found:
                    return found[0].date
    days = [m for m in find_dates("\n".join(lines[:10])) if m.precision == "day" and not m.year_inferred]
    return days[0].date if days else None


# --------------------------------------------------------------------------- parsing


@dataclass
class _Point:
    """One side of a date expression as read, before years are resolved."""

    start: int
    end: int
    year: int | None = None
    fiscal: bool = False
    month: int | None = None
    day: int | None = None
    season: str | None = None
    era: str | None = None  # era name, so that 令和4〜6年度 can read the 6
    relative: str | None = None  # 同 or 翌: the year last written (+1); 本, 昨, 来 …: the text's own year
    relative_month: str | None = None  # 今, 先, 来 …: a month counted from the text's own date
    bare: int | None = None  # a number whose unit comes after a range mark: the 2014 of 2014〜2018年度
    bare_levels: tuple[str, ...] = ()
    year_written: bool = False
    year_from_left: bool = False  # a range end that takes its year from the start

    def top_level(self) -> str | None:
        if self.year is not None or self.relative:
            return "year"
        if self.month is not None or self.relative_month:
            return "month"
        if self.day is not None:
            return "day"
        return None


@dataclass
class _Expr:
    first: _Point
    last: _Point | None  # the end of a range
    start: int
    end: int
    qualifier: str | None
    hedged: bool


def _number(s: str) -> int:
    """ASCII digits or kanji numerals (六, 十一, 三十一, 二〇二四)."""
    if s.isascii() and s.isdigit():
        return int(s)
    if not _KANJI_NUMBER.fullmatch(s):
        raise ValueError(f"not a number: {s!r}")
    if "十" not in s:
        return int("".join(str(KANJI_DIGIT[c]) for c in s))
    tens, _, ones = s.partition("十")
    return (KANJI_DIGIT[tens] if tens else 1) * 10 + (KANJI_DIGIT[ones] if ones else 0)


def _starts_ok(text: str, pos: int) -> bool:
    """A date cannot start inside a number, a decimal, a code (GPT-4, ISO9001) or a word."""
    prev = text[pos - 1] if pos else ""
    if not prev:
        return True
    if text[pos].isdigit():
        return not (prev.isdigit() or prev in ".,/:" or (prev.isascii() and prev.isalpha()))
    if text[pos] in ERA_LETTER or text.startswith("FY", pos):
        return not (prev.isascii() and prev.isalnum())
    return True


def _expressions(text: str) -> list[_Expr]:
    found: list[_Expr] = []
    pos = 0
    while True:
        m = _START.search(text, pos)
        if not m:
            return found
        expr = _parse_expression(text, m.start()) if _starts_ok(text, m.start()) else None
        if expr is None:
            pos = m.end()
            continue
        found.append(expr)
        pos = expr.end


def _parse_expression(text: str, pos: int) -> _Expr | None:
    first = _parse_point(text, pos)
    if first is None:
        return None
    last = None
    mark = _RANGE_MARK.match(text, first.end)
    if mark:
        right = _parse_point(text, mark.end(), left=first)
        if right is not None and _join_range(first, right):
            last = right
    if first.bare is not None and last is None:
        return None  # "2014" or "2" with no unit: not a date
    position, hedge, end = _qualifiers(text, (last or first).end)
    hedged = bool(hedge) or _is_hedged(text, pos, end)
    seasons = "".join(p.season for p in (first, last) if p is not None and p.season)
    return _Expr(first, last, pos, end, (seasons + position + hedge) or None, hedged)


def _parse_point(text: str, pos: int, left: _Point | None = None) -> _Point | None:
    """A date at ``pos``; on the right of a range mark, ``left`` is what came before it."""
    layout = _parse_layout(text, pos)
    if layout is not None:
        return layout
    p = _Point(start=pos, end=pos)
    fy = _FISCAL_FY.match(text, pos)
    if fy:
        p.year, p.fiscal, p.year_written, p.end = int(fy["n"]), True, True, fy.end()
        return p
    kanji_ok = False
    at = _parse_year_number(text, pos, p, left)
    if at is not None:
        kanji_ok = p.era is not None
        unit = _YEAR_UNIT.match(text, at)
        if unit is None:
            if p.year is not None and _RANGE_MARK.match(text, at) and left is None:
                p.bare, p.bare_levels, p.end = p.year, ("year",), at
                p.year, p.year_written = None, False
                return p
            return None
        p.end = at = unit.end()
        same = _SAME_YEAR.match(text, at)
        if same:
            p.end = at = same.end()
        if unit["unit"] == "年度":
            p.fiscal = True
            return p
        season = _SEASON.match(text, at)
        if season:
            p.season, p.end = season.group(), season.end()
            return p
    if at is None:
        rel_month = _RELATIVE_MONTH.match(text, pos)
        if rel_month:
            p.relative_month, p.end = rel_month["rel"], rel_month.end()
            day = _DAY.match(text, p.end)
            if day and day["n"].isascii() and 1 <= int(day["n"]) <= 31:
                p.day, p.end = int(day["n"]), day.end()
            return p
    month = _MONTH.match(text, at if at is not None else pos)
    if month and (kanji_ok or month["n"].isascii()) and 1 <= _number(month["n"]) <= 12:
        p.month, p.end = _number(month["n"]), month.end()
        day = _DAY.match(text, p.end)
        if day and (kanji_ok or day["n"].isascii()) and 1 <= _number(day["n"]) <= 31:
            p.day, p.end = _number(day["n"]), day.end()
        elif left is None:
            _take_bare(text, p, ("day",))
        return p
    if at is not None:  # a year and nothing more: 2024年, or the 2023年4 of 2023年4〜6月
        if left is None:
            _take_bare(text, p, ("month",))
        return p
    if left is not None and (left.month is not None or "day" in left.bare_levels):
        day = _DAY.match(text, pos)
        if day and day["n"].isascii() and 1 <= int(day["n"]) <= 31:
            p.day, p.end = int(day["n"]), day.end()
            return p
    if left is None:
        bare = _BARE.match(text, pos)
        if bare and len(bare["n"]) <= 2 and _RANGE_MARK.match(text, bare.end()):
            p.bare, p.bare_levels, p.end = int(bare["n"]), ("month", "day"), bare.end()
            return p
    return None


def _parse_year_number(text: str, pos: int, p: _Point, left: _Point | None) -> int | None:
    """Read the number of a year (not its 年) into ``p``; return where it ends."""
    era = _ERA_YEAR.match(text, pos) or _LETTER_YEAR.match(text, pos)
    if era:
        p.era = ERA_LETTER.get(era["era"], era["era"])
        p.year, p.year_written = _era_year(p.era, era["n"]), True
        return era.end() if p.year is not None else None
    west = _WEST_YEAR.match(text, pos)
    if west:
        p.year, p.year_written = int(west["n"]), True
        return west.end()
    rel = _RELATIVE_YEAR.match(text, pos)
    if rel and _YEAR_UNIT.match(text, rel.end()):
        p.relative = rel["rel"]
        return rel.end()
    short = _SHORT_YEAR.match(text, pos)
    if short and left is not None and (left.era or left.year or "year" in left.bare_levels):
        n = int(short["n"])
        if left.era:  # 令和4〜6年度
            p.era, p.year = left.era, _era_year(left.era, str(n))
            if p.year is None:
                return None
        else:  # 2014〜18年度
            base = left.year if left.year is not None else left.bare or 0
            year = base // 100 * 100 + n
            p.year = year + 100 if year < base else year
        p.year_written = True
        return short.end()
    return None


def _parse_layout(text: str, pos: int) -> _Point | None:
    """2024/3/1, 2024/3, 2024.3.1, R6.2.16, and 6/1 (month/day) unless it is a fraction."""
    p = _Point(start=pos, end=pos)
    m = _YMD_SLASH.match(text, pos) or _YMD_DOT.match(text, pos)
    if m:
        p.year, p.year_written = int(m["y"]), True
    else:
        m = _ERA_DOT.match(text, pos)
        if m:
            p.era = ERA_LETTER[m["era"]]
            p.year, p.year_written = _era_year(p.era, m["ey"]), True
            if p.year is None:
                return None
    if m is None:
        m = _MD_SLASH.match(text, pos)
        if m is None or is_fraction(text, pos, m.end()):
            return None
    p.month = int(m["m"])
    p.day = int(m["d"]) if m["d"] else None
    if not 1 <= p.month <= 12 or (p.day is not None and not 1 <= p.day <= 31):
        return None
    p.end = m.end()
    return p


def _era_year(era: str, n: str) -> int | None:
    """era_to_year, or None for a year no one writes (令和0年)."""
    try:
        return era_to_year(era, n)
    except ValueError:
        return None


def is_fraction(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] is a fraction or ratio (補助率1/2), not a date."""
    before = text[max(0, start - 2):start]
    return before.endswith(_FRACTION_BEFORE) or bool(_FRACTION_AFTER.match(text, end))


def _take_bare(text: str, p: _Point, levels: tuple[str, ...]) -> None:
    """The 4 of 2023年4〜6月: a number left for the unit after the range mark."""
    bare = _BARE.match(text, p.end)
    if bare and len(bare["n"]) <= 2 and _RANGE_MARK.match(text, bare.end()):
        p.bare, p.bare_levels, p.end = int(bare["n"]), levels, bare.end()


def _join_range(left: _Point, right: _Point) -> bool:
    """Give each side of a range what the other wrote; False if they do not make a range."""
    top = right.top_level()
    if top is None or (left.bare is None and left.top_level() is None):
        return False
    if left.bare is not None and top not in left.bare_levels:
        return False
    if top == "day" and left.month is None:
        return False  # 18〜20日: days of no month
    mixed = right.fiscal != left.fiscal and left.month is None and right.month is None
    if top == "year" and left.bare is None and mixed:
        return False  # 2023年〜2024年度 mixes two calendars
    if left.bare is not None:
        if top == "year":  # the bare number was read as a year (era years already converted)
            left.year, left.year_written, left.fiscal = left.bare, True, right.fiscal
        elif top == "month":
            left.month = left.bare
        else:
            left.day = left.bare
        left.bare = None
    if top != "year":
        right.year_from_left, right.fiscal = True, False
        if top == "day":
            right.month = left.month
    return True


def _qualifiers(text: str, end: int) -> tuple[str, str, int]:
    """Words attached to a date: its place in the period (末, 上旬), then a hedge (頃, 中,
    以降, 予定); and where the expression ends."""
    position = next((w for w in POSITIONS if text.startswith(w, end)), "")
    end += len(position)
    hedge = next((w for w in HEDGES if text.startswith(w, end)), "")
    if not hedge and text.startswith("中", end) and not _is_kanji(text[end + 1:end + 2]):
        hedge = "中"  # 3月中, 2024年度中の; not 2024年中国
    return position, hedge, end + len(hedge)


def _is_kanji(ch: str) -> bool:
    return bool(ch) and "\u4e00" <= ch <= "\u9fff"


def _is_hedged(text: str, start: int, end: int) -> bool:
    """A hedge before the date (約, 早ければ) or a planning word later in its clause."""
    if text[max(0, start - 4):start].endswith(HEDGE_PREFIXES):
        return True
    return bool(PLAN_WORDS.search(_clause_after(text, start, end)))


def _clause_after(text: str, start: int, end: int) -> str:
    """The rest of the clause after a date: up to 、。 or a line break, the next date, or the
    ")" that closes a parenthesis the date stands in."""
    line_start = text.rfind("\n", 0, start) + 1
    inside = text.count("(", line_start, start) > text.count(")", line_start, start)
    stops = "、。,\n" + (")" if inside else "")
    clause = []
    for ch in text[end:end + CLAUSE_CHARS]:
        if ch in stops:
            break
        clause.append(ch)
    after = "".join(clause)
    nxt = _START.search(after)
    while nxt and not _starts_ok(text, end + nxt.start()):
        nxt = _START.search(after, nxt.end())
    if nxt and _parse_point(text, end + nxt.start()) is not None:
        after = after[:nxt.start()]
    return after


# --------------------------------------------------------------------------- resolving


def _resolve(
    expr: _Expr, carry: tuple[int, bool] | None, context_year: int | None, ref: tuple[int, int] | None = None
) -> bool:
    """Fill in years that were not written; False if the expression cannot be dated."""
    first, last = expr.first, expr.last
    if first.year is None:
        first.year = _unwritten_year(first, carry, context_year, ref)
        if first.year is None:
            return False
    if last is not None:
        if last.relative or last.relative_month:
            last.year = _unwritten_year(last, carry, context_year, ref)
        if last.year_from_left or last.year is None:
            last.year = first.year
            if _key(last) < _key(first):  # 11〜2月, 2023年12月〜1月: the end is in the next year
                last.year += 1
    return all(_day_exists(p) for p in (first, last) if p is not None)


def _day_exists(p: _Point) -> bool:
    """False for 2/30, or 2/29 of a common year."""
    if p.day is None or p.month is None or p.year is None:
        return True
    return p.day <= calendar.monthrange(p.year, p.month)[1]


def _unwritten_year(
    p: _Point, carry: tuple[int, bool] | None, context_year: int | None, ref: tuple[int, int] | None = None
) -> int | None:
    if p.relative_month:
        if ref is None:
            return None
        months = ref[0] * 12 + ref[1] - 1 + MONTH_OFFSET[p.relative_month]
        p.month = months % 12 + 1
        return months // 12
    if p.relative in YEAR_OFFSET and not (p.relative == "前" and carry is not None):
        if ref is None:
            return None
        year, month = ref
        # 本年度 in a text of 2024-02 is FY2023: fiscal years start in April.
        return (year - (1 if p.fiscal and month < 4 else 0)) + YEAR_OFFSET[p.relative]
    if p.relative:
        if carry is None:
            return None
        return carry[0] + {"翌": 1, "前": -1}.get(p.relative, 0)
    if carry is not None:
        year, fiscal = carry
        # After 2023年度, "3月" is March of that fiscal year: 2024-03.
        return year + 1 if fiscal and p.month is not None and p.month <= 3 else year
    return context_year


def _key(p: _Point) -> tuple[int, int, int]:
    return (p.year or 0, p.month or 0, p.day or 0)


def _iso(p: _Point) -> str:
    assert p.year is not None
    if p.fiscal:
        return f"FY{p.year}"
    if p.month is None:
        return f"{p.year:04d}"
    if p.day is None:
        return f"{p.year:04d}-{p.month:02d}"
    return f"{p.year:04d}-{p.month:02d}-{p.day:02d}"


def _precision(p: _Point) -> Precision:
    if p.fiscal:
        return "fiscal_year"
    if p.season:
        return "season"
    if p.day is not None:
        return "day"
    if p.month is not None:
        return "month"
    return "year"


def _mention(text: str, expr: _Expr) -> DateMention:
    first, last = expr.first, expr.last
    return DateMention(
        start=expr.start,
        end=expr.end,
        wording=text[expr.start:expr.end],
        date=_iso(first),
        end_date=_iso(last) if last is not None else None,
        precision=_precision(first),
        hedged=expr.hedged,
        qualifier=expr.qualifier,
        year_inferred=not first.year_written,
    )
