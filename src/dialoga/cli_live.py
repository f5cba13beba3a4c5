"""The ``dialoga channel`` and ``dialoga worker`` commands: connecting live channels,
seeing their health, and running the job consumer.

Thin over ``channels.sync`` and ``channels.credentials``; secrets are asked for at a
hidden prompt (or read from ``DIALOGA_SECRET_<NAME>``), never taken as arguments that
would land in the shell's history.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedAuthor
from dialoga.channels.connectors import LIVE_NETWORKS
from dialoga.cli_common import console, fail, ready_runtime
from dialoga.core.clock import utcnow
from dialoga.core.errors import DialogaError, ValidationError
from dialoga.core.fetch import policy_from
from dialoga.runtime import Runtime

channel_app = typer.Typer(help="Live channels: connect, health, poll, pause.", no_args_is_help=True)
_INTERVAL = typer.Option(help="Seconds between polls (at least 5).")


def _console_and_runtime() -> tuple[Console, Runtime]:
    return console, ready_runtime()


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that reads as JSON (a list of feeds, a number) is
    taken as JSON, anything else as text."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"a setting is key=value, not {pair!r}")
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value
    return settings


def _secret_value(name: str) -> str:
    from_env = os.environ.get(f"DIALOGA_SECRET_{name.upper()}")
    return from_env if from_env is not None else typer.prompt(name, hide_input=True)


@channel_app.command("connect")
def connect(
    network: Annotated[str, typer.Argument(help=f"One of: {', '.join(LIVE_NETWORKS)}.")],
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name (created if new).")],
    setting: Annotated[
        list[str] | None, typer.Option(help="key=value for the channel's config; repeatable.")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(help="Name of a credential to ask for (hidden); repeatable."),
    ] = None,
    handle: Annotated[str | None, typer.Option(help="The brand's handle there.")] = None,
    interval: Annotated[int, _INTERVAL] = 60,
) -> None:
    """Connect a channel to its network and start polling it (docs/connectors/)."""
    console, runtime = _console_and_runtime()
    try:
        config = parse_settings(setting or [])
        fields = {name: _secret_value(name) for name in secret or []}
        _connect(runtime, network, workspace, channel, config, fields, handle, interval)
    except DialogaError as error:
        raise fail(error) from None
    console.print(f"{channel!r} is connected to {network}: polled every {interval} s.")


def _connect(
    runtime: Runtime,
    network: str,
    workspace: str,
    name: str,
    config: dict[str, Any],
    fields: dict[str, Any],
    handle: str | None,
    interval: int,
) -> None:
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.channels.setup import LiveSetup, check_live_setup, do_connect_channel
    from dialoga.core.db import transaction
    from dialoga.jobs.tasks import build_jobs

    setup = LiveSetup(network, name, config, fields, handle, interval)
    check_live_setup(setup, policy_from(runtime.settings))
    jobs = build_jobs(runtime)
    with transaction(runtime.sessions) as session:
        found = workspace_by_slug(session, workspace)
        channel = do_connect_channel(session, found.id, setup, runtime.vault, utcnow(), actor="cli")
        jobs.poll_after_commit(session, channel.id)


@channel_app.command("mastodon-login")
def mastodon_login(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name (created if new).")],
    instance: Annotated[str, typer.Option(help="The instance, e.g. https://mastodon.social")],
    interval: Annotated[int, _INTERVAL] = 60,
) -> None:
    """Authorise Dialoga on a Mastodon account (OAuth), then connect the channel."""
    from dialoga.channels.mastodon import connector as mastodon

    console, runtime = _console_and_runtime()
    policy = policy_from(runtime.settings)
    try:
        app_keys = mastodon.register_app(instance, mastodon.OUT_OF_BAND, policy)
        state = secrets.token_urlsafe(16)
        link = mastodon.authorize_url(instance, app_keys["client_id"], mastodon.OUT_OF_BAND, state)
        console.print(f"Open this address, sign in as the brand and authorise Dialoga:\n{link}")
        code = typer.prompt("Authorisation code", hide_input=True)
        fields = mastodon.exchange_code(
            instance,
            app_keys["client_id"],
            app_keys["client_secret"],
            code.strip(),
            mastodon.OUT_OF_BAND,
            policy,
        )
        account: NormalizedAuthor = mastodon.verify(instance, fields["access_token"], policy)
        config = {"instance": instance}
        _connect(runtime, "mastodon", workspace, channel, config, fields, account.handle, interval)
    except DialogaError as error:
        raise fail(error) from None
    console.print(f"{channel!r} is connected as @{account.handle}: polled every {interval} s.")


@channel_app.command("list")
def list_channels(workspace: Annotated[str, typer.Option(help="Workspace slug.")]) -> None:
    """Each live channel's health (ok, degraded, needs re-authorisation, paused) and its
    replies waiting and failed."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.channels.queries import live_channels

    console, runtime = _console_and_runtime()
    columns = ("channel", "network", "health", "last ok", "next poll", "waiting", "failed")
    table = Table(*columns, "last error")
    try:
        with runtime.sessions() as session:
            rows = live_channels(session, workspace_by_slug(session, workspace).id)
    except DialogaError as error:
        raise fail(error) from None
    for row in rows:
        sync = row.sync
        last_ok = sync.last_ok_at.isoformat(timespec="seconds") if sync.last_ok_at else "-"
        table.add_row(
            row.channel.name,
            row.channel.network,
            row.state,
            last_ok,
            sync.next_poll_at.isoformat(timespec="seconds"),
            str(row.replies_waiting),
            str(row.replies_failed),
            sync.last_error or "",
        )
    console.print(table)


@channel_app.command("poll")
def poll_now(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name.")],
) -> None:
    """Poll the channel now, here (not through the queue), and say what came in."""
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.channels.queries import channel_by_name
    from dialoga.channels.sync import Live, do_poll_soon, poll_channel
    from dialoga.core.db import transaction

    console, runtime = _console_and_runtime()
    try:
        with transaction(runtime.sessions) as session:
            found = channel_by_name(session, workspace_by_slug(session, workspace).id, channel)
            do_poll_soon(session, found.id, utcnow())
    except DialogaError as error:
        raise fail(error) from None
    live = Live(runtime.sessions, runtime.vault, policy_from(runtime.settings))
    outcome = poll_channel(live, found.id)
    if not outcome.claimed:
        raise fail(DialogaError(f"{channel!r} is not live, paused, or being polled now"))
    console.print(
        f"{outcome.pages} page(s): {outcome.messages} message(s), {outcome.profiles} profile(s)."
    )
    if outcome.error:
        raise fail(DialogaError(outcome.error))


@channel_app.command("pause")
def pause(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name.")],
) -> None:
    """Stop reading the channel (its place is kept for when it resumes)."""
    from dialoga.channels.sync import do_pause_live

    _switch(workspace, channel, do_pause_live)


@channel_app.command("resume")
def resume(
    workspace: Annotated[str, typer.Option(help="Workspace slug.")],
    channel: Annotated[str, typer.Option(help="Channel name.")],
) -> None:
    """Read a paused channel again, from where it stopped."""
    from dialoga.channels.sync import do_resume_live

    _switch(
        workspace,
        channel,
        lambda session, channel_id: do_resume_live(session, channel_id, utcnow()),
    )


def _switch(workspace: str, channel: str, change: Callable[[Session, int], None]) -> None:
    from dialoga.accounts.queries import workspace_by_slug
    from dialoga.channels.queries import channel_by_name
    from dialoga.channels.sync import check_live
    from dialoga.core.db import transaction

    console, runtime = _console_and_runtime()
    try:
        with transaction(runtime.sessions) as session:
            found = channel_by_name(session, workspace_by_slug(session, workspace).id, channel)
            check_live(session, found)
            change(session, found.id)
    except DialogaError as error:
        raise fail(error) from None
    console.print(f"{channel!r}: done.")


def run_worker(workers: int, processes: bool) -> None:
    """Consume the queue in this process until interrupted (``dialoga worker``)."""
    from dialoga.jobs.queue import consumer_options
    from dialoga.jobs.tasks import build_jobs

    console, runtime = _console_and_runtime()
    if not runtime.settings.redis_url:
        console.print(
            "No DIALOGA_REDIS_URL: consuming the SQLite queue in the data directory "
            "(stop `dialoga serve`'s embedded worker with DIALOGA_EMBEDDED_WORKER=false)."
        )
    jobs = build_jobs(runtime)
    console.print(f"Caught up: {jobs.catch_up()}")
    jobs.huey.create_consumer(**consumer_options(workers, processes=processes)).run()
