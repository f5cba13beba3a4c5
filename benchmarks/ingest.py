"""Ingest throughput: the full import path against a bare ``executemany`` ceiling.

Generates N messages in the Customer Support on Twitter CSV format, imports them with
``dialoga``'s own import path (parse, validate, identities, threading, summaries,
reporting events, one transaction per batch), and in the same run writes the same rows
with a bare ``executemany`` into an equivalent table. Prints messages per second, peak
memory and the ratio to the ceiling, for SQLite and (unless --no-postgres) PostgreSQL.
Each measurement runs in a child process so its peak memory is its own.

    python benchmarks/ingest.py                      # 1,000,000 messages
    python benchmarks/ingest.py --messages 200000 --no-postgres
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).parent))
from twcs_data import write_csv

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "dialoga_bench"
CEILING_TABLE = """CREATE TABLE bench_message (
    id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, external_id VARCHAR(400) NOT NULL,
    direction VARCHAR(8) NOT NULL, author VARCHAR(320) NOT NULL, created_at VARCHAR(40) NOT NULL,
    text TEXT NOT NULL, in_reply_to VARCHAR(400), UNIQUE (channel_id, external_id))"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_full(
    url: str, csv_path: Path, batch_size: int, read_ahead: bool | None = None
) -> dict[str, Any]:
    """Import the file through dialoga's own path into a fresh database at ``url``
    (``read_ahead``: as ``ImportRequest``'s; None lets the import decide)."""
    from dialoga.accounts.actions import do_create_workspace
    from dialoga.channels.imports import ImportRequest, run_import
    from dialoga.core.db import transaction
    from dialoga.core.settings import Settings
    from dialoga.runtime import Runtime

    runtime = Runtime.from_settings(Settings(database_url=url, ingest_batch_size=batch_size))
    runtime.upgrade_database()
    with transaction(runtime.sessions) as session:
        do_create_workspace(session, "bench", "Bench", actor="benchmark")
    request = ImportRequest(
        "twcs",
        csv_path,
        "bench",
        "twitter",
        csv_path.with_suffix(".rejects.jsonl"),
        batch_size=batch_size,
        read_ahead=read_ahead,
    )
    started = time.perf_counter()
    summary = run_import(runtime.sessions, request)
    seconds = time.perf_counter() - started
    return {
        "messages": summary.imported,
        "rejected": summary.rejected,
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_ceiling(url: str, csv_path: Path, batch_size: int) -> dict[str, Any]:
    """Read the same CSV and write its rows with a bare executemany, batch by batch."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_message")
        connection.exec_driver_sql(CEILING_TABLE)
    marker = "?" if engine.dialect.name == "sqlite" else "%s"
    sql = (
        "INSERT INTO bench_message (id, channel_id, external_id, direction, author, created_at,"
        f" text, in_reply_to) VALUES ({', '.join([marker] * 8)})"
    )
    raw = engine.raw_connection()
    started = time.perf_counter()
    count = 0
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list[tuple[Any, ...]] = []
        for tweet_id, author, inbound, created_at, body, _replies, parent in reader:
            count += 1
            direction = "inbound" if inbound == "True" else "outbound"
            batch.append((count, 1, tweet_id, direction, author, created_at, body, parent or None))
            if len(batch) >= batch_size:
                _write(raw, sql, batch)
        _write(raw, sql, batch)
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return {"messages": count, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _write(raw: Any, sql: str, batch: list[tuple[Any, ...]]) -> None:
    cursor = raw.cursor()
    cursor.executemany(sql, batch)
    raw.commit()
    batch.clear()


def run_child(mode: str, url: str, csv_path: Path, batch_size: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--url",
            url,
            "--csv",
            str(csv_path),
            "--batch-size",
            str(batch_size),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def fresh_postgres(base_url: str) -> str:
    """Recreate the benchmark database next to ``base_url`` and return its URL."""
    base = make_url(base_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    admin.dispose()
    return base.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def measure(label: str, make_url_for_run: Any, csv_path: Path, batch_size: int) -> dict[str, Any]:
    full = run_child("full", make_url_for_run("full"), csv_path, batch_size)
    ceiling = run_child("ceiling", make_url_for_run("ceiling"), csv_path, batch_size)
    return {"database": label, "full": full, "ceiling": ceiling}


def report(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'database':<12}{'messages':>11}{'seconds':>9}{'msg/s':>10}{'peak MB':>9}"
        f"{'ceiling msg/s':>15}{'ratio':>7}"
    )
    for row in rows:
        full, ceiling = row["full"], row["ceiling"]
        rate = full["messages"] / full["seconds"]
        ceiling_rate = ceiling["messages"] / ceiling["seconds"]
        print(
            f"{row['database']:<12}{full['messages']:>11,}{full['seconds']:>9.1f}{rate:>10,.0f}"
            f"{full['peak_rss_mb']:>9.0f}{ceiling_rate:>15,.0f}{rate / ceiling_rate:>7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", choices=("full", "ceiling"))
    parser.add_argument("--url")
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    if args.child:
        runner = child_full if args.child == "full" else child_ceiling
        print(json.dumps(runner(args.url, args.csv, args.batch_size)))
        return
    with tempfile.TemporaryDirectory(prefix="dialoga-bench-") as folder:
        workdir = Path(folder)
        rows = []
        for count in (args.messages // 10, args.messages):
            csv_path = workdir / f"twcs-{count}.csv"
            write_csv(csv_path, count)
            label = f"SQLite {count // 1000}k" if count < args.messages else "SQLite"
            rows.append(
                measure(
                    label,
                    lambda mode, c=count: f"sqlite:///{workdir}/{mode}-{c}.db",
                    csv_path,
                    args.batch_size,
                )
            )
            if count == args.messages and not args.no_postgres:
                rows.append(
                    measure(
                        "PostgreSQL",
                        lambda _mode: fresh_postgres(args.postgres_url),
                        csv_path,
                        args.batch_size,
                    )
                )
            csv_path.unlink()
        report(rows)
        print(
            "peak MB is the importing process's peak resident memory; the first row, with a "
            "tenth of the messages, shows whether it grows with N."
        )


if __name__ == "__main__":
    main()
