"""An import killed with SIGKILL and run again ends exactly like one never interrupted.

Each batch is one transaction, so whatever the moment of the kill, the batches committed
are complete and the next run finds them present. The reference import goes into another
workspace of the same database: identities, contacts, channels, conversations and facts
are all per workspace, so the two imports cannot see each other.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.imports import ImportRequest, run_import
from dialoga.channels.models import Channel, ImportRun
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import transaction
from dialoga.inbox.actions import SUMMARY_COLUMNS
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

pytestmark = pytest.mark.slow

ROWS = 20_000
BATCH = 500
DIALOGA = str(Path(sys.executable).parent / "dialoga")
GENERATOR = Path(__file__).parents[2] / "benchmarks" / "twcs_data.py"
# Every summary column but the person's identity id, which differs between workspaces.
COMPARED_COLUMNS = tuple(c for c in ("kind", *SUMMARY_COLUMNS) if c != "identity_id")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("twcs_data", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_workspace(statement: Any, entity: Any, slug: str) -> Any:
    return statement.join(Workspace, Workspace.id == entity.workspace_id).where(
        Workspace.slug == slug
    )


def _message_count(sessions: sessionmaker[Session], slug: str) -> int:
    with sessions() as session:
        statement = _in_workspace(select(func.count(Message.id)), Message, slug)
        return session.scalar(statement) or 0


def _content(sessions: sessionmaker[Session], slug: str) -> dict[str, Any]:
    """What a workspace holds, without surrogate ids: ids are replaced by what they name."""
    author = aliased(Identity)
    person = aliased(Identity)
    with sessions() as session:
        messages = session.execute(
            _in_workspace(
                select(
                    Message.external_id,
                    Message.direction,
                    Message.kind,
                    Message.text,
                    Message.created_at,
                    Message.in_reply_to,
                    Channel.name,
                    Conversation.thread_key,
                    author.network,
                    author.external_id,
                )
                .join(Channel, Channel.id == Message.channel_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .outerjoin(author, author.id == Message.author_identity_id),
                Message,
                slug,
            )
        ).all()
        conversations = session.execute(
            _in_workspace(
                select(
                    Conversation.thread_key,
                    *(getattr(Conversation, name) for name in COMPARED_COLUMNS),
                    person.external_id,
                ).outerjoin(person, person.id == Conversation.identity_id),
                Conversation,
                slug,
            )
        ).all()
        identities = session.execute(
            _in_workspace(
                select(
                    Identity.network,
                    Identity.external_id,
                    Identity.handle,
                    Identity.is_brand,
                    Contact.display_name,
                    Contact.email,
                ).outerjoin(Contact, Contact.id == Identity.contact_id),
                Identity,
                slug,
            )
        ).all()
        contacts = session.scalar(_in_workspace(select(func.count(Contact.id)), Contact, slug))
        events = session.execute(
            _in_workspace(
                select(
                    ReportingEvent.kind,
                    Message.external_id,
                    Conversation.thread_key,
                    ReportingEvent.occurred_at,
                    ReportingEvent.delay_seconds,
                )
                .join(Message, Message.id == ReportingEvent.message_id)
                .join(Conversation, Conversation.id == ReportingEvent.conversation_id),
                ReportingEvent,
                slug,
            )
        ).all()
    return {
        "messages": sorted(tuple(row) for row in messages),
        "conversations": sorted(tuple(row) for row in conversations),
        "identities": sorted(tuple(row) for row in identities),
        "contacts": contacts,
        "events": sorted(tuple(row) for row in events),
    }


def _table_value(output: str, row: str) -> int:
    match = re.search(rf"│ {row}\s+│ ([\d,]+)\s+│", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


def test_an_import_killed_mid_way_and_run_again_equals_one_never_interrupted(
    sessions: sessionmaker[Session],
    workspace: Workspace,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    data = tmp_path / "twcs.csv"
    _generator().write_csv(data, ROWS)
    with data.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == ROWS
    threads = sum(1 for row in rows if not row["in_response_to_tweet_id"])
    customers = {row["author_id"] for row in rows if row["inbound"] == "True"}
    authors = {row["author_id"] for row in rows}

    with transaction(sessions) as session:
        do_create_workspace(session, "reference", "Reference", actor="test")
    reference_request = ImportRequest(
        format="twcs", path=data, workspace="reference", channel="support",
        rejects_path=tmp_path / "reference.rejects.jsonl", batch_size=BATCH,
    )  # fmt: skip
    assert run_import(sessions, reference_request).imported == ROWS
    reference = _content(sessions, "reference")

    env = {**cli_env, "DIALOGA_INGEST_BATCH_SIZE": str(BATCH)}
    command = [
        DIALOGA, "import", "twcs", str(data), "--workspace", "acme", "--channel", "support",
        "--rejects", str(tmp_path / "rejects.jsonl"),
    ]  # fmt: skip
    with (tmp_path / "killed.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not ROWS // 4 <= _message_count(sessions, "acme") < ROWS:  # mid-way
                assert process.poll() is None, "the import ended before it could be killed"
                assert time.monotonic() < deadline, "no batch was committed in time"
                time.sleep(0.002)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    committed = _message_count(sessions, "acme")
    assert ROWS // 4 <= committed < ROWS
    assert committed % BATCH == 0  # whole batches only
    with sessions() as session:
        killed_run = session.execute(
            _in_workspace(select(ImportRun), ImportRun, "acme")
        ).scalar_one()
    assert (killed_run.status, killed_run.imported) == ("running", committed)

    rerun = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    assert _table_value(rerun.stdout, "imported") == ROWS - committed
    assert _table_value(rerun.stdout, "already present") == committed

    resumed = _content(sessions, "acme")
    for part in ("messages", "conversations", "identities", "contacts", "events"):
        assert resumed[part] == reference[part], part
    assert len(resumed["messages"]) == ROWS
    assert len(resumed["conversations"]) == threads
    assert len(resumed["identities"]) == len(authors)
    assert resumed["contacts"] == len(customers)
    answered = 1 + COMPARED_COLUMNS.index("first_response_at")
    assert sum(1 for event in resumed["events"] if event[0] == "first_response") == sum(
        1 for conversation in resumed["conversations"] if conversation[answered] is not None
    )
    with sessions() as session:
        runs = session.execute(
            _in_workspace(select(ImportRun), ImportRun, "acme").order_by(ImportRun.id)
        ).scalars()
        assert [(r.status, r.imported, r.already_present) for r in runs] == [
            ("interrupted", committed, 0),
            ("completed", ROWS - committed, committed),
        ]
        interrupted = session.get_one(ImportRun, killed_run.id)
        assert interrupted.finished_at is not None
