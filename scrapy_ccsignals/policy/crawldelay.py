"""robots.txt ``Crawl-delay`` as a floor on the origin's download slot: the gap between two
downloads is at least max(Crawl-delay capped by ``CCSIGNALS_MAX_CRAWL_DELAY``,
``DOWNLOAD_DELAY``), whatever jitter or AutoThrottle do (SIGNALS.md r2: a floor, not a
mean). Scrapy slots are per host, so origins of one host share it; Scrapy never applies
Crawl-delay itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals

from scrapy_ccsignals.scrapy_compat import floor_slot, floor_slot_delay, slot_of

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.host import FetcherHost
    from scrapy_ccsignals.policy.origin import OriginPolicy

logger = logging.getLogger(__name__)


class CrawlDelayFloor:
    def __init__(self, runtime: FetcherHost):
        self.runtime = runtime
        #: download slot key -> the Crawl-delay floor of its origins
        self._floors: dict[str, float] = {}
        self._connected = False

    def floor(self, key: str) -> float:
        """The Crawl-delay floor of download slot *key* (0 when it has none)."""
        return self._floors.get(key, 0.0)

    def apply(self, policy: OriginPolicy, request: Request) -> None:
        """Floor the slot *request* goes to with the Crawl-delay of *policy*'s group."""
        delay = policy.robots.crawl_delay
        if not delay:
            return
        delay = min(delay, self.runtime.cfg.max_crawl_delay)
        crawler = self.runtime.crawler
        engine = crawler.engine
        if engine is None or delay <= 0:
            return
        downloader = engine.downloader
        floor = max(delay, crawler.settings.getfloat("DOWNLOAD_DELAY"))
        key = downloader.get_slot_key(request)
        self._floors[key] = max(self._floors.get(key, 0.0), floor)
        floor_slot_delay(downloader, key, self._floors[key])
        if not self._connected:
            # Scrapy creates (and garbage-collects) slots on its own: floor each slot as a
            # request reaches it, before the downloader computes its next gap.
            crawler.signals.connect(
                self._request_reached_downloader, signal=signals.request_reached_downloader
            )
            self._connected = True
        self.runtime.inc("ccsignals/crawl_delay/applied")
        logger.debug(
            "Crawl-delay %.2fs applied as a floor to download slot %r (%s)",
            floor,
            key,
            policy.origin,
            extra={"spider": crawler.spider},
        )

    def _request_reached_downloader(self, request: Request, **kwargs: Any) -> None:
        engine = self.runtime.crawler.engine
        if engine is None:
            return
        slot = slot_of(engine.downloader, request)
        floor = self._floors.get(request.meta.get(engine.downloader.DOWNLOAD_SLOT, ""))
        if slot is not None and floor:
            floor_slot(slot, floor)
