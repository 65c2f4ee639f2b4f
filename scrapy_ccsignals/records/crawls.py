"""Which crawl each audit line belongs to, and which crawls a command reports on.

Every line the writer emits starts with its crawl id (``{"crawl": "ID", ...``), so one
log, several logs, rotated parts and workers sharing a ``CCSIGNALS_CRAWL_ID`` all sort into
crawls, and no command counts two crawls as one. By default a command takes the latest
crawl (the one whose ``started`` line is latest) and says how many the files hold.
Lines written before crawl ids existed are split at each ``crawl``/``started`` line (not
at file boundaries) and named ``unnamed-1``, ``unnamed-2``... in reading order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scrapy_ccsignals.records.inputs import ReadStats, iter_lines

#: How a written line starts; the id follows, up to the next quote.
PREFIX = b'{"crawl": "'
MAX_CRAWLS = 100_000  # crawls told apart in one set of files; the rest are one "(other)"


class CrawlError(ValueError):
    """A crawl asked for that the files do not hold; the message lists those they do."""


@dataclass
class CrawlInfo:
    """One crawl as the files show it."""

    id: str
    spider: str = ""
    started: str = ""  # the earliest ``started`` line's time ("" when no file has it)
    first_time: str = ""  # the first time read on any of its lines
    lines: int = 0
    order: int = 0  # when it was first met, for ties

    def sort_key(self) -> tuple[str, int]:
        return (self.started or self.first_time, self.order)

    def describe(self) -> str:
        parts = [self.spider or "spider unknown"]
        if self.started or self.first_time:
            parts.append(f"started {self.started or self.first_time}")
        parts.append(f"{self.lines:,} line{'' if self.lines == 1 else 's'}")
        return f"{self.id} ({', '.join(parts)})"


class Tagger:
    """Gives each parsed line its crawl id, in reading order (ids for old logs depend on
    the order, so every pass over the same files must use a new tagger)."""

    def __init__(self) -> None:
        self._unnamed = 0
        self._current: str | None = None

    def crawl_of(self, path: str, line: dict[str, Any]) -> str:
        crawl = line.get("crawl")
        if isinstance(crawl, str) and crawl:
            return crawl
        if self._current is None or (
            line.get("stage") == "crawl" and line.get("action") == "started"
        ):
            self._unnamed += 1
            self._current = f"unnamed-{self._unnamed}"
        return self._current


@dataclass
class CrawlSet:
    """The crawls found in a set of files, in the order first met."""

    crawls: dict[str, CrawlInfo] = field(default_factory=dict)

    def note(self, crawl: str, line: dict[str, Any] | None) -> None:
        info = self.crawls.get(crawl)
        if info is None:
            if len(self.crawls) >= MAX_CRAWLS:
                crawl = "(other)"
                info = self.crawls.setdefault(crawl, CrawlInfo(crawl, order=len(self.crawls)))
            else:
                info = self.crawls[crawl] = CrawlInfo(crawl, order=len(self.crawls))
        info.lines += 1
        if line is None:
            return
        time = line.get("time")
        if isinstance(time, str) and not info.first_time:
            info.first_time = time
        if line.get("stage") == "crawl" and line.get("action") == "started":
            if isinstance(time, str) and (not info.started or time < info.started):
                info.started = time
            if isinstance(line.get("spider"), str):
                info.spider = line["spider"]

    def latest(self) -> CrawlInfo | None:
        return max(self.crawls.values(), key=CrawlInfo.sort_key, default=None)

    def __len__(self) -> int:
        return len(self.crawls)


def index_crawls(paths: Iterable[str], stats: ReadStats | None = None) -> CrawlSet:
    """A quick pass over the files: which crawls, when each started, how many lines each.
    Lines the writer wrote are not parsed (the id is their first key), except ``crawl``
    lines; older lines are."""
    found = CrawlSet()
    tagger = Tagger()
    for path, raw in iter_lines(paths, stats):
        if raw.startswith(PREFIX):
            end = raw.find(b'"', len(PREFIX))
            if end > len(PREFIX):
                crawl = raw[len(PREFIX) : end].decode("utf-8", "replace")
                info = found.crawls.get(crawl)
                if info is not None and b'"stage": "crawl"' not in raw:
                    info.lines += 1
                    continue
                found.note(crawl, _parse(raw) or {})
                continue
        line = _parse(raw)
        if line is None:
            continue
        found.note(tagger.crawl_of(path, line), line)
    return found


def _parse(raw: bytes) -> dict[str, Any] | None:
    if not raw.strip():
        return None
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    return line if isinstance(line, dict) else None


@dataclass
class Selection:
    """The crawls a command reports on: ``chosen`` ids (None: all) out of ``found``."""

    found: CrawlSet
    chosen: set[str] | None

    def includes(self, crawl: str) -> bool:
        return self.chosen is None or crawl in self.chosen

    def notice(self) -> str:
        """One sentence for the command's stderr: how many crawls, which one is used."""
        count = len(self.found)
        holds = f"{count:,} crawl{'' if count == 1 else 's'}"
        if self.chosen is None:
            return f"the logs hold {holds}; reporting on all of them (--all-crawls)"
        chosen = [self.found.crawls[c] for c in self.chosen if c in self.found.crawls]
        names = "; ".join(info.describe() for info in chosen) or ", ".join(sorted(self.chosen))
        if count <= 1:
            return f"the logs hold {holds}: {names}"
        return (
            f"the logs hold {holds}; reporting on {names}. "
            "Use --crawl ID for another one, --all-crawls for all of them"
        )


def select_crawls(
    paths: list[str],
    crawl: str | None = None,
    all_crawls: bool = False,
    stats: ReadStats | None = None,
) -> Selection:
    """The crawls to report on: *crawl* (an id), all of them, or by default the latest.
    :class:`CrawlError` when *crawl* is not in the files."""
    found = index_crawls(paths, stats)
    if all_crawls:
        return Selection(found, None)
    if crawl is not None:
        if crawl not in found.crawls:
            listed = ", ".join(list(found.crawls)[:20]) or "none"
            raise CrawlError(f"no crawl {crawl!r} in the logs; they hold: {listed}")
        return Selection(found, {crawl})
    latest = found.latest()
    return Selection(found, {latest.id} if latest is not None else None)


def read_records(
    paths: Iterable[str],
    selection: Selection | None = None,
    stats: ReadStats | None = None,
    counts: LineCounts | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, line)`` for each parsed line of the selected crawls (all with no
    *selection*); blank lines are skipped, unreadable ones counted in *counts*."""
    tagger = Tagger()
    counts = counts if counts is not None else LineCounts()
    for path, raw in iter_lines(paths, stats):
        if not raw.strip():
            continue
        counts.lines[path] = counts.lines.get(path, 0) + 1
        try:
            line = json.loads(raw)
        except ValueError:
            counts.bad += 1
            continue
        if not isinstance(line, dict):
            counts.bad += 1
            continue
        crawl = tagger.crawl_of(path, line)
        if selection is not None and not selection.includes(crawl):
            counts.skipped += 1
            continue
        yield path, line


@dataclass
class LineCounts:
    """Lines read per file, lines that did not parse, lines of crawls not selected."""

    lines: dict[str, int] = field(default_factory=dict)
    bad: int = 0
    skipped: int = 0
