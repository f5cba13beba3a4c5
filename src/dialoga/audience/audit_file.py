"""``dialoga audit PROFILES``: a file of profiles in, a file of verdicts out, streaming.

PROFILES is CSV or JSON Lines (or a JSON array) of Twitter API v1.1 user objects, or
Dialoga's generic profile records (docs/import-formats.md); the shape is recognised from
the first line. Profiles are judged in batches and each batch's verdicts are written
before the next is read, so a file of ten million rows needs no more memory than one of
ten thousand. Malformed rows go to a rejects file with their line and reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dialoga.audience.summary import AuditSummary
from dialoga.audience.verdicts import AuditSettings, Verdict, judge, reasons_text
from dialoga.channels.base import (
    FileSource,
    ImportFormatError,
    NormalizedProfile,
    Parsed,
    Rejection,
)
from dialoga.channels.importers.generic import GenericCsv, GenericJsonl
from dialoga.channels.importers.twitter_users import (
    TwitterUsersCsv,
    TwitterUsersJson,
    looks_like_user_objects,
)
from dialoga.channels.imports import rejects_file
from dialoga.core.errors import ValidationError

OUTPUT_COLUMNS = ("id", "fake_probability", "verdict", "reasons", "confidence")
BATCH_PROFILES = 20_000
_PEEK_CHARS = 1 << 16

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class FileAudit:
    """What ``audit_file`` was asked to do."""

    profiles: Path
    output: Path
    rejects: Path
    as_of: datetime
    settings: AuditSettings = field(default_factory=AuditSettings)
    batch_size: int = BATCH_PROFILES


def open_profiles(path: Path) -> FileSource:
    """The reader for a file of profiles, chosen from its first line."""
    if not path.is_file():
        raise ValidationError(f"{path} does not exist or is not a file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        start = handle.read(_PEEK_CHARS).lstrip("\ufeff \t\r\n")
    first_line = start.split("\n", 1)[0]
    if start.startswith("["):
        return TwitterUsersJson(path)
    if start.startswith("{"):
        try:
            keys = json.loads(first_line)
        except ValueError:
            raise ValidationError(f"{path.name}: the first line is not a JSON object") from None
        return TwitterUsersJson(path) if _is_twitter(keys) else GenericJsonl(path, (), "generic")
    names = [name.strip().strip('"').lower() for name in first_line.split(",")]
    if looks_like_user_objects(names):
        return TwitterUsersCsv(path)
    if "external_id" in names:
        return GenericCsv(path, (), "generic")
    raise ValidationError(
        f"{path.name} is neither Twitter user objects (CSV or JSON with screen_name, "
        "followers_count, friends_count) nor Dialoga's generic profiles (external_id, "
        "record=profile): see docs/import-formats.md"
    )


def _is_twitter(record: object) -> bool:
    if isinstance(record, dict) and isinstance(record.get("users"), list):
        return True
    return isinstance(record, dict) and looks_like_user_objects(list(record))


def audit_file(request: FileAudit, on_progress: ProgressCallback | None = None) -> AuditSummary:
    """Judge every profile of the file, writing verdicts as it goes; returns the aggregates."""
    source = open_profiles(request.profiles)
    summary = AuditSummary()
    request.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            request.output.open("w", encoding="utf-8", newline="") as handle,
            rejects_file(request.rejects) as write_rejection,
        ):
            writer = csv.writer(handle)
            writer.writerow(OUTPUT_COLUMNS)
            for batch in _batches(source, request.batch_size, write_rejection, summary):
                verdicts = judge(batch, request.as_of, request.settings)
                summary.add(batch, verdicts)
                _write(writer, verdicts, request.settings.locale)
                if on_progress:
                    on_progress(source.progress.done, source.progress.total)
    except ImportFormatError as error:
        raise ValidationError(str(error)) from None
    except OSError as error:
        raise ValidationError(f"cannot read or write: {error.strerror or error}") from None
    return summary


def _batches(
    source: FileSource,
    size: int,
    write_rejection: Callable[[Rejection], None],
    summary: AuditSummary,
) -> Iterator[list[NormalizedProfile]]:
    batch: list[NormalizedProfile] = []
    for item in source:
        profile = _profile_or_rejection(item)
        if isinstance(profile, Rejection):
            summary.rejected += 1
            write_rejection(profile)
            continue
        batch.append(profile)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _profile_or_rejection(item: Parsed) -> NormalizedProfile | Rejection:
    if isinstance(item, NormalizedProfile | Rejection):
        return item
    return Rejection("", 0, "a message, not a profile: set record to profile", "")


def _write(writer: Any, verdicts: list[Verdict], locale: str) -> None:
    writer.writerows(
        (
            verdict.external_id,
            "" if verdict.fake_probability is None else f"{verdict.fake_probability:.4f}",
            verdict.verdict,
            reasons_text(verdict, locale),
            verdict.confidence,
        )
        for verdict in verdicts
    )


def rejects_path_for(output: Path) -> Path:
    """Where rejected rows go by default: beside the output, ``verdicts.rejects.jsonl``."""
    return output.with_suffix(".rejects.jsonl")
