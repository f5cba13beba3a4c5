"""Reading ahead in a second process: the same readings as reading here, texts it was
not given read here, and a worker that fails costs time, never a reading."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dialoga.understand.ahead import ReadAhead
from dialoga.understand.readers import shipped_reader
from dialoga.understand.reading import Reader, Reading

TEXTS = ["Il pacco non è mai arrivato", "Thanks, the crew was great!", "", "🙂", "ciao"]
HINTS: list[str | None] = [None, None, None, None, "it"]


class RefusedInWorker:
    """A reader that reads here but cannot be sent to another process."""

    def __init__(self) -> None:
        self.inner = shipped_reader("fast", ("it", "en"))
        self.calls = 0

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("this reader stays in its process")

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        self.calls += 1
        return self.inner.read(texts, languages)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return shipped_reader("fast", ("it", "en"))


def test_the_worker_reads_what_this_process_would(reader: Reader) -> None:
    with ReadAhead(reader) as ahead:
        first = ahead.submit(TEXTS, HINTS)
        second = ahead.submit(TEXTS[:2], HINTS[:2])
        answered = ahead.readings(first, TEXTS, HINTS)
        assert ahead.readings(second, TEXTS[:2], HINTS[:2]).read(TEXTS[:2]) == reader.read(
            TEXTS[:2]
        )

    assert answered.read(TEXTS, HINTS) == reader.read(TEXTS, HINTS)


def test_texts_not_sent_ahead_are_read_here(reader: Reader) -> None:
    local = RefusedInWorker()
    with ReadAhead(reader) as ahead:
        answered = ahead.readings(ahead.submit(TEXTS[:1], HINTS[:1]), TEXTS[:1], HINTS[:1])
    answered_with_local = type(answered)({}, local)

    asked = [TEXTS[0], "Where is my refund?", TEXTS[0]]
    assert answered.read(asked) == reader.read(asked)
    assert answered_with_local.read(asked) == reader.read(asked)
    assert local.calls == 1  # one call for the batch, each distinct text once


def test_a_worker_that_cannot_start_leaves_the_reading_to_this_process() -> None:
    local = RefusedInWorker()
    with ReadAhead(local) as ahead:
        first = ahead.submit(TEXTS, HINTS)
        answered = ahead.readings(first, TEXTS, HINTS)
        later = ahead.readings(ahead.submit(TEXTS[:1], HINTS[:1]), TEXTS[:1], HINTS[:1])

        assert answered.read(TEXTS, HINTS) == local.inner.read(TEXTS, HINTS)
        assert later.read(TEXTS[:1], HINTS[:1]) == local.inner.read(TEXTS[:1], HINTS[:1])
    assert local.calls == 2
