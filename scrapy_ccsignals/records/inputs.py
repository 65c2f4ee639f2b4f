"""Open the files the commands read, whatever their form: plain or gzip, one file, several,
a glob, or standard input.

Audit logs at scale are rotated and compressed (``audit-%(batch_id)d.jsonl.gz``), and a
distributed crawl leaves one log per worker, so every command takes any mix of paths and
globs and reads them as one set. Gzip is recognised by its magic bytes, not the name. A gzip
file cut short (a crawl killed mid-write) yields every line before the cut and is reported,
never fatal: the writer compresses each batch as its own gzip member, so what was flushed
stays readable.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import glob, has_magic
from pathlib import Path
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"


class InputError(ValueError):
    """An input that names no file; the message says which."""

    def __init__(self, path: str):
        super().__init__(f"no such file: {path}")
        self.path = path


@dataclass
class ReadStats:
    """What reading met beside lines: files cut short (a torn gzip member)."""

    truncated: list[str] = field(default_factory=list)


def _natural(path: str) -> list[object]:
    """Sort key: ``audit-2`` before ``audit-10`` (rotated parts in the order written)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def expand_paths(patterns: Iterable[str]) -> list[str]:
    """Each path as given (``-`` is standard input), each glob as its files in natural
    order; a file met twice is read once. :class:`InputError` names a pattern that
    matches nothing or a path that is not a file."""
    found: dict[str, None] = {}
    for pattern in patterns:
        if pattern == STDIN:
            found.setdefault(STDIN)
            continue
        if Path(pattern).is_file():
            found.setdefault(pattern)
            continue
        matches = sorted((p for p in glob(pattern) if Path(p).is_file()), key=_natural)
        if not matches or not has_magic(pattern):
            raise InputError(pattern)
        for match in matches:
            found.setdefault(match)
    return list(found)


def is_gzip(handle: IO[bytes]) -> bool:
    """Whether a seekable or peekable binary stream starts with the gzip magic bytes."""
    peek = getattr(handle, "peek", None)
    if peek is not None:
        return bytes(peek(2)[:2]) == GZIP_MAGIC
    start = handle.tell()
    head = handle.read(2)
    handle.seek(start)
    return head == GZIP_MAGIC


@contextmanager
def open_binary(path: str) -> Iterator[IO[bytes]]:
    """*path* (or standard input for ``-``) as a binary stream, decompressed if gzip."""
    if path == STDIN:
        raw = sys.stdin.buffer
        if not hasattr(raw, "peek"):
            raw = io.BufferedReader(raw)
        if is_gzip(raw):
            yield gzip.GzipFile(fileobj=raw)  # type: ignore[misc]
        else:
            yield raw
        return
    with open(path, "rb") as handle:
        if is_gzip(handle):
            with gzip.GzipFile(fileobj=handle) as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield handle


def read_lines(path: str, stats: ReadStats | None = None) -> Iterator[bytes]:
    """The lines of one file, streamed (``-`` is standard input). A gzip stream cut short
    ends the file early and is noted in *stats*."""
    try:
        with open_binary(path) as handle:
            yield from handle
    except (EOFError, gzip.BadGzipFile, zlib.error):
        if stats is not None:
            stats.truncated.append(path)


def iter_lines(paths: Iterable[str], stats: ReadStats | None = None) -> Iterator[tuple[str, bytes]]:
    """``(path, line)`` for every line of every file, in order."""
    for path in paths:
        for line in read_lines(path, stats):
            yield path, line


#: What a file holds, by its first record: ``audit`` (lines with ``stage`` and
#: ``action``), ``items`` (any other JSON object, a JSON array, CSV) or ``empty``.
AUDIT, ITEMS, EMPTY = "audit", "items", "empty"
_SNIFF_LINES = 20


def sniff_kind(path: str) -> str:
    """Whether *path* is an audit log or an items feed, from its first records (so the
    commands can say "this is an items feed, not an audit log" instead of an empty table)."""
    try:
        with open_binary(path) as handle:
            for _ in range(_SNIFF_LINES):
                raw = handle.readline(1 << 20)
                if not raw:
                    return EMPTY
                text = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
                if not text:
                    continue
                if text[:1] != b"{":
                    return ITEMS  # a JSON array or CSV: only feeds are written so
                try:
                    first = json.loads(raw)
                except ValueError:
                    continue  # a torn line, or an object spread over lines
                if isinstance(first, dict) and "stage" in first and "action" in first:
                    return AUDIT
                return ITEMS
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error):
        return EMPTY
    return ITEMS
