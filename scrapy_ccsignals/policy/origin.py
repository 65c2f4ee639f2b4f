"""An origin (scheme, host, port) and the policy files fetched for it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import ParseResult, SplitResult, urlsplit

from scrapy_ccsignals.signals.robots import RobotsRules
from scrapy_ccsignals.signals.tdmrep import TdmEntry

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
        return data


@dataclass(slots=True)
class OriginPolicy:
    origin: str
    robots: RobotsRules
    robots_record: PolicyRecord
    tdmrep: list[TdmEntry] | None  # None: the origin does not use TDMRep
    tdmrep_record: PolicyRecord
    expires: float  # time.monotonic() after which the policy is refetched

    @property
    def robots_url(self) -> str:
        return f"{self.origin}/robots.txt"

    @property
    def tdmrep_url(self) -> str:
        return self.tdmrep_record.url
