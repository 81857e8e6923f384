"""Compare stiqa.dates with the ja-timex package on the corpus's date expressions.

    python -m venv /tmp/jatimex-venv && /tmp/jatimex-venv/bin/pip install ja-timex==0.2.8
    .venv/bin/python bench/dates_vs_jatimex.py --jatimex-python /tmp/jatimex-venv/bin/python

ja-timex is not a dependency of stiqa, so it runs in its own interpreter: this script
calls that interpreter with ``--child``, which reads the texts as JSON on stdin and prints
ja-timex's DATE expressions. GOLD is hand-checked: every line of
corpus/sti-policy-2024.txt with a date, the timeline slide's month/day dates (with a
context year given to both systems), and lines whose numbers are not dates. A range
counts as its two ends. A case is right when the multiset of dates found equals the gold
one; precision and recall are counted over single dates; "hedged" counts the gold dates
marked as approximate or planned (ja-timex: a ``mod``) that each system marks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "corpus" / "sti-policy-2024.txt"

# (corpus line number(s), context year, gold dates, gold hedged dates)
GOLD: list[tuple[tuple[int, ...], int | None, list[str], list[str]]] = [
    ((145,), None, ["2023-06-16"], []),
    ((146,), None, ["2023-06-16"], []),
    ((148,), None, ["2023-06-09"], []),
    ((208,), None, ["FY2014", "FY2018"], []),
    ((245,), None, ["FY2014"], []),
    ((267,), None, ["2023-05"], []),
    ((270,), None, ["2023"], []),
    ((273,), None, ["2023-05", "2023-09"], []),
    ((274,), None, ["2023-06"], []),
    ((275,), None, ["2023-07"], []),
    ((276,), None, ["FY2023", "FY2024"], []),
    ((278,), None, ["2023-12"], []),
    ((279,), None, ["2023-12"], []),
    ((280,), None, ["2024-02"], []),
    ((285,), None, ["2023-04"], []),
    ((319,), None, ["2023-11-30", "2023-12-01"], []),
    ((329,), None, ["2020-01-21"], []),
    ((330,), None, ["2022-04-22"], []),
    ((331,), None, ["2023-03-27"], []),
    ((332,), None, ["2023-04-14"], []),
    ((333,), None, ["2023-07-27"], []),
    ((339,), None, ["2030"], ["2030"]),  # 2030年目標
    ((345,), None, ["2024-03"], ["2024-03"]),  # (2024年3月予定)
    ((350,), None, ["2020-01", "2022-04"], []),
    ((357,), None, ["2020-04"], []),
    ((364,), None, ["2023-04"], []),
    ((370,), None, ["2030"], ["2030"]),
    ((385,), None, ["FY2023", "FY2022"], []),
    ((390,), None, ["2024-06"], ["2024-06"]),  # 2024年6月頃
    ((398,), None, ["2019-06-11", "2030"], []),
    ((406,), None, ["2022-04"], []),
    ((407,), None, ["2021-06", "2022-12"], []),
    ((413,), None, ["2021-05-12"], []),
    ((416,), None, ["FY2023"], []),
    ((420,), None, ["2023-12-27"], []),
    ((463,), None, ["2023-08"], []),
    ((466,), None, ["2023"], []),  # 2023年秋
    ((467,), None, ["FY2024"], ["FY2024"]),  # 2024年度中の支援開始を予定
    ((469,), None, ["FY2024"], []),
    ((470,), None, ["FY2024"], []),
    ((472,), None, ["FY2023"], []),
    ((473,), None, ["FY2023"], []),
    ((475,), None, ["FY2022"], []),
    ((476,), None, ["FY2022"], []),
    ((478,), None, ["FY2021"], []),
    ((479,), None, ["FY2021"], []),
    ((481,), None, ["FY2020"], []),
    ((482,), None, ["FY2020"], []),
    (tuple(range(615, 632)), None, ["2022-05-18", "2022-11-15"], []),  # vertical: 令和4年5月18日成立・11月15日施行
    ((680,), None, ["FY2024"], ["FY2024"]),  # 令和6年度中に開始予定
    ((747,), None, ["2022-02"], []),
    ((753,), None, ["2023-02"], []),
    ((759,), None, ["2024-02"], ["2024-02"]),  # ...改定(予定)
    ((761,), None, ["FY2024"], []),
    ((766,), None, ["2024-02-16"], []),
    ((769,), None, ["FY2025"], []),
    ((785,), None, ["2023-06-09"], []),
    ((787,), None, ["2023-10-30"], []),
    ((789,), None, ["FY2025"], []),
    ((839,), None, ["2021-03-26"], []),
    # the university-fund timeline: month/day under a year the reader is given
    ((548,), 2022, ["2022-06-01"], []),
    ((549,), 2022, ["2022-10-01"], []),
    ((558,), 2022, ["2022-11-15"], []),
    ((561,), 2022, ["2022-04-01"], []),
    ((567,), 2022, ["2022-10-01"], []),
    ((569,), 2022, ["2022-02-01"], []),
    ((575,), 2022, ["2022-08-26"], []),
    ((636,), 2022, ["2022-01-07"], []),
    ((638,), 2022, ["2022-01-19"], []),
    ((640,), 2022, ["2022-04-01"], []),
    ((682,), 2022, ["2022-02-06"], []),
    ((828,), 2024, ["2024-02", "2024-03"], []),  # 2〜3月
    ((829,), 2024, ["2024-03"], ["2024-03"]),  # 3月中
    # numbers that are not dates (a context year is given, so nothing is dropped for want of one)
    ((10,), 2024, [], []),  # 上位10%
    ((11,), 2024, [], []),  # 13位
    ((14,), 2024, [], []),  # 上位30位
    ((22,), 2024, [], []),  # 10%
    ((23,), 2024, [], []),  # 1/2とする
    ((69,), 2024, [], []),  # GPT-4
    ((73,), 2024, [], []),  # 悟道2.0
    ((90,), 2024, [], []),  # 2.第6期
    ((130,), 2024, [], []),  # 5か年計画
    ((148,), 2024, ["2023-06-09"], []),  # 統合イノベーション戦略2023
    ((306,), 2024, [], []),  # JT-60SA
    ((376,), 2024, [], []),  # 50兆円
    ((448,), 2024, [], []),  # ①〜③
    ((677,), 2024, [], []),  # 第2期
    ((842,), 2024, [], []),  # 5か年計画
]


def texts() -> list[tuple[str, int | None]]:
    from stiqa.normalize import normalize_query

    lines = DOC.read_text(encoding="utf-8").splitlines()
    return [
        (normalize_query("".join(lines[n - 1].strip() for n in numbers)), year)
        for numbers, year, _, _ in GOLD
    ]


def run_stiqa(cases: list[tuple[str, int | None]]) -> list[tuple[list[str], list[str]]]:
    from stiqa.dates import find_dates

    out = []
    for text, year in cases:
        dates, hedged = [], []
        for m in find_dates(text, year):
            ends = [m.date] + ([m.end_date] if m.end_date else [])
            dates += ends
            hedged += ends if m.hedged else []
        out.append((dates, hedged))
    return out


def jatimex_value(value: str, year: int | None) -> str | None:
    """ja-timex's TIMEX3 value in stiqa's format: 2024-02-XX -> 2024-02, 2023-FA -> 2023."""
    if value.startswith("FY"):
        return value
    parts = value.split("-")
    if parts[0] == "XXXX":
        if year is None:
            return None
        parts[0] = str(year)
    kept = [parts[0]]
    for part in parts[1:]:
        if not part.isdigit():
            break
        kept.append(part)
    return "-".join(kept)


def child() -> None:
    """Runs in ja-timex's interpreter: texts on stdin, DATE expressions on stdout."""
    import pendulum
    from ja_timex import TimexParser

    out = []
    for text, year in json.load(sys.stdin):
        parser = TimexParser(reference=pendulum.datetime(year, 1, 1)) if year else TimexParser()
        out.append([(t.value, t.mod) for t in parser.parse(text) if t.type == "DATE"])
    json.dump(out, sys.stdout)


def run_jatimex(python: str, cases: list[tuple[str, int | None]]) -> list[tuple[list[str], list[str]]]:
    proc = subprocess.run(
        [python, __file__, "--child"], input=json.dumps(cases), capture_output=True, text=True, check=True
    )
    out = []
    for (_, year), timexes in zip(cases, json.loads(proc.stdout)):
        dates, hedged = [], []
        for value, mod in timexes:
            date = jatimex_value(value, year)
            if date is None:
                continue  # a month or day left without a year
            dates.append(date)
            if mod:
                hedged.append(date)
        out.append((dates, hedged))
    return out


def score(name: str, results: list[tuple[list[str], list[str]]], show: bool) -> None:
    right = tp = fp = fn = hedge_tp = hedge_fp = 0
    gold_hedged = sum(len(h) for _, _, _, h in GOLD)
    for (numbers, _, gold, gold_h), (found, hedged) in zip(GOLD, results):
        g, f = Counter(gold), Counter(found)
        tp += sum((g & f).values())
        fp += sum((f - g).values())
        fn += sum((g - f).values())
        hedge_tp += sum((Counter(gold_h) & Counter(hedged)).values())
        hedge_fp += sum((Counter(hedged) - Counter(gold_h)).values())
        if g == f:
            right += 1
        elif show:
            print(f"  {name} line {numbers[0]}: gold {gold} found {found}")
    print(
        f"{name:8s} cases right {right}/{len(GOLD)}  dates: precision {tp / max(1, tp + fp):.3f} "
        f"recall {tp / max(1, tp + fn):.3f} (tp {tp}, fp {fp}, fn {fn})  "
        f"hedged {hedge_tp}/{gold_hedged} (+{hedge_fp} wrongly)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jatimex-python", default="/tmp/jatimex-venv/bin/python",
                    help="an interpreter with ja-timex installed")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--errors", action="store_true", help="list the cases each system gets wrong")
    args = ap.parse_args()
    if args.child:
        child()
        return 0
    cases = texts()
    print(f"{len(GOLD)} hand-checked cases, {sum(len(g) for _, _, g, _ in GOLD)} dates")
    score("stiqa", run_stiqa(cases), args.errors)
    score("ja-timex", run_jatimex(args.jatimex_python, cases), args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
