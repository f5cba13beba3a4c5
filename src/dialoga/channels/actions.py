"""Every write to channels and import runs."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_log
from dialoga.channels.models import Channel, ImportRun
from dialoga.core.clock import utcnow
from dialoga.core.errors import ValidationError

NETWORKS = (
    "twitter",
    "email",
    "mastodon",
    "bluesky",
    "facebook",
    "instagram",
    "linkedin",
    "rss",
    "wordpress",
    "generic",
)


def check_channel_for(session: Session, workspace_id: int, name: str, network: str) -> None:
    """Refuse an unknown network, or a channel name already used for another network."""
    if network not in NETWORKS:
        raise ValidationError(f"unknown network {network!r}; known: {', '.join(NETWORKS)}")
    if not name.strip() or len(name) > 100:
        raise ValidationError("a channel name must have 1 to 100 characters")
    existing = session.scalar(
        select(Channel).where(Channel.workspace_id == workspace_id).where(Channel.name == name)
    )
    if existing is not None and existing.network != network:
        raise ValidationError(
            f"channel {name!r} is a {existing.network} channel, not {network}; "
            "choose another channel name"
        )


def do_get_or_create_channel(
    session: Session,
    workspace_id: int,
    name: str,
    network: str,
    *,
    actor: str,
    handle: str | None = None,
) -> Channel:
    """The workspace's channel called ``name``, created on first use."""
    channel = session.scalar(
        select(Channel).where(Channel.workspace_id == workspace_id).where(Channel.name == name)
    )
    if channel is None:
        channel = Channel(
            workspace_id=workspace_id, name=name, network=network, handle=handle, config={}
        )
        session.add(channel)
        session.flush()
        do_log(
            session,
            workspace_id,
            actor,
            "channel.create",
            "channel",
            channel.id,
            {"name": name, "network": network},
        )
    return channel


def do_start_import(
    session: Session, channel: Channel, fmt: str, source: str, rejects_path: str
) -> ImportRun:
    """Record a new import; an earlier run of the same file left running was interrupted."""
    session.execute(
        update(ImportRun)
        .where(ImportRun.channel_id == channel.id)
        .where(ImportRun.source == source)
        .where(ImportRun.status == "running")
        .values(status="interrupted", finished_at=utcnow())
    )
    run = ImportRun(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        format=fmt,
        source=source,
        status="running",
        rejects_path=rejects_path,
    )
    session.add(run)
    session.flush()
    return run


def do_count_import(
    session: Session,
    run_id: int,
    *,
    imported: int,
    already_present: int,
    rejected: int,
    profiles: int,
) -> None:
    """Add one batch's counts to its run, in the batch's own transaction."""
    session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id)
        .values(
            imported=ImportRun.imported + imported,
            already_present=ImportRun.already_present + already_present,
            rejected=ImportRun.rejected + rejected,
            profiles=ImportRun.profiles + profiles,
        )
    )


def do_finish_import(
    session: Session, run_id: int, *, actor: str, error: str | None = None
) -> None:
    """Close a run as completed, or failed with the error the user saw."""
    run = session.get_one(ImportRun, run_id)
    run.status = "failed" if error else "completed"
    run.error = error
    run.finished_at = utcnow()
    do_log(
        session,
        run.workspace_id,
        actor,
        "import." + run.status,
        "import_run",
        run.id,
        {
            "format": run.format,
            "source": run.source,
            "imported": run.imported,
            "rejected": run.rejected,
        },
    )
