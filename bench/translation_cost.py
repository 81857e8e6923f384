"""What translating an English question costs, by stage (qa/glossary.py, issue 11).

    STIQA_CORPUS_DIR=../shared/corpus-dev STIQA_INDEX_DIR=/tmp/idx_dev \\
        python bench/translation_cost.py bench/questions/corpus-dev.jsonl [--rounds 5]

The set's English questions are asked in process, each one with and without translation in
turn (the machine is shared and noisy), and the medians of three stages are printed:
analysis (``normalize_ms``: the dictionary lookup is part of it), the search (BM25 scores
each translated group) and ranking (``fuse_ms``: features read off each candidate).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from stiqa.config import Settings
from stiqa.evaluation import read_questions
from stiqa.service.assistant import Assistant

STAGES = ("normalize_ms", "search_ms", "fuse_ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    retriever = Assistant.load(Settings.from_env()).retriever
    english = [q.question for q in read_questions(args.questions) if q.lang == "en"]
    took: dict[bool, dict[str, list[float]]] = {on: {s: [] for s in STAGES} for on in (True, False)}
    for _ in range(args.rounds):
        for question in english:
            for on in (True, False):
                retriever.glossary.available = on
                timings: dict[str, float] = {}
                retriever.search(retriever.query(question, "hybrid", timings), 5, "hybrid", timings)
                for stage in STAGES:
                    took[on][stage].append(timings[stage])
    retriever.glossary.available = True
    print(f"{len(english)} English questions, {args.rounds} rounds; medians in ms")
    print("| | " + " | ".join(STAGES) + " |")
    print("|---|" + "---|" * len(STAGES))
    for on in (False, True):
        row = " | ".join(f"{statistics.median(took[on][s]):.2f}" for s in STAGES)
        print(f"| {'translated' if on else 'not translated'} | {row} |")


if __name__ == "__main__":
    main()
