"""Licence documents fetched by URL: RSL 1.0 files named by robots.txt ``License:`` lines,
``Link`` headers and ``<link rel="license" type="application/rsl+xml">`` (SIGNALS.md, RSL).

Each document is fetched once per crawl (and per ``CCSIGNALS_POLICY_MAX_AGE``) through the
policy fetcher's own download path, so it gets the same byte cap, timeout, ``dont_cache``,
http/https-only redirects and audit ``policy`` line as robots.txt; it is kept in the policy
store under ``rsl <url>``, so the workers of a distributed crawl fetch it once. Requests that
need a document while it is in flight wait for the same result. A document that cannot be
fetched or is not valid RSL has no effect: recorded, counted, warned about once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from scrapy_ccsignals.policy import ages
from scrapy_ccsignals.policy.download import REFUSED
from scrapy_ccsignals.policy.guard import NamedFetchGuard
from scrapy_ccsignals.policy.origin import PolicyRecord, origin_of
from scrapy_ccsignals.policy.store import RawFile, StoredPolicy
from scrapy_ccsignals.records.audit import iso_time, utc_now
from scrapy_ccsignals.signals import rsl

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.fetcher import PolicyFetcher

KIND = "rsl"
#: Documents kept parsed at once; older ones are re-read from the store or refetched.
MAX_DOCUMENTS = 4096
#: Times a page that waited on a fetch refused for another page asks again for itself
#: (past it, the refusal stands: no effect, the conservative side).
MAX_REFUSED_WAITS = 3


@dataclass(frozen=True, slots=True)
class LicenseDocument:
    """One RSL document as the use gate sees it: parsed, or why not (``doc`` None)."""

    url: str
    doc: rsl.RslDocument | None
    record: PolicyRecord
    expires: float
    #: the redirect targets followed to fetch it, checked again for every page reusing it
    hops: tuple[str, ...] = ()


class RslDocuments:
    def __init__(self, fetcher: PolicyFetcher):
        self.fetcher = fetcher
        self.host = fetcher.runtime
        self.guard = NamedFetchGuard(fetcher.runtime, fetcher)
        self._docs: dict[str, LicenseDocument] = {}
        self._waiters: dict[str, list[Deferred[LicenseDocument]]] = {}

    async def get(self, url: str, page_origin: str | None = None) -> LicenseDocument:
        """The document at *url*, named by a response of *page_origin*: refused (recorded,
        no effect) unless the page may make the crawler fetch it (:mod:`.guard`)."""
        if urlsplit(url).scheme.lower() in ("http", "https"):
            why = await self._refusal(url, page_origin)
            if why is not None:
                return self._refused(url, why, page_origin)
        document, checked = await self._kept_or_loaded(url, page_origin)
        for _ in range(MAX_REFUSED_WAITS):
            if checked or document.record.outcome != REFUSED:
                break
            # Refused for the page whose fetch this one waited on: a refusal depends on
            # the page (and is not kept), so this page asks again, for itself.
            document, checked = await self._kept_or_loaded(url, page_origin)
        if not checked:
            # Kept for another page (or another worker): its redirects must be ones this
            # page may make the crawler follow too, or it is refused for this page.
            for hop in document.hops:
                why = await self._refusal(hop, page_origin)
                if why is not None:
                    return self._refused(url, f"redirected to {hop[:200]}: {why}", page_origin)
        return document

    async def _refusal(self, url: str, page_origin: str | None) -> str | None:
        try:
            return await self.guard.refusal(urlsplit(url), page_origin)
        except Exception as exc:  # a bug of ours: refuse, never fetch unchecked
            return f"internal error: {exc!r}"

    async def _kept_or_loaded(
        self, url: str, page_origin: str | None
    ) -> tuple[LicenseDocument, bool]:
        """The document, and whether its redirect hops were checked for *page_origin* (it
        was downloaded for this page) rather than kept from another's fetch."""
        known = self._docs.get(url)
        if known is not None and known.expires > monotonic():
            return known, False
        waiters = self._waiters.get(url)
        if waiters is not None:
            waiter: Deferred[LicenseDocument] = Deferred()
            waiters.append(waiter)
            return await maybe_deferred_to_future(waiter), False
        self._waiters[url] = []
        document = None
        checked = False
        try:
            document, checked = await self._load(url, page_origin)
        finally:
            if document is None:  # an unexpected error: no effect, like an unreachable file
                failed = RawFile(url, None, None, "internal error", url)
                document = self._document(url, failed, time.time(), False)
            if document.record.outcome != REFUSED:  # a refusal depends on the page
                if len(self._docs) >= MAX_DOCUMENTS:
                    self._docs.pop(next(iter(self._docs)))
                self._docs[url] = document
            for waiter in self._waiters.pop(url, []):
                waiter.callback(document)
        return document, checked

    async def _load(self, url: str, page_origin: str | None) -> tuple[LicenseDocument, bool]:
        """The document from the store (hops not checked for this page) or downloaded
        with each hop checked for *page_origin*."""
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raw = RawFile(url, None, None, "not an http(s) URL", url)
            return self._document(url, raw, time.time(), False), True
        key = f"{KIND} {url}"
        stored = await self.fetcher.store_call("get", key)
        if (
            stored is not None
            and ages.age_left(self.host.cfg, stored.robots, stored.fetched_at, KIND) > 0
        ):
            self.host.inc("ccsignals/policy/store_hit")
            return self._document(url, stored.robots, stored.fetched_at, True), False

        async def check(hop: str) -> str | None:
            return await self.guard.refusal(urlsplit(hop), page_origin)

        raw = await self.fetcher.download(KIND, url, self.host.cfg.rsl_max_bytes, check)
        fetched_at = time.time()
        if raw.error.startswith(REFUSED):
            return self._refused(url, raw.error.split(": ", 1)[-1], page_origin), True
        ttl = ages.max_age(self.host.cfg, raw, KIND)
        await self.fetcher.store_call("put", key, StoredPolicy(raw, raw, fetched_at), ttl)
        return self._document(url, raw, fetched_at, False), True

    def _refused(self, url: str, why: str, page_origin: str | None) -> LicenseDocument:
        """A document the page may not make the crawler fetch: recorded, counted, warned
        about once per page origin, no effect; nothing was sent to it."""
        origin = page_origin or url
        self.host.inc(f"ccsignals/rsl/{REFUSED}")
        self.host.warn_once(
            origin,
            "rsl_refused",
            "RSL licence %s named by a response of %s is not fetched (%s); it has no effect",
            url,
            origin,
            why,
        )
        record = PolicyRecord(KIND, url, None, utc_now(), None, REFUSED, why)
        self.host.audit_policy(origin, record)
        return LicenseDocument(url, None, record, 0.0)

    def _document(self, url: str, raw: RawFile, fetched_at: float, cached: bool) -> LicenseDocument:
        doc = None
        detail = raw.error
        if raw.status is None:
            outcome = "unreachable"
        elif not 200 <= raw.status < 300:
            outcome, detail = "unreachable", f"HTTP {raw.status}"
        else:
            try:
                doc = rsl.parse_rsl(
                    raw.body or b"", raw.final_url or url, max_bytes=self.host.cfg.rsl_max_bytes
                )
            except rsl.RslError as exc:
                outcome, detail = "invalid", str(exc)[:300]
            else:
                outcome = "parsed"
        origin = origin_of(url) or url
        self.host.inc(f"ccsignals/rsl/{outcome}")
        if doc is None:
            self.host.warn_once(
                url,
                "rsl",
                "RSL licence %s is not usable (%s: %s); it has no effect",
                url,
                outcome,
                detail,
            )
        record = PolicyRecord.of_file(KIND, raw, iso_time(fetched_at), outcome, detail, cached)
        self.host.audit_policy(origin, record)
        expires = monotonic() + ages.age_left(self.host.cfg, raw, fetched_at, KIND)
        return LicenseDocument(url, doc, record, expires, raw.hops)
