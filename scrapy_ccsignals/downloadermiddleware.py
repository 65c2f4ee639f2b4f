"""Downloader middleware: the access gate on the way out, the use gate on the way back.

Requests of an origin whose robots.txt is not known yet are held before the scheduler
(:mod:`scrapy_ccsignals.policy.hold`), not in the downloader. ``process_request`` checks
every request against its origin's robots.txt and drops what it forbids (``IgnoreRequest``).
``process_response`` waits for the origin's tdmrep.json if it is still in flight, evaluates
the response's own signals on top of the origin's policy and stores the provenance record
on ``response.meta["ccsignals"]``; the spider middleware acts on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import DeferredList

from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.gate.facts import ResponseFacts, facts_of_response
from scrapy_ccsignals.gate.filemeta import file_attribution, wants_file_metadata
from scrapy_ccsignals.gate.provenance import build_record
from scrapy_ccsignals.gate.usegate import MAX_SIGNALS, Evaluation, evaluate, rsl_urls
from scrapy_ccsignals.media import MediaRecords
from scrapy_ccsignals.meta import (
    ATTRIBUTION_PENDING,
    META_KEY,
    OPT_OUT,
    response_url_parts,
)
from scrapy_ccsignals.policy.download import POLICY_META
from scrapy_ccsignals.policy.evidence import archive_exchange
from scrapy_ccsignals.policy.hold import WAITED_FOR, RequestHold
from scrapy_ccsignals.policy.origin import origin_of, origin_of_parts
from scrapy_ccsignals.records.audit import iso_time, utc_now
from scrapy_ccsignals.scrapy_compat import cached_at
from scrapy_ccsignals.signals.pathmatch import url_path_of_parts
from scrapy_ccsignals.signals.robots import MAX_ACCESS_RULES, UNREACHABLE

if TYPE_CHECKING:
    from urllib.parse import ParseResult

    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from scrapy_ccsignals.policy.origin import OriginPolicy
    from scrapy_ccsignals.signals.rsl import RslDocument

logger = logging.getLogger(__name__)


class ForbiddenByRobots(IgnoreRequest):
    """The access gate dropped the request: robots.txt forbids it (or is unreachable).
    ``reason`` says why, ``policy`` is the robots.txt file's provenance record."""

    def __init__(self, message: str, reason: str = "", policy: dict[str, Any] | None = None):
        super().__init__(message)
        self.reason = reason
        self.policy = policy or {}


class DeniedFile(IgnoreRequest):
    """The use gate denied a download the spider never sees (a file of Scrapy's media
    pipelines, or anything else fetched with ``engine.download_async``) in ``enforce`` mode:
    the pipeline records a failed download and stores nothing. ``record`` is the file's
    provenance record."""

    def __init__(self, message: str, record: dict[str, Any]):
        super().__init__(message)
        self.record = record


class ForbiddenByExclusion(IgnoreRequest):
    """The access gate dropped the request: its URL is on one of the operator's exclusion
    lists (``CCSIGNALS_EXCLUDE``). ``reason`` names the list and the entry."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason


#: RSL licences read for one response at most (robots.txt ``License:`` lines first).
MAX_RSL_PER_RESPONSE = 4
#: Request meta key: ``(url, path)``, the URL the access gate let through and its path in
#: comparison form (a response under another URL is checked again by the use gate; one
#: under this URL reuses the path instead of normalising it again).
ACCESS_CHECKED = "_ccsignals_access_checked"
#: Request meta key: how many of ``redirect_urls`` are already in the audit log.
HOPS_AUDITED = "_ccsignals_hops_audited"


def opted_out(request: Request) -> bool:
    """Whether *request* is exempt from both gates (meta ``dont_obey_ccsignals``). The
    opt-out holds for the origin it was set on: a request it reached by a redirect to
    another origin is checked (unlike Scrapy's ``dont_obey_robotstxt``, which a redirect
    carries anywhere)."""
    meta = request.meta
    if not meta.get(OPT_OUT):
        return False
    redirected_from = meta.get("redirect_urls")
    if not redirected_from:
        return True
    return origin_of(redirected_from[0]) == origin_of_parts(urlparse_cached(request))


def _skip(request: Request) -> bool:
    return _skip_meta(request, request.meta)


def _skip_meta(request: Request, meta: dict[str, Any]) -> bool:
    """:func:`_skip` with the request's meta already at hand (``Request.meta`` is a
    property): the plugin's own policy fetches, and opted-out requests."""
    return bool(meta.get(POLICY_META)) or opted_out(request)


class CCSignalsDownloaderMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.runtime = CCSignalsExtension.of(crawler)
        self.cfg = self.runtime.cfg
        self.exclusions = self.runtime.exclusions if self.runtime.exclusions else None
        # Requests of origins whose robots.txt is not known yet wait outside the downloader;
        # an excluded request is not held (its origin's robots.txt is never fetched): it
        # goes on to be dropped in process_request.
        self.hold = RequestHold(crawler, self.runtime.fetcher, self._not_held, self.runtime.inc)
        self.runtime.hold = self.hold
        #: start requests the pacer counts until they get here (see policy/pacing.py)
        self._pacer = self.runtime.fetcher.pacer
        self._starts_on_the_way = self._pacer.starts_on_the_way
        # Stored files carry their record on the media pipelines' results.
        self.media = MediaRecords(crawler, self.runtime, META_KEY)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _not_held(self, request: Request) -> bool:
        return _skip(request) or (
            self.exclusions is not None
            and self.exclusions.match(urlparse_cached(request)) is not None
        )

    async def process_request(self, request: Request) -> Request | None:
        meta = request.meta
        if self._starts_on_the_way:
            self._pacer.arrived(request)
        if self.exclusions is not None:
            # First, for every request, the plugin's own policy fetches and opted-out
            # requests included: a listed site is never contacted.
            self._check_exclusions(request)
        # A record is this response's own: one copied along (``meta=response.meta``) from
        # the page that linked here must not be taken for this page's decision. (Tested
        # before deleting: most requests carry neither, and a lookup is cheaper than a pop.)
        if META_KEY in meta:
            del meta[META_KEY]
        if ATTRIBUTION_PENDING in meta:
            del meta[ATTRIBUTION_PENDING]
        if "redirect_urls" in meta and len(meta["redirect_urls"]) > meta.get(HOPS_AUDITED, 0):
            self._audit_redirect_hop(request)
        if _skip_meta(request, meta):
            return None
        parts = urlparse_cached(request)
        origin = origin_of_parts(parts)
        if origin is None:
            return None
        fetcher = self.runtime.fetcher
        policy = fetcher.fresh(origin)
        if policy is None and WAITED_FOR in meta:
            policy = fetcher.cached(origin)
            if policy is not None and policy.expires != meta[WAITED_FOR]:
                policy = None
        if policy is None:
            # A new origin, or a policy that expired or was evicted while the request sat
            # in the scheduler. Do not wait here, counted against the downloader's
            # concurrency: give it back to be held until robots.txt is known (see
            # policy/hold.py). Only once: a copy that comes back again (or a request sent
            # with engine.download_async, which never passes the scheduler) waits here,
            # for a fetch that starts at once (waiting for the downloader to have room
            # could wait for the requests waiting here).
            hold = self.hold
            if not hold.given_back(request):
                if fetcher.cached(origin) is not None:
                    self.runtime.inc("ccsignals/requests/requeued")
                return hold.give_back(request)
            policy = await fetcher.policy_for(origin, request, urgent=True)
        path = url_path_of_parts(parts)
        if policy.robots.can_fetch(request.url, path):
            meta[ACCESS_CHECKED] = (request.url, path)
            return None
        outcome = policy.robots.outcome
        why = (
            f"robots.txt unreachable ({policy.robots_record.status or policy.robots_record.detail})"
            if outcome == UNREACHABLE
            else f"disallowed by robots.txt group {policy.robots.group!r}"
        )
        if policy.robots.access_rules_dropped:
            why += f" (more than {MAX_ACCESS_RULES} rules: all disallowed)"
        self.runtime.inc("ccsignals/forbidden/robots.txt")
        self.runtime.inc(
            "ccsignals/forbidden/robots.txt/"
            + ("unreachable" if outcome == UNREACHABLE else "disallowed")
        )
        self.runtime.audit.event(
            url=request.url,
            origin=origin,
            stage="request",
            action="dropped",
            decision="forbidden",
            reasons=[f"{why}: {policy.robots_url}"],
        )
        logger.debug(
            "Forbidden by robots.txt (%s): %s", why, request, extra={"spider": self.crawler.spider}
        )
        raise ForbiddenByRobots(
            f"Forbidden by robots.txt ({why}): {request.url}",
            f"{why}: {policy.robots_url}",
            policy.robots_record.as_dict(),
        )

    def _check_exclusions(self, request: Request) -> None:
        assert self.exclusions is not None
        excluded = self.exclusions.match(urlparse_cached(request))
        if excluded is None:
            return
        reason = excluded.reason
        self.runtime.inc("ccsignals/forbidden/excluded")
        self.runtime.inc(f"ccsignals/forbidden/excluded/{excluded.label}")
        self.runtime.audit.event(
            url=request.url,
            origin=origin_of(request.url),
            stage="request",
            action="dropped",
            decision="forbidden",
            reasons=[reason],
            families=["excluded"],
            exclusion={"list": excluded.label, "entry": excluded.entry},
        )
        logger.debug("Forbidden (%s): %s", reason, request, extra={"spider": self.crawler.spider})
        raise ForbiddenByExclusion(f"Forbidden ({reason}): {request.url}", reason)

    def _audit_redirect_hop(self, request: Request) -> None:
        """The response that redirected here (a 3xx, or a page with a meta refresh) was
        downloaded but never reached this middleware: Scrapy's redirect middlewares turned
        it into this request. Log it once, from what they recorded in the meta."""
        meta = request.meta
        urls, reasons = meta["redirect_urls"], meta.get("redirect_reasons", [])
        meta[HOPS_AUDITED] = len(urls)
        source = urls[-1]
        reason = reasons[-1] if len(reasons) == len(urls) else None
        why = "meta refresh" if reason == "meta refresh" else f"HTTP {reason or '3xx'}"
        self.runtime.inc("ccsignals/responses/redirected")
        self.runtime.audit.event(
            url=source,
            origin=origin_of(source),
            stage="response",
            action="redirected",
            decision=None,
            reasons=[f"redirected ({why}) to {request.url}"],
            status=reason if isinstance(reason, int) else None,
        )

    async def process_response(self, request: Request, response: Response) -> Response:
        """facts -> policy -> evaluate -> record -> account."""
        if self._starts_on_the_way:  # a middleware before this one answered it
            self._pacer.arrived(request)
        if request.meta.get(POLICY_META):
            return response
        if opted_out(request):
            self._audit_opt_out(response)
            return response
        parts = response_url_parts(request, response)
        origin = origin_of_parts(parts)
        facts = self._facts(request, response, parts)
        policy = await self._policy(origin, request)
        documents, rsl_records = await self._rsl_documents(facts, origin, policy)
        if not facts.html:
            await self._file_facts(facts, response.body)
        evaluation = evaluate(self.cfg, facts, policy, documents)
        record = self._record(request, response, facts, evaluation, policy, rsl_records)
        self._account(response, origin, facts, evaluation, record)
        if request.callback is NO_CALLBACK:
            self._engine_download(response, origin, record)
        return response

    def _engine_download(
        self, response: Response, origin: str | None, record: dict[str, Any]
    ) -> None:
        """A download no spider callback sees (SIGNALS.md, Two gates, "Every path in" r3):
        a file of Scrapy's media pipelines, or anything fetched with
        ``engine.download_async``. No spider middleware can keep it out of the dataset, so
        in ``enforce`` a denied one is refused here (``DeniedFile``)."""
        inc = self.runtime.inc
        if record["decision"] != "deny":
            inc("ccsignals/files/passed")
            return
        enforce = self.cfg.mode == "enforce"
        inc("ccsignals/files/dropped" if enforce else "ccsignals/files/tagged_deny")
        self.runtime.audit.event(
            url=response.url,
            origin=origin,
            stage="file",
            action="dropped" if enforce else "tagged",
            decision="deny",
            reasons=record["reasons"],
        )
        if enforce:
            raise DeniedFile(
                f"Denied for {self.cfg.purpose} ({'; '.join(record['reasons'])}): {response.url}",
                record,
            )

    def _audit_opt_out(self, response: Response) -> None:
        self.runtime.audit.event(
            url=response.url,
            origin=origin_of(response.url),
            stage="response",
            action="fetched",
            decision=None,
            reasons=[f"not checked: request meta {OPT_OUT}"],
            status=response.status,
        )

    def _facts(self, request: Request, response: Response, parts: ParseResult) -> ResponseFacts:
        checked = request.meta.get(ACCESS_CHECKED)
        if checked is not None and checked[0] == response.url:
            path, access_checked = checked[1], True
        else:
            path, access_checked = url_path_of_parts(parts), False
        facts = facts_of_response(self.cfg, response, path, access_checked=access_checked)
        if facts.page is not None:
            # What Credit needs (SIGNALS.md, Attribution r2) is read when the page's first
            # item is attached: a page with no item, or whose items are dropped, never
            # pays for it.
            request.meta[ATTRIBUTION_PENDING] = facts.page
        return facts

    async def _policy(self, origin: str | None, request: Request) -> OriginPolicy | None:
        """The origin's policy. data: and file: responses have none, but their own signals
        count. The use gate needs tdmrep.json too; requests went out once robots.txt was
        known, so wait for it here, up to its timeout (SIGNALS.md r2)."""
        if origin is None:
            return None
        fetcher = self.runtime.fetcher
        policy = fetcher.cached(origin)
        if policy is None or fetcher.tdmrep_pending(origin):
            policy = await fetcher.complete_policy(origin, request)
        return policy

    async def _file_facts(self, facts: ResponseFacts, body: bytes) -> None:
        """What a non-HTML file says about itself, read off the reactor."""
        if body and self.cfg.asset_scan_bytes and wants_file_metadata(facts.content_type, body):
            facts.asset, facts.c2pa = await self.runtime.read_file_metadata(
                facts.url, body, facts.content_type
            )

    def _record(
        self,
        request: Request,
        response: Response,
        facts: ResponseFacts,
        evaluation: Evaluation,
        policy: OriginPolicy | None,
        rsl_records: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The provenance record, on the request's meta for the spider middleware."""
        record = build_record(
            self.cfg,
            self.runtime.version,
            response.url,
            response.status,
            facts.content_type,
            response.body,
            evaluation,
            policy,
            crawl=self.runtime.crawl_id,
        )
        if rsl_records:
            record["policies"] += rsl_records
        if self._archived(record["decision"]):
            record_id = archive_exchange(
                self.runtime.evidence, "response", request, response, response.body
            )
            if record_id is not None:
                record["warc_record_id"] = record_id
        attribution = file_attribution(facts.asset) if facts.asset is not None else {}
        if attribution:
            record["attribution"] = attribution
        if "cached" in response.flags:
            # Scrapy's HTTP cache served it: fetched when the cache stored it, not now.
            stamp = cached_at(request, response)
            record["fetched_at"] = iso_time(stamp) if stamp is not None else None
            record["cached"] = True
        request.meta[META_KEY] = record
        return record

    def _archived(self, decision: str) -> bool:
        """Whether this response goes to the evidence archive
        (``CCSIGNALS_EVIDENCE_RESPONSES``): all, or those whose items are kept (allowed;
        in ``tag`` mode every checked response, since its items pass)."""
        keep = self.cfg.evidence_responses
        if keep == "none" or not self.runtime.evidence.enabled:
            return False
        return keep == "all" or decision == "allow" or self.cfg.mode == "tag"

    def _account(
        self,
        response: Response,
        origin: str | None,
        facts: ResponseFacts,
        evaluation: Evaluation,
        record: dict[str, Any],
    ) -> None:
        """Stats, the audit line and the debug log of the decision."""
        cached = record.get("cached", False)
        decision = evaluation.decision
        inc = self.runtime.inc
        inc(f"ccsignals/responses/{decision.decision}")
        if decision.conditions:
            inc("ccsignals/responses/allow_conditional")
        for family in decision.families:
            inc(f"ccsignals/{decision.decision}/{family}")
        lic = evaluation.license
        inc(f"ccsignals/licenses/{(lic.id or 'other') if lic else 'none'}")
        if evaluation.truncated:
            self._truncated(facts.url, origin, evaluation.truncated)
        self.runtime.audit.event(
            url=response.url,
            origin=origin,
            stage="response",
            action="fetched",
            decision=decision.decision,
            reasons=record["reasons"],
            signals=record["signals"],
            status=response.status,
            bytes=len(response.body),
            content_type=facts.content_type,
            families=list(decision.families),
            conditions=record["conditions"],
            license=record["license"],
            # A cached response's line says when it was read back; its record, when fetched.
            **({"cached": True, "time": utc_now()} if cached else {"time": record["fetched_at"]}),
            **({"warc_record_id": record["warc_record_id"]} if "warc_record_id" in record else {}),
        )
        if self.runtime.debug_enabled:
            logger.debug(
                "ccsignals %s %s: %s",
                decision.decision,
                response.url,
                "; ".join(decision.reasons),
                extra={"spider": self.crawler.spider},
            )

    def _truncated(self, url: str, origin: str | None, left: dict[tuple[str, str], int]) -> None:
        """A response with more signals of one family and layer than the use gate keeps."""
        self.runtime.inc("ccsignals/signals/truncated", sum(left.values()))
        family, layer = max(left, key=lambda key: left[key])
        self.runtime.warn_once(
            origin or url,
            "signals_truncated",
            "%s states more than %d %s signals in its %s layer; %d left out (the decision is "
            "the same, the provenance record says 'truncated')",
            url,
            MAX_SIGNALS,
            family,
            layer,
            left[(family, layer)],
        )

    async def _rsl_documents(
        self, facts: ResponseFacts, origin: str | None, policy: OriginPolicy | None
    ) -> tuple[dict[str, RslDocument], list[dict[str, Any]]]:
        """The parsed RSL licences the response points at (SIGNALS.md, RSL), by URL, and
        their policy records for provenance: at most :data:`MAX_RSL_PER_RESPONSE`, fetched
        side by side, each once per crawl."""
        docs: dict[str, RslDocument] = {}
        records: list[dict[str, Any]] = []
        if not (
            (policy is not None and policy.robots.licenses)
            or "link" in facts.headers
            or (facts.page is not None and facts.page.licenses)
        ):
            return docs, records
        url = facts.url
        urls = rsl_urls(facts, policy)
        if not urls:
            return docs, records  # licences, none of them RSL: nothing to fetch or wait for
        if len(urls) > MAX_RSL_PER_RESPONSE:
            # A page cannot make the crawler fetch any number of URLs for it.
            self.runtime.inc("ccsignals/rsl/skipped", len(urls) - MAX_RSL_PER_RESPONSE)
            self.runtime.warn_once(
                origin or url,
                "rsl_skipped",
                "%s points at %d RSL licences; only the first %d are read",
                url,
                len(urls),
                MAX_RSL_PER_RESPONSE,
            )
            urls = urls[:MAX_RSL_PER_RESPONSE]
        documents = await maybe_deferred_to_future(
            DeferredList(
                [deferred_from_coro(self.runtime.rsl.get(u, origin)) for u in urls],
                fireOnOneErrback=True,
                consumeErrors=True,
            )
        )
        for _ok, document in documents:
            records.append(document.record.as_dict())
            if document.doc is not None:
                docs[document.url] = document.doc
        return docs, records

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Log requests that ended without a response, so the audit log accounts for
        every request: download errors, and requests another middleware (e.g. Scrapy's
        OffsiteMiddleware) ignored. Our own drops are logged where they happen."""
        if self._starts_on_the_way:  # a middleware before this one ignored it
            self._pacer.arrived(request)
        if _skip(request) or isinstance(exception, (ForbiddenByRobots, ForbiddenByExclusion)):
            return None
        ignored = isinstance(exception, IgnoreRequest)
        self.runtime.audit.event(
            url=request.url,
            origin=origin_of(request.url),
            stage="request",
            action="dropped" if ignored else "error",
            decision=None,
            reasons=[f"{type(exception).__name__}: {exception}"],
        )
