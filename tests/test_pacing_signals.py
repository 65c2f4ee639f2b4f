"""The fetch pacer listens to ``request_left_downloader`` only while origins wait for a
robots.txt fetch slot, and stops listening when the last one starts. Scrapy's signal
dispatcher walks the live list of receivers, so a receiver that disconnected itself while
the signal was being sent made the dispatcher skip the receiver after it: another
extension's handler missed that request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from scrapy import Request, Spider, signals
from scrapy.crawler import CrawlerRunner

from scrapy_ccsignals.config import DEFAULT_SETTINGS
from scrapy_ccsignals.policy.pacing import FetchPacer

FIRST, SECOND = "http://127.0.0.1:1", "http://127.0.0.2:1"
PAGE_URL = f"{FIRST}/page"


class PacingSpider(Spider):
    """Drives a fetch pacer from ``start()``, when the engine runs, the downloader is
    empty and nothing is scheduled; sends no request."""

    name = "pacing"

    async def start(self) -> AsyncIterator[Any]:
        crawler = self.crawler
        self.started: list[str] = []
        self.seen: list[str] = []
        pacer = FetchPacer(
            crawler,
            lambda origin, request: self.started.append(origin),
            DEFAULT_SETTINGS["CCSIGNALS_HOLD_LIMIT"],
        )
        self.waited = [
            pacer.queue(FIRST, Request(f"{FIRST}/robots.txt")),
            pacer.queue(SECOND, Request(f"{SECOND}/robots.txt")),  # waits for the slot
        ]
        crawler.signals.connect(self.after_the_pacer, signal=signals.request_left_downloader)
        pacer.finished(FIRST)
        crawler.signals.send_catch_log(
            signals.request_left_downloader, request=Request(PAGE_URL), spider=self
        )
        pacer.close()
        return
        yield

    def after_the_pacer(self, request: Request, **kwargs: Any) -> None:
        self.seen.append(request.url)


@pytest_twisted.ensureDeferred
async def test_pacer_stops_listening_without_making_the_next_receiver_miss_a_request():
    """One fetch slot (``CONCURRENT_REQUESTS`` 2): the second origin waits for it; once
    the first origin's fetch is done, a request leaving the downloader starts the second
    from the pacer's receiver, which then has nothing left to wait for."""
    runner = CrawlerRunner({"CONCURRENT_REQUESTS": 2, "TELNETCONSOLE_ENABLED": False})
    crawler = runner.create_crawler(PacingSpider)
    await runner.crawl(crawler)
    spider = crawler.spider
    assert spider.waited == [False, True]
    assert spider.started == [FIRST, SECOND]
    assert spider.seen == [PAGE_URL]  # the receiver after the pacer's got the signal too
