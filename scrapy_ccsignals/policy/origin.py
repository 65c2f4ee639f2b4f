"""An origin (scheme, host, port) and the policy files fetched for it."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, SplitResult, urljoin, urlsplit

from scrapy_ccsignals.signals.base import LAYER_TDMREP
from scrapy_ccsignals.signals.license import License, make_license
from scrapy_ccsignals.signals.pathmatch import PathPattern, prepare_pattern
from scrapy_ccsignals.signals.robots import RobotsRules
from scrapy_ccsignals.signals.rsl import rsl_license_urls
from scrapy_ccsignals.signals.tdmrep import TdmEntry, TdmStatement
from scrapy_ccsignals.signals.usage_lines import UsageLines

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.store import RawFile

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` for http(s) URLs; None for anything else (data:, file:...).

    Policy is never shared between http and https, or between ports.
    """
    try:
        return origin_of_parts(urlsplit(url))
    except ValueError:
        return None


def origin_of_parts(parts: SplitResult | ParseResult) -> str | None:
    """:func:`origin_of` for an already parsed URL (e.g. Scrapy's ``urlparse_cached``)."""
    return _origin(parts.scheme, parts.netloc)


@lru_cache(maxsize=65536)
def _origin(scheme: str, netloc: str) -> str | None:
    # Memoised: every request and response of an origin asks, and the hostname/port
    # properties of a parsed URL re-split the netloc on each access.
    parts = SplitResult(scheme, netloc, "", "", "")
    scheme = scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """How one policy file was fetched, for provenance and the audit log."""

    kind: str  # "robots.txt" or "tdmrep.json"
    url: str
    status: int | None
    fetched_at: str
    sha256: str | None
    outcome: str
    detail: str = ""
    cached: bool = False
    #: the evidence archive's response record of this file (None: not archived)
    warc_record_id: str | None = None

    @classmethod
    def of_file(
        cls, kind: str, raw: RawFile, fetched_at: str, outcome: str, detail: str, cached: bool
    ) -> PolicyRecord:
        """The record of a file as fetched (*fetched_at* ISO 8601): its URL, status, the
        SHA-256 of its body and its evidence record; *outcome* and *detail* as read."""
        return cls(
            kind,
            raw.url,
            raw.status,
            fetched_at,
            hashlib.sha256(raw.body).hexdigest() if raw.body is not None else None,
            outcome,
            detail,
            cached,
            raw.warc_record_id,
        )

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "url": self.url,
            "status": self.status,
            "fetched_at": self.fetched_at,
            "sha256": self.sha256,
            "outcome": self.outcome,
            "cached": self.cached,
        }
        if self.detail:
            data["detail"] = self.detail
        if self.warc_record_id:
            data["warc_record_id"] = self.warc_record_id
        return data


def tdmrep_statement(tdmrep_url: str, entry: TdmEntry) -> TdmStatement:
    """The statement of one tdmrep.json entry, its raw text as the entry's JSON."""
    raw = json.dumps(
        {
            "location": entry.location,
            "tdm-reservation": entry.reservation,
            "tdm-policy": entry.policy,
        }
    )
    return TdmStatement(LAYER_TDMREP, tdmrep_url, entry.reservation, entry.policy, raw)


@dataclass(slots=True)
class OriginPolicy:
    origin: str
    robots: RobotsRules
    robots_record: PolicyRecord
    tdmrep: list[TdmEntry] | None  # None: the origin does not use TDMRep
    tdmrep_record: PolicyRecord
    expires: float  # time.monotonic() after which the policy is refetched
    #: the statement of each tdmrep.json entry, in entry order (:meth:`set_tdmrep`); with
    #: no entries, the one statement of an unreachable tdmrep.json for every path
    tdmrep_statements: tuple[TdmStatement, ...] = field(default=(), repr=False)
    #: time.monotonic() after which tdmrep.json is asked for again (an unreachable one)
    tdmrep_expires: float = math.inf
    #: robots.txt ``License:`` lines as licences, and the RSL documents among them
    licenses: tuple[License, ...] = field(default=(), repr=False)
    rsl_urls: tuple[str, ...] = field(default=(), repr=False)
    #: each tdmrep.json entry's location, compiled once (:meth:`set_tdmrep`)
    tdmrep_patterns: tuple[PathPattern, ...] = field(default=(), repr=False)
    #: the statement for a path none of the entries matches when entries past the cap
    #: were not read (:data:`~scrapy_ccsignals.signals.tdmrep.MAX_TDMREP_ENTRIES`)
    tdmrep_past_cap: TdmStatement | None = field(default=None, repr=False)
    #: robots.txt's usage lines made ready for one reading (:meth:`usage_lines`)
    _usage: tuple[tuple[str, bool, str | None], UsageLines] | None = field(default=None, repr=False)
    #: the two records and their dicts (:meth:`record_dicts`)
    _dicts: tuple[PolicyRecord, PolicyRecord, dict[str, Any], dict[str, Any]] | None = field(
        default=None, repr=False
    )

    def __post_init__(self) -> None:
        if self.tdmrep and not self.tdmrep_statements:
            self.set_tdmrep(self.tdmrep, self.tdmrep_record)
        if self.robots.licenses and not self.licenses:
            self.licenses = robots_licenses(self.robots_url, self.robots.licenses)
            self.rsl_urls = tuple(rsl_license_urls(self.licenses))

    def set_tdmrep(
        self,
        entries: list[TdmEntry] | None,
        record: PolicyRecord,
        unreachable: TdmStatement | None = None,
        expires: float = math.inf,
        past_cap: TdmStatement | None = None,
    ) -> None:
        """tdmrep.json is known: its entries and record, and each entry's statement made
        once for every page that matches it. When it could not be read, *unreachable* is
        the statement for every path, until *expires* (monotonic time); when entries past
        the cap were left out, *past_cap* is the one for a path no entry matches."""
        self.tdmrep, self.tdmrep_record, self.tdmrep_expires = entries, record, expires
        self.tdmrep_past_cap = past_cap
        if unreachable is not None:
            self.tdmrep_statements = (unreachable,)
            return
        url = record.url
        self.tdmrep_statements = tuple(tdmrep_statement(url, e) for e in entries or ())
        self.tdmrep_patterns = tuple(prepare_pattern(e.location) for e in entries or ())

    def tdmrep_for(self, path: str) -> TdmStatement | None:
        """The statement of the first tdmrep.json entry whose location matches *path* (in
        comparison form; TDMRep section 3.2), the statement of an unreachable tdmrep.json,
        or None."""
        if self.tdmrep is None:
            return self.tdmrep_statements[0] if self.tdmrep_statements else None
        for pattern, statement in zip(self.tdmrep_patterns, self.tdmrep_statements, strict=True):
            if pattern.matches(path):
                return statement
        return self.tdmrep_past_cap

    def usage_lines(self, purpose: str, legacy: bool, content_use: str | None) -> UsageLines:
        """robots.txt's usage lines for the crawl's reading (purpose,
        ``CCSIGNALS_AIPREF_LEGACY``, ``CCSIGNALS_CONTENT_USE``), made ready the first time
        (when the policy is parsed) and kept with the policy."""
        key = (purpose, legacy, content_use)
        if self._usage is None or self._usage[0] != key:
            lines = UsageLines(
                self.robots, purpose, self.robots_url, legacy=legacy, content_use=content_use
            )
            self._usage = (key, lines)
        return self._usage[1]

    def record_dicts(self) -> list[dict[str, Any]]:
        """The robots.txt and tdmrep.json records as provenance lists them, each a new dict
        (a response's record owns its dicts): made once per pair of records, not per page."""
        kept = self._dicts
        robots, tdmrep = self.robots_record, self.tdmrep_record
        if kept is None or kept[0] is not robots or kept[1] is not tdmrep:
            kept = self._dicts = (robots, tdmrep, robots.as_dict(), tdmrep.as_dict())
        return [dict(kept[2]), dict(kept[3])]

    @property
    def robots_url(self) -> str:
        return f"{self.origin}/robots.txt"

    @property
    def tdmrep_url(self) -> str:
        return self.tdmrep_record.url


def robots_licenses(robots_url: str, values: tuple[str, ...]) -> tuple[License, ...]:
    """robots.txt ``License:`` lines as licences (RSL documents, SIGNALS.md RSL), their URLs
    resolved against robots.txt's own URL; they apply to every page of the origin."""
    return tuple(
        make_license(
            v if v.startswith(("https://", "http://")) else urljoin(robots_url, v),
            "robots.txt License",
            v,
            rsl=True,
        )
        for v in values
    )
