"""Language identification: the workspace's languages first, others when clearly ahead,
hints trusted, and texts with no letters undetermined."""

from __future__ import annotations

import pickle

import pytest

from dialoga.understand.function_words import function_word_language
from dialoga.understand.language import SHORT_TEXT, LanguageGuesser
from dialoga.understand.reading import UNDETERMINED
from dialoga.understand.text import MODEL_CHARS, has_letters, model_text


@pytest.fixture(scope="module")
def guesser() -> LanguageGuesser:
    return LanguageGuesser(["it", "en"])


def test_short_italian_and_english_texts(guesser: LanguageGuesser) -> None:
    texts = [
        "Il pacco non è ancora arrivato",
        "grazie mille!!",
        "My flight got cancelled again",
        "thanks a lot",
    ]
    assert guesser.guess(texts) == ["it", "it", "en", "en"]


def test_other_languages_are_told_in_longer_texts_only(guesser: LanguageGuesser) -> None:
    spanish = "¿Dónde está mi maleta? Llevo dos horas esperando en el aeropuerto de Madrid"
    assert len(spanish) >= SHORT_TEXT
    assert guesser.guess([spanish, spanish[:40], "ok"]) == ["es", "it", "en"]


def test_texts_without_letters_are_undetermined(guesser: LanguageGuesser) -> None:
    texts = ["", "🙂🙂🙂", "https://example.com/a?b=1", "@acme_it 12:30", "!!!"]
    assert guesser.guess(texts) == [UNDETERMINED] * len(texts)


def test_a_supported_hint_is_trusted_and_an_unknown_one_ignored(guesser: LanguageGuesser) -> None:
    assert guesser.guess(["ciao a tutti", "ciao a tutti"], ["EN", "xx"]) == ["en", "it"]


def test_unsupported_workspace_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        LanguageGuesser(["it", "klingon"])
    with pytest.raises(ValueError, match="none given"):
        LanguageGuesser([])


def test_model_text_is_bounded_and_survives_invalid_utf8() -> None:
    broken = b"caff\xe8 buono".decode("utf-8", errors="surrogateescape")
    assert model_text(broken) == "caff buono"
    assert len(model_text("a" * 100_000)) <= MODEL_CHARS
    assert model_text("Visit https://x.io NOW @Acme_IT!!!!!!") == "visit  _url_  now  _user_ !!!"
    assert not has_letters("https://x.io @acme 🙂") and has_letters("👍 ok")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Il pacco non è ancora arrivato", "it"),
        ("Thanks for the help, it works now", "en"),
        ("Hola, el pedido llegó tarde y roto", "es"),
        ("Merci pour votre aide, je suis content", "fr"),
        ("Danke, das Paket ist nicht angekommen", "de"),
    ],
)
def test_function_words_of_one_language_settle_it(text: str, language: str) -> None:
    assert function_word_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "ok",  # no function word
        "grazie!",  # one is not enough
        "the pizza è buonissima",  # words of two languages
        "Una tarde con amigos en la playa",  # Spanish words Italian shares are not Italian's
    ],
)
def test_function_words_leave_the_rest_to_lingua(text: str) -> None:
    assert function_word_language(text) is None


def test_a_function_word_answer_outside_the_workspace_goes_to_lingua() -> None:
    english_only = LanguageGuesser(["en"])

    assert english_only.guess(["Il pacco non è ancora arrivato"]) == ["en"]


def test_a_guesser_travels_to_another_process_as_its_languages() -> None:
    copy = pickle.loads(pickle.dumps(LanguageGuesser(["it", "en"])))

    assert copy.languages == ("it", "en")
    assert copy.guess(["My flight got cancelled again"]) == ["en"]
