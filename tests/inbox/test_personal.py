"""Personal replies: placeholders filled with fallbacks, and the warnings before sending."""

from __future__ import annotations

import pytest

from dialoga.inbox.personal import (
    IDENTICAL_TO_SAVED_REPLY,
    NOT_ADDRESSED,
    fill_placeholders,
    personalisation_warnings,
    placeholders_in,
)

GIULIA = {"first_name": "Giulia", "name": "Giulia Rossi", "handle": "giulia_r", "agent": "Marta"}
NOBODY = {"first_name": None, "name": None, "handle": None, "agent": None}
WELCOME = "Ciao {first_name}, grazie per averci scritto! {agent}"


# --- placeholders ------------------------------------------------------------------------


def test_placeholders_in_lists_every_braced_name() -> None:
    assert placeholders_in("Ciao {first_name} e {nome}, {first_name}!") == {"first_name", "nome"}
    assert placeholders_in("no placeholders, only {} and { spaced }") == set()


def test_every_placeholder_is_filled() -> None:
    body = "Ciao {first_name} ({name}, {handle}): ti risponde {agent}."

    assert fill_placeholders(body, **GIULIA) == (
        "Ciao Giulia (Giulia Rossi, @giulia_r): ti risponde Marta."
    )


def test_a_handle_given_with_its_at_sign_gets_only_one() -> None:
    filled = fill_placeholders("{handle}", **{**GIULIA, "handle": "@giulia_r"})

    assert filled == "@giulia_r"


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ({"first_name": "", "name": "Giulia Rossi", "handle": "giulia_r"}, "Ciao Giulia, grazie!"),
        ({"first_name": None, "name": None, "handle": "giulia_r"}, "Ciao @giulia_r, grazie!"),
        ({"first_name": "  ", "name": " ", "handle": ""}, "Ciao, grazie!"),
    ],
)
def test_a_missing_first_name_falls_back_to_name_then_handle_then_nothing(
    person: dict[str, str | None], expected: str
) -> None:
    assert fill_placeholders("Ciao {first_name}, grazie!", agent=None, **person) == expected


def test_missing_name_and_handle_fall_back_to_each_other() -> None:
    only_first = {"first_name": "Giulia", "name": None, "handle": None, "agent": None}
    only_handle = {"first_name": None, "name": None, "handle": "giulia_r", "agent": None}

    assert fill_placeholders("{name} / {handle}", **only_first) == "Giulia / Giulia"
    assert fill_placeholders("{name} / {handle}", **only_handle) == "@giulia_r / @giulia_r"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Ciao {first_name}, grazie!", "Ciao, grazie!"),
        ("Grazie {first_name}!", "Grazie!"),
        ("Grazie {first_name} per il messaggio.", "Grazie per il messaggio."),
        ("{first_name}, grazie!", "grazie!"),
        ("Buongiorno\n{first_name}, grazie!", "Buongiorno\ngrazie!"),
        ("Grazie!\n{agent}", "Grazie!\n"),
    ],
)
def test_an_empty_placeholder_leaves_no_stray_space_or_comma(body: str, expected: str) -> None:
    assert fill_placeholders(body, **NOBODY) == expected


def test_unknown_placeholders_and_other_braces_are_left_as_written() -> None:
    body = "Ciao {nome}, il codice è {0} e {{x}}: {first_name}"

    assert fill_placeholders(body, **GIULIA) == "Ciao {nome}, il codice è {0} e {{x}}: Giulia"


# --- warnings ----------------------------------------------------------------------------


def _warnings(
    text: str, saved: tuple[str, ...] = (WELCOME,), names: tuple[str | None, ...] = ()
) -> list[str]:
    return personalisation_warnings(text, saved_bodies=saved, person_names=names)


@pytest.mark.parametrize(
    "text",
    [
        WELCOME,
        "  ciao {FIRST_NAME},   grazie per\naverci scritto!  {agent} ",
        "Ciao, grazie per averci scritto!",
        "ciao , GRAZIE per averci scritto !",
        "@giulia_r Ciao, grazie per averci scritto!",
    ],
)
def test_a_saved_reply_sent_as_is_or_with_blank_placeholders_is_flagged(text: str) -> None:
    assert _warnings(text) == [IDENTICAL_TO_SAVED_REPLY]


def test_a_saved_reply_filled_or_edited_is_not_identical() -> None:
    filled = fill_placeholders(WELCOME, **GIULIA)

    assert _warnings(filled) == []
    assert _warnings("Ciao, grazie per averci scritto! Ti richiamo domani.") == []
    assert _warnings("Ciao, grazie per averci scritto!", saved=()) == []


@pytest.mark.parametrize(
    "text",
    [
        "Ciao Giulia, ci pensiamo noi.",
        "ciao GIULIA!",
        "Gentile sig.ra Rossi, ci pensiamo noi.",
        "@giulia_r ci pensiamo noi",
        "grazie giulia_r",
        "Giulia Rossi, grazie.",
    ],
)
def test_a_reply_naming_the_person_is_addressed(text: str) -> None:
    names = ("Giulia Rossi", "Giulia", "@giulia_r")

    assert NOT_ADDRESSED not in _warnings(text, names=names)


@pytest.mark.parametrize(
    "text",
    [
        "Grazie, ci pensiamo noi.",
        "Ciao Giuliana, ci pensiamo noi.",  # another name that starts the same
        "Scrivi a giulia_rossi@example.it",  # a longer handle
        "Rossini è il nostro fornitore",
    ],
)
def test_a_reply_naming_nobody_or_someone_else_is_not_addressed(text: str) -> None:
    names = ("Giulia Rossi", "Giulia", "giulia_r")

    assert _warnings(text, names=names) == [NOT_ADDRESSED]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Niccolò", "Ciao Niccolo, eccoci."),
        ("Niccolò", "CIAO NICCOLÒ!"),
        ("Niccolo", "Caro Niccolò, eccoci."),
        ("Nicolò Dell'Orto", "Gentile Dell'Orto, eccoci."),
        ("Zoë", "Hi ZOE!"),
        ("José", "¡Hola josé!"),
    ],
)
def test_accents_and_case_do_not_matter(name: str, text: str) -> None:
    assert _warnings(text, saved=(), names=(name,)) == []


def test_short_words_of_a_full_name_are_not_taken_for_the_name() -> None:
    # "Di" is also an Italian preposition: it does not address Maria Di Stefano
    names = ("Maria Di Stefano",)

    assert _warnings("Grazie di averci scritto", saved=(), names=names) == [NOT_ADDRESSED]
    assert _warnings("Grazie Stefano", saved=(), names=names) == []


def test_a_fediverse_handle_is_addressed_by_its_local_part() -> None:
    names = ("@giulia@mastodon.uno",)

    assert _warnings("@giulia grazie!", saved=(), names=names) == []
    assert _warnings("@giulia@mastodon.uno grazie!", saved=(), names=names) == []


def test_with_no_name_known_nobody_can_be_addressed() -> None:
    assert _warnings("Grazie!", saved=(), names=(None, "", "  ")) == []


def test_both_warnings_together_in_order() -> None:
    assert _warnings("Ciao, grazie per averci scritto!", names=("Giulia",)) == [
        IDENTICAL_TO_SAVED_REPLY,
        NOT_ADDRESSED,
    ]
