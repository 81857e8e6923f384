"""What kind of answer a question wants, and whether a text can give it.

Half of what users ask is "when" and much of the rest "how many" (or "where", "what
time", "what telephone number"): a passage that mentions no date cannot answer
"いつ設立されましたか", however close its wording. Retrieval and answer extraction give such
passages a small prior.
"""

from __future__ import annotations

import re
import unicodedata

from stiqa.dates import DateMention, find_dates, is_fraction, iso_span, mention_span
from stiqa.normalize import KANJI_NUMERALS

# 何年 asks which year ("何年に設立") unless it asks how many ("任期は何年ですか", "何年間");
# いつでも and いつも ask whether at any time, not when.
_DURATION = r"(?:間|です|程度|くらい|ぐらい|ほど)"
WHEN = re.compile(
    rf"いつ(?!でも|も)|何年(?!{_DURATION})|何月|何日(?!{_DURATION})|時期|日程|スケジュール|予定は|頃に?|"
    r"(?:予定|開催|実施|施行|公布|公表|締切|締め切り|提出|発行|設立|決定|運用開始)日|"
    r"\bwhen\b|what (?:year|month|date|time)|by when|schedule",
    re.IGNORECASE,
)
HOW_MANY = re.compile(
    rf"いくつ|いくら|何[%％台人名位件個社校都市カ国歳匹頭](?!も)|何パーセント|何[年日]{_DURATION}|何か月|何ヶ月|"
    r"どのくらい|どれくらい|どの程度|規模は|[件人回社校台]数は|"
    r"how (?:many|much|long|often|old)|what (?:percentage|share|number|target|rank)|\bbudget\b|\bcosts?\b",
    re.IGNORECASE,
)
# A date, also one relative to its document's (先月31日, 来月12日, 本年度): find_dates reads those from
# the document's own date.
DATE = re.compile(
    r"(?:\d{4}|(?:令和|平成|昭和)(?:\d{1,2}|元))\s*年|\d{1,2}\s*月|\d{1,2}/\d{1,2}|\bFY\s?\d{4}"
    r"|[同翌本今昨前来]\s?年度?(?![度比]|同期)|[今先来前翌]月\s*\d{1,2}\s*日",
)
# A figure: digits, or kanji numerals as laws and rules write them (委員二十人以内, 任期は二年).
NUMBER = rf"(?:\d[\d,.]*|[{KANJI_NUMERALS}]+)"
QUANTITY = re.compile(
    r"(?<![\d.,])" + NUMBER + r"\s*(?:%|％|万|億|兆|千|百|台|人|名|位|件|個|社|拠点|都市|か国|カ国|倍|時間|日間|か月|ヶ月|カ月|年間?"
    r"|分|歳|匹|頭|円|ドル|ユーロ|メートル)"
)
# A figure in 年 that is a year of the calendar, not a number of years: 2024年, R3年度, 令和3年4月.
WESTERN_YEAR = re.compile(r"(?:19|20)\d\d\s*年")
ERA_BEFORE = re.compile(r"(?:令和|平成|昭和|[RHＲＨ])[\d元\s\-–~〜～、・]*$")  # also the end of 令和6–7年
YEAR_AFTER = re.compile(r"\s*(?:度|\d{1,2}\s*月)")
# The unit a "how many" question asks for, where it names one.
UNITS = (
    (re.compile(r"何\s*(人|名|台|位|件|個|社|校|倍|都市|拠点|歳)(?!も)|([件人回社校台])数は"), None),
    (re.compile(r"how old|\bages?\b", re.IGNORECASE), "歳"),
    (re.compile(r"何\s*(?:%|％|パーセント)|what (?:percentage|share|percent)", re.IGNORECASE), "%"),
    (re.compile(r"何\s*(?:カ|か|ヵ|ケ)国|how many countries", re.IGNORECASE), "国"),
    (re.compile(r"how many people", re.IGNORECASE), "人"),
    (re.compile(r"いくら|金額|予算額|\bbudget\b|\bcosts?\b|how much (?:money|funding)", re.IGNORECASE), "円"),
    (re.compile(r"何\s*(匹|頭)(?!も)"), None),
    # "How many cats": a count of things, not an age, a weight or a length of time.
    (re.compile(r"how many (?!times|years?|months?|weeks?|days?|hours?|minutes?|percent)", re.IGNORECASE), "count"),
)


COUNTED_AS = {  # one thing, several counters
    "人": "(?:人|名)", "名": "(?:人|名)", "円": "(?:円|ドル|ユーロ|ポンド|元)", "匹": "(?:匹|頭)", "頭": "(?:匹|頭)",
    "count": "(?:人|名|台|件|個|社|校|拠点|都市|か国|カ国|ヶ国|匹|頭|羽|団体|機関|者|例|本|冊|枚|回)",
}
# What time of day: 何時に, and the hours something is open (見学できる時間帯, 受付時間, opening hours).
TIME_ASKED = re.compile(
    r"何時(?!間|点|期|代)|時間帯|時刻|(?:受付|開館|開庁|営業|見学)時間|what time|(?:opening|office|visiting) hours",
    re.IGNORECASE,
)
CLOCK = re.compile(r"\d{1,2}\s*時(?!間|点|期|代)|\d{1,2}:\d{2}")
# A period's two ends ("いつからいつまで"); "期間はどのくらい" and "how long" ask a duration instead.
SPAN = re.compile(r"いつからいつまで|期間はいつ|from when|what period", re.IGNORECASE)
# "From when" (いつから, 何年度から, since when): the date a thing starts, not any date near it.
SINCE = re.compile(
    r"いつ(?:から|より|以降)|何年度?(?:から|より)|\bsince when\b|\bfrom when\b|\bwhen\b.*\b(?:start|begin)", re.IGNORECASE
)
# A date that something starts from: 「2025年度新規公募分から」, 「4月1日より施行」, 「2024年以降」, 「…に開始」.
STARTS = re.compile(r"[^。\n]*?(?:から|より|以降|開始|始ま|始め|施行)")
STARTS_WITH = ("以降", "以後")  # a date's own qualifier that makes it a start (2024年以降)
# What a question asks the meaning of: 「接触」とは, 日次鍵とは何, what does "X" mean.
DEFINED = re.compile(
    r"「([^」]{1,30})」\s*とは|([一-龥ァ-ヴー々A-Za-z0-9]{1,30})とは|"
    r"what (?:does|is) [\"“「]([^\"”」]{1,30})[\"”」] mean|what is meant by [\"“「]([^\"”」]{1,30})[\"”」]",
    re.IGNORECASE,
)
# How rules and terms of use define a word: 「接触(…状態をいいます」, 「「日次鍵」とは、…をいう」.
_DEFINITION = r"」?\s*(?:\(|（|とは)[^。]*?(?:をいう|をいいます|を指す|を指します|を意味する|のことをいう)"
# A plan or the next meeting (次回, 予定, "will", "next"): its document announces it before it happens.
UPCOMING = re.compile(r"次回|次の|今後|予定|見込み|\bnext\b|\bupcoming\b|\bscheduled\b|\bplanned\b|\bwill\b", re.IGNORECASE)
# A date said to be not yet fixed: 「8月以降の部会の日程につきましては、現在調整中」, 「開催日は未定」.
UNDECIDED = re.compile(r"調整中|未定|決まり次第|決定次第|確定次第")
UNTIL = re.compile(r"いつまで|締切|締め切り|期限|\buntil\b|\bdeadline\b|by when", re.IGNORECASE)


# "Where" as a venue (どこで開かれ, 場所, 会場); "どこの取引所" asks which organisation instead.
WHERE = re.compile(
    r"どこで(?!す)|場所|会場|\bvenue\b|\bwhere\b.*\b(?:held|hold|take place|took place|meet|met)\b", re.IGNORECASE
)
PLACE = re.compile(r"会議室|会場|ホール|庁舎|号館|\d+\s*階|オンライン|ウェブ会議|[Ww]eb会議|場\s*所")
# A question for the number or address to reach someone by: 「電話番号は」, 「何番に電話」, "what is
# the phone number of", "what e-mail address". Not one that names such data as a topic
# (「電話番号を取得しますか」, "does the app collect e-mail addresses"), nor 「問い合わせ先は」 alone,
# which an office answers.
CONTACT_ASKED = re.compile(
    r"(?:電話|FAX|ファクス|ファックス)番号(?:は|を教|が知|を知)|メールアドレス(?:は|を教|が知|を知)|何番に(?:電話|連絡)|"
    r"\bwhat(?:'s| is| are)? (?:the |their |its )?(?:(?:tele)?phone|fax|e-?mail)\b|"
    r"\b(?:what|which) (?:(?:(?:tele)?phone |fax )?number|e-?mail)\b|\b(?:(?:(?:tele)?phone|fax) number|e-?mail address) (?:of|for)\b",
    re.IGNORECASE,
)
# A Japanese telephone number (043-258-7817, 03(5978)7591, +81-3-…) or an e-mail address.
CONTACT = re.compile(
    r"(?<![\d-])(?:0\d{1,4}|\+81[-\s]?\d{1,4})\s?[-‐－−(（)）]\s?\d{1,4}\s?[-‐－−)）]\s?\d{3,4}(?![\d-])"
    r"|[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)


# The countries and unions policy text compares, by their Japanese and English names. A
# Japanese paper speaks of its own country as 我が国 or 国内, and of its government, cabinet and
# Diet without naming the country (政府は, 閣議決定; not 英国政府 or 連邦政府).
COUNTRIES = {
    "JP": r"日本|我が国|わが国|本邦|国内|(?<![国邦州])政府|内閣|閣議|国会|\bJapan(?:ese)?\b",
    "US": r"米国|アメリカ|米政府|\bUS\b|\bU\.S\.|United States|\bAmerican?\b",
    "UK": r"英国|イギリス|\bUK\b|United Kingdom|\bBritish\b|\bBritain\b",
    "CN": r"中国(?!地方)|\bChina\b|\bChinese\b",
    "EU": r"\bEU\b|欧州|\bEurope(?:an)?\b",
    "DE": r"ドイツ|\bGerman(?:y)?\b",
    "FR": r"フランス|\bFrance\b|\bFrench\b",
    "KR": r"韓国|\b(?:South )?Korea(?:n)?\b",
    "CA": r"カナダ|\bCanad(?:a|ian)\b",
    "IN": r"インド(?!太平洋|ネシア)|\bIndia(?:n)?\b",
    "SG": r"シンガポール|\bSingapore(?:an)?\b",
}
_COUNTRY = {code: re.compile(pattern) for code, pattern in COUNTRIES.items()}


def countries(text: str) -> frozenset[str]:
    """The countries ``text`` names ("日本の生成AI", "the Japanese government" -> {"JP"})."""
    text = unicodedata.normalize("NFKC", text)  # ＥＵ
    return frozenset(code for code, pattern in _COUNTRY.items() if pattern.search(text))


def wants_place(question: str) -> bool:
    """The question asks where something is held (どこで開催): a venue answers it."""
    return bool(WHERE.search(question))


def has_place(text: str) -> bool:
    """``text`` names a venue: a meeting room, hall or floor, or online."""
    return bool(PLACE.search(text))


def wants_contact(question: str) -> bool:
    """The question asks how to reach someone (電話番号は, "email address"): a number or address answers it."""
    return bool(CONTACT_ASKED.search(question))


def has_contact(text: str) -> bool:
    """``text`` gives a telephone or fax number or an e-mail address."""
    return bool(CONTACT.search(text))


def wants_end(question: str) -> bool:
    """The question asks until when (いつまで, 締切): of a range, the end answers it."""
    return bool(UNTIL.search(question))


def wants_start(question: str) -> bool:
    """The question asks from when (いつから): a date that something starts from answers it."""
    return bool(SINCE.search(question))


def has_start(text: str) -> bool:
    """``text`` gives a date that something starts from: a date with から, より, 以降 or
    開始 after it in the same sentence."""
    return any(is_start(text, m) for m in find_dates(text))


def is_start(text: str, mention: DateMention) -> bool:
    """The date ``mention`` in ``text`` is one that something starts from (2024年以降, 4月1日より)."""
    return bool(STARTS.match(text, mention.end)) or mention.qualifier in STARTS_WITH


def defined_term(question: str) -> str | None:
    """The word whose meaning the question asks (「接触」とはどのような状態 -> 接触), if any."""
    m = DEFINED.search(question)
    return next((g for g in m.groups() if g), None) if m else None


def defines(text: str, term: str) -> bool:
    """``text`` defines ``term`` as rules do: the term, then a bracket or とは, then をいう."""
    return bool(re.search(re.escape(term) + _DEFINITION, text))


def wants_span(question: str) -> bool:
    """The question asks for a period (いつからいつまで, 期間): its answer gives two dates."""
    return bool(SPAN.search(question))


def has_span(text: str) -> bool:
    """``text`` can give a period: a range, or two dates (2022年11月から2023年12月にかけて)."""
    found = find_dates(text)
    return len(found) >= 2 or any(m.end_date for m in found)


def wants_upcoming(question: str) -> bool:
    """The question asks when something planned or next will happen (次回はいつ, いつ予定)."""
    return bool(UPCOMING.search(question))


def has_upcoming(text: str, reference: str | None) -> bool:
    """``text`` can date a plan recorded in a document dated ``reference``: a date in it is
    given as planned (「2024年6月頃」, 「…改定(予定)」) or falls after the document's own. A
    revision history's 「2022年6月30日 改訂」 does not say when the next revision of a 2026
    paper is due. Without a reference, or a date that can be read, it cannot tell, and any
    date may."""
    found = find_dates(text, reference=reference) if reference else []
    if not found:
        return True
    return any(m.hedged or mention_span(m)[1] > iso_span(reference)[1] for m in found)  # type: ignore[arg-type]


def wants_date(question: str) -> bool:
    return bool(WHEN.search(question))


def wants_quantity(question: str) -> bool:
    return bool(HOW_MANY.search(question))


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` gives a date as a passage may give one, its year left to the document
    (「10月12日」, 「本年8月7日」); a fraction (「補助率1/2」) is not one, by the rule
    :func:`stiqa.dates.find_dates` reads it with."""
    return [m.span() for m in DATE.finditer(text) if "/" not in m.group() or not is_fraction(text, m.start(), m.end())]


def has_date(text: str) -> bool:
    """``text`` gives a date, in a sentence that does not say it is yet to be fixed
    (「11月以降の部会の日程につきましては、現在調整中」 gives no date)."""
    return any(not UNDECIDED.search(clause(text, start, end)) for start, end in date_spans(text))


def clause(text: str, start: int, end: int) -> str:
    """The sentence or line of ``text`` around ``text[start:end]``."""
    lo = max(text.rfind("\n", 0, start), text.rfind("。", 0, start)) + 1
    ends = [i for i in (text.find("\n", end), text.find("。", end)) if i >= 0]
    return text[lo:min(ends, default=len(text))]


def wanted_unit(question: str) -> str | None:
    """"何人" -> "人", "いくら" -> "円", "何%" -> "%", "how many cats" -> "count" (any counter of
    things); None when no unit is named."""
    for pattern, unit in UNITS:
        m = pattern.search(question)
        if m:
            return unit or next(g for g in m.groups() if g)
    return None


def has_quantity(text: str, unit: str | None = None) -> bool:
    """A figure in ``text``; with ``unit``, a figure counted in that unit ("1,000万人" for 人;
    people are counted in 人 or 名)."""
    if unit is None:
        return bool(quantity_spans(text))
    counted = COUNTED_AS.get(unit, re.escape(unit))
    return bool(re.search(r"(?<![第\d.,])" + NUMBER + r"\s*(?:万|億|兆|千|百)?\s*" + counted, text))


def quantity_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` gives a figure: a count, amount, share or length of time (二年, 24時間).
    A year of the calendar (2024年, R3年度) dates something rather than counts it."""
    return [m.span() for m in QUANTITY.finditer(text) if not _calendar_year(text, m)]


def _calendar_year(text: str, m: re.Match) -> bool:
    if not m.group().endswith("年"):
        return False
    return bool(
        WESTERN_YEAR.fullmatch(m.group())
        or ERA_BEFORE.search(text, 0, m.start())
        or YEAR_AFTER.match(text, m.end())
    )


def value_spans(text: str, dates: bool, quantities: bool) -> list[tuple[int, int]]:
    """Where ``text`` gives a date (if ``dates``) or a figure (if ``quantities``)."""
    spans = date_spans(text) if dates else []
    if quantities:
        spans += quantity_spans(text)
    return spans


def wants_time(question: str) -> bool:
    """The question asks what time of day (何時に終了): a clock time answers it."""
    return bool(TIME_ASKED.search(question))


def has_time(text: str) -> bool:
    return bool(CLOCK.search(text))
