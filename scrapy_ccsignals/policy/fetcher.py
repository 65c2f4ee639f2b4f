"""Per-origin policy fetching: ``/robots.txt`` once per origin, at high priority through
the engine, before any other request to the origin goes out; ``/.well-known/tdmrep.json``
once per origin too, when the origin's first response is to be decided.

Every caller that arrives while a file is in flight waits on a Deferred of its own and
receives the same policy. (Scrapy's ``RobotsTxtMiddleware`` shares one Deferred among
waiters, and its callback chain hands ``None`` - "no rules" - to all but the first.)
robots.txt is all the access gate needs; tdmrep.json, which only the use gate needs
(SIGNALS.md r2), is asked for after it, on the connection robots.txt and the first page
used. Requests do not wait here in the downloader: :mod:`scrapy_ccsignals.policy.hold`
keeps them before the scheduler, and new origins take their turn as the downloader has
room (:mod:`scrapy_ccsignals.policy.pacing`).

The other jobs live in their own modules: downloading a file (``download``), the LRU of
parsed policies (``cache``), pacing (``pacing``), the shared store and its locks
(``shared``), how long a file is used (``ages``), parsing (``parse``, ``prepare``) and the
Crawl-delay floor (``crawldelay``).
"""

from __future__ import annotations

import logging
import time
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred, succeed

from scrapy_ccsignals.policy import ages
from scrapy_ccsignals.policy.cache import PolicyCache
from scrapy_ccsignals.policy.crawldelay import CrawlDelayFloor
from scrapy_ccsignals.policy.download import POLICY_META, HopCheck, PolicyDownloader
from scrapy_ccsignals.policy.host import FetcherHost
from scrapy_ccsignals.policy.pacing import FetchPacer
from scrapy_ccsignals.policy.parse import PENDING, PolicyParser
from scrapy_ccsignals.policy.shared import SharedStore
from scrapy_ccsignals.policy.store import PolicyStore, RawFile, StoredPolicy
from scrapy_ccsignals.scrapy_compat import wake_engine

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.origin import OriginPolicy

__all__ = ["PENDING", "POLICY_META", "FetcherHost", "PolicyFetcher"]

logger = logging.getLogger(__name__)


class PolicyFetcher:
    """Fetches, keeps and hands out each origin's policy.

    The access gate needs robots.txt only, so requests go on as soon as it is known; the
    use gate needs tdmrep.json too (SIGNALS.md r2), which is fetched when the first response
    of the origin is to be decided and waited for through :meth:`complete_policy`.
    """

    def __init__(self, runtime: FetcherHost, store: PolicyStore):
        self.runtime = runtime
        self.cfg = runtime.cfg
        self.shared = SharedStore(runtime, store)
        self.downloader = PolicyDownloader(runtime)
        self.parser = PolicyParser(runtime)
        self.policies = PolicyCache(
            self.cfg.policy_cache_size, lambda: runtime.inc("ccsignals/policy/evicted")
        )
        self.pacer = FetchPacer(runtime.crawler, self._start, runtime.cfg.hold_limit)
        self.crawl_delay = CrawlDelayFloor(runtime)
        #: origin -> waiters for its robots.txt, while a fetch of it runs
        self._waiters: dict[str, list[Deferred[OriginPolicy]]] = {}
        #: origin -> waiters for its tdmrep.json, while it is not known yet
        self._tdmrep_waiters: dict[str, list[Deferred[OriginPolicy]]] = {}
        self._runs: set[Deferred[None]] = set()

    @property
    def store(self) -> PolicyStore:
        return self.shared.store

    @store.setter
    def store(self, store: PolicyStore) -> None:
        """Another store for the files fetched from now on (the re-check command writes
        through a store that never answers from a stored copy)."""
        self.shared.store = store

    def cached(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if it is in memory, even when it is due for a refetch; its
        tdmrep.json may still be in flight (:meth:`tdmrep_pending`)."""
        return self.policies.get(origin)

    def fresh(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if its robots.txt is known and not expired (marks it as
        recently used); None when a request would have to wait for it."""
        return self.policies.fresh(origin)

    def known(self, origin: str) -> bool:
        """Whether the origin's robots.txt is known and not expired, without touching the
        LRU order: the request hold's check for every scheduled request."""
        return self.policies.known(origin)

    def tdmrep_pending(self, origin: str) -> bool:
        """Whether the origin's tdmrep.json is not known yet (not fetched, or in flight), or
        is to be asked for again (it could not be read, and the error max age has passed)."""
        policy = self.policies.get(origin)
        return (
            policy is None
            or policy.tdmrep_record.outcome == PENDING
            or policy.tdmrep_expires <= monotonic()
        )

    async def policy_for(self, origin: str, request: Request, urgent: bool = False) -> OriginPolicy:
        """The origin's policy once its robots.txt is known, fetching it first when it is
        missing or expired (at once if *urgent*, see :meth:`FetchPacer.queue`). Its
        tdmrep.json may still be in flight."""
        policy = self.fresh(origin)
        if policy is not None:
            return policy
        return await maybe_deferred_to_future(self.robots_known(origin, request, urgent))

    def robots_known(
        self, origin: str, request: Request, urgent: bool = False
    ) -> Deferred[OriginPolicy]:
        """:meth:`policy_for` as a Deferred, without a coroutine: what the request hold
        uses, so that thousands of waiting origins cost a list entry each, not a task."""
        policy = self.fresh(origin)
        if policy is not None:
            return succeed(policy)
        waiters = self._waiters.get(origin)
        if waiters is None:
            waiters = self._waiters[origin] = []
            if urgent:
                self.runtime.inc("ccsignals/policy/urgent")
            if self.pacer.queue(origin, request, urgent):
                self.runtime.inc("ccsignals/policy/queued")
        elif urgent and self.pacer.promote(origin):
            self.runtime.inc("ccsignals/policy/urgent")
        waiter: Deferred[OriginPolicy] = Deferred()
        waiters.append(waiter)
        return waiter

    async def complete_policy(self, origin: str, request: Request) -> OriginPolicy:
        """The origin's policy with its tdmrep.json known (waiting for it up to its
        timeout), for the use gate. An origin evicted since its request went out (or whose
        response a middleware before the plugin's answered) is read again or fetched at
        once; an expired one is used as it is (the request was checked against it)."""
        policy = self.policies.get(origin)
        if policy is None:
            # Urgent: the response waits in the downloader, where it may be what keeps
            # the fetch from having room (one a middleware before the plugin's answered).
            policy = await self.policy_for(origin, request, urgent=True)
        if policy.tdmrep_record.outcome != PENDING:
            if policy.tdmrep_expires > monotonic():
                return policy
            # It could not be read: ask again (SIGNALS.md r3), the responses meanwhile wait.
            policy.set_tdmrep(None, self.parser.pending_tdmrep_record(origin))
        waiters = self._tdmrep_waiters.get(origin)
        if waiters is None:
            waiters = self._tdmrep_waiters[origin] = []
            self._track(deferred_from_coro(self._run_tdmrep(origin, policy)))
        waiter: Deferred[OriginPolicy] = Deferred()
        waiters.append(waiter)
        return await maybe_deferred_to_future(waiter)

    async def room_for_new_origins(self) -> None:
        """Return once fewer than ``CONCURRENT_REQUESTS // 2`` origins wait for a fetch
        slot, start requests on their way past a read-ahead counted, and fewer than
        ``CCSIGNALS_HOLD_LIMIT`` requests are held (see :meth:`FetchPacer.room`)."""
        await self.pacer.room()

    def close(self) -> None:
        """The spider is closing: nobody waits for room any more, no fetch starts."""
        self.pacer.close()

    @property
    def busy(self) -> bool:
        """Whether a policy fetch (download, parse, store write) is still running."""
        return bool(self._runs)

    async def store_call(self, method: str, key: str, *args: Any) -> Any:
        """A call to the policy store for another kind of policy file (e.g. RSL documents,
        keyed ``rsl <url>``), with the same failure handling as the origin's files."""
        return await self.shared.call(getattr(self.store, method), key, *args)

    async def download(
        self, kind: str, url: str, max_bytes: int, check: HopCheck | None = None
    ) -> RawFile:
        """Fetch one policy file the way robots.txt is fetched
        (:class:`~scrapy_ccsignals.policy.download.PolicyDownloader`)."""
        return await self.downloader.download(kind, url, max_bytes, check)

    def _start(self, origin: str, request: Request) -> None:
        self._track(deferred_from_coro(self._run(origin, request)))

    def _track(self, run: Deferred[None]) -> None:
        # asyncio holds tasks weakly: keep this one until it ends.
        self._runs.add(run)
        run.addBoth(lambda _: self._run_ended(run))

    def _run_ended(self, run: Deferred[None]) -> None:
        self._runs.discard(run)
        if not self._runs:
            # The spider was kept open for it (RequestHold): let the engine close it now.
            wake_engine(self.runtime.crawler.engine)

    def _publish_robots(self, origin: str, policy: OriginPolicy) -> None:
        """robots.txt is known: requests to the origin may go on, and the next origin's
        fetch may start."""
        self.policies.put(origin, policy)
        self.pacer.finished(origin)
        for waiter in self._waiters.pop(origin, ()):
            waiter.callback(policy)
        self.pacer.resume()

    def _publish_tdmrep(self, origin: str, policy: OriginPolicy) -> None:
        """tdmrep.json is known too: responses of the origin may be decided."""
        for waiter in self._tdmrep_waiters.pop(origin, ()):
            waiter.callback(policy)

    async def _run(self, origin: str, request: Request) -> None:
        """One fetch of an origin's policy; whatever happens, nobody is left waiting."""
        policy = self.parser.failed_policy(origin, "interrupted")
        try:
            policy = await self._fetch(origin, request)
        except Exception as exc:
            self._unexpected("the policy of %s, disallowing it", origin, exc)
            policy = self.parser.failed_policy(origin, f"internal error: {exc!r}")
        finally:
            if origin in self._waiters:
                self._publish_robots(origin, policy)

    async def _run_tdmrep(self, origin: str, policy: OriginPolicy) -> None:
        """Fetch tdmrep.json when the use gate first needs it: after robots.txt and the
        origin's first response, on the connection they used (fetched beside robots.txt it
        opened a second connection per origin, which Scrapy's pool then kept open), and
        never for an origin none of whose pages were fetched. Whatever happens, nobody is
        left waiting."""
        try:
            raw, fetched_at, cached = await self._tdmrep_raw(origin, policy.tdmrep_record.url)
            self.parser.add_tdmrep(policy, raw, fetched_at, cached)
        except Exception as exc:
            self._unexpected("the tdmrep.json of %s", origin, exc)
            policy.set_tdmrep(
                None, self.parser.failed_tdmrep_record(origin, f"internal error: {exc!r}")
            )
        finally:
            if policy.tdmrep_record.outcome == PENDING:  # cancelled: the crawl is closing
                policy.set_tdmrep(None, self.parser.failed_tdmrep_record(origin, "interrupted"))
            self._publish_tdmrep(origin, policy)

    async def _tdmrep_raw(self, origin: str, url: str) -> tuple[RawFile, float, bool]:
        """tdmrep.json as fetched, when (Unix time), and whether it came from the store.
        With a shared store, one worker fetches it (under the store's lock
        ``tdmrep <origin>``) and adds it to the origin's entry; the others read it there."""
        if self.shared.memory:
            return await self._download_tdmrep(url), time.time(), False
        stored = await self.shared.get(origin)
        if stored is not None and self._fresh_tdmrep(stored):
            assert stored.tdmrep is not None
            return stored.tdmrep, stored.tdmrep_time, True
        key = f"tdmrep {origin}"
        stored = await self.shared.lock_or_wait(key, origin, self._fresh_tdmrep)
        if stored is not None and stored.tdmrep is not None:
            return stored.tdmrep, stored.tdmrep_time, True
        try:
            fetched_at = time.time()
            raw = await self._download_tdmrep(url)
            await self.shared.call(self._add_tdmrep, origin, raw, fetched_at)
        finally:
            await self.shared.release(key)
        return raw, fetched_at, False

    def _fresh_tdmrep(self, stored: StoredPolicy) -> bool:
        """Whether the entry has a tdmrep.json still to be used (one that could not be read
        is used only for the error max age)."""
        return stored.tdmrep is not None and (
            ages.age_left(self.cfg, stored.tdmrep, stored.tdmrep_time, "tdmrep.json") > 0
        )

    async def _download_tdmrep(self, url: str) -> RawFile:
        return await self.downloader.download("tdmrep.json", url, self.cfg.tdmrep_max_bytes)

    def _add_tdmrep(self, origin: str, raw: RawFile, fetched_at: float) -> None:
        """Add tdmrep.json to the origin's stored entry (in a thread), keeping its age;
        it replaces one that is due to be asked for again."""
        stored = self.store.get(origin)
        if stored is None or self._fresh_tdmrep(stored):
            return
        entry = StoredPolicy(stored.robots, raw, stored.fetched_at, fetched_at)
        age_left = ages.age_left(self.cfg, stored.robots, stored.fetched_at)
        if age_left > 0:
            self.store.put(origin, entry, age_left)

    def _unexpected(self, what: str, origin: str, exc: Exception) -> None:
        """A bug of ours while fetching *what* (a format with the origin): logged with its
        traceback; the caller falls back to the conservative outcome."""
        logger.error(
            f"Unexpected error fetching {what}: %r",
            origin,
            exc,
            exc_info=True,
            extra={"spider": self.runtime.crawler.spider},
        )

    async def _fetch(self, origin: str, request: Request) -> OriginPolicy:
        """From the store when fresh; else fetched (by this worker, or by the one that holds
        the origin's lock in a shared store) and put in the store. robots.txt only:
        tdmrep.json is fetched when the use gate first needs it (:meth:`complete_policy`)."""
        shared = self.shared
        if not shared.memory:
            stored = await shared.get(origin)
            if stored is None or not self._fresh_entry(stored):
                stored = await shared.lock_or_wait(origin, origin, self._fresh_entry)
            if stored is not None:
                self.runtime.inc("ccsignals/policy/store_hit")
                policy = self.parser.stored_policy(origin, stored, cached=True)
                self.crawl_delay.apply(policy, request)
                return policy
        try:
            fetched_at = time.time()
            robots_raw = await self.downloader.download(
                "robots.txt", f"{origin}/robots.txt", self.cfg.robotstxt_max_bytes
            )
            self.runtime.inc("ccsignals/policy/fetched")
            policy = self.parser.robots_policy(origin, robots_raw, fetched_at, False)
            self.crawl_delay.apply(policy, request)
            self._publish_robots(origin, policy)
            if not shared.memory:
                stored = StoredPolicy(robots_raw, None, fetched_at)
                await shared.put(origin, stored, ages.max_age(self.cfg, robots_raw))
        finally:
            if not shared.memory:
                await shared.release(origin)
        return policy

    def _fresh_entry(self, stored: StoredPolicy) -> bool:
        return ages.age_left(self.cfg, stored.robots, stored.fetched_at) > 0
