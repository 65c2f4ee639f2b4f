"""A writer thread fed in batches: the audit log and the evidence archive queue what they
write under a lock, and one background thread takes the whole queue every
``FLUSH_INTERVAL`` seconds (or at once when asked) and writes it, so the reactor thread
never waits on a disk."""

from __future__ import annotations

import threading
from typing import IO, Generic, TypeVar

FLUSH_INTERVAL = 0.5  # seconds

T = TypeVar("T")


class BatchWriter(Generic[T]):
    """Subclasses open ``self._file``, call :meth:`_start`, queue with :meth:`_put` and
    write a batch in :meth:`_write_batch` (on the writer thread)."""

    _file: IO[bytes]

    def __init__(self) -> None:
        self._pending: list[T] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self._thread is not None

    def _start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, entry: T, flush_at: int = 0) -> None:
        """Queue *entry*; wake the writer now when *flush_at* entries (if set) wait."""
        with self._lock:
            self._pending.append(entry)
            if flush_at and len(self._pending) >= flush_at:
                self._wake.set()

    def _take(self) -> list[T]:
        with self._lock:
            batch, self._pending = self._pending, []
            self._wake.clear()
        return batch

    def _write_batch(self, batch: list[T]) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(FLUSH_INTERVAL)
            self._write_batch(self._take())
        self._write_batch(self._take())

    def close(self) -> None:
        """Write what waits, stop the thread, close the file (no-op when never started)."""
        if self._thread is None:
            return
        self._closing = True
        self._wake.set()
        self._thread.join()
        self._thread = None
        self._file.close()
