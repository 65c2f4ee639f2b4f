"""Requests held outside the downloader until their origin's robots.txt is known.

A request whose origin has no fresh policy yet must not wait inside the downloader: there
it counts against ``CONCURRENT_REQUESTS`` (``Downloader.active``), so one origin with a
slow or silent robots.txt would stall every other origin, and Scrapy's engine, seeing the
downloader full of waiting requests, would stop pacing start requests.

Access is decided where Scrapy's own ``RobotsTxtMiddleware`` decides it: in the downloader
middleware's ``process_request``, after Scrapy's filters (``OffsiteMiddleware``, which drops
off-site requests when they are scheduled, and the scheduler's duplicate filter), so a
request Scrapy drops never causes a policy fetch and its origin never appears anywhere
(SIGNALS.md r3, the plugin's own fetches). There, a request whose origin's robots.txt is
not known is not kept waiting: it is given back (:meth:`RequestHold.give_back`, a
``dont_filter`` copy, as RetryMiddleware makes: it already passed the duplicate filter),
and when the engine schedules that copy, the ``request_scheduled`` signal takes it out
here, before the scheduler; the origin's policy fetch is started; and when robots.txt is
known, the held requests are handed to ``engine.crawl()`` again and go through the
scheduler once more, to be checked against the policy. A request those filters never drop
(``dont_filter``: start requests, retries) is taken out when it is first scheduled, which
saves it the round trip and lets the start list be paced by policy fetches.

Dropping a request from ``request_scheduled`` is Scrapy's documented way
(``IgnoreRequest`` raised by a handler; the engine neither logs it nor sends
``request_dropped``). While requests are held the spider is kept open (``spider_idle`` ->
``DontCloseSpider``). Holding is about where a request waits, not whether it may go
(RFC 9309 section 2.4): the access gate checks every request in ``process_request``.

Held requests cost the engine nothing, so it would read the whole start list into the hold;
the spider middleware's ``process_start`` paces it instead (see
``PolicyFetcher.room_for_new_origins``).

A deep crawl schedules tens of requests per page (every link, most of them duplicates), all
of known origins, and Scrapy calls each ``request_scheduled`` handler through pydispatcher's
argument matching: ~2.5 times the cost of sending the signal to nobody. So the handler is
connected only while a request it may hold is on its way to the scheduler
(:meth:`RequestHold.expect`: the copies given back, and ``dont_filter`` requests of origins
not known yet that the spider middleware passes on, start requests included), and is
disconnected once those were seen. A ``dont_filter`` request it does not see (a retry whose
origin's policy expired meanwhile, one another component schedules itself) goes on to the
access gate, which gives it back: it waits all the same, one round trip later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.job import job_dir
from scrapy.utils.reactor import CallLaterOnce

from scrapy_ccsignals.policy.origin import origin_of_parts
from scrapy_ccsignals.scrapy_compat import offsite_follows

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from scrapy_ccsignals.policy.fetcher import PolicyFetcher

logger = logging.getLogger(__name__)


#: Request meta key: the ``expires`` of the policy fetch a held request waited for.
WAITED_FOR = "_ccsignals_waited_for"


class HeldForPolicy(IgnoreRequest):
    """Raised from ``request_scheduled``: the request is held until its origin's
    robots.txt is known, then scheduled again. Not an error and not a drop."""


class RequestHold:
    def __init__(
        self,
        crawler: Crawler,
        fetcher: PolicyFetcher,
        skip: Callable[[Request], bool],
        inc: Callable[[str, int], None],
    ):
        self.crawler = crawler
        self.fetcher = fetcher
        self._skip = skip
        self._inc = inc
        #: copies the access gate gave back to wait for their origin's robots.txt
        self._given_back: WeakSet[Request] = WeakSet()
        #: ... of those, the copies of ``dont_filter`` requests
        self._from_dont_filter: WeakSet[Request] = WeakSet()
        #: origin -> requests waiting for its robots.txt, in arrival order
        self._held: dict[str, list[Request]] = {}
        self._count = 0  # requests in self._held
        self._max = 0  # the most held at once so far (stat ccsignals/requests/held_max)
        fetcher.pacer.held = lambda: self._count  # the start list waits while many are
        self._releasing: Request | None = None
        self._save_called = False  # save_for_resume ran (the item pipeline is enabled)
        #: requests on their way to the scheduler that the hold may have to take out there
        self._expected: WeakSet[Request] = WeakSet()
        self._connected = False
        # Not while Scrapy sends the signal: pydispatcher iterates the list of receivers
        # that a disconnect changes (the next receiver would be skipped).
        self._disconnect_later = CallLaterOnce(self._disconnect)
        crawler.signals.connect(self._idle, signal=signals.spider_idle)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @property
    def held(self) -> int:
        """How many requests are held now."""
        return self._count

    def give_back(self, request: Request) -> Request:
        """The copy of *request* (which passed Scrapy's filters and reached the access gate
        before its origin's robots.txt was known) for the engine to schedule again: the
        hold takes it when it is scheduled."""
        copy = request.replace(dont_filter=True)
        self._given_back.add(copy)
        if request.dont_filter:
            self._from_dont_filter.add(copy)
        self.expect(copy)
        return copy

    def given_back(self, request: Request) -> bool:
        """Whether *request* is such a copy: if it reaches the access gate again without a
        policy (evicted meanwhile), it waits there rather than going round again."""
        return request in self._given_back

    def on_the_way(self, request: Request, start: bool = False) -> None:
        """*request* is about to be scheduled (from the start list, *start*, or a spider
        callback): if the hold may have to take it out there, watch for it. A start request
        the hold cannot take there (Scrapy's filters may drop it) is counted by the pacer
        until it reaches the access gate, so the start list is read no faster."""
        if not (request.dont_filter or start):
            return
        origin = origin_of_parts(urlparse_cached(request))
        if origin is None or self.fetcher.known(origin) or self._skip(request):
            return
        if request.dont_filter:
            self.expect(request)
        elif offsite_follows(self.crawler, request):
            # (OffsiteMiddleware drops the others from its request_scheduled handler,
            # without a word the pacer would hear.)
            self.fetcher.pacer.starting(request)

    def expect(self, request: Request) -> None:
        """Watch for *request* when it is scheduled: until it is, every scheduled request
        passes through the hold's handler."""
        self._expected.add(request)
        if not self._connected:
            self.crawler.signals.connect(self._scheduled, signal=signals.request_scheduled)
            self._connected = True

    def _disconnect(self) -> None:
        if self._connected and not self._expected:
            self.crawler.signals.disconnect(self._scheduled, signal=signals.request_scheduled)
            self._connected = False

    def _scheduled(self, request: Request, **kwargs: Any) -> None:
        expected = self._expected
        expected.discard(request)
        if not expected:
            self._disconnect_later.schedule()
        # A request Scrapy's filters may drop (off-site, duplicate) goes on to them and to
        # the access gate, which gives it back if it gets there; one they never drop
        # (``dont_filter``: start requests, retries, the copies given back) waits here at
        # once if its origin's policy is not known, so that a start list is paced by its
        # origins' policy fetches. For a known origin this is a dictionary lookup (the LRU
        # is touched when the request is checked).
        if not request.dont_filter or request is self._releasing:
            return
        origin = origin_of_parts(urlparse_cached(request))
        if origin is None or self.fetcher.known(origin) or self._skip(request):
            return
        self.hold(origin, request)
        raise HeldForPolicy(f"held until the robots.txt of {origin} is known")

    def hold(self, origin: str, request: Request) -> None:
        """Keep *request* until *origin*'s robots.txt is known, fetching it if need be."""
        self._inc("ccsignals/requests/held", 1)
        self._count += 1
        if self._count > self._max:
            self._max = self._count
            if self.crawler.stats is not None:
                self.crawler.stats.max_value("ccsignals/requests/held_max", self._count)
        held = self._held.get(origin)
        if held is not None:
            held.append(request)
            return
        self._held[origin] = [request]
        self.fetcher.robots_known(origin, request).addCallbacks(
            lambda policy: self._release(origin, policy.expires),
            lambda failure: self._release(origin, None),
        )

    def _release(self, origin: str, expires: float | None) -> None:
        requests = self._held.pop(origin, [])
        self._count -= len(requests)
        if expires is not None:
            for request in requests:
                # A request is checked against the fetch it waited for, even if that
                # policy's max age (possibly 0) has passed by the time it is downloaded.
                request.meta[WAITED_FOR] = expires
        # The requests have not been through the scheduler (nor its duplicate filter)
        # yet: this is their first time, so each is scheduled exactly once.
        taken = self._schedule_again(requests)
        if taken < len(requests):  # the engine is closing: nothing can be scheduled
            self._lost(len(requests) - taken)
            return
        self.fetcher.pacer.released()

    def _schedule_again(self, requests: list[Request]) -> int:
        """Hand *requests*, taken out of the hold, to the engine in order (the hold's
        ``request_scheduled`` handler lets each pass); how many it took: once it refuses
        one (it is closing), the rest are not scheduled."""
        engine = self.crawler.engine
        if engine is None:
            return 0
        for index, request in enumerate(requests):
            self._releasing = request
            try:
                engine.crawl(request)
            except Exception:
                return index
            finally:
                self._releasing = None
        return len(requests)

    def save_for_resume(self) -> None:
        """The crawl is closing before its end (``CLOSESPIDER_*``, Ctrl-C) and Scrapy's
        scheduler, not closed yet, writes its queue to ``JOBDIR``: the requests still held
        that nothing else would bring back go into that queue, so the resumed crawl fetches
        them (their origin's robots.txt first). Closing waits for the policy fetches in
        flight, whose requests are released into the queue, but not for those still
        queued; a link is not yielded again (its page is done), nor is a start request
        that passed the duplicate filter. A ``dont_filter`` start request is: the resumed
        start list brings it back, so it is left out (saved, it would be fetched twice).
        Called from the item pipeline's ``close_spider``, the last component hook before
        the scheduler closes. Without ``JOBDIR`` the queue ends with the crawl: they are
        counted lost when it has closed."""
        self._save_called = True
        if not self._held or not job_dir(self.crawler.settings):
            return
        stats = self.crawler.stats
        assert stats is not None
        to_queue: list[Request] = []
        left = 0
        for requests in self._held.values():
            for request in requests:
                if self._comes_back(request):
                    left += 1
                else:
                    to_queue.append(request)
        self._held.clear()
        self._count = 0
        if left:
            self._inc("ccsignals/requests/held_left_to_start", left)
        disk_before = stats.get_value("scheduler/enqueued/disk", 0)
        memory_before = stats.get_value("scheduler/enqueued/memory", 0)
        taken = self._schedule_again(to_queue)
        # Scrapy's scheduler keeps a request it cannot serialise in memory, which ends
        # with the crawl: only those that reached the disk queue are saved.
        in_memory = stats.get_value("scheduler/enqueued/memory", 0) - memory_before
        on_disk = stats.get_value("scheduler/enqueued/disk", 0) - disk_before
        saved = on_disk if on_disk or in_memory else taken  # (another scheduler)
        if len(to_queue) > saved:
            self._lost(len(to_queue) - saved)
        if saved:
            self._inc("ccsignals/requests/held_saved", saved)
            logger.info(
                "%d request(s) were waiting for their origin's robots.txt when the crawl "
                "stopped; they are in the JOBDIR queue, for the resumed crawl",
                saved,
                extra={"spider": self.crawler.spider},
            )

    def _comes_back(self, request: Request) -> bool:
        """Whether the resumed crawl's start list yields *request* again: a ``dont_filter``
        start request (Scrapy's ``is_start_request`` meta), held itself or as the copy
        the access gate gave back."""
        if not request.meta.get("is_start_request"):
            return False
        return request not in self._given_back or request in self._from_dont_filter

    def _lost(self, count: int) -> None:
        self._inc("ccsignals/requests/held_lost", count)
        hint = ""
        if job_dir(self.crawler.settings) and not self._save_called:
            hint = (
                " (with JOBDIR, the plugin's item pipeline, "
                "scrapy_ccsignals.pipeline.CCSignalsPipeline, puts them in its queue: "
                "it is not enabled)"
            )
        logger.warning(
            "%d request(s) were waiting for their origin's robots.txt when the crawl closed; "
            "they were not scheduled%s",
            count,
            hint,
            extra={"spider": self.crawler.spider},
        )

    def _idle(self, **kwargs: Any) -> None:
        # Between a policy download ending and its held requests being scheduled again,
        # the scheduler and the downloader can both be empty; and tdmrep.json may still be
        # parsed, logged and stored after the last page is done.
        if self._held or self.fetcher.busy:
            raise DontCloseSpider

    def _closed(self, **kwargs: Any) -> None:
        self._disconnect_later.cancel()
        self._expected.clear()
        self._disconnect()
        self.fetcher.close()
        count = self.held
        self._held.clear()
        self._count = 0
        if count:
            self._lost(count)
