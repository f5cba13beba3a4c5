"""The hashed n-gram features: every word and character n-gram counted once per
occurrence, each text's row independent of the batch it came in, and tf-idf rows of unit
length."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dialoga.understand.features import (
    CHAR_LENGTHS,
    FEATURES,
    NEGATIONS,
    WORD_FEATURES,
    counts,
    weighted,
)
from dialoga.understand.text import model_text

TEXTS = [
    "Il pacco non è ancora arrivato!!! :(",
    "@united my bag is lost again http://t.co/x worst airline ever",
    "",
    "   ",
    "🙂🙂 ok",
    "a",
    "Ünïcödé 東京 текст — mixed scripts",
]


def _expected_entries(text: str) -> int:
    """How many n-grams a plain enumeration finds: word 1- and 2-grams, negated words,
    and character 2- to 5-grams of each word padded with one space on either side."""
    prepared = model_text(text)
    tokens = re.findall(r"(?u)[#_]?\w+|[^\w\s]{1,3}", prepared)
    words = len(tokens) + max(len(tokens) - 1, 0) + len(_negated(tokens))
    characters = 0
    for word in prepared.split():
        padded = f" {word} "
        characters += sum(max(len(padded) - n + 1, 0) for n in CHAR_LENGTHS)
    return words + characters


def _negated(tokens: list[str]) -> list[str]:
    found, in_scope = [], False
    for token in tokens:
        if not re.search(r"\w$", token):  # punctuation ends a negation's scope
            in_scope = False
        elif token in NEGATIONS:
            in_scope = True
        elif in_scope:
            found.append(token)
    return found


def test_words_after_a_negation_are_marked_until_punctuation() -> None:
    tokens = re.findall(r"(?u)[#_]?\w+|[^\w\s]{1,3}", "i don't like it. non mi piace, ok")

    assert _negated(tokens) == ["like", "it", "mi", "piace"]


@pytest.mark.parametrize("text", [*TEXTS, "Non mi è piaciuto per niente, mai più!"])
def test_each_ngram_is_counted_once_per_occurrence(text: str) -> None:
    row = counts([text])

    assert row.shape == (1, FEATURES)
    assert int(row.sum()) == _expected_entries(text)


def test_a_texts_row_does_not_depend_on_its_batch() -> None:
    alone = [counts([text]).toarray() for text in TEXTS]
    together = counts(TEXTS).toarray()

    for row, expected in zip(together, alone, strict=True):
        np.testing.assert_array_equal(row, expected[0])


def test_words_and_characters_fill_their_own_columns() -> None:
    row = counts(["ciao"])
    words = row[:, :WORD_FEATURES].sum()
    characters = row[:, WORD_FEATURES:].sum()

    assert (words, characters) == (1, 5 + 4 + 3 + 2)  # of " ciao ": " c", "ci"... " ciao"


def test_spacing_does_not_change_a_row_but_words_do() -> None:
    same = counts(["grazie  mille\n\tdavvero", "grazie mille davvero"]).toarray()
    other = counts(["mille grazie davvero"]).toarray()

    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], other[0])  # the word 2-grams differ


def test_weighted_rows_have_unit_length_and_empty_rows_stay_empty() -> None:
    idf = np.random.default_rng(3).uniform(1, 5, FEATURES).astype(np.float32)

    rows = weighted(counts(TEXTS), idf)

    lengths = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1))).ravel()
    empty = [not model_text(text).split() for text in TEXTS]
    np.testing.assert_allclose(lengths[~np.array(empty)], 1.0, rtol=1e-5)
    assert all(lengths[np.array(empty)] == 0)
