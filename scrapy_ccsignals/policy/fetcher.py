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
room (:meth:`PolicyFetcher._pump`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.reactor import CallLaterOnce
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.policy.store import MemoryStore, PolicyStore, RawFile, StoredPolicy
from scrapy_ccsignals.records.audit import iso_time, utc_now
from scrapy_ccsignals.scrapy_compat import (
    floor_slot,
    floor_slot_delay,
    scheduler_has_pending,
    slot_of,
    wake_engine,
)
from scrapy_ccsignals.signals import robots, tdmrep

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from scrapy_ccsignals.config import Config

logger = logging.getLogger(__name__)

#: Request meta key marking the plugin's own policy requests (value: the file's kind).
POLICY_META = "ccsignals_policy"
#: Request meta key holding the byte cap of a policy request.
MAXSIZE_META = "ccsignals_maxsize"
DOWNLOAD_PRIORITY = 1000
#: The error text of a fetch that passed the redirect limit.
TOO_MANY_REDIRECTS = "too many redirects"
#: The error text of a redirect to a scheme other than http/https.
BAD_REDIRECT = "redirect to a non-HTTP(S) URL"
#: How often a worker waiting for another worker's fetch looks at the store.
LOCK_POLL_INTERVAL = 0.2
#: ``tdmrep_record.outcome`` until tdmrep.json is known.
PENDING = "pending"
#: Seconds before queued origins are looked at again when no fetch is in flight to do it.
PUMP_RETRY = 0.05


def policy_maxsize(max_bytes: int) -> int:
    """``download_maxsize`` of a policy request: room for a compressed file that inflates
    to well past the cap that is read, never the gigabyte Scrapy allows by default."""
    return max(16 * max_bytes, 4 << 20)


class FetcherHost(Protocol):
    """What the fetcher needs from the plugin's extension (which owns it): the crawler,
    the configuration, counting, once-per-origin warnings and the audit log. A protocol, so
    that ``policy/`` does not import the layer above it."""

    crawler: Crawler
    cfg: Config

    def inc(self, key: str, count: int = 1) -> None: ...

    def warn_once(self, origin: str, kind: str, msg: str, *args: Any) -> None: ...

    def audit_policy(self, origin: str, record: PolicyRecord) -> None: ...


class PolicyFetcher:
    """Fetches, keeps and hands out each origin's policy.

    The access gate needs robots.txt only, so requests go on as soon as it is known; the
    use gate needs tdmrep.json too (SIGNALS.md r2), which is fetched when the first response
    of the origin is to be decided and waited for through :meth:`complete_policy`.

    Parsed policies live in a bounded LRU (``CCSIGNALS_POLICY_CACHE_SIZE``); an evicted
    origin is read again from a persistent store (its age counted from the original fetch)
    or fetched again.
    """

    def __init__(self, runtime: FetcherHost, store: PolicyStore):
        self.runtime = runtime
        self.cfg = runtime.cfg
        self.store = store
        self._memory = isinstance(store, MemoryStore)
        self._cache_size = self.cfg.policy_cache_size
        #: origin -> parsed policy, least recently used first
        self._policies: OrderedDict[str, OriginPolicy] = OrderedDict()
        #: origin -> waiters for its robots.txt, while a fetch of it runs
        self._waiters: dict[str, list[Deferred[OriginPolicy]]] = {}
        #: origin -> waiters for its tdmrep.json, while it is not known yet
        self._tdmrep_waiters: dict[str, list[Deferred[OriginPolicy]]] = {}
        self._runs: set[Deferred[None]] = set()
        # At most this many robots.txt fetches at once, and a new one only when the
        # downloader could take the origin's pages (Scrapy's own middleware is paced that
        # way by the requests it sends; held requests are outside the downloader, so
        # without it fast policy fetches released new origins into the scheduler faster
        # than their pages downloaded, and Scrapy's default priority queue slowed with
        # every slot queued in it). Policy downloads bypass the engine's backout, so half
        # of CONCURRENT_REQUESTS keeps the other half for pages even when every robots.txt
        # in flight is silent. The rest wait, FIFO, in ``_queued``.
        concurrency = runtime.crawler.settings.getint("CONCURRENT_REQUESTS", 16)
        self._fetch_limit = max(1, concurrency // 2)
        self._robots_slots: set[str] = set()
        self._queued: deque[tuple[str, Request]] = deque()
        self._pump_connected = False
        self._repump = CallLaterOnce(self._pump)
        #: process_start waiting for the queue to shrink (see :meth:`room_for_new_origins`)
        self._room_waiters: list[Deferred[None]] = []
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        # The byte-cap handler runs for every chunk of every response while it is
        # connected, so it is connected only while policy downloads are in flight.
        self._downloads_in_flight = 0
        #: download slot key -> the Crawl-delay floor of its origins
        self._slot_floors: dict[str, float] = {}
        self._floor_connected = False

    def cached(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if it is in memory, even when it is due for a refetch; its
        tdmrep.json may still be in flight (:meth:`tdmrep_pending`)."""
        return self._policies.get(origin)

    def fresh(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if its robots.txt is known and not expired (marks it as
        recently used); None when a request would have to wait for it."""
        policy = self._policies.get(origin)
        if policy is None or policy.expires <= monotonic():
            return None
        self._policies.move_to_end(origin)
        return policy

    def tdmrep_pending(self, origin: str) -> bool:
        """Whether the origin's tdmrep.json is not known yet (not fetched, or in flight)."""
        policy = self._policies.get(origin)
        return policy is None or policy.tdmrep_record.outcome == PENDING

    async def policy_for(self, origin: str, request: Request) -> OriginPolicy:
        """The origin's policy once its robots.txt is known, fetching it first when it is
        missing or expired. Its tdmrep.json may still be in flight."""
        policy = self.fresh(origin)
        if policy is not None:
            return policy
        return await maybe_deferred_to_future(self.robots_known(origin, request))

    def robots_known(self, origin: str, request: Request) -> Deferred[OriginPolicy]:
        """:meth:`policy_for` as a Deferred, without a coroutine: what the request hold
        uses, so that thousands of waiting origins cost a list entry each, not a task."""
        policy = self.fresh(origin)
        if policy is not None:
            return succeed(policy)
        waiters = self._waiters.get(origin)
        if waiters is None:
            waiters = self._waiters[origin] = []
            self._queued.append((origin, request))
            self._pump()
            if origin not in self._robots_slots:
                self.runtime.inc("ccsignals/policy/queued")
        waiter: Deferred[OriginPolicy] = Deferred()
        waiters.append(waiter)
        return waiter

    async def complete_policy(self, origin: str, request: Request) -> OriginPolicy:
        """The origin's policy with its tdmrep.json known (waiting for it up to its
        timeout), for the use gate. An origin evicted since its request went out is read
        again or refetched; an expired one is used as it is (the request was checked
        against it)."""
        policy = self._policies.get(origin)
        if policy is None:
            policy = await self.policy_for(origin, request)
        if policy.tdmrep_record.outcome != PENDING:
            return policy
        waiters = self._tdmrep_waiters.get(origin)
        if waiters is None:
            waiters = self._tdmrep_waiters[origin] = []
            self._track(deferred_from_coro(self._run_tdmrep(origin, policy)))
        waiter: Deferred[OriginPolicy] = Deferred()
        waiters.append(waiter)
        return await maybe_deferred_to_future(waiter)

    def _room(self) -> bool:
        """Whether a new origin's fetch may start: a fetch slot is free and the
        downloader could take its pages (it is not full and nothing waits for it in the
        scheduler)."""
        if len(self._robots_slots) >= self._fetch_limit:
            return False
        engine = self.runtime.crawler.engine
        return engine is None or not (engine.needs_backout() or scheduler_has_pending(engine))

    def _pump(self, *_args: Any, **_kwargs: Any) -> None:
        """Start queued origins' fetches while there is room. Called when an origin is
        queued, when a fetch ends, and (while origins are queued) when a request leaves
        the downloader."""
        queued = self._queued
        while queued and self._room():
            self._start(*queued.popleft())
        if len(queued) < self._fetch_limit:
            self._wake_room_waiters()
        if queued and not self._robots_slots:
            # No fetch will end to call us again, and requests the access gate denies
            # leave the downloader without a signal: look again shortly (once).
            self._repump.schedule(PUMP_RETRY)
        signal_manager = self.runtime.crawler.signals
        if queued and not self._pump_connected:
            signal_manager.connect(self._pump, signal=signals.request_left_downloader)
            self._pump_connected = True
        elif not queued and self._pump_connected:
            signal_manager.disconnect(self._pump, signal=signals.request_left_downloader)
            self._pump_connected = False

    async def room_for_new_origins(self) -> None:
        """Return once fewer than ``CONCURRENT_REQUESTS // 2`` origins wait for a fetch
        slot. The spider middleware awaits it between start requests: requests held for
        their robots.txt are outside the downloader, so Scrapy's engine would otherwise
        read the whole start list into memory at once."""
        if len(self._queued) < self._fetch_limit:
            return
        waiter: Deferred[None] = Deferred()
        self._room_waiters.append(waiter)
        await maybe_deferred_to_future(waiter)

    def close(self) -> None:
        """The spider is closing: nobody waits for room any more, no fetch starts."""
        self._repump.cancel()
        self._wake_room_waiters()

    def _wake_room_waiters(self) -> None:
        waiters, self._room_waiters = self._room_waiters, []
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(None)

    def _start(self, origin: str, request: Request) -> None:
        self._robots_slots.add(origin)
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

    @property
    def busy(self) -> bool:
        """Whether a policy fetch (download, parse, store write) is still running."""
        return bool(self._runs)

    def _remember(self, origin: str, policy: OriginPolicy) -> None:
        policies = self._policies
        policies[origin] = policy
        policies.move_to_end(origin)
        while len(policies) > self._cache_size:
            policies.popitem(last=False)
            self.runtime.inc("ccsignals/policy/evicted")

    def _publish_robots(self, origin: str, policy: OriginPolicy) -> None:
        """robots.txt is known: requests to the origin may go on, and the next origin's
        fetch may start."""
        self._remember(origin, policy)
        self._robots_slots.discard(origin)
        for waiter in self._waiters.pop(origin, ()):
            waiter.callback(policy)
        # After the held requests went to the scheduler: the next origin waits until the
        # downloader has taken them and has room.
        if self._queued:
            self._pump()

    def _publish_tdmrep(self, origin: str, policy: OriginPolicy) -> None:
        """tdmrep.json is known too: responses of the origin may be decided."""
        for waiter in self._tdmrep_waiters.pop(origin, ()):
            waiter.callback(policy)

    async def _run(self, origin: str, request: Request) -> None:
        """One fetch of an origin's policy; whatever happens, nobody is left waiting."""
        policy = self._failed_policy(origin, "interrupted")
        try:
            policy = await self._fetch(origin, request)
        except Exception as exc:
            self._unexpected("the policy of %s, disallowing it", origin, exc)
            policy = self._failed_policy(origin, f"internal error: {exc!r}")
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
            fetched_at = time.time()
            raw, cached = await self._tdmrep_raw(origin, policy.tdmrep_record.url)
            origin_down = policy.robots_record.status is None
            policy.tdmrep, policy.tdmrep_record = self._tdmrep(
                origin, raw, iso_time(fetched_at), cached, origin_down
            )
        except Exception as exc:
            self._unexpected("the tdmrep.json of %s", origin, exc)
            failed = self._failed_policy(origin, f"internal error: {exc!r}")
            policy.tdmrep, policy.tdmrep_record = None, failed.tdmrep_record
        finally:
            if policy.tdmrep_record.outcome == PENDING:  # cancelled: the crawl is closing
                failed = self._failed_policy(origin, "interrupted")
                policy.tdmrep, policy.tdmrep_record = None, failed.tdmrep_record
            self._publish_tdmrep(origin, policy)

    async def _tdmrep_raw(self, origin: str, url: str) -> tuple[RawFile, bool]:
        """tdmrep.json as fetched, and whether it came from the store. With a shared
        store, one worker fetches it (under the store's lock ``tdmrep <origin>``) and adds
        it to the origin's entry; the others read it there."""
        if self._memory:
            return await self._raw(self._tdmrep_download(url), url), False
        stored = await self._store(self.store.get, origin)
        if stored is not None and stored.tdmrep is not None:
            return stored.tdmrep, True
        key = f"tdmrep {origin}"
        stored = await self._lock_or_wait(key, origin, lambda entry: entry.tdmrep is not None)
        if stored is not None and stored.tdmrep is not None:
            return stored.tdmrep, True
        try:
            raw = await self._raw(self._tdmrep_download(url), url)
            await self._store(self._add_tdmrep, origin, raw)
        finally:
            await self._store(self.store.release, key)
        return raw, False

    def _tdmrep_download(self, url: str) -> Deferred[RawFile]:
        return deferred_from_coro(self._download("tdmrep.json", url, self.cfg.tdmrep_max_bytes))

    def _add_tdmrep(self, origin: str, raw: RawFile) -> None:
        """Add tdmrep.json to the origin's stored entry (in a thread), keeping its age."""
        stored = self.store.get(origin)
        if stored is None or stored.tdmrep is not None:
            return
        entry = StoredPolicy(stored.robots, raw, stored.fetched_at)
        age_left = self._age_left(entry)
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
            expires=monotonic() + min(self.cfg.policy_error_max_age, self.cfg.policy_max_age),
        )

    async def _fetch(self, origin: str, request: Request) -> OriginPolicy:
        """From the store when fresh; else fetched (by this worker, or by the one that holds
        the origin's lock in a shared store) and put in the store. robots.txt only:
        tdmrep.json is fetched when the use gate first needs it (:meth:`complete_policy`)."""
        if not self._memory:
            stored = await self._store(self.store.get, origin)
            if stored is not None and self._age_left(stored) > 0:
                self.runtime.inc("ccsignals/policy/store_hit")
                return self._build(origin, stored, request, cached=True)
            stored = await self._lock_or_wait(
                origin, origin, lambda entry: self._age_left(entry) > 0
            )
            if stored is not None:
                self.runtime.inc("ccsignals/policy/store_hit")
                return self._build(origin, stored, request, cached=True)
        try:
            fetched_at = time.time()
            robots_url = f"{origin}/robots.txt"
            robots_dl = deferred_from_coro(
                self._download("robots.txt", robots_url, self.cfg.robotstxt_max_bytes)
            )
            robots_raw = await self._raw(robots_dl, robots_url)
            stamp = iso_time(fetched_at)
            self.runtime.inc("ccsignals/policy/fetched")
            policy = self._build_robots(origin, robots_raw, fetched_at, stamp, request, False)
            self._publish_robots(origin, policy)
            if not self._memory:
                stored = StoredPolicy(robots_raw, None, fetched_at)
                await self._store(self.store.put, origin, stored, self._max_age(stored))
        finally:
            if not self._memory:
                await self._store(self.store.release, origin)
        return policy

    async def _lock_or_wait(
        self, key: str, origin: str, ready: Callable[[StoredPolicy], bool]
    ) -> StoredPolicy | None:
        """Take the shared store's fetch lock *key* (None: fetch it yourself, then release
        it). If another worker holds it, poll the origin's entry until *ready* says what
        that worker fetched is there (returned), or until the lock expires (a dead worker:
        None, fetch it yourself)."""
        lock_timeout = self.cfg.policy_lock_timeout
        if await self._store(self.store.acquire, key, lock_timeout, default=True):
            return None
        self.runtime.inc("ccsignals/policy/lock_wait")
        deadline = monotonic() + lock_timeout
        while monotonic() < deadline:
            await self._sleep(LOCK_POLL_INTERVAL)
            stored = await self._store(self.store.get, origin)
            if stored is not None and ready(stored):
                return stored
        return None

    async def _raw(self, download: Deferred[RawFile], url: str) -> RawFile:
        try:
            return await maybe_deferred_to_future(download)
        except Exception as exc:
            return RawFile(url, None, None, repr(exc), url)

    def _max_age(self, stored: StoredPolicy | RawFile) -> float:
        raw = stored.robots if isinstance(stored, StoredPolicy) else stored
        status = raw.status
        failed = status is None or robots.outcome_for_status(status) == robots.UNREACHABLE
        if failed and not raw.error.startswith(TOO_MANY_REDIRECTS):
            return min(self.cfg.policy_error_max_age, self.cfg.policy_max_age)
        return self.cfg.policy_max_age

    def _age_left(self, stored: StoredPolicy) -> float:
        return self._max_age(stored) - (time.time() - stored.fetched_at)

    def _build_robots(
        self,
        origin: str,
        raw: RawFile,
        fetched_at: float,
        stamp: str,
        request: Request,
        cached: bool,
    ) -> OriginPolicy:
        """The policy with its robots.txt part; tdmrep.json pending."""
        rules, robots_record = self._robots(origin, raw, stamp, cached)
        age_left = self._max_age(raw) - (time.time() - fetched_at)
        policy = OriginPolicy(
            origin,
            rules,
            robots_record,
            None,
            PolicyRecord(
                "tdmrep.json", f"{origin}{tdmrep.WELL_KNOWN_PATH}", None, stamp, None, PENDING
            ),
            monotonic() + age_left,
        )
        self._apply_crawl_delay(policy, request)
        return policy

    def _build(
        self, origin: str, stored: StoredPolicy, request: Request, cached: bool
    ) -> OriginPolicy:
        stamp = iso_time(stored.fetched_at)
        policy = self._build_robots(
            origin, stored.robots, stored.fetched_at, stamp, request, cached
        )
        if stored.tdmrep is not None:  # else fetched when the use gate first needs it
            # When the origin could not be reached at all, the robots.txt warning says it.
            origin_down = stored.robots.status is None
            policy.tdmrep, policy.tdmrep_record = self._tdmrep(
                origin, stored.tdmrep, stamp, cached, origin_down
            )
        return policy

    async def _store(self, method: Any, origin: str, *args: Any, default: Any = None) -> Any:
        """Call a store method: directly for the in-memory store, else in a thread.

        A store that fails (Redis gone, SQLite file locked too long) must not stop the
        crawl: warn once, count, and go on as if the store had nothing (*default*)."""
        try:
            return await maybe_deferred_to_future(deferToThread(method, origin, *args))
        except Exception as exc:
            self.runtime.inc("ccsignals/policy/store_error")
            self.runtime.warn_once(
                "*",
                "store",
                "Policy store %s failed (%r) for %s; fetching policies without it",
                self.cfg.policy_store,
                exc,
                origin,
            )
            return default

    async def store_call(self, method: str, key: str, *args: Any) -> Any:
        """A call to the policy store for another kind of policy file (e.g. RSL documents,
        keyed ``rsl <url>``), with the same failure handling as the origin's files."""
        return await self._store(getattr(self.store, method), key, *args)

    async def download(self, kind: str, url: str, max_bytes: int) -> RawFile:
        """Fetch one policy file the way robots.txt is fetched (see :meth:`_download`)."""
        return await self._download(kind, url, max_bytes)

    async def _sleep(self, seconds: float) -> None:
        from twisted.internet import reactor

        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    async def _download(self, kind: str, url: str, max_bytes: int) -> RawFile:
        """The file at *url*, following up to 5 redirects by hand so the limit and the
        chain are ours (RFC 9309 section 2.3.1.2)."""
        first = url
        for _hop in range(robots.MAX_REDIRECTS + 1):
            req = Request(
                url,
                headers={"Accept-Encoding": "identity"},
                priority=DOWNLOAD_PRIORITY,
                callback=NO_CALLBACK,
                dont_filter=True,
                meta={
                    POLICY_META: kind,
                    MAXSIZE_META: max_bytes,
                    "dont_obey_robotstxt": True,
                    "dont_redirect": True,
                    # The plugin's store is the only policy cache: its age is known and
                    # the 24 h rule holds (SIGNALS.md r2), so Scrapy's HTTP cache is bypassed.
                    "dont_cache": True,
                    # The byte cap counts bytes on the wire; a compressed body would be
                    # inflated whole by HttpCompressionMiddleware. Ask for it plain, and
                    # bound what decompression may produce (past it: a failed fetch).
                    "download_maxsize": policy_maxsize(max_bytes),
                    "handle_httpstatus_all": True,
                    "download_timeout": self.cfg.policy_timeout,
                    "max_retry_times": self.cfg.policy_retries,
                    # With no retries, RetryMiddleware stays out (no "Gave up retrying" error).
                    "dont_retry": self.cfg.policy_retries == 0,
                },
            )
            engine = self.runtime.crawler.engine
            assert engine is not None
            self._track_download(+1)
            try:
                response: Response = await engine.download_async(req)
            except Exception as exc:
                return RawFile(first, None, None, f"{type(exc).__name__}: {exc}", url)
            finally:
                self._track_download(-1)
            location = response.headers.get(b"Location")
            if 300 <= response.status < 400 and location:
                url = urljoin(url, location.decode("latin-1"))
                if urlsplit(url).scheme.lower() not in ("http", "https"):
                    # Only http/https targets (SIGNALS.md r2): a file: or ftp: redirect is a
                    # failed fetch, never read.
                    self.runtime.inc("ccsignals/policy/bad_redirect")
                    return RawFile(first, None, None, f"{BAD_REDIRECT}: {url[:200]!r}", url)
                continue
            return RawFile(first, response.status, response.body[:max_bytes], "", url)
        return RawFile(first, None, None, f"{TOO_MANY_REDIRECTS} ({robots.MAX_REDIRECTS})", url)

    def _track_download(self, change: int) -> None:
        signal_manager = self.runtime.crawler.signals
        self._downloads_in_flight += change
        if change > 0 and self._downloads_in_flight == 1:
            signal_manager.connect(self._bytes_received, signal=signals.bytes_received)
        elif change < 0 and self._downloads_in_flight == 0:
            signal_manager.disconnect(self._bytes_received, signal=signals.bytes_received)

    def _bytes_received(self, data: bytes, request: Request, **kwargs: Any) -> None:
        """Stop reading a policy file at its cap; the part read so far is used."""
        cap = request.meta.get(MAXSIZE_META)
        if cap is None:
            return
        seen = self._received.get(request, 0) + len(data)
        self._received[request] = seen
        if seen > cap:
            self.runtime.inc(f"ccsignals/policy/truncated/{request.meta[POLICY_META]}")
            raise StopDownload(fail=False)

    def _robots(
        self, origin: str, raw: RawFile, fetched_at: str, cached: bool
    ) -> tuple[robots.RobotsRules, PolicyRecord]:
        url, status, error = raw.url, raw.status, raw.error
        if status is None:
            if error.startswith(TOO_MANY_REDIRECTS):
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
                status, raw.body or b"", self.cfg.token, self.cfg.robotstxt_max_bytes
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
        record = self._record(origin, "robots.txt", raw, fetched_at, rules.outcome, error, cached)
        return rules, record

    def _tdmrep(
        self, origin: str, raw: RawFile, fetched_at: str, cached: bool, origin_down: bool = False
    ) -> tuple[list[tdmrep.TdmEntry] | None, PolicyRecord]:
        url, status = raw.url, raw.status
        entries: list[tdmrep.TdmEntry] | None = None
        detail = raw.error
        if status is None:
            outcome = "error"
        elif not 200 <= status < 300:
            outcome = "absent"
        else:
            try:
                entries, skipped = tdmrep.parse_tdmrep_json(raw.body or b"")
            except tdmrep.TdmRepError as exc:
                outcome, detail = "invalid", str(exc)
            else:
                outcome = "found"
                if skipped:
                    detail = f"{skipped} entries without a valid location skipped"
                    self.runtime.inc("ccsignals/tdmrep/entries_skipped", skipped)
                    self.runtime.warn_once(origin, "tdmrep", "tdmrep.json at %s: %s", url, detail)
        if outcome == "invalid" or (outcome == "error" and not origin_down):
            self.runtime.warn_once(
                origin,
                "tdmrep",
                "tdmrep.json at %s is not usable (%s); the origin is taken not to use TDMRep",
                url,
                detail,
            )
        self.runtime.inc(f"ccsignals/tdmrep/{outcome}")
        record = self._record(origin, "tdmrep.json", raw, fetched_at, outcome, detail, cached)
        return entries, record

    def _record(
        self,
        origin: str,
        kind: str,
        raw: RawFile,
        fetched_at: str,
        outcome: str,
        detail: str,
        cached: bool,
    ) -> PolicyRecord:
        """The provenance/audit record of one policy file, written to the audit log."""
        if not detail and raw.final_url != raw.url:
            detail = f"redirected to {raw.final_url}"
        record = PolicyRecord(
            kind,
            raw.url,
            raw.status,
            fetched_at,
            hashlib.sha256(raw.body).hexdigest() if raw.body is not None else None,
            outcome,
            detail,
            cached,
        )
        self.runtime.audit_policy(origin, record)
        return record

    def _apply_crawl_delay(self, policy: OriginPolicy, request: Request) -> None:
        """Crawl-delay of the matched group as a floor on the origin's download slot: the
        gap between two downloads is at least max(Crawl-delay capped by
        CCSIGNALS_MAX_CRAWL_DELAY, DOWNLOAD_DELAY), whatever jitter or AutoThrottle do
        (SIGNALS.md r2). Scrapy slots are per host, so origins of one host share it."""
        delay = policy.robots.crawl_delay
        if not delay:
            return
        delay = min(delay, self.cfg.max_crawl_delay)
        engine = self.runtime.crawler.engine
        if engine is None or delay <= 0:
            return
        downloader = engine.downloader
        floor = max(delay, self.runtime.crawler.settings.getfloat("DOWNLOAD_DELAY"))
        key = downloader.get_slot_key(request)
        self._slot_floors[key] = max(self._slot_floors.get(key, 0.0), floor)
        floor_slot_delay(downloader, key, self._slot_floors[key])
        if not self._floor_connected:
            # Scrapy creates (and garbage-collects) slots on its own: floor each slot as a
            # request reaches it, before the downloader computes its next gap.
            self.runtime.crawler.signals.connect(
                self._request_reached_downloader, signal=signals.request_reached_downloader
            )
            self._floor_connected = True
        self.runtime.inc("ccsignals/crawl_delay/applied")
        logger.debug(
            "Crawl-delay %.2fs applied as a floor to download slot %r (%s)",
            floor,
            key,
            policy.origin,
            extra={"spider": self.runtime.crawler.spider},
        )

    def slot_floor(self, key: str) -> float:
        """The Crawl-delay floor of download slot *key* (0 when it has none)."""
        return self._slot_floors.get(key, 0.0)

    def _request_reached_downloader(self, request: Request, **kwargs: Any) -> None:
        engine = self.runtime.crawler.engine
        if engine is None:
            return
        slot = slot_of(engine.downloader, request)
        floor = self._slot_floors.get(request.meta.get(engine.downloader.DOWNLOAD_SLOT, ""))
        if slot is not None and floor:
            floor_slot(slot, floor)
