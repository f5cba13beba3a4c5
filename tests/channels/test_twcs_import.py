"""The twcs ("Customer Support on Twitter") import: the real file's quirks, rejects,
idempotent re-runs, wrong formats, and the ``dialoga`` command end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.base import ImportFormatError, NormalizedMessage, Parsed, Rejection
from dialoga.channels.importers.twcs import CustomerSupportCsv
from dialoga.channels.imports import ImportRequest, run_import
from dialoga.channels.models import Channel, ImportRun
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

FIXTURES = Path(__file__).parent.parent / "fixtures"
SAMPLE = FIXTURES / "twcs" / "sample.csv"
BAD_BYTES = FIXTURES / "twcs" / "invalid_utf8.csv"
JSONL = FIXTURES / "generic" / "messages.jsonl"
DIALOGA = str(Path(sys.executable).parent / "dialoga")

REJECTIONS = [
    (11, "tweet_id must be a number, not '12x'"),
    (12, "inbound must be true or false, not 'Maybe'"),
    (13, "expected 7 fields, found 4"),
    (14, "text is not valid UTF-8"),
]
# how the rejects file shows the row of line 14: bytes that are not UTF-8 read \xNN
RAW_BAD_BYTES = (
    "302,556677,True,Wed Nov 01 10:02:00 +0000 2017,"
    "@AcmeSupport perch\\xe8 non rispondete? \\xff\\xfe,,"
)
THREADS = {
    "101": ["101", "102", "103", "104", "105"],
    "201": ["201", "202"],
    "303": ["303"],
    "305": ["305"],
    "400": ["401", "402"],  # the tweet answered is not in the file
}
EVENTS = [
    ("first_response", "102", 205),
    ("reply", "102", 205),
    ("reply", "105", 600),
    ("first_response", "202", 300),
    ("reply", "202", 300),
    ("first_response", "402", 2710),
    ("reply", "402", 2710),
]
MULTILINE = '@115712 Here is what to do:\n1. open the app\n2. tap "Orders"'
HOSTILE = "@445566 <b>Refund</b> sent <script>alert(1)</script>"


def _request(
    tmp_path: Path,
    path: Path = SAMPLE,
    workspace: str = "acme",
    batch_size: int = 5000,
    read_ahead: bool | None = None,
) -> ImportRequest:
    return ImportRequest(
        format="twcs",
        path=path,
        workspace=workspace,
        channel="support",
        rejects_path=tmp_path / f"{workspace}.rejects.jsonl",
        batch_size=batch_size,
        read_ahead=read_ahead,
    )


def _count(session: Session, entity: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


def _raw_lines(path: Path) -> list[str]:
    """The file's lines as the rejects file quotes them."""
    lines = path.read_bytes().decode("utf-8", "replace").split("\n")
    lines[14 - 1] = RAW_BAD_BYTES
    return lines


def _threads(sessions: sessionmaker[Session], workspace: str = "acme") -> dict[str, list[str]]:
    with sessions() as session:
        rows = session.execute(
            select(Conversation.thread_key, Message.external_id)
            .join(Message, Message.conversation_id == Conversation.id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Workspace.slug == workspace)
            .order_by(Conversation.thread_key, Message.created_at)
        )
        threads: dict[str, list[str]] = {}
        for thread_key, external_id in rows:
            threads.setdefault(thread_key, []).append(external_id)
        return threads


def _summaries(sessions: sessionmaker[Session], workspace: str = "acme") -> dict[str, Any]:
    """Every summary column of each conversation, keyed by thread, ids replaced by names."""
    person = aliased(Identity)
    with sessions() as session:
        rows = session.execute(
            select(Conversation, person.external_id)
            .outerjoin(person, person.id == Conversation.identity_id)
            .join(Workspace, Workspace.id == Conversation.workspace_id)
            .where(Workspace.slug == workspace)
        ).all()
    skip = {"id", "workspace_id", "channel_id", "identity_id"}
    return {
        c.thread_key: {
            **{k: v for k, v in vars(c).items() if not k.startswith("_") and k not in skip},
            "person": person_id,
        }
        for c, person_id in rows
    }


def _events(
    sessions: sessionmaker[Session], workspace: str = "acme"
) -> list[tuple[str, str, int | None]]:
    with sessions() as session:
        rows = session.execute(
            select(ReportingEvent.kind, Message.external_id, ReportingEvent.delay_seconds)
            .join(Message, Message.id == ReportingEvent.message_id)
            .join(Workspace, Workspace.id == ReportingEvent.workspace_id)
            .where(Workspace.slug == workspace)
            .order_by(Message.created_at, ReportingEvent.kind)
        )
        return [(kind, external_id, delay) for kind, external_id, delay in rows]


def _split(items: list[Parsed]) -> tuple[dict[str, NormalizedMessage], list[Rejection]]:
    messages = {i.external_id: i for i in items if isinstance(i, NormalizedMessage)}
    return messages, [i for i in items if isinstance(i, Rejection)]


# --- parsing the file's quirks --------------------------------------------------------------


def test_rows_become_messages_with_the_files_quirks_normalised() -> None:
    messages, _ = _split(list(CustomerSupportCsv(SAMPLE)))

    assert list(messages) == [
        "101", "102", "103", "104", "202", "201", "105", "303", "305", "401", "402",
    ]  # fmt: skip
    opener = messages["101"]
    assert opener.created_at == datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)
    assert (opener.direction, opener.kind, opener.in_reply_to) == ("inbound", "mention", None)
    assert (opener.author.network, opener.author.external_id) == ("twitter", "115712")
    assert not opener.author.is_brand
    answer = messages["102"]
    assert answer.in_reply_to == "101"  # written "101.0" by pandas
    assert (answer.direction, answer.kind) == ("outbound", "reply")
    assert answer.author.is_brand
    assert messages["201"].in_reply_to is None  # response_tweet_id "202,209,210" is ignored
    assert messages["401"].in_reply_to == "400"
    assert messages["105"].text == MULTILINE
    assert messages["104"].text == "@AcmeSupport also, the invoice is wrong"
    assert messages["303"].text.endswith("😤")
    assert messages["305"].kind == "post"


def test_bad_rows_are_rejected_with_their_physical_line() -> None:
    _, rejections = _split(list(CustomerSupportCsv(SAMPLE)))

    assert [(r.source, r.line, r.reason) for r in rejections] == [
        ("sample.csv", line, reason) for line, reason in REJECTIONS
    ]
    lines = _raw_lines(SAMPLE)
    assert [r.raw for r in rejections] == [lines[line - 1] for line, _ in REJECTIONS]


def test_a_row_with_bytes_that_are_not_utf8_is_rejected_alone() -> None:
    messages, rejections = _split(list(CustomerSupportCsv(BAD_BYTES)))

    assert list(messages) == ["501", "503"]
    assert [(r.line, r.reason) for r in rejections] == [(3, "text is not valid UTF-8")]


def test_a_jsonl_file_is_not_read_as_twcs() -> None:
    with pytest.raises(ImportFormatError) as caught:
        list(CustomerSupportCsv(JSONL))

    assert str(caught.value).startswith(
        "messages.jsonl is not a Customer Support on Twitter CSV: its first line should name "
        "the columns tweet_id, author_id, inbound, created_at, text, response_tweet_id, "
        "in_response_to_tweet_id, but it has "
    )


# --- run_import ---------------------------------------------------------------------------


def test_import_stores_threads_summaries_people_and_facts(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(tmp_path))

    assert (summary.imported, summary.already_present, summary.rejected) == (11, 0, 4)
    assert summary.reasons == Counter(
        {
            "tweet_id must be a number, not": 1,
            "inbound must be true or false, not": 1,
            "expected 7 fields, found 4": 1,
            "text is not valid UTF-8": 1,
        }
    )
    assert _threads(sessions) == THREADS
    assert _events(sessions) == EVENTS
    conversations = _summaries(sessions)
    first = conversations["101"]
    assert (first["message_count"], first["inbound_count"]) == (5, 3)
    assert first["first_response_seconds"] == 205
    assert first["awaiting_since"] is None
    assert first["person"] == "115712"
    assert conversations["303"]["awaiting_since"] == datetime(2017, 11, 1, 10, 5, tzinfo=UTC)
    assert conversations["305"]["inbound_count"] == 0
    assert conversations["305"]["first_response_seconds"] is None
    with sessions() as session:
        assert _count(session, Message) == 11
        people = session.execute(
            select(Identity.external_id, Contact.display_name)
            .join(Contact, Contact.id == Identity.contact_id)
            .order_by(Identity.external_id)
        ).all()
        assert [tuple(p) for p in people] == [
            ("115712", "115712"),
            ("445566", "445566"),
            ("556677", "556677"),
            ("823869", "823869"),
        ]
        brand = session.execute(
            select(Identity).where(Identity.external_id == "AcmeSupport")
        ).scalar_one()
        assert (brand.is_brand, brand.contact_id) == (True, None)
        texts = {e: t for e, t in session.execute(select(Message.external_id, Message.text))}
        assert texts["105"] == MULTILINE
        assert texts["402"] == HOSTILE
        run = session.execute(select(ImportRun)).scalar_one()
        assert (run.status, run.format, run.error) == ("completed", "twcs", None)
        assert (run.imported, run.already_present, run.rejected) == (11, 0, 4)
        assert run.source == str(SAMPLE.resolve())
        assert run.finished_at is not None
        assert session.execute(select(Channel.network)).scalar_one() == "twitter"


def test_rejects_file_names_file_line_reason_and_the_raw_row(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(tmp_path))

    assert summary.rejects_path == tmp_path / "acme.rejects.jsonl"
    records = [json.loads(line) for line in summary.rejects_path.read_text().splitlines()]
    lines = _raw_lines(SAMPLE)
    assert records == [
        {"file": "sample.csv", "line": line, "reason": reason, "raw": lines[line - 1]}
        for line, reason in REJECTIONS
    ]


def test_reimport_changes_nothing(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    run_import(sessions, _request(tmp_path))
    before = _threads(sessions), _summaries(sessions), _events(sessions)

    again = run_import(sessions, _request(tmp_path))

    assert (again.imported, again.already_present, again.rejected) == (0, 11, 4)
    assert (_threads(sessions), _summaries(sessions), _events(sessions)) == before
    with sessions() as session:
        assert _count(session, Message) == 11
        assert _count(session, Contact) == 4
        assert _count(session, Identity) == 5
        runs = session.execute(select(ImportRun).order_by(ImportRun.id)).scalars().all()
        assert [(r.status, r.imported, r.already_present) for r in runs] == [
            ("completed", 11, 0),
            ("completed", 0, 11),
        ]


def _second_workspace(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        do_create_workspace(session, "acme-bis", "ACME bis", actor="test")


def test_batch_size_does_not_change_conversations(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    _second_workspace(sessions)
    run_import(sessions, _request(tmp_path))
    # one row per batch: "202" is stored before "201", the tweet it answers
    run_import(sessions, _request(tmp_path, workspace="acme-bis", batch_size=1))

    assert _threads(sessions, "acme-bis") == _threads(sessions) == THREADS
    assert _summaries(sessions, "acme-bis") == _summaries(sessions)


def test_batch_size_does_not_change_reporting_events(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    _second_workspace(sessions)
    run_import(sessions, _request(tmp_path))
    run_import(sessions, _request(tmp_path, workspace="acme-bis", batch_size=1))

    assert _events(sessions, "acme-bis") == _events(sessions) == EVENTS


def _readings(
    sessions: sessionmaker[Session], workspace: str = "acme"
) -> dict[str, tuple[object, ...]]:
    with sessions() as session:
        rows = session.execute(
            select(
                Message.external_id,
                Message.language,
                Message.sentiment,
                Message.intent,
                Message.spam,
            )
            .join(Channel, Channel.id == Message.channel_id)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .where(Workspace.slug == workspace)
        )
        return {external_id: tuple(rest) for external_id, *rest in rows}


def test_reading_ahead_in_a_second_process_stores_the_same(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    _second_workspace(sessions)
    run_import(sessions, _request(tmp_path, read_ahead=False))
    ahead = run_import(
        sessions, _request(tmp_path, workspace="acme-bis", batch_size=3, read_ahead=True)
    )

    assert (ahead.imported, ahead.rejected) == (11, 4)
    readings = _readings(sessions)
    assert sum(sentiment is not None for _, sentiment, _, _ in readings.values()) >= 5
    assert _readings(sessions, "acme-bis") == readings
    assert _threads(sessions, "acme-bis") == THREADS
    assert _summaries(sessions, "acme-bis") == _summaries(sessions)
    assert _events(sessions, "acme-bis") == _events(sessions)


def test_a_row_that_is_not_utf8_goes_to_the_rejects_file(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(tmp_path, path=BAD_BYTES))

    assert (summary.imported, summary.rejected) == (2, 1)
    assert summary.rejects_path is not None
    record = json.loads(summary.rejects_path.read_text(encoding="utf-8"))
    assert (record["line"], record["reason"]) == (3, "text is not valid UTF-8")
    assert "caf\\xe9 \\xff bad bytes" in record["raw"]


def test_a_jsonl_file_given_as_twcs_is_one_clear_error(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(DialogaError) as caught:
        run_import(sessions, _request(tmp_path, path=JSONL))

    message = str(caught.value)
    assert isinstance(caught.value, ImportFormatError)
    assert message.startswith("messages.jsonl is not a Customer Support on Twitter CSV")
    assert "\n" not in message
    assert message.endswith(".")
    assert len(message) < 500
    assert not (tmp_path / "acme.rejects.jsonl").exists()
    with sessions() as session:
        assert _count(session, Message) == 0
        run = session.execute(select(ImportRun)).scalar_one()
        assert (run.status, run.error) == ("failed", message)


def test_the_wrong_format_error_quotes_the_first_line_as_written(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(ImportFormatError) as caught:
        run_import(sessions, _request(tmp_path, path=JSONL))

    assert '"created_at": "2024-03-04T09:15:00+01:00"' in str(caught.value)


def test_unknown_workspace_is_refused_before_reading(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(DialogaError, match="nowhere"):
        run_import(sessions, _request(tmp_path, workspace="nowhere"))

    with sessions() as session:
        assert _count(session, ImportRun) == 0


# --- the dialoga command ----------------------------------------------------------------


def _dialoga(
    env: dict[str, str], *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIALOGA, *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _table_value(output: str, row: str) -> int:
    match = re.search(rf"│ {row}\s+│ ([\d,]+)\s+│", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


@pytest.mark.slow
def test_cli_import_reimport_and_export(cli_env: dict[str, str], tmp_path: Path) -> None:
    created = _dialoga(cli_env, "workspace", "create", "acme", "--name", "ACME S.p.A.")
    assert created.returncode == 0, created.stderr
    assert "Workspace 'acme' created." in created.stderr

    args = ("import", "twcs", SAMPLE, "--workspace", "acme", "--channel", "support")
    first = _dialoga(cli_env, *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Import of sample.csv" in first.stdout
    counts = {row: _table_value(first.stdout, row) for row in ("imported", "already present")}
    assert counts == {"imported": 11, "already present": 0}
    assert _table_value(first.stdout, "rejected") == 4
    assert _table_value(first.stdout, "  text is not valid UTF-8") == 1
    assert _table_value(first.stdout, "  expected 7 fields, found 4") == 1
    rejects = tmp_path / "sample.csv.rejects.jsonl"  # beside where it runs, by default
    assert f"Rejected rows, with file, line and reason: {rejects.name}" in first.stderr
    assert [json.loads(x)["line"] for x in rejects.read_text().splitlines()] == [11, 12, 13, 14]
    assert "Traceback" not in first.stderr

    second = _dialoga(cli_env, *args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert _table_value(second.stdout, "imported") == 0
    assert _table_value(second.stdout, "already present") == 11

    output = tmp_path / "export.jsonl"
    exported = _dialoga(
        cli_env, "export", "conversations", "--workspace", "acme", "--format", "jsonl",
        "--output", output,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "Exported 5 conversations." in exported.stderr
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5
    by_first = {r["messages"][0]["external_id"]: r for r in records}
    assert {k: [m["external_id"] for m in r["messages"]] for k, r in by_first.items()} == {
        "101": THREADS["101"],
        "201": THREADS["201"],
        "303": THREADS["303"],
        "305": THREADS["305"],
        "401": THREADS["400"],
    }
    assert {k: r["first_response_seconds"] for k, r in by_first.items()} == {
        "101": 205,
        "201": 300,
        "303": None,
        "305": None,
        "401": 2710,
    }
    first_conversation = by_first["101"]
    assert (first_conversation["channel"], first_conversation["network"]) == (
        "support",
        "twitter",
    )
    assert first_conversation["contact"] == "115712"
    assert by_first["303"]["awaiting_reply_since"] == "2017-11-01T10:05:00+00:00"
    opener, answer = first_conversation["messages"][:2]
    assert set(opener) == {"id", "external_id", "direction", "author", "created_at", "text"}
    assert isinstance(opener["id"], int)
    assert (opener["direction"], opener["author"]) == ("inbound", "115712")
    assert opener["created_at"] == "2017-10-31T22:10:47+00:00"
    assert opener["text"] == "@AcmeSupport my order 4521 never arrived"
    assert (answer["direction"], answer["author"]) == ("outbound", "AcmeSupport")
    assert first_conversation["messages"][-1]["text"] == MULTILINE
    assert by_first["401"]["messages"][1]["text"] == HOSTILE


@pytest.mark.slow
def test_cli_wrong_format_prints_one_error_line_and_exits_2(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert _dialoga(cli_env, "workspace", "create", "acme").returncode == 0

    result = _dialoga(
        cli_env, "import", "twcs", JSONL, "--workspace", "acme", "--channel", "support",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert [line for line in output.splitlines() if "Error" in line] == [
        next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    ]
    flowing = " ".join(result.stderr.split())  # Rich wraps long lines at the terminal width
    assert "Error: messages.jsonl is not a Customer Support on Twitter CSV" in flowing
    assert "Import of" not in result.stdout
    assert not list(tmp_path.glob("*.rejects.jsonl"))


@pytest.mark.slow
def test_cli_unknown_workspace_is_an_error_not_a_traceback(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = _dialoga(
        cli_env, "import", "twcs", SAMPLE, "--workspace", "nowhere", "--channel", "support",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("Error:") == 1
