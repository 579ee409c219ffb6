"""Producing the next chunks in a thread while the caller consumes this one.

Used where one side is mostly waiting on the database (the other core) and the other is Python work:
seeding generates households while PostgreSQL stores the previous chunk; the ledger export reads the next
cases while the writer formats this chunk. The thread holds at most `depth` chunks; an error in it is
raised in the caller's thread, and the caller stopping early stops it.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

_DONE = object()


def chunked(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def prefetched(
    chunks: Iterable, *, depth: int = 2, name: str = "prefetch", on_exit: Callable[[], None] | None = None
) -> Iterator:
    """Iterate `chunks` in a thread, `depth` ahead. `on_exit` runs in that thread when it ends (e.g.
    closing the thread's own database connection)."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for chunk in chunks:
                hand_over(chunk)
                if stop.is_set():
                    return
            hand_over(_DONE)
        except BaseException as exc:  # re-raised in the caller's thread
            hand_over(exc)
        finally:
            if on_exit is not None:
                on_exit()

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()
