"""Back off when a site asks: a ``429`` (RFC 6585 section 4) or ``503`` (RFC 9110 section
15.6.4) with ``Retry-After`` (RFC 9110 section 10.2.3: delta-seconds or an HTTP-date) pauses
the site's download slot until then, capped by ``CCSIGNALS_MAX_RETRY_AFTER``; consecutive
5xx/429 double the slot's delay up to that cap, and a success resets it. The crawler
best-practices draft (draft-illyes-webbotauth-cbcp, "Crawlers MUST not interfere with the
normal operation of a site") asks for back-out logic on these standard signals; Scrapy
retries such responses at once and never reads ``Retry-After``.

The pause is a floor on the slot, as Crawl-delay is (:mod:`scrapy_ccsignals.scrapy_compat`):
the slot keeps its queued requests, other slots keep downloading, and ``RetryMiddleware``'s
retries and AutoThrottle's delays can only come later, never sooner. It is never shorter
than the slot's Crawl-delay. Responses are seen on ``response_downloaded``, which Scrapy
sends before the slot picks its next request. Slots are per host, so the origins of one host
pause together. The plugin's own policy fetches start no pause: a robots.txt that fails
already disallows its origin (RFC 9309 2.3.1.4).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any, Protocol

from scrapy import signals
from scrapy.core.downloader import Downloader
from twisted.web.http import stringToDatetime

from scrapy_ccsignals.policy.download import POLICY_META
from scrapy_ccsignals.policy.origin import origin_of
from scrapy_ccsignals.records.audit import iso_time
from scrapy_ccsignals.scrapy_compat import pause_slot, set_slot_floor, slot_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.records.audit import AuditLog

logger = logging.getLogger(__name__)

DOWNLOAD_SLOT = Downloader.DOWNLOAD_SLOT
#: The delay doubled on a first error when the slot has none (no Crawl-delay or DOWNLOAD_DELAY).
UNIT = 0.5
#: Statuses whose Retry-After is read (RFC 9110 gives it to 503, RFC 6585 to 429).
RETRY_AFTER_STATUSES = (429, 503)
#: Characters of a Retry-After value read; an HTTP-date has 29.
MAX_VALUE = 64
#: Streaks kept before those whose pause is over are forgotten (a broad crawl meets many
#: sites that fail once and are never asked again; forgetting one only restarts its doubling).
MAX_STREAKS = 10_000
#: delta-seconds longer than this are past any cap (and past what float() should be given).
MAX_DIGITS = 15


def retry_after_seconds(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value at Unix time *now*: delta-seconds
    (``1*DIGIT``) or an HTTP-date in any of the three forms RFC 9110 section 5.6.7 says a
    recipient must read (a date in the past: 0). None when it is neither."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= MAX_DIGITS else math.inf
    if not value or len(value) > MAX_VALUE or not value.isascii() or not value[0].isalpha():
        return None
    try:
        when = stringToDatetime(value.encode("ascii"))
    except Exception:  # Twisted raises ValueError, IndexError or KeyError on a bad date
        return None
    return max(0.0, float(when) - now)


class BackoffHost(Protocol):
    """What the back-off needs from the plugin's extension (which owns it)."""

    crawler: Crawler
    cfg: Config
    audit: AuditLog

    def inc(self, key: str, count: int = 1) -> None: ...

    def warn_once(self, origin: str, kind: str, msg: str, *args: Any) -> None: ...


@dataclass(slots=True)
class _Streak:
    """A slot's run of consecutive 5xx/429 responses."""

    errors: int = 0
    since: float = 0.0  #: monotonic time of the last error counted
    until: float = 0.0  #: no download from the slot before this monotonic time
    floor: float = 0.0  #: the slot's gap while the streak lasts


class OriginBackoff:
    """Pauses download slots whose site answered 5xx or 429 (see the module docstring).

    *crawl_floor* gives a slot key's Crawl-delay floor (0 when none): the back-off starts
    from it, never goes under it, and gives it back to the slot when a success resets it."""

    def __init__(self, runtime: BackoffHost, crawl_floor: Callable[[str], float]):
        self.runtime = runtime
        self.crawl_floor = crawl_floor
        self.cap = runtime.cfg.max_retry_after
        self.download_delay = runtime.crawler.settings.getfloat("DOWNLOAD_DELAY")
        #: slot key -> its streak, only while it lasts
        self._streaks: dict[str, _Streak] = {}
        self._reached_connected = False
        runtime.crawler.signals.connect(
            self._response_downloaded, signal=signals.response_downloaded
        )

    def _response_downloaded(self, response: Response, request: Request, **kwargs: Any) -> None:
        status = response.status
        if request.meta.get(POLICY_META):
            # A policy file's failure has its own outcome (robots.txt unreachable: the
            # origin is disallowed and fetched again later, RFC 9309 2.3.1.4); pausing
            # the slot would also stop the other origins of its host.
            return
        if status >= 500 or status == 429:
            self._error(response, request)
        elif self._streaks:
            key = request.meta.get(DOWNLOAD_SLOT)
            streak = self._streaks.get(key) if key is not None else None
            # A request sent before the last error says nothing about the site now.
            if streak is not None and _sent_at(request) >= streak.since:
                self._reset(str(key), streak, response)

    def _error(self, response: Response, request: Request) -> None:
        key = request.meta.get(DOWNLOAD_SLOT)
        if key is None:
            return
        runtime, cap = self.runtime, self.cap
        now = monotonic()
        status = response.status
        runtime.inc(f"ccsignals/backoff/status/{status}")
        streak = self._streaks.get(key)
        if streak is None:
            if len(self._streaks) >= MAX_STREAKS:
                self._forget_past(now)
            streak = self._streaks[key] = _Streak()
            self._connect_reached()
        # Requests in flight when the streak began are not new evidence: one error each.
        if streak.errors == 0 or _sent_at(request) >= streak.since:
            streak.errors += 1
            streak.since = now
        crawl_floor = self.crawl_floor(key)
        base = max(crawl_floor, self.download_delay, UNIT)
        gap = min(cap, base * 2.0 ** min(streak.errors, 64))
        wait, said = gap, ""
        origin = origin_of(response.url) or response.url
        header = response.headers.get(b"Retry-After") if status in RETRY_AFTER_STATUSES else None
        if header is not None:
            # Server text: control characters escaped before it reaches a log or terminal.
            said = header[:MAX_VALUE].decode("latin-1")
            said = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in said)
            seconds = retry_after_seconds(said, time.time())
            if seconds is None:
                runtime.inc("ccsignals/backoff/retry_after_invalid")
                runtime.warn_once(
                    origin,
                    "retry_after",
                    "%s answered %s with a Retry-After that is neither seconds nor an HTTP "
                    "date (%r); backing off as for any error",
                    response.url,
                    status,
                    said,
                )
            else:
                runtime.inc("ccsignals/backoff/retry_after")
                if seconds > cap:
                    runtime.inc("ccsignals/backoff/retry_after_capped")
                    seconds = cap
                wait = max(wait, seconds)
        wait = max(wait, crawl_floor)  # never shorter than Crawl-delay
        if wait <= 0:  # CCSIGNALS_MAX_RETRY_AFTER = 0 and no Crawl-delay
            return
        streak.floor = max(crawl_floor, gap)
        streak.until = max(streak.until, now + wait)
        self._apply(key)
        runtime.inc("ccsignals/backoff/paused")
        stats = runtime.crawler.stats
        if stats is not None:
            stats.max_value("ccsignals/backoff/delay_max", wait)
        reason = (
            f"HTTP {status}"
            + (f" with Retry-After: {said}" if said else "")
            + f", {streak.errors} consecutive error(s): no request to {key} for {wait:g} s"
        )
        runtime.audit.event(
            url=response.url,
            origin=origin,
            stage="backoff",
            action="paused",
            decision=None,
            reasons=[reason],
            status=status,
            delay=round(wait, 3),
            errors=streak.errors,
            slot=key,
            until=iso_time(time.time() + wait),
        )
        log = logger.info if streak.errors == 1 else logger.debug
        log("Backing off %s: %s", origin, reason, extra={"spider": runtime.crawler.spider})

    def _reset(self, key: str, streak: _Streak, response: Response) -> None:
        del self._streaks[key]
        engine = self.runtime.crawler.engine
        slot = engine.downloader.slots.get(key) if engine is not None else None
        if slot is not None:
            set_slot_floor(slot, self.crawl_floor(key))
        self.runtime.inc("ccsignals/backoff/reset")
        self.runtime.audit.event(
            url=response.url,
            origin=origin_of(response.url),
            stage="backoff",
            action="reset",
            decision=None,
            reasons=[
                f"HTTP {response.status} after {streak.errors} error(s): {key} back to its delay"
            ],
            status=response.status,
            errors=streak.errors,
            slot=key,
        )
        if not self._streaks and self._reached_connected:
            self.runtime.crawler.signals.disconnect(
                self._request_reached_downloader, signal=signals.request_reached_downloader
            )
            self._reached_connected = False

    def _forget_past(self, now: float) -> None:
        """Drop the streaks whose pause is over."""
        for key in [k for k, streak in self._streaks.items() if streak.until <= now]:
            del self._streaks[key]

    def _apply(self, key: str) -> None:
        engine = self.runtime.crawler.engine
        slot = engine.downloader.slots.get(key) if engine is not None else None
        if slot is not None:
            streak = self._streaks[key]
            set_slot_floor(slot, max(streak.floor, self.crawl_floor(key)))
            pause_slot(slot, streak.until)

    def _connect_reached(self) -> None:
        if not self._reached_connected:
            # Scrapy drops idle slots and makes new ones: a new slot of a backing-off site
            # gets its floor (and what is left of its pause) before its first download.
            self.runtime.crawler.signals.connect(
                self._request_reached_downloader, signal=signals.request_reached_downloader
            )
            self._reached_connected = True

    def _request_reached_downloader(self, request: Request, **kwargs: Any) -> None:
        engine = self.runtime.crawler.engine
        key = request.meta.get(DOWNLOAD_SLOT)
        if engine is None or key not in self._streaks:
            return
        if slot_of(engine.downloader, request) is not None:
            self._apply(key)


def _sent_at(request: Request) -> float:
    """When the request went out (monotonic), from Scrapy's ``download_latency``; now when
    that is not known."""
    return monotonic() - float(request.meta.get("download_latency") or 0.0)
