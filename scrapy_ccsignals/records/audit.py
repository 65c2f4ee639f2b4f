"""The audit log: one JSON line per decision, written off the reactor thread.

The crawl serialises each record to its JSON line (a few microseconds of CPU, no I/O),
prefixed with the crawl's id so every line says which crawl wrote it, and appends it to a
list under a lock. A background thread (:mod:`.batches`) takes the list every
``FLUSH_INTERVAL`` seconds, or sooner when ``BATCH`` lines wait, and writes and flushes whole lines, so a crash leaves
every written line readable and loses at most the last interval. ``close()`` writes what is
left and waits for the thread. Handing lines over one by one instead would wake the thread
for every line and cost more than the rest of the plugin.

A path ending in ``.gz`` is written as gzip, one gzip member per batch (a crash leaves every
flushed member readable; ``records.inputs`` reads them as one stream). With a rotation limit
the thread starts the next file, named by the ``%(batch_id)d``/``%(batch_time)s``
placeholders as in Scrapy's ``FEEDS``, before a file would exceed the limit.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import msgspec

from scrapy_ccsignals.records.batches import BatchWriter

logger = logging.getLogger(__name__)

BATCH = 2000  # records

#: The line's encoder: msgspec writes a response's line in a quarter of the time of the
#: standard library's C encoder (the largest part of a signal-rich response's audit cost),
#: and its ``format(indent=0)`` gives the same text: ``", "`` and ``": "`` separators,
#: non-ASCII kept.
_FAST = msgspec.json.Encoder(enc_hook=str)
_FORMAT = msgspec.json.format
#: What a line msgspec cannot write uses: one encoder for every line (``json.dumps`` with
#: options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def encode_line(record: dict[str, Any]) -> str:
    """*record* as one JSON line, as ``json.dumps(record, ensure_ascii=False, default=str)``
    writes it for the JSON types a line holds (str, int, float, bool, None, list, tuple,
    dict with str keys). A value of another type is written in msgspec's JSON form where it
    has one (a datetime as RFC 3339, a set as an array, NaN as null), else as its ``str``.
    A string UTF-8 cannot hold (a lone surrogate) is written ``\\u``-escaped, so the
    writer can always encode the line."""
    try:
        return _FORMAT(_FAST.encode(record), indent=0).decode("utf-8")
    except (TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
        text = _ENCODER.encode(record)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(record, default=str)  # ASCII: surrogates escaped
        return text


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


PLACEHOLDERS = ("name", "time", "batch_id", "batch_time")
#: A crawl id: what ``CCSIGNALS_CRAWL_ID`` may hold (it is written unescaped).
CRAWL_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def new_crawl_id(timestamp: float | None = None) -> str:
    """A crawl id, sortable by start time and unique: ``20261203T111542Z-3fa9c1``."""
    stamp = time.gmtime(time.time() if timestamp is None else timestamp)
    return f"{time.strftime('%Y%m%dT%H%M%SZ', stamp)}-{secrets.token_hex(3)}"


def fill_template(template: str, spider_name: str, start: datetime, batch_id: int = 1) -> Path:
    """A ``FEEDS``-like URI or path with its placeholders filled: ``%(name)s`` (spider),
    ``%(time)s`` (the crawl's UTC start), ``%(batch_id)d`` (the rotated part, from 1) and
    ``%(batch_time)s`` (when the part was started, UTC, microseconds)."""
    if template.startswith("file://"):
        template = template[len("file://") :]
    now = datetime.now(timezone.utc) if batch_id > 1 else start
    return Path(
        template
        % {
            "name": spider_name,
            "time": start.strftime("%Y-%m-%dT%H-%M-%S"),
            "batch_id": batch_id,
            "batch_time": now.strftime("%Y-%m-%dT%H-%M-%S.%f"),
        }
    )


def resolve_path(template: str, spider_name: str) -> Path:
    """The first file of *template* for a crawl starting now."""
    return fill_template(template, spider_name, datetime.now(timezone.utc))


class AuditLog(BatchWriter[str]):
    """Append-only JSON-lines writer; a no-op when no path is configured.

    *crawl* is the id written first on every line. *next_path* names the file of each
    rotated part (``batch_id`` 2, 3...), started before the current one would hold more
    than *rotate_lines* lines or *rotate_bytes* bytes (counted before compression; a file
    holds at least one line)."""

    def __init__(
        self,
        path: Path | None,
        *,
        crawl: str | None = None,
        next_path: Callable[[int], Path] | None = None,
        rotate_lines: int = 0,
        rotate_bytes: int = 0,
    ):
        super().__init__()
        self.path = path
        self.crawl = crawl if crawl is not None else new_crawl_id()
        self._prefix = '{"crawl": "' + self.crawl + '", '
        #: every file written so far, in order
        self.paths: list[Path] = []
        self._next_path = next_path
        self._rotate_lines = rotate_lines if next_path is not None else 0
        self._rotate_bytes = rotate_bytes if next_path is not None else 0
        self._batch_id = 1
        self._lines = 0
        self._bytes = 0
        self._failed = False  # a write or the next part's file failed: said once, then no more
        if path is not None:
            self._file = self._open(path)
            self._start("ccsignals-audit")

    def _open(self, path: Path) -> IO[bytes]:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("ab")
        self.path = path
        self.paths.append(path)
        self._gzip = path.name.endswith(".gz")
        return handle

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
        record.pop("crawl", None)  # the writer's own id comes first
        # Serialised now: the line says what was decided at this moment even if the
        # spider or a pipeline later changes the lists it shares with the item, and a
        # string waiting for the writer costs the garbage collector nothing.
        body = encode_line(record)
        # The crawl id first, so a reader tells crawls apart without parsing each line.
        line = self._prefix + body[1:] + "\n" if len(body) > 2 else self._prefix[:-2] + "}\n"
        self._put(line, flush_at=BATCH)

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        if self._gzip:
            data = gzip.compress(data, compresslevel=6, mtime=0)
        self._file.write(data)
        self._file.flush()

    def _write_batch(self, batch: list[str]) -> None:
        if not batch or self._failed:
            return
        try:
            if not (self._rotate_lines or self._rotate_bytes):
                self._emit("".join(batch).encode("utf-8"))
                return
            chunk: list[bytes] = []
            for line in batch:
                data = line.encode("utf-8")
                if self._lines and (
                    (self._rotate_lines and self._lines >= self._rotate_lines)
                    or (self._rotate_bytes and self._bytes + len(data) > self._rotate_bytes)
                ):
                    self._emit(b"".join(chunk))
                    chunk = []
                    self._rotate()
                chunk.append(data)
                self._lines += 1
                self._bytes += len(data)
            self._emit(b"".join(chunk))
        except (OSError, ValueError) as exc:
            # A full disk or a part that cannot be opened: one ERROR, not one per batch; the
            # crawl goes on (its decisions do not depend on the log).
            self._failed = True
            logger.error(
                "Cannot write the ccsignals audit log %s (%s); no more lines are written",
                self.path,
                exc,
            )

    def _rotate(self) -> None:
        assert self._next_path is not None
        self._file.close()
        self._batch_id += 1
        self._lines = self._bytes = 0
        self._file = self._open(self._next_path(self._batch_id))
