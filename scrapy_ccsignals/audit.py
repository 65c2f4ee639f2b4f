"""The audit log: one JSON line per decision, written off the reactor thread.

Lines are queued by the crawl and written by one background thread, which flushes after
every batch, so a crash mid-crawl leaves every finished line readable. ``close()`` drains
the queue and waits for the thread.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_STOP = object()


def utc_now() -> str:
    """The current time as ISO 8601 UTC, e.g. ``2026-11-25T17:29:02.123Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resolve_path(template: str, spider_name: str) -> Path:
    """A ``FEEDS``-like URI or path with ``%(name)s``/``%(time)s`` placeholders, as a path."""
    if template.startswith("file://"):
        template = template[len("file://") :]
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace(":", "-")
    return Path(template % {"name": spider_name, "time": stamp.replace("+00-00", "")})


class AuditLog:
    """Append-only JSON-lines writer; a no-op when no path is configured."""

    def __init__(self, path: Path | None):
        self.path = path
        self.lines_written = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
            self._thread = threading.Thread(target=self._run, name="ccsignals-audit", daemon=True)
            self._thread.start()

    @property
    def enabled(self) -> bool:
        return self._thread is not None

    def write(self, record: dict[str, Any]) -> None:
        if self._thread is None:
            return
        record.setdefault("time", utc_now())
        self._queue.put(record)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            stop = False
            batch = []
            while True:
                if item is _STOP:
                    stop = True
                else:
                    batch.append(json.dumps(item, ensure_ascii=False, default=str) + "\n")
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self._file.writelines(batch)
                self._file.flush()
                self.lines_written += len(batch)
            except OSError:
                logger.exception("Cannot write the ccsignals audit log %s", self.path)
            if stop:
                return

    def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None
        self._file.close()
