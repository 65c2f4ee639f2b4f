"""Read the item feeds a crawl wrote, one item at a time, whatever their size.

Scrapy's feed exports write JSON lines (``.jsonl``, ``.jl``), a JSON array (``.json``,
one item per line unless ``FEED_EXPORT_INDENT`` is set) or CSV, where a dict field such as
the provenance record is written as its Python ``repr``. All three are streamed, plain or gzip (Scrapy's ``GzipPlugin``): memory
holds one item (capped at ``MAX_ITEM_BYTES``), never the file. A line or item that does not
parse is counted, not fatal: a dataset with one torn line still gets its credits.
Also the progress line the dataset commands print on long inputs.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from scrapy_ccsignals.records.inputs import open_binary

MAX_ITEM_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20
csv.field_size_limit(MAX_ITEM_BYTES)


@dataclass
class FeedStats:
    """What reading the feeds met: items read, entries that were not items."""

    items: int = 0
    bad: int = 0


class Progress:
    """Counts work and tells stderr every *every* units (a line rewritten in place on a
    terminal), so a long run shows it is alive. ``every=0`` is silent."""

    def __init__(
        self, label: str, every: int = 100_000, out: IO[str] | None = None, unit: str = "items"
    ):
        self.label, self.every, self.unit = label, every, unit
        self.out = out if out is not None else sys.stderr
        self.count = 0
        self._start = time.monotonic()
        self._tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._shown = False

    def tick(self) -> None:
        self.count += 1
        if self.every and self.count % self.every == 0:
            rate = self.count / max(time.monotonic() - self._start, 1e-9)
            end = "\r" if self._tty else "\n"
            self.out.write(f"{self.label}: {self.count:,} {self.unit} ({rate:,.0f}/s){end}")
            self.out.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown and self._tty:
            self.out.write("\n")
            self.out.flush()


def feed_format(path: str) -> str:
    """``jsonl``, ``json`` or ``csv``: by extension (under a ``.gz``), else by the first
    byte."""
    lower = path.lower().removesuffix(".gz")
    for suffix, kind in ((".jsonl", "jsonl"), (".jl", "jsonl"), (".ndjson", "jsonl"),
                         (".json", "json"), (".csv", "csv")):  # fmt: skip
        if lower.endswith(suffix):
            return kind
    with open_binary(path) as handle:
        first = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return {b"[": "json", b"{": "jsonl"}.get(first, "csv")


@contextmanager
def _text(path: str, newline: str | None = None) -> Iterator[IO[str]]:
    """*path* (plain or gzip) as text; bytes that are not UTF-8 are replaced."""
    with open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=newline)
        try:
            yield text
        finally:
            text.detach()


def _jsonl(path: str, stats: FeedStats) -> Iterator[Any]:
    with open_binary(path) as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except ValueError:
                stats.bad += 1


def _json_array(path: str, stats: FeedStats) -> Iterator[Any]:
    """A JSON array, one element at a time, however it is laid out: the buffer holds the
    element being decoded and the rest of one read."""
    decoder = json.JSONDecoder()
    with _text(path) as handle:
        buf, pos, eof, started = "", 0, False, False
        while True:
            while True:  # skip blanks (and the commas between elements), reading as needed
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(buf) or eof:
                    break
                more = handle.read(_CHUNK)
                buf, pos, eof = buf[pos:] + more, 0, not more
            if pos >= len(buf):
                if not started:
                    stats.bad += 1
                return  # an array without its "]" still yields what it had
            if not started:
                if buf[pos] != "[":
                    stats.bad += 1
                    return
                started, pos = True, pos + 1
                continue
            if buf[pos] == "]":
                return
            try:
                value, pos = decoder.raw_decode(buf, pos)
            except ValueError:
                if eof or len(buf) - pos > MAX_ITEM_BYTES:
                    stats.bad += 1  # torn or oversized: the rest cannot be framed
                    return
                more = handle.read(_CHUNK)
                buf, pos, eof = buf[pos:] + more, 0, not more
                continue
            yield value


def _csv(path: str, stats: FeedStats) -> Iterator[Any]:
    with _text(path, newline="") as handle:
        for row in csv.DictReader(handle):
            item: dict[str, Any] = {}
            for key, value in row.items():
                if key is None:  # more cells than headers
                    continue
                item[key] = _cell(value)
            yield item


def _cell(value: str | None) -> Any:
    """A CSV cell: a dict written by Scrapy (Python repr) or JSON becomes a dict again."""
    if value and value[0] in "{[":
        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(value)
            except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
                continue
    return value


def iter_items(
    paths: list[str], stats: FeedStats | None = None, progress: Progress | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, item)`` for every item (a JSON object / CSV row) of every feed file."""
    stats = stats if stats is not None else FeedStats()
    readers = {"jsonl": _jsonl, "json": _json_array, "csv": _csv}
    for path in paths:
        for item in readers[feed_format(path)](path, stats):
            if not isinstance(item, dict):
                stats.bad += 1
                continue
            stats.items += 1
            if progress is not None:
                progress.tick()
            yield path, item
