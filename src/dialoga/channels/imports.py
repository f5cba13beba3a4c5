"""Running a file import: read, batch, ingest, count, and keep the rejects.

Each batch is one transaction that stores its messages and adds its counts to the
import run, so an import killed at any moment and run again ends with the same data
as one that was never interrupted: the batches already committed are found present.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.queries import workspace_by_slug
from dialoga.audience.actions import do_store_profiles
from dialoga.channels.actions import (
    check_channel_for,
    do_count_import,
    do_finish_import,
    do_get_or_create_channel,
    do_start_import,
)
from dialoga.channels.base import (
    FileSource,
    NormalizedMessage,
    NormalizedProfile,
    Parsed,
    Rejection,
)
from dialoga.channels.importers.registry import FORMATS, ImportFormat
from dialoga.channels.models import Channel
from dialoga.contacts.actions import IdentityKey, ResolvedIdentity
from dialoga.contacts.models import Contact, Identity
from dialoga.core.clock import utcnow
from dialoga.core.db import refresh_statistics, transaction
from dialoga.core.errors import DialogaError, ValidationError
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

ProgressCallback = Callable[[int, int], None]
T = TypeVar("T")
IDENTITY_CACHE_LIMIT = 20_000
GROWING_TABLES = (Message, Conversation, Identity, Contact, ReportingEvent)


@dataclass(slots=True)
class ImportSummary:
    """What an import did, for the closing summary."""

    imported: int = 0
    already_present: int = 0
    rejected: int = 0
    profiles: int = 0
    rejects_path: Path | None = None
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class ImportRequest:
    """Everything ``dialoga import`` was asked to do."""

    format: str
    path: Path
    workspace: str
    channel: str
    rejects_path: Path
    actor: str = "cli"
    network: str | None = None
    brand_ids: tuple[str, ...] = ()
    batch_size: int = 5000


def run_import(
    factory: sessionmaker[Session],
    request: ImportRequest,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import one file into one channel; raises ``DialogaError`` with a sentence for the user."""
    spec = _format(request.format)
    if not request.path.exists():
        raise ValidationError(f"{request.path} does not exist")
    network = request.network or spec.network
    source = _unreadable_as_error(
        lambda: spec.open(request.path, request.brand_ids, network), request.path
    )
    channel, run_id = _prepare(factory, request, network)
    summary = ImportSummary(rejects_path=request.rejects_path)
    try:
        with _rejects_file(request.rejects_path) as rejects:
            batcher = _Batcher(factory, channel, run_id, summary)
            _unreadable_as_error(
                lambda: _consume(batcher, source, rejects, request.batch_size, on_progress),
                request.path,
            )
    except DialogaError as error:
        with transaction(factory) as session:
            do_finish_import(session, run_id, actor=request.actor, error=str(error))
        raise
    with transaction(factory) as session:
        do_finish_import(session, run_id, actor=request.actor)
    if summary.rejected == 0:
        summary.rejects_path = None
    return summary


def _unreadable_as_error(step: Callable[[], T], path: Path) -> T:
    """Run ``step``; a file that cannot be read (a folder, no permission) is a user error."""
    try:
        return step()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}") from None


def _format(name: str) -> ImportFormat:
    if name not in FORMATS:
        raise ValidationError(f"unknown import format {name!r}; known: {', '.join(FORMATS)}")
    return FORMATS[name]


def _prepare(
    factory: sessionmaker[Session], request: ImportRequest, network: str
) -> tuple[Channel, int]:
    with transaction(factory) as session:
        workspace = workspace_by_slug(session, request.workspace)
        check_channel_for(session, workspace.id, request.channel, network)
        channel = do_get_or_create_channel(
            session, workspace.id, request.channel, network, actor=request.actor
        )
        run = do_start_import(
            session, channel, request.format, str(request.path.resolve()), str(request.rejects_path)
        )
        return channel, run.id


@contextmanager
def _rejects_file(path: Path) -> Iterator[Callable[[Rejection], None]]:
    """A writer of rejected rows (JSON lines), opened only when the first one comes."""
    handle: IO[str] | None = None
    path.unlink(missing_ok=True)

    def write(rejection: Rejection) -> None:
        nonlocal handle
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("w", encoding="utf-8", errors="backslashreplace")
        record = {
            "file": rejection.source,
            "line": rejection.line,
            "reason": rejection.reason,
            "raw": rejection.raw,
        }
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    try:
        yield write
    finally:
        if handle is not None:
            handle.close()


@dataclass(slots=True)
class _Batcher:
    """Collects parsed items into batches and stores each batch in one transaction."""

    factory: sessionmaker[Session]
    channel: Channel
    run_id: int
    summary: ImportSummary
    messages: list[NormalizedMessage] = field(default_factory=list)
    profiles: list[NormalizedProfile] = field(default_factory=list)
    rejected: int = 0
    batches: int = 0
    identities: dict[IdentityKey, ResolvedIdentity] = field(default_factory=dict)

    def add(self, item: Parsed, write_rejection: Callable[[Rejection], None]) -> int:
        """Take one item; returns the size of the pending batch."""
        if isinstance(item, NormalizedMessage):
            self.messages.append(item)
        elif isinstance(item, NormalizedProfile):
            self.profiles.append(item)
        else:
            write_rejection(item)
            self.summary.reasons[_reason_kind(item.reason)] += 1
            self.rejected += 1
        return len(self.messages) + len(self.profiles)

    def flush(self) -> None:
        """Store the pending batch and its counts atomically."""
        channel = self.channel
        with transaction(self.factory, write_lock=True) as session:
            result = ingest(session, channel, self.messages, self.identities)
            if self.profiles:
                do_store_profiles(
                    session, channel.workspace_id, channel.id, self.profiles, utcnow().date()
                )
            do_count_import(
                session,
                self.run_id,
                imported=result.imported,
                already_present=result.already_present,
                rejected=self.rejected,
                profiles=len(self.profiles),
            )
        if len(self.identities) > IDENTITY_CACHE_LIMIT:  # memory stays flat in the file size
            self.identities.clear()
        self.identities.update(result.identities)
        self.batches += 1
        if self.batches & (self.batches - 1) == 0:  # after batches 1, 2, 4, 8, ...
            with transaction(self.factory) as session:
                refresh_statistics(session, GROWING_TABLES)
        self.summary.imported += result.imported
        self.summary.already_present += result.already_present
        self.summary.rejected += self.rejected
        self.summary.profiles += len(self.profiles)
        self.messages.clear()
        self.profiles.clear()
        self.rejected = 0


def _consume(
    batcher: _Batcher,
    source: FileSource,
    write_rejection: Callable[[Rejection], None],
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> None:
    for item in source:
        if batcher.add(item, write_rejection) >= batch_size:
            batcher.flush()
            if on_progress is not None:
                on_progress(source.progress.done, source.progress.total)
    batcher.flush()
    if on_progress is not None:
        on_progress(source.progress.total, source.progress.total)


def _reason_kind(reason: str) -> str:
    """Group reasons for the summary: the words before the first quoted value or colon."""
    for mark in (":", "'", '"', "("):
        reason = reason.split(mark, 1)[0]
    return reason.strip() or "other"
