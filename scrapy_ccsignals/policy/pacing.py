"""When a new origin's robots.txt fetch may start.

At most ``CONCURRENT_REQUESTS // 2`` robots.txt fetches run at once, and a new one starts
only when the downloader could take the origin's pages (Scrapy's own middleware is paced
that way by the requests it sends; held requests are outside the downloader, so without it
fast policy fetches released new origins into the scheduler faster than their pages
downloaded, and Scrapy's default priority queue slowed with every slot queued in it).
Policy downloads bypass the engine's backout, so half of ``CONCURRENT_REQUESTS`` keeps the
other half for pages even when every robots.txt in flight is silent. The rest wait, FIFO.
A fetch that a request or response waiting inside the downloader needs is urgent: it does
not wait for room that the waiters themselves may hold; at most ``CONCURRENT_REQUESTS``
urgent ones run at once, the rest wait for one of them to end (:meth:`FetchPacer.queue`).

The spider middleware's ``process_start`` waits here too (:meth:`FetchPacer.room`):
requests held for their robots.txt are outside the downloader, so Scrapy's engine would
otherwise read the whole start list into memory at once. A start request that Scrapy's
filters may still drop (not ``dont_filter``) reaches the hold only after the scheduler and
the access gate, when the start list has been read on: it counts from when it is read
(:meth:`FetchPacer.starting`) until it reaches the access gate (:meth:`FetchPacer.arrived`)
or is dropped, by a token in its meta unique to the crawl. Without ``JOBDIR`` the count
holds it weakly, so one a component drops without a word leaves when it is freed; with
``JOBDIR`` the scheduler keeps it on disk and what reaches the access gate is another
object, so the token alone counts it (one dropped without a word then counts until
nothing is in the scheduler or the downloader). The first :data:`START_SLACK_PER_SLOT`
``* CONCURRENT_REQUESTS`` of them count for nothing: read that far ahead, the scheduler
does not run dry, and an origin's linked pages queue behind other requests and reuse its
connection instead of opening new ones side by side (which Twisted's pool keeps for
240 s). Not with ``JOBDIR``, whose point is to keep the start list on disk, not in the
hold. And the start list waits while ``CCSIGNALS_HOLD_LIMIT`` requests are held or on
their way: an origin counts once however many of its requests wait for its robots.txt, so
a long start list of one slow origin would otherwise be read into the hold while its
robots.txt is in flight. The limit is for memory, not pace: well above
``CONCURRENT_REQUESTS``, so that many URLs of one slow origin do not hold up the origins
after them in the start list (past it, they do).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, MutableMapping
from itertools import count
from typing import TYPE_CHECKING, Any
from uuid import uuid4
from weakref import WeakValueDictionary

from scrapy import Request, signals
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.reactor import CallLaterOnce
from twisted.internet.defer import Deferred

from scrapy_ccsignals.scrapy_compat import scheduler_has_pending

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: Seconds before queued origins are looked at again while they wait for room.
PUMP_RETRY = 0.05
#: Start requests on their way, per ``CONCURRENT_REQUESTS``, read ahead before they count
#: against the start list's pace (none with ``JOBDIR``), see the module's docstring.
START_SLACK_PER_SLOT = 4
#: Request meta key: the token a start request is counted by until it reaches the gate.
START_TOKEN = "_ccsignals_start"


class FetchPacer:
    """Queues origins whose robots.txt is to be fetched and starts them (*start*) as the
    downloader has room."""

    def __init__(self, crawler: Crawler, start: Callable[[str, Request], None], hold_limit: int):
        self.crawler = crawler
        self._start = start
        concurrency = crawler.settings.getint("CONCURRENT_REQUESTS", 16)
        self.limit = max(1, concurrency // 2)
        #: origins whose robots.txt fetch runs
        self.running: set[str] = set()
        self._queued: deque[tuple[str, Request]] = deque()
        #: at most this many urgent fetches run at once (see :meth:`queue`)
        self.urgent_limit = max(1, concurrency)
        #: origins whose urgent fetch runs, and those waiting for one to end (FIFO)
        self._urgent: set[str] = set()
        self._urgent_queued: deque[tuple[str, Request]] = deque()
        self._connected = False
        self._repump = CallLaterOnce(self.pump)
        # Not while Scrapy sends request_left_downloader: its dispatcher walks the list of
        # receivers that a disconnect changes (the receiver after this one would miss it).
        self._disconnect_later = CallLaterOnce(self._disconnect)
        self._closed = False
        #: process_start waiting for the queue to shrink (see :meth:`room`)
        self._room_waiters: list[Deferred[None]] = []
        #: the start requests of origins not known yet, read from the start list and not
        #: yet at the access gate, by token (see the module's docstring)
        self._weakly = not crawler.settings.get("JOBDIR")
        #: how many start requests on their way count for nothing (:meth:`_waiting`)
        self.start_slack = START_SLACK_PER_SLOT * concurrency if self._weakly else 0
        #: how many requests wait in the hold now (the hold sets it: policy/hold.py)
        self.held: Callable[[], int] = lambda: 0
        #: :meth:`room` waits while this many do, start requests on their way counted (they
        #: may be held when they get there): one origin counts once however many of its
        #: requests wait for its robots.txt (``CCSIGNALS_HOLD_LIMIT``)
        self.held_limit = hold_limit
        self.starts_on_the_way: MutableMapping[str, Any] = (
            WeakValueDictionary() if self._weakly else {}
        )
        # Unique to this crawl: a resumed JOBDIR crawl's queue holds the earlier run's.
        self._token_prefix = uuid4().hex[:12]
        self._tokens = count()
        self._recheck_room = CallLaterOnce(self._wake_room_waiters)
        # request_dropped is heard only while start requests are counted: a deep crawl
        # drops a duplicate link or more per link it follows (~3 us a receiver each).
        self._hears_drops = False
        self._stop_hearing_drops = CallLaterOnce(self._deaf_to_drops)

    def starting(self, request: Request) -> None:
        """*request*, read from the start list for an origin not known yet, is on its way
        to the scheduler, through Scrapy's filters, to the access gate: it counts against
        :meth:`room` until it gets there."""
        token = f"{self._token_prefix}-{next(self._tokens)}"
        request.meta[START_TOKEN] = token
        self.starts_on_the_way[token] = request if self._weakly else True
        if not self._hears_drops:
            self.crawler.signals.connect(self._dropped, signal=signals.request_dropped)
            self._hears_drops = True

    def arrived(self, request: Request) -> None:
        """*request* reached the downloader middleware (or a middleware before it answered
        or ignored it): if it was a start request on its way, it is no longer."""
        token = request.meta.pop(START_TOKEN, None)  # not carried on to copies
        if token is not None:
            self.starts_on_the_way.pop(token, None)

    def _dropped(self, request: Request, **_kwargs: Any) -> None:
        """Scrapy's scheduler dropped *request* (its duplicate filter): it is no longer on
        its way. (The downloader middleware takes out those that reach it, answered or
        ignored by a middleware before it included.)"""
        starts = self.starts_on_the_way
        if starts:
            self.arrived(request)
        if not starts:
            # Not now: Scrapy is walking request_dropped's receivers, which a disconnect
            # changes (the receiver after this one would miss the signal).
            self._stop_hearing_drops.schedule()

    def _deaf_to_drops(self) -> None:
        if self._hears_drops and not self.starts_on_the_way:
            self.crawler.signals.disconnect(self._dropped, signal=signals.request_dropped)
            self._hears_drops = False

    def _waiting(self) -> int:
        starts = self.starts_on_the_way
        if not starts:
            if self._hears_drops:  # they reached the access gate
                self._stop_hearing_drops.schedule()
        elif len(self._queued) < self.limit:
            engine = self.crawler.engine
            if (
                engine is not None
                and not engine.downloader.active
                and not scheduler_has_pending(engine)
            ):
                # Nothing is in the scheduler or the downloader: none is on its way any
                # more (one a component took out without a word).
                starts.clear()
        return len(self._queued) + max(0, len(starts) - self.start_slack)

    def queue(self, origin: str, request: Request, urgent: bool = False) -> bool:
        """Queue *origin*'s fetch; whether it has to wait for a fetch slot.

        An *urgent* one does not wait for the downloader to have room: a request or
        response waiting inside the downloader needs it (one sent with
        ``engine.download_async``, one a middleware before the plugin's answered, the
        robots.txt of a licence document a response named), and those could be what
        fills it. At most :attr:`urgent_limit` run at once (a page can make a spider send
        any number of requests straight to the downloader); the others wait for one of
        them to end."""
        if urgent:
            return not self._start_urgent(origin, request)
        self._queued.append((origin, request))
        self.pump()
        return origin not in self.running

    def promote(self, origin: str) -> bool:
        """*origin*'s queued fetch became urgent: whether it was queued (and now starts as
        an urgent one)."""
        for index, (queued, request) in enumerate(self._queued):
            if queued == origin:
                del self._queued[index]
                self._start_urgent(origin, request)
                return True
        return False

    def _start_urgent(self, origin: str, request: Request) -> bool:
        """Start *origin*'s urgent fetch, or queue it behind the running ones: whether it
        started."""
        if len(self._urgent) >= self.urgent_limit:
            self._urgent_queued.append((origin, request))
            return False
        self._urgent.add(origin)
        self.running.add(origin)
        self._start(origin, request)
        return True

    def finished(self, origin: str) -> None:
        """*origin*'s robots.txt is known: its fetch slot is free."""
        self.running.discard(origin)
        if origin in self._urgent:
            self._urgent.discard(origin)
            queued = self._urgent_queued
            while queued and len(self._urgent) < self.urgent_limit and not self._closed:
                self._start_urgent(*queued.popleft())

    def resume(self) -> None:
        """After the finished origin's held requests went to the scheduler: the next
        origin's fetch starts once the downloader has taken them and has room."""
        if self._queued:
            self.pump()

    def _has_room(self) -> bool:
        """Whether a new origin's fetch may start: a fetch slot is free and the
        downloader could take its pages (it is not full and nothing waits for it in the
        scheduler)."""
        if len(self.running) >= self.limit:
            return False
        engine = self.crawler.engine
        return engine is None or not (engine.needs_backout() or scheduler_has_pending(engine))

    def pump(self, *_args: Any, **_kwargs: Any) -> None:
        """Start queued origins' fetches while there is room. Called when an origin is
        queued, when a fetch ends, and while origins are queued, when a request leaves the
        downloader and every :data:`PUMP_RETRY` seconds."""
        queued = self._queued
        while queued and self._has_room():
            origin, request = queued.popleft()
            self.running.add(origin)
            self._start(origin, request)
        if self._waiting() < self.limit:
            self._wake_room_waiters()
        if queued and not self._closed:
            # Room comes without a signal: a request is still counted in the downloader
            # after request_left_downloader, while its response waits in process_response
            # (for tdmrep.json); one the access gate denies or gives back leaves it without
            # that signal. And a running fetch may not end for long (a silent robots.txt:
            # up to CCSIGNALS_POLICY_TIMEOUT), so waiting for one to end could stall every
            # queued origin behind it. Look again shortly (once).
            self._repump.schedule(PUMP_RETRY)
        signal_manager = self.crawler.signals
        if queued and not self._connected:
            signal_manager.connect(self.pump, signal=signals.request_left_downloader)
            self._connected = True
        elif not queued and self._connected:
            self._disconnect_later.schedule()

    def _disconnect(self) -> None:
        if self._connected and not self._queued:
            self.crawler.signals.disconnect(self.pump, signal=signals.request_left_downloader)
            self._connected = False

    async def room(self) -> None:
        """Return once fewer than :attr:`limit` origins wait for a fetch slot, start
        requests on their way to it counted, and fewer than :attr:`held_limit` requests
        wait in the hold or are on their way to it. Looked at again when a fetch starts,
        when held requests are released, and every
        :data:`PUMP_RETRY` seconds (a start request Scrapy's filters drop says nothing)."""
        while not self._closed and (
            self._waiting() >= self.limit
            or self.held() + len(self.starts_on_the_way) >= self.held_limit
        ):
            waiter: Deferred[None] = Deferred()
            self._room_waiters.append(waiter)
            self._recheck_room.schedule(PUMP_RETRY)
            await maybe_deferred_to_future(waiter)

    def released(self) -> None:
        """Held requests went to the scheduler: the start list may be read on."""
        if self._room_waiters:
            self._wake_room_waiters()

    def close(self) -> None:
        """The spider is closing: nobody waits for room any more, no fetch starts."""
        self._closed = True
        self._repump.cancel()
        self._disconnect_later.cancel()
        self._recheck_room.cancel()
        self.starts_on_the_way.clear()
        self._stop_hearing_drops.cancel()
        self._deaf_to_drops()
        self._wake_room_waiters()

    def _wake_room_waiters(self) -> None:
        waiters, self._room_waiters = self._room_waiters, []
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(None)
