"""The generic JSON Lines / CSV importer: parsing, rejections, wrong formats, and import."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.audience.models import FollowerProfile
from dialoga.channels.base import (
    ImportFormatError,
    NormalizedMessage,
    NormalizedProfile,
    Parsed,
    Rejection,
)
from dialoga.channels.importers import generic
from dialoga.channels.importers.generic import (
    GenericCsv,
    GenericJsonl,
    RecordContext,
    parse_record,
)
from dialoga.channels.importers.registry import FORMATS
from dialoga.channels.imports import ImportRequest, run_import
from dialoga.channels.models import Channel, ImportRun
from dialoga.contacts.models import Identity
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

FIXTURES = Path(__file__).parent.parent / "fixtures" / "generic"
JSONL = FIXTURES / "messages.jsonl"
CSV = FIXTURES / "messages.csv"
BRAND = ("acme_it",)
COUNTED = (Message, Conversation, ReportingEvent, FollowerProfile)

JSONL_REJECTIONS = [
    (9, "external_id is missing"),
    (10, "the line holds a list, not a JSON object"),
    (11, "text must be a string, not a number"),
    (12, "created_at: 'ieri sera' is not a date (expected ISO 8601)"),
    (13, "not JSON: Unterminated string starting at: line 1 column 73 (char 72)"),
    (14, "text is empty (it may be empty only when there is a subject)"),
    (15, "url must be an http:// or https:// address, not 'javascript:alert(document.cookie)'"),
    (16, "direction must be one of inbound, outbound, not 'sideways'"),
    (17, "followers_count must be a whole number of zero or more, not -5"),
]


Split = tuple[dict[str, NormalizedMessage], dict[str, NormalizedProfile], list[Rejection]]


def _split(items: list[Parsed]) -> Split:
    messages = {i.external_id: i for i in items if isinstance(i, NormalizedMessage)}
    profiles = {i.external_id: i for i in items if isinstance(i, NormalizedProfile)}
    return messages, profiles, [i for i in items if isinstance(i, Rejection)]


def _record(values: dict[str, object]) -> Parsed:
    context = RecordContext.of(Path("test.jsonl"), "generic", BRAND)
    return parse_record(values, context, 7, json.dumps(values))


def _request(path: Path, tmp_path: Path, fmt: str, network: str | None = None) -> ImportRequest:
    return ImportRequest(
        format=fmt, path=path, workspace="acme", channel="community",
        rejects_path=tmp_path / "rejects.jsonl", brand_ids=BRAND, network=network,
    )  # fmt: skip


def _pairs(session: Session, key: Any, value: Any) -> dict[Any, Any]:
    return {k: v for k, v in session.execute(select(key, value))}


def _count(session: Session, entity: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


# --- parsing -------------------------------------------------------------------------


def test_jsonl_messages_carry_every_documented_field() -> None:
    messages, _, _ = _split(list(GenericJsonl(JSONL, BRAND, "generic")))

    first = messages["c-1001"]
    assert first.created_at == datetime(2024, 3, 4, 8, 15, tzinfo=UTC)
    assert first.text.startswith("Ciao @acme_it, il mio ordine 4521 è in ritardo")
    assert (first.author.network, first.author.external_id) == ("generic", "u-giulia")
    assert first.author.handle == "giulia_r"
    assert first.author.display_name == "Giulia Rossi"
    assert first.author.email == "giulia.rossi@example.it"
    assert not first.author.is_brand
    assert (first.kind, first.language, first.direction) == ("comment", "it", None)
    assert first.url == "https://forum.example.it/t/4521#c-1001"

    brand_reply = messages["c-1002"]
    assert brand_reply.author.is_brand  # author_id is a --brand id
    assert brand_reply.direction is None  # ingest decides: brand means outbound
    assert (brand_reply.kind, brand_reply.in_reply_to) == ("reply", "c-1001")


def test_jsonl_threads_numbers_and_row_networks() -> None:
    messages, _, _ = _split(list(GenericJsonl(JSONL, BRAND, "generic")))

    dm = messages["dm-501"]
    assert dm.created_at == datetime(2024, 3, 5, 18, 20, tzinfo=UTC)  # no zone: UTC
    assert (dm.thread_key, dm.kind) == ("conv-mark", "dm")
    agent = messages["dm-502"]
    assert agent.direction == "outbound"
    assert agent.author.is_brand  # written by the brand although not a --brand id
    assert messages["987654321"].in_reply_to == "c-1002"  # a JSON integer id
    email = messages["c-1009"]
    assert (email.text, email.subject) == ("", "Richiesta preventivo per 40 giacche")
    assert email.author.email == "Anna.Verdi@Example.it"
    toot = messages["toot-77"]
    assert toot.author.network == "mastodon"
    assert "device" not in repr(dm)  # unknown fields are ignored


def test_jsonl_profiles() -> None:
    _, profiles, _ = _split(list(GenericJsonl(JSONL, BRAND, "generic")))

    laura = profiles["u-laura"]
    assert (laura.network, laura.relation, laura.handle) == ("generic", "follower", "laura.b")
    assert (laura.followers_count, laura.following_count, laura.posts_count) == (812, 640, 1530)
    assert laura.account_created_at == datetime(2016, 5, 12, tzinfo=UTC)
    assert laura.last_post_at == datetime(2024, 3, 1, 18, 30, tzinfo=UTC)
    assert (laura.default_avatar, laura.verified, laura.declared_bot) == (False, False, None)
    assert laura.location == "Torino"
    suspect = profiles["u-8841203"]
    assert (suspect.followers_count, suspect.posts_count, suspect.default_avatar) == (3, 0, True)
    assert suspect.bio is None


def test_jsonl_rejections_name_line_and_reason() -> None:
    _, _, rejections = _split(list(GenericJsonl(JSONL, BRAND, "generic")))

    assert [(r.line, r.reason) for r in rejections] == JSONL_REJECTIONS
    assert {r.source for r in rejections} == {"messages.jsonl"}
    lines = JSONL.read_text(encoding="utf-8").splitlines()
    assert all(r.raw == lines[r.line - 1] for r in rejections)


def test_csv_reads_the_same_schema() -> None:
    items = list(GenericCsv(CSV, BRAND, "generic"))
    messages, profiles, rejections = _split(items)

    assert len(items) == 8  # the blank line and the row of empty cells are skipped
    assert messages["p-1"].text == 'Buongiorno! Avete ancora la taglia M della giacca "Dolomiti"?'
    assert messages["p-1"].created_at == datetime(2024, 4, 2, 6, 30, tzinfo=UTC)
    reply = messages["p-2"]
    assert reply.text == "Ciao Sara,\nsì: la M è disponibile\nin tutti i colori."
    assert (reply.in_reply_to, reply.kind, reply.author.is_brand) == ("p-1", "reply", True)
    assert messages["p-3"].created_at == datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    assert messages["p-7"].language == "it"
    assert (profiles["u-sara"].followers_count, profiles["u-sara"].posts_count) == (245, 890)
    assert [(r.line, r.reason) for r in rejections] == [
        (8, "expected 14 fields, found 15"),
        (9, "created_at: '03/04/2024' is not a date (expected ISO 8601)"),
        (10, "author_id is missing"),
    ]
    assert rejections[0].raw.endswith("Riga con un campo di troppo,,,,,,,,,extra")


def test_jsonl_and_csv_give_the_same_message(tmp_path: Path) -> None:
    record = {
        "external_id": "x-1", "created_at": "2024-05-01T10:00:00+02:00",
        "text": "Perché?\nDue righe.", "author_id": "u-1", "author_name": "Ada",
        "in_reply_to": "x-0", "thread_id": "t-9", "language": "IT", "kind": "Comment",
    }  # fmt: skip
    (tmp_path / "one.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    with (tmp_path / "one.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([record.keys(), record.values()])

    from_jsonl = list(GenericJsonl(tmp_path / "one.jsonl", (), "generic"))
    from_csv = list(GenericCsv(tmp_path / "one.csv", (), "generic"))

    assert from_jsonl == from_csv
    assert isinstance(from_csv[0], NormalizedMessage)
    assert (from_csv[0].language, from_csv[0].kind, from_csv[0].thread_key) == (
        "it",
        "comment",
        "t-9",
    )


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"created_at": 1709540000}, "created_at must be a string, not a number"),
        ({"author_id": {"id": 1}}, "author_id must be a string or an integer, not an object"),
        ({"external_id": True}, "external_id must be a string or an integer, not a boolean"),
        ({"text": ["a"]}, "text must be a string, not a list"),
        ({"text": "a\x00b"}, "text contains a NUL character"),
        ({"text": "a\ud800b"}, "text is not valid UTF-8"),
        ({"external_id": "x" * 401}, "external_id is longer than 400 characters"),
        ({"network": "Not A Network!"}, "network must be a short name such as mastodon"),
        ({"language": "italiano"}, "language must be a code such as it, en or pt-br"),
        ({"kind": "tweet"}, "kind must be one of mention, comment, reply, dm, email, post"),
        ({"author_email": "not an address"}, "author_email must be an e-mail address"),
        ({"record": "follower"}, "record must be one of message, profile"),
        ({"text": None}, "text is empty"),
    ],
)
def test_wrong_values_are_rejected(values: dict[str, object], reason: str) -> None:
    base: dict[str, object] = {
        "external_id": "m-1", "created_at": "2024-01-01T00:00:00Z", "text": "ok", "author_id": "u",
    }  # fmt: skip
    result = _record({**base, **values})

    assert isinstance(result, Rejection)
    assert result.reason.startswith(reason)
    assert (result.source, result.line) == ("test.jsonl", 7)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"verified": "maybe"}, "verified must be true or false, not 'maybe'"),
        ({"default_avatar": 1.5}, "default_avatar must be true or false, not 1.5"),
        ({"posts_count": "molti"}, "posts_count must be a whole number of zero or more"),
        ({"relation": "friend"}, "relation must be one of follower, following"),
        ({"account_created_at": "2016-13-45"}, "account_created_at: '2016-13-45' is not a date"),
    ],
)
def test_wrong_profile_values_are_rejected(values: dict[str, object], reason: str) -> None:
    result = _record({"record": "profile", "external_id": "u-1", **values})

    assert isinstance(result, Rejection)
    assert result.reason.startswith(reason)


def test_missing_text_key_is_not_an_empty_text() -> None:
    result = _record({"external_id": "m", "created_at": "2024-01-01", "author_id": "u"})

    assert isinstance(result, Rejection)
    assert result.reason == "text is missing"


def test_invalid_utf8_lines_are_rejected_and_the_rest_read(tmp_path: Path) -> None:
    good = '{"external_id": "a", "created_at": "2024-01-01", "text": "ciao", "author_id": "u"}\n'
    bad = '{"external_id": "b", "created_at": "2024-01-01", "text": "Perché", "author_id": "u"}\n'
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good.encode() + bad.encode("latin-1") + good.replace('"a"', '"c"').encode())

    items = list(GenericJsonl(path, (), "generic"))

    assert [type(i).__name__ for i in items] == [
        "NormalizedMessage",
        "Rejection",
        "NormalizedMessage",
    ]
    rejection = items[1]
    assert isinstance(rejection, Rejection)
    assert (rejection.line, rejection.reason) == (2, "the line is not valid UTF-8")
    assert '"text": "Perch\\xe9"' in rejection.raw


def test_invalid_utf8_csv_rows_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"external_id,created_at,text,author_id\n"
        + "r-1,2024-01-01,Perché no?,u\n".encode("latin-1")
        + b"r-2,2024-01-01,ok,u\n"
    )

    items = list(GenericCsv(path, (), "generic"))

    assert isinstance(items[0], Rejection)
    assert (items[0].line, items[0].reason) == (2, "the row is not valid UTF-8")
    assert items[0].raw == "r-1,2024-01-01,Perch\\xe9 no?,u"
    assert isinstance(items[1], NormalizedMessage)


def test_over_long_line_is_rejected_without_losing_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generic, "MAX_LINE_CHARS", 120)
    line = '{"external_id": "%s", "created_at": "2024-01-01", "text": "%s", "author_id": "u"}\n'
    path = tmp_path / "long.jsonl"
    path.write_text(
        line % ("a", "ok") + line % ("b", "x" * 400) + line % ("c", "ok"), encoding="utf-8"
    )

    items = list(GenericJsonl(path, (), "generic"))

    assert [getattr(i, "external_id", None) for i in items] == ["a", None, "c"]
    assert isinstance(items[1], Rejection)
    assert (items[1].line, items[1].reason) == (2, "the line is longer than 120 characters")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text(
        "\ufeffExternal_ID,Created_At,Text,Author_ID\nr-1,2024-01-01,ciao,u\n", encoding="utf-8"
    )

    items = list(GenericCsv(path, (), "generic"))

    assert [getattr(i, "external_id", None) for i in items] == ["r-1"]


def test_csv_of_profiles_only(tmp_path: Path) -> None:
    path = tmp_path / "followers.csv"
    path.write_text("record,external_id,handle,verified\nprofile,u-9,nove,yes\n", encoding="utf-8")

    items = list(GenericCsv(path, (), "mastodon"))

    assert items == [NormalizedProfile("mastodon", "u-9", handle="nove", verified=True)]


# --- wrong formats -------------------------------------------------------------------


def test_pretty_printed_json_is_not_json_lines() -> None:
    with pytest.raises(ImportFormatError) as raised:
        list(GenericJsonl(FIXTURES / "pretty.jsonl", (), "generic"))

    assert str(raised.value) == (
        "pretty.jsonl is not a JSON Lines file: each line should hold one JSON object, "
        "but line 1 is not JSON."
    )


@pytest.mark.parametrize("content", ["", "id,date,body\n1,2024-01-01,ciao\n"])
def test_csv_without_required_columns_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "other.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImportFormatError) as raised:
        list(GenericCsv(path, (), "generic"))

    message = str(raised.value)
    assert message.startswith("other.csv is not a generic CSV file: its first line should name")
    assert "external_id, created_at, text, author_id" in message


def test_twcs_file_given_as_generic_csv_names_its_columns() -> None:
    with pytest.raises(ImportFormatError, match="but it has tweet_id, author_id, inbound"):
        list(GenericCsv(FIXTURES / "twcs_like.csv", (), "generic"))


# --- import into the database --------------------------------------------------------


def test_jsonl_import_threads_directions_and_first_responses(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(JSONL, tmp_path, "jsonl"))

    assert (summary.imported, summary.profiles, summary.rejected) == (7, 2, 9)
    with sessions() as session:
        channel = session.scalars(select(Channel)).one()
        assert channel.network == "generic"
        direction = _pairs(session, Message.external_id, Message.direction)
        assert direction == {
            "c-1001": "inbound", "c-1002": "outbound", "987654321": "inbound",
            "dm-501": "inbound", "dm-502": "outbound", "c-1009": "inbound", "toot-77": "inbound",
        }  # fmt: skip
        conversation_of = _pairs(session, Message.external_id, Message.conversation_id)
        assert (
            conversation_of["c-1001"] == conversation_of["c-1002"] == conversation_of["987654321"]
        )
        assert conversation_of["dm-501"] == conversation_of["dm-502"] != conversation_of["c-1001"]
        assert _count(session, Conversation) == 4
        dm = session.get_one(Conversation, conversation_of["dm-501"])
        assert (dm.kind, dm.first_response_seconds) == ("dm", 1800)
        delays = session.scalars(
            select(ReportingEvent.delay_seconds)
            .where(ReportingEvent.kind == "first_response")
            .order_by(ReportingEvent.delay_seconds)
        ).all()
        assert delays == [1800, 2700]
        networks = set(session.scalars(select(Identity.network)))
        assert networks == {"generic", "mastodon"}
        assert _count(session, FollowerProfile) == 2


def test_jsonl_import_writes_the_rejects_file(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(JSONL, tmp_path, "jsonl"))

    assert summary.rejects_path == tmp_path / "rejects.jsonl"
    records = [json.loads(line) for line in summary.rejects_path.read_text("utf-8").splitlines()]
    assert [(r["file"], r["line"], r["reason"]) for r in records] == [
        ("messages.jsonl", line, reason) for line, reason in JSONL_REJECTIONS
    ]
    assert records[1]["raw"] == '["questo", "non", "è", "un", "oggetto"]'


def test_reimport_changes_nothing(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    run_import(sessions, _request(JSONL, tmp_path, "jsonl"))
    with sessions() as session:
        before = [_count(session, e) for e in COUNTED]

    again = run_import(sessions, _request(JSONL, tmp_path, "jsonl"))

    assert (again.imported, again.already_present, again.rejected) == (0, 7, 9)
    with sessions() as session:
        after = [_count(session, e) for e in COUNTED]
    assert after == before == [7, 4, 4, 2]


def test_csv_import_takes_the_network_from_the_request(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    summary = run_import(sessions, _request(CSV, tmp_path, "csv", network="mastodon"))

    assert (summary.imported, summary.profiles, summary.rejected) == (4, 1, 3)
    with sessions() as session:
        assert session.scalars(select(Channel.network)).one() == "mastodon"
        assert set(session.scalars(select(Identity.network))) == {"mastodon"}
        assert session.scalars(select(FollowerProfile.network)).one() == "mastodon"
        reply = session.scalars(select(Message).where(Message.external_id == "p-2")).one()
        assert reply.direction == "outbound"


def test_invalid_utf8_reaches_the_rejects_file_readably(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"external_id,created_at,text,author_id\n"
        + "r-1,2024-01-01,Citt\xe0 di Perugia,u\n".encode("latin-1")
        + "r-2,2024-01-01,Città di Assisi,u\n".encode()
    )

    summary = run_import(sessions, _request(path, tmp_path, "csv"))

    assert (summary.imported, summary.rejected) == (1, 1)
    record = json.loads((tmp_path / "rejects.jsonl").read_text(encoding="utf-8"))
    assert record == {
        "file": "mixed.csv", "line": 2, "reason": "the row is not valid UTF-8",
        "raw": "r-1,2024-01-01,Citt\\xe0 di Perugia,u",
    }  # fmt: skip


def test_wrong_format_fails_the_run_with_its_sentence(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(ImportFormatError, match=r"pretty\.jsonl is not a JSON Lines file"):
        run_import(sessions, _request(FIXTURES / "pretty.jsonl", tmp_path, "jsonl"))

    with sessions() as session:
        run = session.scalars(select(ImportRun)).one()
        assert run.status == "failed"
        assert run.error is not None and run.error.startswith("pretty.jsonl is not a JSON Lines")
        assert _count(session, Message) == 0


def test_registry_knows_the_generic_formats() -> None:
    assert FORMATS["jsonl"].network == "generic"
    assert FORMATS["csv"].network == "generic"
    source = FORMATS["csv"].open(CSV, BRAND, "bluesky")
    assert isinstance(source, GenericCsv)
    first = next(iter(source))
    assert isinstance(first, NormalizedMessage)
    assert first.author.network == "bluesky"
