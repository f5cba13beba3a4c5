"""Running a file import: read, batch, ingest, count, and keep the rejects.

Each batch is one transaction that stores its messages and adds its counts to the
import run, so an import killed at any moment and run again ends with the same data
as one that was never interrupted: the batches already committed are found present.

On a machine with more than one core a large file is read ahead (``understand.ahead``):
each parsed batch's inbound texts go to a second process, which reads them while the
batch before is stored, so the models' time overlaps the database's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
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
from dialoga.understand.ahead import ReadAhead, worth_reading_ahead
from dialoga.understand.readers import workspace_reader
from dialoga.understand.reading import Reading

ProgressCallback = Callable[[int, int], None]
T = TypeVar("T")
IDENTITY_CACHE_LIMIT = 20_000
READ_AHEAD_BYTES = 4_000_000  # smaller files are read in a few batches: no second process
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
    read_ahead: bool | None = None  # None: when the file is large and there are 2+ cores


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
        with (
            rejects_file(request.rejects_path) as rejects,
            _ahead(factory, request, channel) as ahead,
        ):
            batcher = _Batcher(factory, channel, run_id, summary, ahead)
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


def _ahead(
    factory: sessionmaker[Session], request: ImportRequest, channel: Channel
) -> AbstractContextManager[ReadAhead | None]:
    """A ``ReadAhead`` with the channel's workspace's reader when this import is worth one."""
    wanted = request.read_ahead
    if wanted is None:
        wanted = worth_reading_ahead() and request.path.stat().st_size >= READ_AHEAD_BYTES
    if not wanted:
        return nullcontext()
    with transaction(factory) as session:
        return ReadAhead(workspace_reader(session, channel.workspace_id))


@contextmanager
def rejects_file(path: Path) -> Iterator[Callable[[Rejection], None]]:
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
class _Batch:
    """A parsed batch, with its inbound texts' readings under way when reading ahead."""

    messages: list[NormalizedMessage]
    profiles: list[NormalizedProfile]
    rejected: int
    texts: list[str] = field(default_factory=list)
    hints: list[str | None] = field(default_factory=list)
    readings: Future[list[Reading]] | None = None


@dataclass(slots=True)
class _Batcher:
    """Collects parsed items into batches and stores each batch in one transaction.

    With ``ahead``, a full batch is sealed (its reading starts in the worker) and the
    batch sealed before it is stored; ``finish`` stores what is left.
    """

    factory: sessionmaker[Session]
    channel: Channel
    run_id: int
    summary: ImportSummary
    ahead: ReadAhead | None = None
    messages: list[NormalizedMessage] = field(default_factory=list)
    profiles: list[NormalizedProfile] = field(default_factory=list)
    rejected: int = 0
    batches: int = 0
    identities: dict[IdentityKey, ResolvedIdentity] = field(default_factory=dict)
    sealed: _Batch | None = None

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
        """Seal the pending batch; store it, or (reading ahead) the one sealed before."""
        batch = _Batch(self.messages, self.profiles, self.rejected)
        self.messages, self.profiles, self.rejected = [], [], 0
        if self.ahead is None:
            self._store(batch)
            return
        unread = [m for m in batch.messages if m.direction != "outbound"]
        batch.texts = [m.text for m in unread]
        batch.hints = [m.language for m in unread]
        batch.readings = self.ahead.submit(batch.texts, batch.hints)
        previous, self.sealed = self.sealed, batch
        if previous is not None:
            self._store(previous)

    def finish(self) -> None:
        """Store every batch not stored yet."""
        self.flush()
        if self.sealed is not None:
            last, self.sealed = self.sealed, None
            self._store(last)

    def _store(self, batch: _Batch) -> None:
        """Store one batch and its counts atomically."""
        channel = self.channel
        reader = None
        if self.ahead is not None and batch.readings is not None:
            reader = self.ahead.readings(batch.readings, batch.texts, batch.hints)
        with transaction(self.factory, write_lock=True) as session:
            result = ingest(session, channel, batch.messages, self.identities, reader)
            if batch.profiles:
                do_store_profiles(
                    session, channel.workspace_id, channel.id, batch.profiles, utcnow().date()
                )
            do_count_import(
                session,
                self.run_id,
                imported=result.imported,
                already_present=result.already_present,
                rejected=batch.rejected,
                profiles=len(batch.profiles),
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
        self.summary.rejected += batch.rejected
        self.summary.profiles += len(batch.profiles)


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
    batcher.finish()
    if on_progress is not None:
        on_progress(source.progress.total, source.progress.total)


def _reason_kind(reason: str) -> str:
    """Group reasons for the summary: the words before the first quoted value or colon."""
    for mark in (":", "'", '"', "("):
        reason = reason.split(mark, 1)[0]
    return reason.strip() or "other"
