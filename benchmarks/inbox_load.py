"""Inbox under load: the queue page, a conversation page and the API list, 50 clients.

Loads N messages in C conversations (default 1,000,000 in 200,000) through the real
ingest into a database kept between runs (``benchmarks/inbox_data.py``; the workspace's
name and row counts say whether it can be reused), starts the real application under
uvicorn, one process per worker, signs in through the sign-in form (pages use the
session cookie) and makes an API token (the API uses ``Authorization: Bearer``). Then,
target by target, 50 clients on loopback (``benchmarks/load_clients.py``, in processes of
their own) send requests for 60 seconds. Prints requests, errors, requests per second and
p50/p95/p99 latency per target, with ``GET /healthz`` under the same load as the floor of
the framework on this machine; a target passes when its p95 is under 50 ms and no
request failed. SQLite and PostgreSQL.

    python benchmarks/inbox_load.py                                   # full size, both
    python benchmarks/inbox_load.py --database sqlite --messages 20000 --conversations 4000 \
        --duration 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from dialoga.core.clock import utcnow
from dialoga.core.settings import Settings
from dialoga.inbox.housekeeping import run_housekeeping
from dialoga.runtime import Runtime

sys.path.insert(0, str(Path(__file__).parent))
import inbox_data
from app_server import HEALTH, SESSION_COOKIE, Server, session_cookie, start_server

# The pages under test. The queue and conversation pages are the team inbox's.
QUEUE_PAGE = "/w/{slug}/inbox"
CONVERSATION_PAGE = "/w/{slug}/inbox/{conversation_id}"
API_LIST = "/api/v1/workspaces/{slug}/conversations"
API_CONVERSATION = "/api/v1/workspaces/{slug}/conversations/{conversation_id}"
HOME_PAGE = "/"

P95_TARGET_MS = 50.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "dialoga-inbox-bench"
CLIENT_SATURATED = 0.85  # share of one core a client process may use before it skews latency
CLIENTS_SCRIPT = Path(__file__).parent / "load_clients.py"
REQUEST_TIMEOUT = 30.0  # seconds; a request still unanswered then counts as an error


@dataclass(frozen=True, slots=True)
class Target:
    """One URL under load, how it authenticates, and whether the p95 target applies."""

    label: str
    path: str
    auth: str  # cookie, bearer or none
    judged: bool = True


TARGETS = {
    "queue": Target("queue page", QUEUE_PAGE, "cookie"),
    "conversation": Target("conversation page", CONVERSATION_PAGE, "cookie"),
    "api": Target("API list", API_LIST, "bearer"),
    # Pages that exist today, for trying the machinery: the home page and the API detail.
    "home": Target("home page", HOME_PAGE, "cookie"),
    "api-conversation": Target("API conversation", API_CONVERSATION, "bearer"),
}
FLOOR = Target("/healthz (floor)", HEALTH, "none", judged=False)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the database ----------------------------------------------------------------------


def database_url(kind: str, args: argparse.Namespace) -> str:
    """Where the data of this size lives: one SQLite file or PostgreSQL database per size."""
    name = f"inbox_{args.messages}_{args.conversations}"
    if kind == "sqlite":
        return f"sqlite:///{args.data_dir / name}.db"
    return (
        make_url(args.postgres_url)
        .set(database=f"dialoga_{name}")
        .render_as_string(hide_password=False)
    )


def _drop_and_create(url: str, admin_url: str) -> None:
    """An empty database at ``url``: the SQLite file removed, or PostgreSQL's recreated
    (through a connection to ``admin_url``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _exists(url: str, admin_url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(str(parsed.database)).exists()
    admin = create_engine(admin_url)
    with admin.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
    admin.dispose()
    return found is not None


def _runtime(url: str) -> Runtime:
    return Runtime.from_settings(Settings(database_url=url))


def is_loaded(url: str, admin_url: str, messages: int, conversations: int) -> bool:
    """Whether the database at ``url`` already holds exactly this benchmark's data."""
    if not _exists(url, admin_url):
        return False
    runtime = _runtime(url)
    try:
        runtime.upgrade_database()
        found = inbox_data.counts(runtime.sessions)
    finally:
        runtime.engine.dispose()
    return found == (inbox_data.workspace_name(messages, conversations), messages, conversations)


def child_load(url: str, messages: int, conversations: int, batch_size: int) -> dict[str, Any]:
    """Load the data into the empty database at ``url`` (in a process of its own)."""
    runtime = _runtime(url)
    runtime.upgrade_database()
    started = time.perf_counter()
    step = max(1, messages // 10)
    shown = 0

    def progress(stored: int) -> None:
        nonlocal shown
        if stored // step > shown:
            shown = stored // step
            rate = stored / (time.perf_counter() - started)
            print(f"  {stored:,} messages stored ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    inbox_data.load(runtime.sessions, messages, conversations, batch_size, progress)
    seconds = time.perf_counter() - started
    found = inbox_data.counts(runtime.sessions)
    expected = (inbox_data.workspace_name(messages, conversations), messages, conversations)
    if found != expected:
        raise SystemExit(f"the load stored {found}, not {expected}")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def prepare(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Reuse the database when it holds the data, or load it afresh in a child process."""
    url = database_url(kind, args)
    if args.reuse and is_loaded(url, args.postgres_url, args.messages, args.conversations):
        print(f"{kind}: reusing {_safe(url)}")
        return {"url": url, "reused": True, **_size(url)}
    print(f"{kind}: loading {args.messages:,} messages into {_safe(url)}")
    _drop_and_create(url, args.postgres_url)
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-load",
            url,
            "--messages",
            str(args.messages),
            "--conversations",
            str(args.conversations),
            "--batch-size",
            str(args.batch_size),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    loaded = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"{kind}: loaded in {loaded['seconds']:.0f} s, peak {loaded['peak_rss_mb']:.0f} MB")
    return {"url": url, "reused": False, "load": loaded, **_size(url)}


def _size(url: str) -> dict[str, Any]:
    """How much disk the database takes (SQLite: the file and its write-ahead log)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        files = [Path(f"{parsed.database}{suffix}") for suffix in ("", "-wal")]
        size = sum(path.stat().st_size for path in files if path.exists())
    else:
        engine = create_engine(url)
        with engine.connect() as connection:
            size = int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
        engine.dispose()
    return {"database_mb": round(size / 2**20)}


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- the load --------------------------------------------------------------------------


def _busy_and_total() -> tuple[int, int] | None:
    """Jiffies the machine's CPUs spent busy, and in all (Linux's /proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values, in milliseconds."""
    if not ordered:
        return float("nan")
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _client_specs(
    target: Target,
    server: Server,
    access: inbox_data.Access,
    cookie: str,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """What each client process runs: its share of the clients, all starting together."""
    path = target.path.replace("{slug}", access.slug)
    per_process, extra = divmod(args.clients, args.client_processes)
    start_at = time.time() + 1.0 + 0.2 * args.client_processes
    return [
        {
            "base_urls": server.base_urls,
            "first_client": n * per_process + min(n, extra),
            "clients": per_process + (n < extra),
            "path": path,
            "headers": {"Authorization": f"Bearer {access.token}"}
            if target.auth == "bearer"
            else {},
            "cookies": {SESSION_COOKIE: cookie} if target.auth == "cookie" else {},
            "conversation_ids": access.conversation_ids if "{conversation_id}" in path else [],
            "seed": 1000 * n,
            "start_at": start_at,
            "warmup": args.warmup,
            "duration": args.duration,
            "timeout": REQUEST_TIMEOUT,
        }
        for n in range(args.client_processes)
    ]


def measure(specs: list[dict[str, Any]], work: Path) -> tuple[list[dict[str, Any]], float | None]:
    """Run one client process per spec; their results and the machine's CPU use meanwhile."""
    children = []
    for n, spec in enumerate(specs):
        spec_path, result_path = work / f"spec-{n}.json", work / f"result-{n}.json"
        spec_path.write_text(json.dumps(spec))
        command = [sys.executable, str(CLIENTS_SCRIPT), str(spec_path), str(result_path)]
        children.append((subprocess.Popen(command), result_path))
    time.sleep(max(0.0, specs[0]["start_at"] + specs[0]["warmup"] - time.time()))
    before = _busy_and_total()
    for child, _ in children:
        if child.wait() != 0:
            raise SystemExit(f"a client process failed (exit status {child.returncode})")
    after = _busy_and_total()
    busy = None
    if before and after and after[1] > before[1]:
        busy = (after[0] - before[0]) / (after[1] - before[1])
    return [json.loads(path.read_text()) for _, path in children], busy


def summarize(
    target: Target, duration: float, results: list[dict[str, Any]], busy: float | None
) -> dict[str, Any]:
    """One row of the report from the client processes' results."""
    latencies = sorted(v for r in results for v in r["latencies"])
    errors: dict[str, int] = {}
    for result in results:
        for kind, count in result["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    p95 = _percentile(latencies, 0.95)
    return {
        "target": target.label,
        "path": target.path,
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "error_samples": [s for r in results for s in r["samples"]][:5],
        "requests_per_second": len(latencies) / duration,
        "p50_ms": _percentile(latencies, 0.50),
        "p95_ms": p95,
        "p99_ms": _percentile(latencies, 0.99),
        "judged": target.judged,
        "passed": (p95 < P95_TARGET_MS and not errors) if target.judged else None,
        "client_cpu": max(r["cpu"] for r in results),
        "machine_busy": busy,
    }


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Prepare the data, serve it, and measure the floor and every target."""
    database = prepare(kind, args)
    runtime = _runtime(database["url"])
    try:
        # What the servers' housekeeping would do first (flag every reply overdue since the
        # data was made), done before they start, so that it does not run under the load.
        settled = run_housekeeping(runtime.sessions, utcnow())
        print(f"{kind}: housekeeping woke {settled.woken}, flagged {settled.breached} breaches")
        access = inbox_data.access(runtime.sessions)
    finally:
        runtime.engine.dispose()
    server = start_server(database["url"], args.workers, args.data_dir)
    rows = []
    try:
        cookie = session_cookie(
            server.base_urls[0], inbox_data.AGENT_EMAIL, inbox_data.AGENT_PASSWORD
        )
        with tempfile.TemporaryDirectory(prefix="dialoga-load-") as folder:
            for target in [FLOOR, *(TARGETS[name] for name in args.targets)]:
                print(f"{kind}: {target.label} ({args.duration:g} s)...")
                specs = _client_specs(target, server, access, cookie, args)
                results, busy = measure(specs, Path(folder))
                rows.append(summarize(target, args.duration, results, busy))
    finally:
        server.stop()
    database.pop("url")
    return {"database": kind, **database, "results": rows}


# --- the report ------------------------------------------------------------------------


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> bool:
    """Print the table; ``True`` when every judged target passed."""
    print(
        f"\n{args.messages:,} messages in {args.conversations:,} conversations; "
        f"{args.clients} clients in {args.client_processes} process(es), {args.workers} "
        f"server workers, {args.duration:g} s per target (after {args.warmup:g} s warm-up), "
        f"{os.cpu_count()} CPUs"
    )
    header = (
        f"{'database':<11}{'target':<20}{'requests':>9}{'errors':>7}{'req/s':>8}"
        f"{'p50':>9}{'p95':>9}{'p99':>9}{'p95/floor':>10}{'client':>7}{'busy':>6}  verdict"
    )
    print(header)
    everything_passed = True
    for run in runs:
        floor = run["results"][0]["p95_ms"]
        for row in run["results"]:
            verdict = "floor"
            if row["judged"]:
                verdict = "PASS" if row["passed"] else "FAIL"
                everything_passed &= bool(row["passed"])
            busy = f"{row['machine_busy']:.0%}" if row["machine_busy"] is not None else "?"
            print(
                f"{run['database']:<11}{row['target']:<20}{row['requests']:>9,}{row['errors']:>7}"
                f"{row['requests_per_second']:>8.0f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
                f"{row['p99_ms']:>9.1f}{row['p95_ms'] / floor:>10.1f}{row['client_cpu']:>7.0%}"
                f"{busy:>6}  {verdict}"
            )
    print(
        f"latencies in ms; PASS: p95 < {P95_TARGET_MS:g} ms and no errors; 'client' is the "
        "busiest client process's CPU use (of one core), 'busy' the machine's CPU use."
    )
    _warnings(runs, args)
    return everything_passed


def _warnings(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    for run in runs:
        for row in run["results"]:
            if row["errors"]:
                print(
                    f"\nERRORS {run['database']} {row['target']}: {row['error_kinds']}",
                    *row["error_samples"],
                    sep="\n  ",
                )
            if row["client_cpu"] > CLIENT_SATURATED:
                print(
                    f"note: {run['database']} {row['target']}: a client process used "
                    f"{row['client_cpu']:.0%} of a core, so latencies include time queued in "
                    f"the client; try --client-processes {args.client_processes + 1}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per target")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--targets",
        type=lambda value: value.split(","),
        default=["queue", "conversation", "api"],
        help=f"comma-separated, of: {', '.join(TARGETS)}",
    )
    parser.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--fresh", dest="reuse", action="store_false", help="same as --no-reuse")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--load-only", action="store_true", help="prepare the data, measure nothing"
    )
    parser.add_argument("--child-load", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.child_load:
        loaded = child_load(args.child_load, args.messages, args.conversations, args.batch_size)
        print(json.dumps(loaded))
        return
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    if args.conversations > args.messages:
        parser.error("every conversation needs at least one message")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if args.load_only:
        for kind in kinds:
            prepare(kind, args)
        return
    runs = [run_database(kind, args) for kind in kinds]
    passed = report(runs, args)
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.json.write_text(json.dumps({"settings": settings, "runs": runs}, indent=2))
    if any(row["errors"] for run in runs for row in run["results"]):
        raise SystemExit("some requests failed: see ERRORS above")
    if not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
