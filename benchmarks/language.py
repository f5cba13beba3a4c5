"""Language identification on the public sentiment corpora: lingua alone, and the
function-word first look with lingua for the rest, in the same run.

The corpora's language is known by source (SENTIPOLC is Italian, the airline tweets
English; a few tweets in each are in another language, so no method reaches 100%).
For each: accuracy, the share the first look settles, its errors, and texts a second on
one core (pinned; single-threaded BLAS does not matter here).

    python benchmarks/language.py
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from dialoga.understand import language
from dialoga.understand.function_words import function_word_language
from dialoga.understand.language import LanguageGuesser

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sentiment"
CORPORA = {"it": "sentipolc2016_train.csv", "en": "airline_tweets_en_train.csv"}


def _texts(name: str) -> list[str]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row.get("text")]


def _timed(guess: Callable[[list[str]], list[str]], texts: list[str]) -> tuple[list[str], float]:
    started = time.perf_counter()
    found = guess(texts)
    return found, time.perf_counter() - started


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    guesser = LanguageGuesser(("it", "en"))
    guesser.guess(["warm up the models", "scaldiamo i modelli"])
    print(f"{'corpus':<8}{'method':<30}{'accuracy':>9}{'texts/s':>10}")
    for truth, name in CORPORA.items():
        texts = _texts(name)
        with mock.patch.object(language, "function_word_language", lambda _text: None):
            alone, alone_seconds = _timed(guesser.guess, texts)
        both, both_seconds = _timed(guesser.guess, texts)
        for label, found, seconds in (
            ("lingua alone", alone, alone_seconds),
            ("function words, then lingua", both, both_seconds),
        ):
            accuracy = sum(code == truth for code in found) / len(texts)
            print(f"{truth:<8}{label:<30}{accuracy:>9.4f}{len(texts) / seconds:>10,.0f}")
        screened = [function_word_language(text) for text in texts]
        settled = [code for code in screened if code is not None]
        wrong = sum(code != truth for code in settled)
        print(
            f"{'':<8}first look settles {len(settled) / len(texts):.1%} of {len(texts):,} texts"
            f" ({wrong} of them not in {truth})"
        )


if __name__ == "__main__":
    main()
