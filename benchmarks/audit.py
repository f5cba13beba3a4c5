"""Audit throughput on one core, and memory against the size of the input.

Writes CSV files of Twitter v1.1 user objects (the columns of the fake-followers data,
rows drawn from a mix of real-looking and bought-looking profiles), then runs the same
streaming audit as ``dialoga audit FILE --output verdicts.csv`` on each, in a child
process pinned to ONE CPU with numpy's thread pools set to one thread. For each size it
reports profiles scored per minute end to end (read, parse, features, model, reasons,
verdicts written) and the child's peak resident memory; memory is flat when the larger
file peaks no higher than the smaller one. A baseline in the same run reads and parses
the same file without judging it, so the cost of the audit itself shows.

    python benchmarks/audit.py                          # 200,000 and 1,000,000 profiles
    python benchmarks/audit.py --sizes 100000 2000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_PER_MINUTE = 1_000_000
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
HEADER = (
    "id,name,screen_name,statuses_count,followers_count,friends_count,favourites_count,"
    "listed_count,created_at,url,location,default_profile_image,profile_image_url,"
    "profile_banner_url,description,updated"
)
FIRST = ("Giulia", "Marco", "Anna", "Luca", "Sara", "John", "Emma", "Paolo", "Chiara", "Tom")
LAST = ("Rossi", "Bianchi", "Smith", "Verdi", "Brown", "Esposito", "Ricci", "Jones")
BIOS = ("", "Fotografa a Torino", "Coffee, code and cats", "Tifoso, papà, ingegnere", "")
SEEN = datetime(2026, 12, 1, tzinfo=UTC)


def write_profiles(path: Path, count: int, seed: int = 5) -> None:
    """``count`` user-object rows, a third of them bought-looking."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerows(_row(rng, number) for number in range(count))


def _row(rng: random.Random, number: int) -> tuple[str, ...]:
    bought = rng.random() < 0.33
    first, last = rng.choice(FIRST), rng.choice(LAST)
    created = SEEN - timedelta(days=rng.randint(5, 90) if bought else rng.randint(200, 5000))
    handle = f"{first.lower()}{rng.randint(10**5, 10**8)}" if bought else f"{first}_{last}{number}"
    counts = (
        (rng.randint(0, 20), rng.randint(0, 40), rng.randint(300, 5000))
        if bought
        else (rng.randint(50, 30000), rng.randint(30, 3000), rng.randint(20, 1500))
    )
    image = "default_profile_images/default_profile_0" if bought else f"profile_images/{number}/a"
    banner = "" if bought else f"https://pbs.twimg.com/profile_banners/{number}/1"
    return (
        str(10**9 + number),
        f"{first} {last}",
        handle,
        str(counts[0]),
        str(counts[1]),
        str(counts[2]),
        "0",
        "0",
        created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "" if bought else "https://example.org",
        "" if bought else "Roma",
        "1.0" if bought else "",
        f"https://pbs.twimg.com/{image}_normal.png",
        banner,
        "" if bought else rng.choice(BIOS),
        "2026-12-01 10:00:00",
    )


def child(path: str, output: str, mode: str) -> None:
    """Run in the pinned child: audit (or only parse) the file, print the figures as JSON."""
    from dialoga.audience.audit_file import FileAudit, audit_file, open_profiles
    from dialoga.audience.model import shipped_model

    shipped_model()  # loaded before the clock starts, as a long-running process has it
    started = time.perf_counter()
    if mode == "parse":
        profiles = sum(1 for _ in open_profiles(Path(path)))
    else:
        request = FileAudit(Path(path), Path(output), Path(output + ".rejects"), SEEN)
        profiles = audit_file(request).total
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"profiles": profiles, "seconds": seconds, "peak_mib": peak_kib / 1024}))


def _measure(path: Path, output: Path, mode: str) -> dict[str, float]:
    environment = {**os.environ, **SINGLE_THREAD}
    command = [sys.executable, __file__, "--child", str(path), str(output), mode]
    if hasattr(os, "sched_setaffinity"):
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--child", nargs=3, metavar=("FILE", "OUTPUT", "MODE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"profiles-{size}.csv"
            write_profiles(path, size)
            megabytes = path.stat().st_size / 2**20
            parsed = _measure(path, Path(folder) / "parsed.csv", "parse")
            audited = _measure(path, Path(folder) / "verdicts.csv", "audit")
            rate = audited["profiles"] / audited["seconds"] * 60
            parse_rate = parsed["profiles"] / parsed["seconds"] * 60
            print(
                f"{size:>10,} profiles ({megabytes:,.0f} MB): audit {rate:>11,.0f}/min "
                f"({rate / TARGET_PER_MINUTE:.2f}x the 1,000,000/min target), peak "
                f"{audited['peak_mib']:,.0f} MiB; parse only {parse_rate:,.0f}/min, peak "
                f"{parsed['peak_mib']:,.0f} MiB"
            )


if __name__ == "__main__":
    main()
