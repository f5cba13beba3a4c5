"""The ``dialoga`` command: a thin layer over actions and queries, for people and scripts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from dialoga.cli_common import console
from dialoga.cli_common import fail as _fail
from dialoga.cli_common import ready_runtime as _ready_runtime
from dialoga.cli_live import channel_app, run_worker
from dialoga.core.errors import DialogaError

if TYPE_CHECKING:
    from dialoga.audience.summary import AuditSummary

T = TypeVar("T")

app = typer.Typer(help="Dialoga: one team inbox, no comment unanswered.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
export_app = typer.Typer(help="Export data.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
member_app = typer.Typer(
    help="Who works in which workspace, with which role.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
sla_app = typer.Typer(
    help="Response targets (SLA) in business hours, and their breaches.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(export_app, name="export")
app.add_typer(user_app, name="user")
app.add_typer(member_app, name="member")
app.add_typer(token_app, name="token")
models_app = typer.Typer(
    help="The understanding models: their scores, and retraining from corrections.",
    no_args_is_help=True,
)
credentials_app = typer.Typer(
    help="Channel credentials, encrypted at rest: new keys and rotation.", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")
webhook_app = typer.Typer(help="Inbound webhooks of a channel.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
app.add_typer(sla_app, name="sla")
app.add_typer(channel_app, name="channel")
app.add_typer(models_app, name="models")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    runtime = _ready_runtime()
    console.print(f"Database ready: {runtime.safe_database_url}")


@workspace_app.command("create")
def workspace_create(
    slug: Annotated[str, typer.Argument(help="Short name used in URLs and commands.")],
    name: Annotated[str | None, typer.Option(help="Display name (defaults to the slug).")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Rome",
) -> None:
    """Create a workspace."""
    from dialoga.accounts.actions import check_create_workspace, do_create_workspace
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            check_create_workspace(session, slug, name or slug)
            do_create_workspace(session, slug, name or slug, actor="cli", timezone=timezone)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"Workspace {slug!r} created.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="E-mail address, used to sign in.")],
    name: Annotated[str, typer.Option(help="Name shown to colleagues.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="DIALOGA_PASSWORD",
            help="Asked for when not given (or read from DIALOGA_PASSWORD).",
        ),
    ],
    locale: Annotated[str, typer.Option(help="Language of the interface: it or en.")] = "it",
) -> None:
    """Create a person who can sign in (the password is stored as an argon2 hash)."""
    from dialoga.accounts.actions import check_create_user, do_create_user
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            check_create_user(session, email, name, password, locale)
            do_create_user(session, email, name, password, actor="cli", locale=locale)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"User {email.lower()!r} created.")


@member_app.command("add")
def member_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    role: Annotated[str, typer.Option(help="owner, admin, agent or analyst.")] = "agent",
) -> None:
    """Give a user a role in a workspace."""
    from dialoga.accounts.actions import check_add_member, do_add_member
    from dialoga.accounts.queries import user_by_email, workspace_by_slug
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            found = workspace_by_slug(session, workspace)
            user = user_by_email(session, email)
            check_add_member(session, found.id, user.id, role)
            do_add_member(session, found.id, user.id, role, actor="cli")
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"{user.email} is now {role} of {workspace!r}.")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The member's e-mail address.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for a member; it is printed once and stored only as a digest."""
    from dialoga.accounts.access import access_workspace
    from dialoga.accounts.actions import do_create_api_token
    from dialoga.accounts.queries import user_by_email
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            user = user_by_email(session, email)
            _, member = access_workspace(session, user.id, workspace)
            token = do_create_api_token(session, member, name, actor="cli")
    except DialogaError as error:
        raise _fail(error) from None
    console.print("API token (shown once, keep it secret):")
    typer.echo(token)


@sla_app.command("show")
def sla_show(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Print the workspace's response targets, business hours and time zone."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.inbox.sla_actions import policy_for

    runtime = _ready_runtime()
    try:
        with runtime.sessions() as session:
            policy = policy_for(session, workspace_by_slug(session, workspace).id)
    except DialogaError as error:
        raise _fail(error) from None
    table = Table(title=f"SLA of {workspace}", show_header=False)
    table.add_row("first response", f"{policy.first_response_minutes} minutes")
    table.add_row("next response", f"{policy.next_response_minutes} minutes")
    table.add_row("business hours", policy.hours_text)
    table.add_row("time zone", policy.timezone)
    if policy.is_default:
        table.add_row("", "(defaults: no policy set)")
    Console().print(table)


@sla_app.command("set")
def sla_set(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    first_response: Annotated[
        int, typer.Option(help="Minutes of business time to a first response.")
    ] = 60,
    next_response: Annotated[
        int, typer.Option(help="Minutes of business time to each later response.")
    ] = 240,
    hours: Annotated[
        str,
        typer.Option(
            help='Business hours, e.g. "mon-fri 09:00-13:00,14:00-18:00; sat 09:00-12:00" '
            '(lun..dom too); "always" for round the clock.'
        ),
    ] = "mon-fri 09:00-18:00",
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone (default: the workspace's).")
    ] = None,
) -> None:
    """Set the workspace's response targets; awaited replies are rescheduled."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.core.clock import utcnow
    from dialoga.core.db import transaction
    from dialoga.inbox.sla_actions import check_sla_policy, do_set_sla_policy

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions, write_lock=True) as session:
            found = workspace_by_slug(session, workspace)
            zone = timezone or found.timezone
            business_hours = check_sla_policy(first_response, next_response, hours, zone)
            rescheduled = do_set_sla_policy(
                session,
                found.id,
                first_response,
                next_response,
                business_hours,
                zone,
                actor="cli",
                now=utcnow(),
            )
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"SLA of {workspace!r} set; awaited replies rescheduled: {rescheduled:,}.")


@sla_app.command("check")
def sla_check() -> None:
    """Flag the conversations whose reply is overdue (every workspace), once each, and
    wake the snoozed ones whose time came (``dialoga serve`` does it every minute)."""
    from dialoga.core.clock import utcnow
    from dialoga.inbox.housekeeping import run_housekeeping

    done = run_housekeeping(_ready_runtime().sessions, utcnow())
    console.print(f"SLA breaches flagged: {done.breached:,}.")
    console.print(f"Snoozed conversations woken: {done.woken:,}.")


@app.command("import")
def import_file(
    fmt: Annotated[
        str,
        typer.Argument(metavar="FORMAT", help="twcs, x-archive, jsonl, csv, mbox, twitter-users."),
    ],
    path: Annotated[Path, typer.Argument(help="The file (or X archive folder/zip) to import.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name; created on first use.")],
    network: Annotated[
        str | None, typer.Option(help="Network of the channel (jsonl/csv; default generic).")
    ] = None,
    brand: Annotated[
        list[str] | None,
        typer.Option(help="An author id or address of the brand itself (repeatable)."),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go (default: PATH.rejects.jsonl).")
    ] = None,
) -> None:
    """Import a file into a channel: idempotent, streaming, with a rejects file."""
    from dialoga.channels.imports import ImportRequest, run_import

    runtime = _ready_runtime()
    request = ImportRequest(
        format=fmt,
        path=path,
        workspace=workspace,
        channel=channel,
        rejects_path=rejects or Path(f"{path.name}.rejects.jsonl"),
        network=network,
        brand_ids=tuple(brand or ()),
        batch_size=runtime.settings.ingest_batch_size,
    )
    try:
        summary = _with_progress(
            f"Importing {path.name}", lambda advance: run_import(runtime.sessions, request, advance)
        )
    except DialogaError as error:
        raise _fail(error) from None
    table = Table(title=f"Import of {path.name}", show_header=False)
    table.add_row("imported", f"{summary.imported:,}")
    table.add_row("already present", f"{summary.already_present:,}")
    if summary.profiles:
        table.add_row("profiles", f"{summary.profiles:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    for reason, count in summary.reasons.most_common(10):
        table.add_row(f"  {reason}", f"{count:,}")
    Console().print(table)
    if summary.rejects_path is not None:
        console.print(f"Rejected rows, with file, line and reason: {summary.rejects_path}")


@export_app.command("conversations")
def export_conversations(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    fmt: Annotated[str, typer.Option("--format", help="Only jsonl for now.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option(help="File to write (default: standard output).")
    ] = None,
) -> None:
    """Write one conversation per line, with its messages and first-response delay."""
    from dialoga.inbox.export import write_conversations_jsonl

    if fmt != "jsonl":
        raise _fail(DialogaError(f"unknown export format {fmt!r}; known: jsonl"))
    runtime = _ready_runtime()
    try:
        with runtime.sessions() as session:
            if output is None:
                count = write_conversations_jsonl(session, workspace, sys.stdout)
            else:
                with output.open("w", encoding="utf-8") as handle:
                    count = write_conversations_jsonl(session, workspace, handle)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"Exported {count:,} conversations.")


@app.command("demo")
def demo(
    slug: Annotated[str, typer.Option(help="Slug of the demo workspace.")] = "demo",
) -> None:
    """Load the demo workspace (Italian and English conversations on several channels)."""
    from dialoga.demo.load import load_demo

    runtime = _ready_runtime()
    try:
        report = load_demo(runtime.sessions, slug)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(report)


@app.command("classify")
def classify(
    input_path: Annotated[
        str,
        typer.Option("--input", help="JSON lines with id and text (lang optional); - is stdin."),
    ],
    output_path: Annotated[
        str, typer.Option("--output", help="Where the readings go, one line each; - is stdout.")
    ],
    tier: Annotated[str, typer.Option(help="fast (default) or deep (the deep extra).")] = "fast",
    languages: Annotated[
        str, typer.Option(help="The languages to prefer, comma separated.")
    ] = "it,en",
    batch_size: Annotated[int, typer.Option(help="Lines read by the models at a time.")] = 1000,
) -> None:
    """Read each message of a JSON lines file: language, sentiment, intent and spam.

    A line that cannot be read becomes an error line (id, error, line) in its place."""
    from dialoga.understand.classify import check_options, load_reader, run_classify

    try:
        chosen = check_options(tier, languages.split(","), batch_size)
        summary = run_classify(input_path, output_path, load_reader(tier, chosen), batch_size)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(
        f"Read {summary.lines:,} lines: {summary.classified:,} classified, "
        f"{summary.errors:,} errors, {summary.repaired:,} repaired (invalid UTF-8 replaced).",
        highlight=False,
    )


@models_app.command("show")
def models_show() -> None:
    """Print the shipped models' held-out scores beside the baseline of the same run."""
    from dialoga.understand.card import cards, markdown

    for tier, card in cards().items():
        typer.echo(f"### {tier} tier\n\n{markdown(card)}")


@models_app.command("retrain")
def models_retrain(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Learn from the workspace's corrections, on top of the shipped models; its next
    messages are read with what was learned (the earlier adjustment is replaced)."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.core.clock import utcnow
    from dialoga.core.db import transaction
    from dialoga.understand.readers import shipped_fast_model
    from dialoga.understand.retrain import retrain_workspace

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            found = workspace_by_slug(session, workspace)
            summary = retrain_workspace(session, found.id, shipped_fast_model(), utcnow())
    except DialogaError as error:
        raise _fail(error) from None
    if not summary.examples:
        console.print(f"No corrections in {workspace!r} yet: it reads with the shipped models.")
    for head, examples in summary.examples.items():
        console.print(f"{head}: learned from {examples:,} corrections.")


@app.command("worker")
def worker(
    workers: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 2,
    processes: Annotated[bool, typer.Option(help="Run them in processes, not threads.")] = False,
) -> None:
    """Consume the job queue (Redis with DIALOGA_REDIS_URL): polls and sends."""
    run_worker(workers, processes)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the web application."""
    import uvicorn

    runtime = _ready_runtime()
    bind_host = host or runtime.settings.host
    bind_port = port or runtime.settings.port
    console.print(f"Dialoga on http://{bind_host}:{bind_port}/")
    # By name, so the web layer stays out of the CLI's imports and workers can each build it.
    uvicorn.run(
        "dialoga.web.app:create_app_from_env",
        factory=True,
        host=bind_host,
        port=bind_port,
        log_level="info",
    )


def main() -> None:
    """Console-script entry point."""
    app()


_LANGUAGE_OPTION = typer.Option("--language", help="Language of reasons and report: it or en.")
_INACTIVE_OPTION = typer.Option(help="Days without a post after which a follower is inactive.")


@app.command("audit")
def audit(
    profiles: Annotated[
        Path, typer.Argument(help="CSV or JSON Lines: Twitter v1.1 user objects or generic.")
    ],
    output: Annotated[Path, typer.Option(help="Where the verdicts go (CSV).")],
    report: Annotated[
        Path | None, typer.Option(help="Also write a standalone HTML report here.")
    ] = None,
    language: Annotated[str, _LANGUAGE_OPTION] = "en",
    inactive_days: Annotated[int, _INACTIVE_OPTION] = 180,
    as_of: Annotated[
        str | None,
        typer.Option(help="ISO date profiles were captured (default: their own, else now)."),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Rejected rows (default: OUTPUT.rejects.jsonl).")
    ] = None,
) -> None:
    """Judge every profile of a file: id, fake_probability, verdict, reasons, confidence."""
    from dialoga.audience.audit_file import FileAudit, audit_file, rejects_path_for
    from dialoga.audience.report import render_report
    from dialoga.audience.service import model_note
    from dialoga.audience.verdicts import AuditSettings
    from dialoga.core.clock import utcnow

    try:
        request = FileAudit(
            profiles,
            output,
            rejects or rejects_path_for(output),
            _as_of(as_of) or utcnow(),
            AuditSettings(inactive_days=inactive_days, locale=_locale(language)),
        )
        summary = _with_progress(
            f"Auditing {profiles.name}", lambda advance: audit_file(request, advance)
        )
        if report is not None:
            page = render_report(
                summary,
                title=profiles.name,
                locale=request.settings.locale,
                generated_at=utcnow(),
                model_note=model_note(request.settings.locale),
            )
            report.write_text(page, encoding="utf-8")
    except DialogaError as error:
        raise _fail(error) from None
    _print_audit(summary)
    if summary.rejected:
        console.print(f"Rejected rows, with line and reason: {request.rejects}")


@app.command("audit-channel")
def audit_channel(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name.")],
    report: Annotated[
        Path | None, typer.Option(help="Also write a standalone HTML report here.")
    ] = None,
    language: Annotated[str, _LANGUAGE_OPTION] = "en",
    inactive_days: Annotated[int, _INACTIVE_OPTION] = 180,
) -> None:
    """Audit a channel's stored followers, with engagement from its inbox; the run is kept."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.audience.queries import audit_run
    from dialoga.audience.service import run_channel_audit, stored_report
    from dialoga.audience.summary import AuditSummary
    from dialoga.audience.verdicts import AuditSettings
    from dialoga.channels.queries import channel_by_name

    runtime = _ready_runtime()
    locale = _locale(language)
    try:
        with runtime.sessions() as session:
            found = workspace_by_slug(session, workspace)
            channel_id = channel_by_name(session, found.id, channel).id
        settings = AuditSettings(inactive_days=inactive_days, locale=locale)
        run_id = run_channel_audit(runtime.sessions, found.id, channel_id, settings)
        with runtime.sessions() as session:
            summary = AuditSummary.from_json(audit_run(session, found.id, run_id).summary)
            if report is not None:
                report.write_text(stored_report(session, found.id, run_id, locale), "utf-8")
    except DialogaError as error:
        raise _fail(error) from None
    _print_audit(summary)


def _locale(language: str) -> str:
    from dialoga.core.i18n import LOCALES

    if language not in LOCALES:
        raise _fail(DialogaError(f"unknown language {language!r}; known: {', '.join(LOCALES)}"))
    return language


def _as_of(value: str | None) -> datetime | None:
    from dialoga.channels.importers.fields import iso_date

    if value is None:
        return None
    try:
        return iso_date(value)
    except ValueError as error:
        raise _fail(DialogaError(f"--as-of: {error}")) from None


def _with_progress(title: str, work: Callable[[Callable[[int, int], None]], T]) -> T:
    """Run ``work`` under a progress bar of bytes read; it gets the callback to advance it."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(title, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return work(advance)


def _print_audit(summary: AuditSummary) -> None:
    from dialoga.audience.verdicts import VERDICTS

    table = Table(title="Audience audit", show_header=False)
    for verdict in VERDICTS:
        table.add_row(verdict, f"{summary.verdicts[verdict]:,}")
    score = summary.quality_score
    table.add_row("quality score", "–" if score is None else f"{score:.1%}")
    table.add_row("real reach", f"{summary.real_reach:,}")
    table.add_row("rejected rows", f"{summary.rejected:,}")
    Console().print(table)


@credentials_app.command("new-key")
def credentials_new_key() -> None:
    """Print a new key: put it first in DIALOGA_CREDENTIALS_KEYS, then run rotate."""
    from dialoga.core.vault import new_key

    typer.echo(new_key())


@credentials_app.command("rotate")
def credentials_rotate() -> None:
    """Re-encrypt every stored credential with the newest key (the first configured).

    Afterwards the older keys can be removed from DIALOGA_CREDENTIALS_KEYS."""
    from dialoga.channels.credentials import do_rotate_credentials
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            rotated = do_rotate_credentials(session, runtime.vault)
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"Credentials re-encrypted with the newest key: {rotated:,}.")


@webhook_app.command("enable")
def webhook_enable(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name.")],
) -> None:
    """Give the channel a new webhook secret (the old one stops working) and print it once."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.channels.queries import channel_by_name
    from dialoga.channels.webhooks import do_enable_webhook
    from dialoga.core.db import transaction

    runtime = _ready_runtime()
    try:
        with transaction(runtime.sessions) as session:
            found = channel_by_name(session, workspace_by_slug(session, workspace).id, channel)
            secret = do_enable_webhook(session, found, runtime.vault, actor="cli")
            path = f"/hooks/{found.id}"
    except DialogaError as error:
        raise _fail(error) from None
    console.print(f"POST deliveries to {path} (docs/api.md#webhooks). The secret, shown once:")
    typer.echo(secret)
