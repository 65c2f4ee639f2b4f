"""Spider middleware: puts the provenance record on every item and keeps items of denied
responses out of the pipeline (``enforce``) or lets them pass tagged (``tag``).

Requests the spider yields always pass, so links on a denied page are still followed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.http import Request
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.gate.provenance import add_page_attribution
from scrapy_ccsignals.items import ItemProvenance
from scrapy_ccsignals.meta import ATTRIBUTION_PENDING, META_KEY, response_url_parts
from scrapy_ccsignals.policy.origin import origin_of_parts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class CCSignalsSpiderMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.runtime = CCSignalsExtension.of(crawler)
        self.cfg = self.runtime.cfg
        self.items = ItemProvenance(self.runtime)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Start items get an ``unchecked`` record (the base class's handling); before the
        next start request is read, wait while ``CONCURRENT_REQUESTS // 2`` new origins
        already wait for their robots.txt (start requests on their way to the access gate
        counted, past a read-ahead), or ``CCSIGNALS_HOLD_LIMIT`` requests are held (see
        policy/pacing.py). Held requests are outside the downloader, so Scrapy's engine
        would otherwise read the whole start list into memory at once (issue 20); paced
        this way, a start list of any length costs what it costs under Scrapy's own
        robots.txt middleware."""
        fetcher, hold = self.runtime.fetcher, self.runtime.hold
        async for output in start:
            processed = self._get_processed(output, None)
            output = None  # while waiting below, only Scrapy keeps the request alive
            if processed is not None:
                if hold is not None and isinstance(processed, Request):
                    hold.on_the_way(processed, start=True)
                yield processed
                processed = None
            await fetcher.room_for_new_origins()

    async def process_spider_output_async(  # type: ignore[override]  # no deprecated spider arg
        self, response: Response | None, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        # The base class's version wraps this generator in a spider-argument check, one
        # more async-generator hop for every request and item; requests pass unchanged
        # (the hold is told of those it may have to take out when they are scheduled).
        hold = self.runtime.hold
        async for output in result:
            if isinstance(output, Request):
                if output.dont_filter and hold is not None:
                    hold.on_the_way(output)
                yield output
                continue
            item = self.get_processed_item(output, response)
            if item is not None:
                yield item

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        record = response.meta.get(META_KEY) if response is not None else None
        if response is None or not isinstance(record, dict) or "decision" not in record:
            return self.items.unchecked(item, response)
        denied = record["decision"] == "deny"
        if denied:
            self._audit_item(
                record, response, "dropped" if self.cfg.mode == "enforce" else "tagged"
            )
        if denied and self.cfg.mode == "enforce":
            self.runtime.inc("ccsignals/items/dropped")
            if not self.runtime.debug_enabled:
                return None
            logger.debug(
                "Dropped item from %s: %s",
                record["url"],
                "; ".join(record["reasons"]),
                extra={"spider": self.crawler.spider},
            )
            return None
        page = response.meta.pop(ATTRIBUTION_PENDING, None)
        if page is not None:
            scan = self.cfg.html_scan_bytes
            add_page_attribution(record, page, response.body, response.url, scan)
        self.items.attach(item, record)
        self.runtime.inc("ccsignals/items/tagged_deny" if denied else "ccsignals/items/passed")
        return item

    def _audit_item(self, record: dict[str, Any], response: Response, action: str) -> None:
        if not self.runtime.audit.enabled:
            return  # skip parsing the origin for nothing
        self.runtime.audit.event(
            url=record["url"],
            origin=origin_of_parts(response_url_parts(response.request, response)),
            stage="item",
            action=action,
            decision=record["decision"],
            reasons=record["reasons"],
        )
