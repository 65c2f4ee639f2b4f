"""What the policy layer needs from the plugin's extension (which owns the fetcher): the
crawler, the configuration, counting, once-per-origin warnings, the audit log and the evidence
archive. A
protocol, so that ``policy/`` does not import the layer above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.policy.origin import PolicyRecord
    from scrapy_ccsignals.records.warc import EvidenceArchive


class FetcherHost(Protocol):
    crawler: Crawler
    cfg: Config
    evidence: EvidenceArchive

    def inc(self, key: str, count: int = 1) -> None: ...

    def warn_once(self, origin: str, kind: str, msg: str, *args: Any) -> None: ...

    def audit_policy(self, origin: str, record: PolicyRecord) -> None: ...
