"""The mbox importer: splitting, decoding, HTML to text, rejections, threading in the inbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.base import ImportFormatError, NormalizedMessage, Parsed, Rejection
from dialoga.channels.importers import mbox
from dialoga.channels.importers.mbox import MboxFile, html_to_text
from dialoga.channels.importers.registry import FORMATS
from dialoga.channels.imports import ImportRequest, run_import
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mbox" / "assistenza.mbox"
BRAND = ("Assistenza@ACME.it",)
FIRST = "20240304091200.4521@example.it"
BRAND_REPLY = "reply-4521-1@acme.it"
SECOND = "20240305080300.4521@example.it"
BRAND_CLOSING = "reply-4521-2@acme.it"
THREAD = [FIRST, BRAND_REPLY, SECOND, BRAND_CLOSING]
TOM = "CAF=uk-ship-778@mail.example.co.uk"
PARTNER = "html-only-0307@partner.example.com"
BAD_DATE = "bad Date header: 'ieri pomeriggio'"
NOT_MBOX = "messaggio.eml is not an mbox file: it should start with a 'From ' line."

MESSAGE = """From someone@example.it Mon Jan  1 09:00:00 2024
From: {sender}
Subject: Prova
Date: Mon, 1 Jan 2024 09:00:00 +0100
Message-ID: <{message_id}@example.it>
Content-Type: text/plain; charset=utf-8

{body}

"""


def _parse(path: Path = FIXTURE) -> list[Parsed]:
    return list(MboxFile(path, BRAND))


def _messages(items: list[Parsed]) -> dict[str, NormalizedMessage]:
    return {i.external_id: i for i in items if isinstance(i, NormalizedMessage)}


def _separator_line(prefix: str) -> int:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(prefix))


def _expected_rejections() -> list[tuple[str, int, str]]:
    """The two bad messages of the fixture, each at the line of its ``From `` separator."""
    return [
        ("assistenza.mbox", _separator_line("From lucia.neri@"), "no Message-ID header"),
        ("assistenza.mbox", _separator_line("From paolo.galli@"), BAD_DATE),
    ]


def _write(tmp_path: Path, text: str, name: str = "box.mbox") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _request(tmp_path: Path, batch_size: int = 5000) -> ImportRequest:
    return ImportRequest(
        format="mbox", path=FIXTURE, workspace="acme", channel="assistenza",
        rejects_path=tmp_path / "rejects.jsonl", brand_ids=BRAND, batch_size=batch_size,
    )  # fmt: skip


def _count(session: Session, entity: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


# --- parsing -------------------------------------------------------------------------


def test_every_message_is_read_once_in_file_order() -> None:
    items = _parse()

    assert [getattr(i, "external_id", None) for i in items] == [*THREAD, TOM, PARTNER, None, None]


def test_quoted_printable_italian_message() -> None:
    first = _messages(_parse())[FIRST]

    assert first.text == (
        "Buongiorno,\n\nil mio ordine n. 4521 doveva arrivare venerdì scorso ma non è ancora "
        "arrivato. Perché il tracking non si aggiorna più?\n\nGrazie,\nGiulia Rossi"
    )
    assert first.subject == "Ordine 4521: consegna in ritardo"
    assert first.created_at == datetime(2024, 3, 4, 8, 12, tzinfo=UTC)
    author = first.author
    assert (author.network, author.external_id, author.email) == (
        "email", "giulia.rossi@example.it", "giulia.rossi@example.it",
    )  # fmt: skip
    assert (author.display_name, author.is_brand) == ("Giulia Rossi", False)
    assert (first.kind, first.direction, first.in_reply_to, first.references) == (
        "email", None, None, (),
    )  # fmt: skip


def test_replies_carry_in_reply_to_and_references() -> None:
    messages = _messages(_parse())

    reply = messages[BRAND_REPLY]
    assert reply.author.is_brand  # matched case-insensitively against --brand
    assert reply.author.external_id == "assistenza@acme.it"
    assert "Il pacco ripartirà oggi e arriverà entro giovedì." in reply.text  # 8bit UTF-8
    assert (reply.in_reply_to, reply.references) == (FIRST, (FIRST,))
    assert messages[SECOND].references == (FIRST, BRAND_REPLY)  # folded header
    assert messages[BRAND_CLOSING].references == (FIRST, BRAND_REPLY, SECOND)
    assert messages[BRAND_CLOSING].in_reply_to == SECOND


def test_plain_part_is_preferred_decoded_and_unescaped() -> None:
    tom = _messages(_parse())[TOM]

    assert "A price in £ would help." in tom.text  # iso-8859-1 quoted-printable
    assert "\nFrom your website I could not tell." in tom.text  # ">From " unescaped
    assert ">From" not in tom.text
    assert tom.text.endswith("Tom\nFrom my phone")  # not a separator: no blank line before
    assert "<p>" not in tom.text
    assert tom.author.external_id == "tom.harris@example.co.uk"  # lower-cased


def test_html_only_message_becomes_plain_text_without_the_script() -> None:
    partner = _messages(_parse())[PARTNER]

    assert partner.subject == "Proposta di collaborazione – primavera 2024"
    assert partner.text == (
        "Proposta di collaborazione\n\n"
        "Ciao team ACME,\n"
        "vi proponiamo una campagna congiunta & un concorso per la primavera: più visibilità "
        "per entrambi.\n\n"
        "- Durata: 4 settimane\n- Budget: da definire"
    )
    assert "document.cookie" not in partner.text
    assert "color: red" not in partner.text


def test_rejections_point_at_the_from_line() -> None:
    rejections = [i for i in _parse() if isinstance(i, Rejection)]

    assert [(r.source, r.line, r.reason) for r in rejections] == _expected_rejections()
    assert "Subject: Fattura mancante" in rejections[0].raw
    assert "Date: ieri pomeriggio" in rejections[1].raw


@pytest.mark.parametrize(
    ("sender", "message_id", "reason"),
    [
        ("", "x", "no From header"),
        ("undisclosed-recipients:;", "x", "the From header has no e-mail address"),
        ("Ada <ada@example.it>", "", "no Message-ID header"),
    ],
)
def test_messages_missing_a_header_are_rejected(
    tmp_path: Path, sender: str, message_id: str, reason: str
) -> None:
    text = MESSAGE.format(sender=sender, message_id=message_id, body="ciao")
    text = text.replace("From: \n", "").replace("<@example.it>", "")

    items = _parse(_write(tmp_path, text))

    assert len(items) == 1
    assert isinstance(items[0], Rejection)
    assert items[0].reason.startswith(reason)
    assert items[0].line == 1


def test_missing_date_is_rejected(tmp_path: Path) -> None:
    text = MESSAGE.format(sender="ada@example.it", message_id="d", body="ciao")
    items = _parse(_write(tmp_path, text.replace("Date: Mon, 1 Jan 2024 09:00:00 +0100\n", "")))

    assert isinstance(items[0], Rejection)
    assert items[0].reason == "no Date header"


def test_raw_utf8_in_headers_is_read(tmp_path: Path) -> None:
    text = MESSAGE.format(sender="Niccolò Calò <nicco@example.it>", message_id="h", body="ok")

    (item,) = _parse(_write(tmp_path, text))

    assert isinstance(item, NormalizedMessage)
    assert item.author.display_name == "Niccolò Calò"


def test_message_without_text_has_empty_text(tmp_path: Path) -> None:
    text = MESSAGE.format(sender="ada@example.it", message_id="e", body="")
    text = text.replace("text/plain; charset=utf-8", "image/png\nContent-Disposition: attachment")

    (item,) = _parse(_write(tmp_path, text))

    assert isinstance(item, NormalizedMessage)
    assert (item.text, item.subject) == ("", "Prova")


def test_oversized_message_is_rejected_and_the_next_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mbox, "MAX_MESSAGE_BYTES", 1000)
    big = MESSAGE.format(sender="ada@example.it", message_id="big", body="x" * 2000)
    small = MESSAGE.format(sender="ada@example.it", message_id="small", body="ciao")

    items = _parse(_write(tmp_path, big + small))

    assert isinstance(items[0], Rejection)
    assert (items[0].line, items[0].reason) == (1, "the message is larger than 0 MiB")
    assert isinstance(items[1], NormalizedMessage)
    assert items[1].external_id == "small@example.it"
    assert items[1].text == "ciao"


def test_empty_file_is_an_empty_mailbox(tmp_path: Path) -> None:
    assert _parse(_write(tmp_path, "")) == []


@pytest.mark.parametrize(
    "content",
    ["Return-Path: <a@example.it>\nFrom: a@example.it\n\nciao\n", '{"external_id": "1"}\n'],
)
def test_a_file_not_starting_with_from_is_not_an_mbox(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path, content, "messaggio.eml")

    with pytest.raises(ImportFormatError) as raised:
        _parse(path)

    assert str(raised.value) == NOT_MBOX


def test_html_to_text_drops_markup_scripts_and_styles() -> None:
    html = (
        "<html><head><title>T</title><style>b{}</style></head><body>"
        "<p>Uno&nbsp;&amp; due<br/>tre</p><script>alert('x')</script>"
        "<div>quattro <b>cinque</b></div><p>&lt;script&gt; resta testo</p><script>mai chiuso"
    )

    assert html_to_text(html) == "Uno & due\ntre\n\nquattro cinque\n\n<script> resta testo"


# --- import into the database --------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 5000])
def test_email_thread_becomes_one_conversation_with_its_first_response(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path, batch_size: int
) -> None:
    summary = run_import(sessions, _request(tmp_path, batch_size))

    assert (summary.imported, summary.rejected) == (6, 2)
    with sessions() as session:
        assert session.scalars(select(Channel.network)).one() == "email"
        rows = session.execute(
            select(Message.external_id, Message.direction, Message.conversation_id)
        ).all()
        direction = {external_id: d for external_id, d, _ in rows}
        conversation_of = {external_id: c for external_id, _, c in rows}
        assert [direction[m] for m in THREAD] == ["inbound", "outbound", "inbound", "outbound"]
        assert direction[TOM] == direction[PARTNER] == "inbound"
        assert len({conversation_of[m] for m in THREAD}) == 1
        assert _count(session, Conversation) == 3
        thread = session.get_one(Conversation, conversation_of[FIRST])
        assert (thread.kind, thread.thread_key, thread.subject) == (
            "email", FIRST, "Ordine 4521: consegna in ritardo",
        )  # fmt: skip
        assert (thread.message_count, thread.inbound_count) == (4, 2)
        assert thread.first_response_seconds == 2 * 3600 + 28 * 60
        assert thread.awaiting_since is None
        event = session.scalars(
            select(ReportingEvent).where(ReportingEvent.kind == "first_response")
        ).one()
        assert (event.conversation_id, event.delay_seconds) == (thread.id, 8880)
        reply_id = session.scalar(select(Message.id).where(Message.external_id == BRAND_REPLY))
        assert event.message_id == reply_id


def test_brand_address_is_a_brand_identity_and_customers_are_contacts(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    run_import(sessions, _request(tmp_path))

    with sessions() as session:
        brand = session.scalars(
            select(Identity).where(Identity.external_id == "assistenza@acme.it")
        ).one()
        assert (brand.is_brand, brand.contact_id, brand.network) == (True, None, "email")
        emails = set(session.scalars(select(Contact.email)))
        assert emails == {
            "giulia.rossi@example.it", "tom.harris@example.co.uk", "news@partner.example.com",
        }  # fmt: skip


def test_rejects_file_lists_the_bad_messages(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    run_import(sessions, _request(tmp_path))

    lines = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["file"], r["line"], r["reason"]) for r in records] == _expected_rejections()
    assert records[0]["raw"].startswith("From: Lucia Neri <lucia.neri@example.it>\n")


def test_reimport_is_idempotent(
    sessions: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    run_import(sessions, _request(tmp_path))
    with sessions() as session:
        before = [_count(session, e) for e in (Message, Conversation, ReportingEvent, Contact)]

    again = run_import(sessions, _request(tmp_path))

    assert (again.imported, again.already_present, again.rejected) == (0, 6, 2)
    with sessions() as session:
        after = [_count(session, e) for e in (Message, Conversation, ReportingEvent, Contact)]
    assert after == before == [6, 3, 3, 3]


def test_registry_opens_mbox_on_the_email_network() -> None:
    spec = FORMATS["mbox"]

    assert spec.network == "email"
    assert isinstance(spec.open(FIXTURE, BRAND, "email"), MboxFile)


def test_separators_need_a_blank_line_or_a_postmark() -> None:
    lines = [
        b"From a@example.it Mon Jan  1 09:00:00 2024\n",
        b"Subject: uno\n",
        b"\n",
        b"From the start of the body\n",  # after a blank line: a separator
        b"riga\n",
        b"From b@example.it Tue Jan  2 09:00:00 2024\n",  # no blank line, but a postmark
        b">>From quoted twice\n",
        b"From here on, body text\n",  # neither: body text
    ]

    parts = list(mbox.split_mbox(lines, "box.mbox"))

    assert parts == [
        (1, b"Subject: uno\n\n"),
        (4, b"riga\n"),
        (6, b">From quoted twice\nFrom here on, body text\n"),
    ]


def test_split_refuses_a_first_line_that_is_not_a_separator() -> None:
    with pytest.raises(ImportFormatError, match=r"^box\.mbox is not an mbox file"):
        list(mbox.split_mbox([b"Subject: ciao\n"], "box.mbox"))


def test_progress_reaches_the_file_size() -> None:
    source = MboxFile(FIXTURE, BRAND)

    list(source)

    assert source.progress.total == FIXTURE.stat().st_size
    assert source.progress.done == source.progress.total
