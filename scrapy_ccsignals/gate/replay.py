"""Re-deciding a crawled item offline, from its provenance and the evidence archive
(``scrapy ccsignals-replay``; issue 29 item 3).

Nothing is fetched: the policy documents a decision rested on are read back from the WARC
records that provenance names (``warc_record_id``), parsed by the crawl's own code, and the
decision is made again by the crawl's own use gate:

- when the response itself was archived (``CCSIGNALS_EVIDENCE_RESPONSES``), it is rebuilt
  as Scrapy built it and evaluated whole, as in the crawl: headers, page, file metadata,
  RSL licences. Any purpose and any accepted conditions can be decided this way;
- otherwise the page's own signals come from provenance (``signals``, layers ``header``,
  ``html``, ``file``): for the crawl's purpose with their recorded effect (and any
  accepted conditions, since conditional signals keep their conditions); for another
  purpose read again as written (:mod:`.written`; every statement is recorded, also those
  silent for the crawl's purpose). A record from before signals were recorded as written
  (no ``signals_as_written``), or whose page signals were cut at the cap, is
  *undecidable* for another purpose, never guessed.

An item is undecidable too when a document it rested on was fetched but is not in the
archive (or its bytes do not match their digest), or when it has no provenance record.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from scrapy_ccsignals.gate.facts import facts_of_response
from scrapy_ccsignals.gate.filemeta import read_file_metadata, wants_file_metadata
from scrapy_ccsignals.gate.recheck import Fresh, access_denial, recheck_record
from scrapy_ccsignals.gate.usegate import evaluate, rsl_urls
from scrapy_ccsignals.gate.written import Unreadable, as_written
from scrapy_ccsignals.policy.origin import OriginPolicy, origin_of
from scrapy_ccsignals.policy.store import RawFile, StoredPolicy
from scrapy_ccsignals.records.feeds import FeedStats, Progress, iter_items
from scrapy_ccsignals.records.recheck import provenance_of
from scrapy_ccsignals.signals import rsl
from scrapy_ccsignals.signals.pathmatch import url_path

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.records.warc import ArchivedResponse, EvidenceReader

REPRODUCED = "reproduced"
MISMATCH = "mismatch"
UNDECIDABLE = "undecidable"
#: RSL licences read for one response at most, as in the crawl.
MAX_RSL_PER_RESPONSE = 4
ORIGIN_KINDS = ("robots.txt", "tdmrep.json")


class Undecidable(Exception):
    """The evidence cannot decide this item; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """One item re-decided: ``decision`` (``allow``, ``deny``, ``forbidden``, or None when
    undecidable), its conditions and reasons, and how: ``response`` (the archived response
    re-evaluated) or ``provenance`` (the recorded page signals)."""

    decision: str | None
    conditions: tuple[str, ...]
    reasons: tuple[str, ...]
    basis: str

    @property
    def kept(self) -> bool:
        return self.decision == "allow"


class Replayer:
    def __init__(
        self,
        cfg: Config,
        evidence: EvidenceReader,
        build_policy: Callable[[Config, str, StoredPolicy], OriginPolicy],
        cache_size: int = 4096,
    ):
        self.cfg = cfg
        self.evidence = evidence
        self._build_policy = build_policy
        self._cache_size = cache_size
        #: parsed policies and RSL documents by the record ids they came from (bounded)
        self._policies: dict[tuple[str | None, ...], OriginPolicy] = {}
        self._rsl: dict[str, rsl.RslDocument | None] = {}

    # --- documents --------------------------------------------------------------------

    def _raw(self, entry: dict[str, Any]) -> RawFile:
        """The file a provenance ``policies[]`` entry describes, from the archive."""
        url = str(entry.get("url") or "")
        status = entry.get("status")
        if status is None:  # not fetched: unreachable, refused or pending; nothing to read
            return RawFile(url, None, None, str(entry.get("detail") or ""), url)
        record_id = entry.get("warc_record_id")
        if not record_id:
            raise Undecidable(f"{entry.get('kind')} {url} was fetched but not archived")
        archived = self.evidence.get(str(record_id))
        if archived is None:
            raise Undecidable(
                f"{entry.get('kind')} {url}: record {record_id} is not in the evidence "
                "(or does not match its digest)"
            )
        return RawFile(url, archived.status, archived.body, "", archived.url or url, record_id)

    def _bounded(self, cache: dict[Any, Any]) -> None:
        if len(cache) >= self._cache_size:
            cache.pop(next(iter(cache)))

    def policy(self, origin: str, record: dict[str, Any]) -> OriginPolicy:
        entries = {p.get("kind"): p for p in record.get("policies") or [] if isinstance(p, dict)}
        robots_entry = entries.get("robots.txt")
        if robots_entry is None:
            raise Undecidable("provenance names no robots.txt")
        tdm_entry = entries.get("tdmrep.json")
        key = (
            robots_entry.get("warc_record_id") or repr(sorted(robots_entry.items())),
            (tdm_entry or {}).get("warc_record_id") or repr(sorted((tdm_entry or {}).items())),
        )
        known = self._policies.get(key)
        if known is not None:
            return known
        robots_raw = self._raw(robots_entry)
        tdm_raw = None
        if tdm_entry is not None and tdm_entry.get("outcome") != "pending":
            tdm_raw = self._raw(tdm_entry)
        # Read as just fetched: the evidence decides, however old it is (an archived
        # tdmrep.json stamped 1970 was taken for expired, as if never fetched).
        stored = StoredPolicy(robots_raw, tdm_raw, time.time())
        policy = self._build_policy(self.cfg, origin, stored)
        self._bounded(self._policies)
        self._policies[key] = policy
        return policy

    def rsl_documents(self, record: dict[str, Any]) -> tuple[Fresh, dict[str, rsl.RslDocument]]:
        """The RSL documents provenance lists, parsed from the archive (None: the crawl
        could not use it either, so it has no effect)."""
        fresh = Fresh()
        docs: dict[str, rsl.RslDocument] = {}
        for entry in record.get("policies") or []:
            if not isinstance(entry, dict) or entry.get("kind") != "rsl":
                continue
            url = str(entry.get("url") or "")
            doc = self._rsl_document(entry)
            fresh.rsl_docs[url] = doc
            fresh.rsl_records[url] = entry
            if doc is not None:
                docs[url] = doc
        return fresh, docs

    def _rsl_document(self, entry: dict[str, Any]) -> rsl.RslDocument | None:
        record_id = entry.get("warc_record_id")
        if record_id and record_id in self._rsl:
            return self._rsl[record_id]
        raw = self._raw(entry)
        doc = None
        if raw.status is not None and 200 <= raw.status < 300:
            try:
                doc = rsl.parse_rsl(
                    raw.body or b"", raw.final_url or raw.url, max_bytes=self.cfg.rsl_max_bytes
                )
            except rsl.RslError:
                doc = None
        if record_id:
            self._bounded(self._rsl)
            self._rsl[record_id] = doc
        return doc

    # --- deciding ---------------------------------------------------------------------

    def replay(self, record: dict[str, Any] | None) -> Replayed:
        try:
            return self._replay(record)
        except Undecidable as exc:
            return Replayed(None, (), (str(exc),), UNDECIDABLE)

    def _replay(self, record: dict[str, Any] | None) -> Replayed:
        if record is None:
            raise Undecidable("no provenance record")
        url = record.get("url")
        if not isinstance(url, str) or record.get("decision") not in ("allow", "deny"):
            raise Undecidable(f"not checked by the crawl (decision {record.get('decision')!r})")
        origin = origin_of(url)
        if origin is None:
            raise Undecidable(f"not an http(s) URL: {url!r}")
        policy = self.policy(origin, record)
        fresh, docs = self.rsl_documents(record)
        denial = access_denial(policy, url)
        if denial is not None:
            return Replayed("forbidden", (), (denial,), "robots.txt")
        if record.get("warc_record_id"):
            archived = self.evidence.get(str(record["warc_record_id"]))
            if archived is None:
                raise Undecidable(
                    f"response record {record['warc_record_id']} is not in the evidence "
                    "(or does not match its digest)"
                )
            return self._from_response(archived, policy, docs)
        stored = None
        if record.get("purpose") != self.cfg.purpose:
            try:
                stored = as_written(self.cfg, record)
            except Unreadable as exc:
                raise Undecidable(f"the response was not archived and {exc}") from None
        fresh.policies[origin] = policy
        outcome = recheck_record(self.cfg, record, origin, fresh, "", stored)
        if outcome.decision not in ("allow", "deny", "forbidden"):
            raise Undecidable("; ".join(outcome.reasons))
        conditions = tuple((outcome.record or {}).get("conditions") or ())
        return Replayed(outcome.decision, conditions, outcome.reasons, "provenance")

    def _from_response(
        self, archived: ArchivedResponse, policy: OriginPolicy, docs: dict[str, rsl.RslDocument]
    ) -> Replayed:
        """The archived response evaluated as the crawl evaluated it."""
        headers = Headers()
        for name, value in archived.headers:
            if name.lower().startswith("x-ccsignals-orig-"):
                continue  # described the bytes on the wire, not the stored payload
            headers.appendlist(name, value)
        cls = responsetypes.from_args(headers=headers, url=archived.url, body=archived.body)
        response = cls(
            url=archived.url, status=archived.status or 200, headers=headers, body=archived.body
        )
        facts = facts_of_response(self.cfg, response, url_path(archived.url))
        body = archived.body
        if (
            not facts.html
            and body
            and self.cfg.asset_scan_bytes
            and wants_file_metadata(facts.content_type, body)
        ):
            from scrapy_ccsignals.signals.c2pa import c2pa_installed

            facts.asset, facts.c2pa = read_file_metadata(
                body[: self.cfg.asset_scan_bytes], facts.content_type, c2pa_installed()
            )
        named = rsl_urls(facts, policy)[:MAX_RSL_PER_RESPONSE]
        documents = {u: docs[u] for u in named if u in docs}
        evaluation = evaluate(self.cfg, facts, policy, documents)
        decision = evaluation.decision
        return Replayed(decision.decision, decision.conditions, decision.reasons, "response")


def recorded_decision(record: dict[str, Any] | None) -> tuple[str | None, tuple[str, ...]]:
    """The decision and conditions the crawl recorded."""
    if record is None:
        return None, ()
    return record.get("decision"), tuple(record.get("conditions") or ())


#: Mismatched or undecidable items kept for the listing.
MAX_LISTED = 50


@dataclass
class ReplayRun:
    """What a replay of feed files found: counts (``items``, each decision or
    ``undecidable``, ``status <status>``), the same per origin, the first items that were
    not reproduced (or not decidable), and what reading the feeds met."""

    totals: Counter[str] = field(default_factory=Counter)
    per_origin: dict[str, Counter[str]] = field(default_factory=dict)
    listed: list[tuple[int, Any, Any, Replayed, str]] = field(default_factory=list)
    feed: FeedStats = field(default_factory=FeedStats)


def status_of(record: dict[str, Any] | None, replayed: Replayed, question: bool) -> str:
    """``reproduced`` / ``mismatch`` (checking the crawl), ``answered`` (a question), or
    ``undecidable``."""
    if replayed.decision is None:
        return UNDECIDABLE
    if question:
        return "answered"
    recorded = (record or {}).get("decision")
    conditions = tuple((record or {}).get("conditions") or ())
    if recorded == replayed.decision and conditions == replayed.conditions:
        return REPRODUCED
    return MISMATCH


def replay_items(
    paths: list[str],
    field_name: str,
    replayer_for: Callable[[dict[str, Any] | None], Replayer],
    question: bool,
    each: Callable[[int, str, Any, Any, Replayed, str], None] | None = None,
    progress: Progress | None = None,
) -> ReplayRun:
    """Replay every item of the feeds, one at a time (nothing of an item is kept after
    it: memory grows with origins, not items); *each* gets every item's outcome."""
    run = ReplayRun()
    index = 0
    try:
        for path, item in iter_items(paths, run.feed, progress):
            index += 1
            record = provenance_of(item, field_name)
            replayed = replayer_for(record).replay(record)
            url = (record or {}).get("url") or item.get("url")
            origin = origin_of(url) if isinstance(url, str) else None
            status = status_of(record, replayed, question)
            outcome = replayed.decision or UNDECIDABLE
            tally = run.per_origin.get(origin or "(no provenance)")
            if tally is None:
                tally = run.per_origin[origin or "(no provenance)"] = Counter()
            for counter in (tally, run.totals):
                counter["items"] += 1
                counter[outcome] += 1
            run.totals[f"status {status}"] += 1
            if status in (MISMATCH, UNDECIDABLE) and len(run.listed) < MAX_LISTED:
                run.listed.append((index, url, record, replayed, status))
            if each is not None:
                each(index, path, url, record, replayed, status)
    finally:
        if progress is not None:
            progress.done()
    return run


__all__ = [
    "MISMATCH",
    "REPRODUCED",
    "UNDECIDABLE",
    "ReplayRun",
    "Replayed",
    "Replayer",
    "Undecidable",
    "replay_items",
    "status_of",
]
