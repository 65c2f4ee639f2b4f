"""Dataset re-check (``scrapy ccsignals-recheck``), the parts that need no network: reading
feed files as Scrapy writes them, a first pass that surveys a dataset's origins, the stored
page-level signals of an item, and the per-origin account of what changed.

Feeds are read streaming, one item at a time, so memory grows with the number of origins
and RSL licences, not of items: JSON lines (``.jsonl``/``.jl``), a JSON array (``.json``,
read incrementally) and CSV (``.csv``; the provenance column holds the record as JSON, or
as the Python literal Scrapy's ``CsvItemExporter`` writes for a dict). Stdlib and signals
only (docs/development.md, "Layout"); the re-decision itself, which needs the use gate, is in
``gate/recheck.py``.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy_ccsignals.records.feeds import FeedStats, Progress, iter_items
from scrapy_ccsignals.records.report import printable
from scrapy_ccsignals.records.words import counted
from scrapy_ccsignals.signals.base import LAYER_FILE, LAYER_HEADER, LAYER_HTML, Signal

#: Layers of a response's own signals, kept from the item's provenance.
PAGE_LAYERS = frozenset({LAYER_HEADER, LAYER_HTML, LAYER_FILE})
#: Origin-level policy files, fetched again by the re-check.
POLICY_KINDS = ("robots.txt", "tdmrep.json")
#: Distinct reasons kept per origin in the change report; the rest are counted as "other".
MAX_REASONS = 8


class FeedError(ValueError):
    """A feed file that cannot be read; the message names the file and why."""


def read_feeds(paths: Iterable[Path], progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """The items of the feed files, in order, one at a time (``records/feeds.py``). Unlike
    the credits and the card, a re-check refuses a feed with entries that are not items
    (a torn line): such an item would be neither kept nor withdrawn."""
    stats = FeedStats()
    for path in paths:
        if not path.is_file():
            raise FeedError(f"{path}: cannot open (no such file)")
        try:
            for _, item in iter_items([str(path)], stats, progress):
                yield item
        except OSError as exc:
            raise FeedError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if stats.bad:
            raise FeedError(
                f"{path}: {stats.bad} entries are not items (a line or element that does not "
                "parse, or is not a JSON object); fix or remove them and re-check"
            )


def provenance_of(item: dict[str, Any], field_name: str) -> dict[str, Any] | None:
    """The item's provenance record, parsed when it is text (a CSV cell); None when the item
    has none or it is not a record."""
    value = item.get(field_name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError:
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    return value if isinstance(value, dict) else None


def signal_from_dict(data: Any) -> Signal:
    """A :class:`Signal` back from its provenance form (``Signal.as_dict``)."""
    if not isinstance(data, dict):
        raise ValueError(f"not a signal: {data!r}"[:200])
    conditions = data.get("conditions") or ()
    return Signal(
        family=str(data["family"]),
        layer=str(data["layer"]),
        source=str(data.get("source", "")),
        effect=str(data["effect"]),
        raw=str(data.get("raw", "")),
        value=str(data.get("value", "")),
        conditions=tuple(str(c) for c in conditions),
        all_required=bool(data.get("all_required")),
    )


def stored_signals(record: dict[str, Any]) -> list[Signal]:
    """Every signal of the record; ``ValueError`` when one is not readable."""
    signals = record.get("signals") or []
    if not isinstance(signals, list):
        raise ValueError("signals is not a list")
    try:
        return [signal_from_dict(s) for s in signals]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a stored signal lacks {exc}") from None


def page_rsl_urls(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The RSL licences the page itself named (``Link`` header, ``<link>``), with their
    layer: licence signals of a page layer whose URL the crawl fetched as an RSL document."""
    fetched = {
        p.get("url")
        for p in record.get("policies") or []
        if isinstance(p, dict) and p.get("kind") == "rsl"
    }
    if not fetched:
        return []
    found: dict[str, str] = {}
    for s in record.get("signals") or []:
        if (
            isinstance(s, dict)
            and s.get("family") == "license"
            and s.get("layer") in PAGE_LAYERS
            and s.get("value") in fetched
        ):
            found.setdefault(str(s["value"]), str(s["layer"]))
    return list(found.items())


def origin_hashes(record: dict[str, Any]) -> dict[str, str | None]:
    """The sha256 of each origin-level policy file the record was decided with."""
    return {
        str(p["kind"]): p.get("sha256")
        for p in record.get("policies") or []
        if isinstance(p, dict) and p.get("kind") in POLICY_KINDS
    }


@dataclass
class OriginSurvey:
    items: int = 0
    #: kind -> the policy file hashes the items were decided with (a few at most)
    hashes: dict[str, set[str | None]] = field(default_factory=dict)


@dataclass
class Survey:
    """What the first pass learns: the dataset's origins, page-level RSL licences and
    purposes. Memory: per origin and per licence, never per item."""

    items: int = 0
    without_provenance: int = 0
    origins: dict[str, OriginSurvey] = field(default_factory=dict)
    rsl_urls: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)

    def add(self, record: dict[str, Any] | None, origin: str | None) -> None:
        self.items += 1
        if record is None or origin is None:
            self.without_provenance += 1
            return
        if isinstance(record.get("purpose"), str):
            self.purposes.add(record["purpose"])
        entry = self.origins.setdefault(origin, OriginSurvey())
        entry.items += 1
        for kind, digest in origin_hashes(record).items():
            seen = entry.hashes.setdefault(kind, set())
            if len(seen) < 4:
                seen.add(digest)
        self.rsl_urls.update(url for url, _ in page_rsl_urls(record))


@dataclass
class OriginChanges:
    """The re-check's account of one origin: items kept and withdrawn, and why."""

    kept: int = 0
    withdrawn: int = 0
    newly_withdrawn: int = 0
    newly_allowed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)

    def add(self, old: str | None, new: str, reasons: Iterable[str]) -> None:
        if new == "allow":
            self.kept += 1
            if old != "allow":
                self.newly_allowed += 1
            return
        self.withdrawn += 1
        if old == "allow":
            self.newly_withdrawn += 1
        for reason in reasons:
            bump(self.reasons, reason)

    def note(self, text: str) -> None:
        bump(self.notes, text)


def bump(counter: Counter[str], key: str) -> None:
    """Count *key*, folding keys past :data:`MAX_REASONS` into ``other``."""
    if key in counter or len(counter) < MAX_REASONS:
        counter[key] += 1
    else:
        counter["other"] += 1


def short_hash(digest: str | None) -> str:
    return digest[:12] if digest else "none"


def policy_change(kind: str, before: set[str | None], fresh: dict[str, Any] | None) -> str:
    """One line: whether an origin's policy file changed since the crawl, by its hash."""
    if fresh is None:
        return f"{kind}: not fetched"
    now = fresh.get("sha256")
    what = f"{fresh.get('outcome')}, status {fresh.get('status')}"
    if fresh.get("detail"):
        what += f", {fresh['detail']}"
    if not before:
        return f"{kind}: {what} (not in the items' provenance)"
    if before == {now}:
        return f"{kind}: unchanged ({what})"
    old = ", ".join(sorted(short_hash(h) for h in before))
    if now is None:  # down or refused now: not a change, nothing read to compare
        return f"{kind}: could not be fetched now ({what}); the items rest on sha256 {old}"
    return f"{kind}: CHANGED sha256 {old} -> {short_hash(now)} ({what})"


def render_changes(
    changes: dict[str, OriginChanges], policy_lines: dict[str, list[str]], total: OriginChanges
) -> str:
    """What the re-check prints: per origin, its policy files (changed or not), items kept
    and withdrawn, and why; then the totals. Server text is escaped (SIGNALS.md, Bad input)."""
    out: list[str] = []
    for origin in sorted(changes):
        entry = changes[origin]
        head = f"{printable(origin)}: {entry.kept} kept, {entry.withdrawn} withdrawn"
        if entry.newly_withdrawn or entry.newly_allowed:
            head += f" ({entry.newly_withdrawn} newly withdrawn, {entry.newly_allowed} newly kept)"
        out.append(head)
        out += [f"  {printable(line)}" for line in policy_lines.get(origin, [])]
        for reason, count in entry.reasons.most_common():
            out.append(f"  withdrawn {count}: {printable(reason)}")
        for note, count in entry.notes.most_common():
            out.append(f"  note {count}: {printable(note)}")
    out.append(
        f"Total: {counted(total.kept + total.withdrawn, 'item')}, {total.kept} kept, "
        f"{total.withdrawn} withdrawn ({total.newly_withdrawn} newly withdrawn)"
    )
    return "\n".join(out)


class PageRecords:
    """The new provenance records of re-fetched pages (``--refetch-pages``), by the URL the
    item named, in a temporary SQLite file: a dataset's pages do not fit in memory."""

    COMMIT_EVERY = 1000

    def __init__(self, path: Path):
        import sqlite3

        self._db = sqlite3.connect(str(path))
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE IF NOT EXISTS page (url TEXT PRIMARY KEY, data TEXT);"
            "CREATE TABLE IF NOT EXISTS requested (url TEXT PRIMARY KEY);"
        )
        self._pending = 0

    def first_request(self, url: str) -> bool:
        """True the first time *url* is asked for (items of one page share its fetch)."""
        cursor = self._db.execute("INSERT OR IGNORE INTO requested VALUES (?)", (url,))
        self._written()
        return cursor.rowcount == 1

    def put(self, url: str, data: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO page VALUES (?, ?)", (url, json.dumps(data, default=str))
        )
        self._written()

    def get(self, url: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM page WHERE url = ?", (url,)).fetchone()
        return json.loads(row[0]) if row else None

    def _written(self) -> None:
        self._pending += 1
        if self._pending >= self.COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        self._db.commit()
        self._pending = 0

    def close(self) -> None:
        self._db.commit()
        self._db.close()
