"""The audit log: one JSON line per decision, written off the reactor thread.

The crawl serialises each record to its JSON line (a few microseconds of CPU, no I/O) and
appends it to a list under a lock. A background thread takes the list every
``FLUSH_INTERVAL`` seconds, or sooner when ``BATCH`` lines wait, and writes and flushes
whole lines, so a crash leaves every written line readable and loses at most the last
interval. ``close()`` writes what is left and waits for the thread. Handing lines over one
by one instead would wake the thread for every line and cost more than the rest of the
plugin.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5  # seconds
BATCH = 2000  # records


_last_second: tuple[int, str] = (-1, "")


def iso_time(timestamp: float) -> str:
    """A Unix time as ISO 8601 UTC, e.g. ``2026-11-25T17:29:02.123Z``.

    Called several times per response, so the date and time of the current second are
    formatted once per second (a quarter of the cost of ``datetime.isoformat``)."""
    global _last_second
    # Rounded to microseconds first, as datetime.fromtimestamp() does, then cut to ms.
    fraction, whole = math.modf(timestamp)
    second, micros = int(whole), round(fraction * 1_000_000)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    cached = _last_second
    if cached[0] != second:
        cached = _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{micros // 1000:03d}Z"


def utc_now() -> str:
    """The current time, as :func:`iso_time` writes it."""
    return iso_time(time.time())


def resolve_path(template: str, spider_name: str) -> Path:
    """A ``FEEDS``-like URI or path with ``%(name)s``/``%(time)s`` placeholders, as a path."""
    if template.startswith("file://"):
        template = template[len("file://") :]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
    return Path(template % {"name": spider_name, "time": stamp})


class AuditLog:
    """Append-only JSON-lines writer; a no-op when no path is configured."""

    def __init__(self, path: Path | None):
        self.path = path
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
            self._thread = threading.Thread(target=self._run, name="ccsignals-audit", daemon=True)
            self._thread.start()

    @property
    def enabled(self) -> bool:
        return self._thread is not None

    def event(
        self,
        *,
        url: str,
        origin: str | None,
        stage: str,
        action: str,
        decision: str | None,
        reasons: list[str],
        signals: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        """Write one audit line with the fields every line has (docs/audit-log.md)
        and the stage's *extra* ones. Nothing is built when the log is off."""
        if self._thread is None:
            return
        record = {
            "url": url,
            "origin": origin,
            "stage": stage,
            "action": action,
            "decision": decision,
            "reasons": reasons,
            "signals": signals if signals is not None else [],
        }
        record.update(extra)
        self.write(record)

    def write(self, record: dict[str, Any]) -> None:
        if self._thread is None:
            return
        if "time" not in record:
            record["time"] = utc_now()
        # Serialised now: the line says what was decided at this moment even if the
        # spider or a pipeline later changes the lists it shares with the item, and a
        # string waiting for the writer costs the garbage collector nothing.
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self._pending.append(line)
            if len(self._pending) >= BATCH:
                self._wake.set()

    def _take(self) -> list[str]:
        with self._lock:
            batch, self._pending = self._pending, []
            self._wake.clear()
        return batch

    def _write_batch(self, batch: list[str]) -> None:
        if not batch:
            return
        try:
            self._file.writelines(batch)
            self._file.flush()
        except OSError:
            logger.exception("Cannot write the ccsignals audit log %s", self.path)

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(FLUSH_INTERVAL)
            self._write_batch(self._take())
        self._write_batch(self._take())

    def close(self) -> None:
        if self._thread is None:
            return
        self._closing = True
        self._wake.set()
        self._thread.join()
        self._thread = None
        self._file.close()
