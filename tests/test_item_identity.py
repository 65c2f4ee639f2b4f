"""Issue 26 item 9: the plugin knows which items its spider middleware gave a record by
something Python cannot hand to another object. An item dropped between that middleware and
the pipeline frees its ``id()``; an item yielded later from an errback (which Scrapy does
not pass through spider middlewares) may get the same ``id()`` and must still be seen as
unchecked."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import scrapy
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from tests.crawling import page, run_crawl, stats, text

#: Items the page yields and a later middleware drops: enough freed ids for one to come back.
DROPPED = 300


class DropMarked(BaseSpiderMiddleware):
    """A user's spider middleware that sits after the plugin's (a lower number: it sees
    the items later) and drops some of them, remembering their ids. The spider holds the
    dropped items until its errback lets them go, so their ids are all freed at once, just
    before it makes new items (not reused by whatever the crawl allocates in between)."""

    def get_processed_item(self, item: Any, response: Any) -> Any:
        if isinstance(item, dict) and item.get("drop"):
            assert self.crawler.spider is not None
            self.crawler.spider.dropped_ids.add(id(item))  # type: ignore[attr-defined]
            self.crawler.spider.dropped.append(item)  # type: ignore[attr-defined]
            return None
        return item


class ReuseSpider(scrapy.Spider):
    name = "reuse"
    start_urls: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dropped_ids: set[int] = set()
        self.dropped: list[Any] = []
        self.reused = False

    async def start(self):
        yield scrapy.Request(self.start_urls[0])

    def parse(self, response):
        for n in range(DROPPED):
            yield {"url": response.url, "n": n, "drop": True}
        yield response.follow("/gone", errback=self.failed)

    def failed(self, failure):
        # A new dict at an address a dropped item had: what CPython's allocator does on
        # its own sooner or later, made certain here.
        self.dropped.clear()
        keep = []
        for _ in range(200_000):
            item = {"url": failure.request.url, "failed": True}
            if id(item) in self.dropped_ids:
                self.reused = True
                yield item
                return
            keep.append(item)
        yield {"url": failure.request.url, "failed": True}


def _site(server):
    return server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            # Allowed by the publisher, so items pass even under CCSIGNALS_DEFAULT = "deny".
            "/p": {"body": page("p"), "headers": {"Content-Usage": "train-ai=y"}},
            "/gone": {"body": "x" * 100, "drop_after": 5},
        }
    )


SETTINGS = {"SPIDER_MIDDLEWARES": {DropMarked: 10}}


@pytest_twisted.ensureDeferred
async def test_errback_item_reusing_a_dropped_items_id_is_unchecked(server):
    origin = _site(server)
    crawler, items = await run_crawl([f"{origin}/p"], SETTINGS, spider_cls=ReuseSpider)
    assert crawler.spider.reused, "no freed id came back; the test proves nothing"
    assert len(items) == 1
    record = items[0].get("ccsignals")
    assert record is not None and record["decision"] == "unchecked"
    assert "no response" in record["reasons"][0]
    assert stats(crawler)["ccsignals/items/unchecked"] == 1


@pytest_twisted.ensureDeferred
async def test_reused_id_does_not_pass_an_enforced_deny_default(server):
    origin = _site(server)
    settings = {**SETTINGS, "CCSIGNALS_DEFAULT": "deny"}
    crawler, items = await run_crawl([f"{origin}/p"], settings, spider_cls=ReuseSpider)
    assert crawler.spider.reused, "no freed id came back; the test proves nothing"
    assert items == []
    assert stats(crawler)["ccsignals/items/dropped"] == 1
