"""Reading ahead: a batch's texts are read in a second process while the batch before is
stored.

An import loops over parse, read, write, and the write is one transaction at a time; on
a machine with two cores the reading can overlap it. ``ReadAhead`` sends each batch's
texts to one worker process (which holds a copy of the reader) as soon as the batch is
parsed; ``readings`` then waits for that batch's answer and returns a ``Reader`` that
answers from it. A text the worker was not given, or every text when the worker failed,
is read here by the same reader, so reading ahead changes when a text is read, never
what it is read as.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from types import TracebackType

from dialoga.understand.reading import Reader, Reading

Key = tuple[str, str | None]  # a text and the language its source gave
_log = logging.getLogger(__name__)
_WORKER: dict[str, Reader] = {}  # inside the worker process: its reader


def worth_reading_ahead() -> bool:
    """Whether a second process can read while this one writes: two or more cores."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) > 1 if cores is not None else (os.cpu_count() or 1) > 1


class ReadAhead:
    """Reads submitted batches in one worker process, in submission order."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=get_context("spawn"),  # no threads or connections of ours copied
            initializer=_install,
            initargs=(reader,),
        )
        self.submit(["start"], [None])  # the worker starts (and warms up) now, not later

    def submit(self, texts: Sequence[str], hints: Sequence[str | None]) -> Future[list[Reading]]:
        """Start reading ``texts`` in the worker; a worker that cannot start (or has
        died) gives a failed future."""
        try:
            return self._pool.submit(_read, list(texts), list(hints))
        except Exception as cannot:  # pickling the reader, starting the process, broken pool
            failed: Future[list[Reading]] = Future()
            failed.set_exception(cannot)
            return failed

    def readings(
        self, submitted: Future[list[Reading]], texts: Sequence[str], hints: Sequence[str | None]
    ) -> Reader:
        """A reader answering from ``submitted`` (the readings of ``texts``)."""
        try:
            found = submitted.result()
        except Exception:  # a dead or failed worker: read here instead, lose nothing
            _log.warning("reading ahead failed; reading in this process", exc_info=True)
            found = []
        known = dict(zip(zip(texts, hints, strict=True), found, strict=False))
        return _Answered(known, self.reader)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _Answered:
    """A ``Reader`` that knows some readings already and reads the rest with ``reader``."""

    def __init__(self, known: dict[Key, Reading], reader: Reader) -> None:
        self._known = known
        self._reader = reader

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        hints = list(languages) if languages is not None else [None] * len(texts)
        keys = list(zip(texts, hints, strict=True))
        missing = [key for key in dict.fromkeys(keys) if key not in self._known]
        if missing:
            more = self._reader.read([text for text, _ in missing], [hint for _, hint in missing])
            self._known.update(zip(missing, more, strict=True))
        return [self._known[key] for key in keys]


def _install(reader: Reader) -> None:
    _WORKER["reader"] = reader


def _read(texts: list[str], hints: list[str | None]) -> list[Reading]:
    return _WORKER["reader"].read(texts, hints)
