"""The request hold costs nothing per scheduled request once the origins in play are known
(issue 25 item 4): its ``request_scheduled`` handler is connected only while a request it
may have to hold is on its way to the scheduler, and requests it must hold still are."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import scrapy
from pydispatch.dispatcher import getAllReceivers, liveReceivers
from scrapy import Request, signals

from scrapy_ccsignals.policy.hold import RequestHold
from tests.crawling import page, run_crawl, stats, text

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def hold_receivers(crawler: Any) -> int:
    """How many of the request hold's handlers Scrapy calls for each scheduled request."""
    receivers = liveReceivers(getAllReceivers(crawler.signals.sender, signals.request_scheduled))
    return sum(isinstance(getattr(r, "__self__", None), RequestHold) for r in receivers)


class LinksSpider(scrapy.Spider):
    """Origin A's pages each link to all of A's pages (most of them already seen); A's
    last page sends a ``dont_filter`` request to origin B, never seen before. Records, on
    every page, whether the hold's handler is connected."""

    name = "links"
    start_urls: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connected: dict[str, int] = {}

    async def start(self) -> Any:
        yield Request(f"{self.start_urls[0]}/p/0", dont_filter=True)

    def parse(self, response: Any) -> Any:
        self.connected[response.url] = hold_receivers(self.crawler)
        yield {"url": response.url}
        a, b = self.start_urls
        if response.url.startswith(a):
            for i in range(1, 20):  # /p/0, the start request, is not in the dupe filter
                yield Request(f"{a}/p/{i}")
            if response.url == f"{a}/p/19":
                yield Request(f"{b}/p/0", dont_filter=True)


@pytest_twisted.ensureDeferred
async def test_no_hold_handler_for_known_origins(server):
    a, b = (
        server.add_origin({"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("p")}})
        for _ in range(2)
    )
    crawler, items = await run_crawl([a, b], spider_cls=LinksSpider)
    assert len(items) == 21
    spider = crawler.spider
    assert isinstance(spider, LinksSpider)
    # Every page's links (19 scheduled requests each) cost no call of the hold's handler...
    assert spider.connected == {url: 0 for url in [f"{a}/p/{i}" for i in range(20)] + [f"{b}/p/0"]}
    # ...and the two requests that had to wait for their origin's robots.txt still did,
    # held when scheduled (none was sent on to the downloader and given back).
    s = stats(crawler)
    assert s["ccsignals/requests/held"] == 2
    assert "ccsignals/requests/requeued" not in s
    assert server.paths(b)[0] == "/robots.txt"
    assert server.paths(b).count("/p/0") == 1
