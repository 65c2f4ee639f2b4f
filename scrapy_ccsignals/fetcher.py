"""Per-origin policy fetching: ``/robots.txt`` and ``/.well-known/tdmrep.json``, fetched
concurrently, once per origin, at high priority through the engine, before any other
request to the origin goes out.

Every request that arrives while the files are in flight waits on a Deferred of its own
and receives the same policy. (Scrapy's ``RobotsTxtMiddleware`` shares one Deferred among
waiters, and its callback chain hands ``None`` - "no rules" - to all but the first.)
"""

from __future__ import annotations

import hashlib
import logging
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList

from scrapy_ccsignals import robots, tdmrep
from scrapy_ccsignals.audit import utc_now
from scrapy_ccsignals.origin import OriginPolicy, PolicyRecord

if TYPE_CHECKING:
    from scrapy.http import Response

    from scrapy_ccsignals.runtime import Runtime

logger = logging.getLogger(__name__)

#: Request meta key marking the plugin's own policy requests.
POLICY_META = "ccsignals_policy"
#: Request meta key holding the byte cap of a policy request.
MAXSIZE_META = "ccsignals_maxsize"
DOWNLOAD_PRIORITY = 1000
#: A policy that could not be fetched is retried after this many seconds.
ERROR_MAX_AGE = 300.0


class PolicyFetcher:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.cfg = runtime.cfg
        self._policies: dict[str, OriginPolicy] = {}
        self._waiters: dict[str, list[Deferred[OriginPolicy]]] = {}
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        runtime.crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def cached(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if it is known, even when it is due for a refetch."""
        return self._policies.get(origin)

    async def policy_for(self, origin: str, request: Request) -> OriginPolicy:
        """The origin's policy, fetching it first when it is missing or expired."""
        policy = self._policies.get(origin)
        if policy is not None and policy.expires > monotonic():
            return policy
        waiters = self._waiters.get(origin)
        if waiters is not None:
            waiter: Deferred[OriginPolicy] = Deferred()
            waiters.append(waiter)
            return await maybe_deferred_to_future(waiter)
        self._waiters[origin] = []
        policy = self._failed_policy(origin, "interrupted")
        try:
            policy = await self._fetch(origin, request)
        except Exception as exc:
            logger.error(
                "Unexpected error fetching the policy of %s, disallowing it: %r",
                origin,
                exc,
                exc_info=True,
                extra={"spider": self.runtime.crawler.spider},
            )
            policy = self._failed_policy(origin, f"internal error: {exc!r}")
        finally:
            # Whatever happened, nobody is left waiting.
            self._policies[origin] = policy
            for waiter in self._waiters.pop(origin, []):
                waiter.callback(policy)
        return policy

    def _failed_policy(self, origin: str, detail: str) -> OriginPolicy:
        now = utc_now()
        return OriginPolicy(
            origin=origin,
            robots=robots.rules_for_error(self.cfg.token),
            robots_record=PolicyRecord(
                "robots.txt", f"{origin}/robots.txt", None, now, None, robots.UNREACHABLE, detail
            ),
            tdmrep=None,
            tdmrep_record=PolicyRecord(
                "tdmrep.json", f"{origin}{tdmrep.WELL_KNOWN_PATH}", None, now, None, "error", detail
            ),
            expires=monotonic() + min(ERROR_MAX_AGE, self.cfg.policy_max_age),
        )

    async def _fetch(self, origin: str, request: Request) -> OriginPolicy:
        robots_url = f"{origin}/robots.txt"
        tdmrep_url = f"{origin}{tdmrep.WELL_KNOWN_PATH}"
        results: Any = await maybe_deferred_to_future(
            DeferredList(
                [
                    deferred_from_coro(self._download(robots_url, self.cfg.robotstxt_max_bytes)),
                    deferred_from_coro(self._download(tdmrep_url, self.cfg.tdmrep_max_bytes)),
                ],
                consumeErrors=True,
            )
        )
        (ok_r, robots_result), (ok_t, tdm_result) = results
        if not ok_r:
            robots_result = (None, None, repr(robots_result.value), robots_url)
        if not ok_t:
            tdm_result = (None, None, repr(tdm_result.value), tdmrep_url)
        rules, robots_record = self._robots(robots_url, *robots_result)
        entries, tdm_record = self._tdmrep(tdmrep_url, *tdm_result)
        failed = rules.outcome == robots.UNREACHABLE
        max_age = min(ERROR_MAX_AGE, self.cfg.policy_max_age) if failed else self.cfg.policy_max_age
        policy = OriginPolicy(
            origin, rules, robots_record, entries, tdm_record, monotonic() + max_age
        )
        self._apply_crawl_delay(policy, request)
        return policy

    async def _download(
        self, url: str, max_bytes: int
    ) -> tuple[int | None, bytes | None, str, str]:
        """(status, body, error, final URL), following up to 5 redirects by hand so the
        limit and the chain are ours (RFC 9309 section 2.3.1.2)."""
        for _hop in range(robots.MAX_REDIRECTS + 1):
            req = Request(
                url,
                priority=DOWNLOAD_PRIORITY,
                callback=NO_CALLBACK,
                dont_filter=True,
                meta={
                    POLICY_META: True,
                    MAXSIZE_META: max_bytes,
                    "dont_obey_robotstxt": True,
                    "dont_redirect": True,
                    "handle_httpstatus_all": True,
                    "download_timeout": self.cfg.policy_timeout,
                    "max_retry_times": self.cfg.policy_retries,
                    # With no retries, RetryMiddleware stays out (no "Gave up retrying" error).
                    "dont_retry": self.cfg.policy_retries == 0,
                },
            )
            engine = self.runtime.crawler.engine
            assert engine is not None
            try:
                response: Response = await engine.download_async(req)
            except Exception as exc:
                return None, None, f"{type(exc).__name__}: {exc}", url
            location = response.headers.get(b"Location")
            if 300 <= response.status < 400 and location:
                url = urljoin(url, location.decode("latin-1"))
                continue
            return response.status, response.body[:max_bytes], "", url
        return None, None, f"more than {robots.MAX_REDIRECTS} redirects", url

    def _bytes_received(self, data: bytes, request: Request, **kwargs: Any) -> None:
        """Stop reading a policy file at its cap; the part read so far is used."""
        cap = request.meta.get(MAXSIZE_META)
        if cap is None:
            return
        seen = self._received.get(request, 0) + len(data)
        self._received[request] = seen
        if seen > cap:
            self.runtime.inc(f"ccsignals/policy/truncated/{request.url.rsplit('/', 1)[-1]}")
            raise StopDownload(fail=False)

    def _robots(
        self, url: str, status: int | None, body: bytes | None, error: str, final_url: str
    ) -> tuple[robots.RobotsRules, PolicyRecord]:
        origin = url[: -len("/robots.txt")]
        if status is None:
            if error.startswith("more than"):
                # RFC 9309 2.3.1.2: past 5 redirects the file MAY be taken as unavailable.
                rules = robots.RobotsRules(outcome=robots.UNAVAILABLE, token=self.cfg.token)
                self.runtime.inc("ccsignals/robots/redirect_limit")
            else:
                rules = robots.rules_for_error(self.cfg.token)
            self.runtime.warn_once(
                origin,
                "robots",
                "robots.txt at %s could not be fetched (%s): %s",
                url,
                error,
                "allowing all (RFC 9309 2.3.1.2)"
                if rules.outcome == robots.UNAVAILABLE
                else "disallowing all requests to the origin (RFC 9309 2.3.1.4)",
            )
        else:
            rules = robots.rules_for_response(
                status, body or b"", self.cfg.token, self.cfg.robotstxt_max_bytes
            )
            self.runtime.inc(f"ccsignals/robots/status/{status}")
            if rules.outcome == robots.UNREACHABLE:
                self.runtime.warn_once(
                    origin,
                    "robots",
                    "robots.txt at %s answered %s: %s",
                    url,
                    status,
                    "disallowing all requests to the origin (RFC 9309 2.3.1.4)",
                )
        self.runtime.inc(f"ccsignals/robots/{rules.outcome}")
        detail = error or (f"redirected to {final_url}" if final_url != url else "")
        record = PolicyRecord(
            "robots.txt",
            url,
            status,
            utc_now(),
            hashlib.sha256(body).hexdigest() if body is not None else None,
            rules.outcome,
            detail,
        )
        self.runtime.audit_policy(origin, record)
        return rules, record

    def _tdmrep(
        self, url: str, status: int | None, body: bytes | None, error: str, final_url: str
    ) -> tuple[list[tdmrep.TdmEntry] | None, PolicyRecord]:
        origin = url[: -len(tdmrep.WELL_KNOWN_PATH)]
        entries: list[tdmrep.TdmEntry] | None = None
        detail = error
        if status is None:
            outcome = "error"
        elif not 200 <= status < 300:
            outcome = "absent"
        else:
            try:
                entries, skipped = tdmrep.parse_tdmrep_json(body or b"")
            except tdmrep.TdmRepError as exc:
                outcome, detail = "invalid", str(exc)
            else:
                outcome = "found"
                if skipped:
                    detail = f"{skipped} entries without a valid location skipped"
                    self.runtime.inc("ccsignals/tdmrep/entries_skipped", skipped)
                    self.runtime.warn_once(origin, "tdmrep", "tdmrep.json at %s: %s", url, detail)
        if outcome in ("invalid", "error"):
            self.runtime.warn_once(
                origin,
                "tdmrep",
                "tdmrep.json at %s is not usable (%s); the origin is taken not to use TDMRep",
                url,
                detail,
            )
        self.runtime.inc(f"ccsignals/tdmrep/{outcome}")
        record = PolicyRecord(
            "tdmrep.json",
            url,
            status,
            utc_now(),
            hashlib.sha256(body).hexdigest() if body is not None else None,
            outcome,
            detail or (f"redirected to {final_url}" if final_url != url else ""),
        )
        self.runtime.audit_policy(origin, record)
        return entries, record

    def _apply_crawl_delay(self, policy: OriginPolicy, request: Request) -> None:
        """Crawl-delay of the matched group on the origin's download slot: the max of it
        and DOWNLOAD_DELAY, capped by CCSIGNALS_MAX_CRAWL_DELAY."""
        delay = policy.robots.crawl_delay
        if not delay:
            return
        delay = min(delay, self.cfg.max_crawl_delay)
        engine = self.runtime.crawler.engine
        if engine is None or delay <= 0:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot_settings = downloader.per_slot_settings.setdefault(key, {})
        current = float(slot_settings.get("delay", downloader._delay))
        slot_settings["delay"] = max(current, delay)
        if key in downloader.slots:
            downloader.slots[key].delay = max(downloader.slots[key].delay, delay)
        self.runtime.inc("ccsignals/crawl_delay/applied")
        logger.debug(
            "Crawl-delay %.2fs applied to download slot %r (%s)",
            slot_settings["delay"],
            key,
            policy.origin,
            extra={"spider": self.runtime.crawler.spider},
        )
