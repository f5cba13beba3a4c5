"""Reading ahead in a background thread, so parsing overlaps with database writes.

The database drivers release the GIL while SQLite or PostgreSQL work, so a reader thread
can parse the next chunk of a file while the current one is being written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.1


class _End:
    """Marks the end of the input, carrying the reader's error if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(items: Iterable[T], chunk_size: int, depth: int = 2) -> Iterator[list[T]]:
    """Yield ``items`` in chunks, produced by a thread at most ``depth`` chunks ahead.

    An error raised while reading is raised here, in the consumer; if the consumer stops
    early, the reader thread stops too.
    """
    queue: Queue[list[T] | _End] = Queue(maxsize=depth)
    stop = threading.Event()
    reader = threading.Thread(
        target=_produce,
        args=(items, chunk_size, queue, stop),
        name="dialoga-read-ahead",
        daemon=True,
    )
    reader.start()
    try:
        while True:
            entry = _next(queue, reader)
            if isinstance(entry, _End):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry
    finally:
        stop.set()
        reader.join()


def _produce(
    items: Iterable[T], chunk_size: int, queue: Queue[list[T] | _End], stop: threading.Event
) -> None:
    chunk: list[T] = []
    try:
        for item in items:
            chunk.append(item)
            if len(chunk) >= chunk_size:
                if not _offer(queue, chunk, stop):
                    return
                chunk = []
        if _offer(queue, chunk, stop):
            _offer(queue, _End(), stop)
    except BaseException as error:  # handed to the consumer, raised there
        _offer(queue, _End(error), stop)


def _offer(queue: Queue[list[T] | _End], entry: list[T] | _End, stop: threading.Event) -> bool:
    """Put ``entry`` unless the consumer has gone; True when it was put."""
    while not stop.is_set():
        try:
            queue.put(entry, timeout=_POLL_SECONDS)
            return True
        except Full:
            continue
    return False


def _next(queue: Queue[list[T] | _End], reader: threading.Thread) -> list[T] | _End:
    while True:
        try:
            return queue.get(timeout=_POLL_SECONDS)
        except Empty:
            if not reader.is_alive() and queue.empty():
                return _End(RuntimeError("the reader thread stopped without a word"))
