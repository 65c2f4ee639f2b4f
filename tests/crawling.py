"""Run real Scrapy crawls from tests: a link-following spider, item types to parametrize
over, and a helper that runs a crawl and collects what reached the pipeline."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import attrs
import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.http import Response, TextResponse

ADDON = {"scrapy_ccsignals.Addon": 100}

BASE_SETTINGS: dict[str, Any] = {
    "ADDONS": ADDON,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "DEBUG",
    "USER_AGENT": "TestBot/1.0 (+http://127.0.0.1)",
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "DOWNLOAD_TIMEOUT": 10,
    "RETRY_ENABLED": False,
    # On by default (audit/<spider>-<time>.jsonl in the working folder): a test that wants
    # one names its path.
    "CCSIGNALS_AUDIT_LOG": None,
}


class PageItem(scrapy.Item):
    url = scrapy.Field()
    title = scrapy.Field()
    ccsignals = scrapy.Field()


class BareItem(scrapy.Item):
    url = scrapy.Field()
    title = scrapy.Field()


@dataclasses.dataclass
class PageData:
    url: str = ""
    title: str = ""
    ccsignals: dict[str, Any] | None = None


@attrs.define
class PageAttrs:
    url: str = ""
    title: str = ""
    ccsignals: dict[str, Any] | None = None


ITEM_TYPES: dict[str, Any] = {
    "dict": dict,
    "scrapy.Item": PageItem,
    "dataclass": PageData,
    "attrs": PageAttrs,
}


class PagesSpider(scrapy.Spider):
    """Fetch start_urls, yield one item per page, follow same-origin links."""

    name = "pages"
    start_urls: list[str] = []
    item_type: Any = dict
    follow = True

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield Request(url, dont_filter=True)

    def parse(self, response: Response) -> Any:
        title = ""
        if isinstance(response, TextResponse):
            title = response.css("title::text").get(default="")
        yield self.item_type(url=response.url, title=title)
        if self.follow and isinstance(response, TextResponse):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href)


async def run_crawl(
    urls: list[str],
    settings: dict[str, Any] | None = None,
    item_type: Any = dict,
    follow: bool = True,
    spider_cls: type[scrapy.Spider] = PagesSpider,
) -> tuple[Crawler, list[Any]]:
    """Run one crawl to completion; returns the crawler and the scraped items."""
    runner = CrawlerRunner({**BASE_SETTINGS, **(settings or {})})
    crawler = runner.create_crawler(spider_cls)
    items: list[Any] = []

    def collect(item: Any, **kwargs: Any) -> None:
        items.append(item)

    crawler.signals.connect(collect, signal=signals.item_scraped, weak=False)
    await runner.crawl(crawler, start_urls=urls, item_type=item_type, follow=follow)
    return crawler, items


async def within(seconds: float, crawl: Coroutine[Any, Any, Any]) -> Any:
    """*crawl*'s result, or the test fails after *seconds*: a crawl that stalls never
    closes (closing waits for the downloader to empty), and would hang the test run."""
    from twisted.internet import defer, reactor

    running = defer.ensureDeferred(crawl)
    timed_out: list[bool] = []
    deadline = reactor.callLater(seconds, lambda: (timed_out.append(True), running.cancel()))
    try:
        result = await running
    except defer.CancelledError:
        result = None
    finally:
        if deadline.active():
            deadline.cancel()
    assert not timed_out, f"the crawl did not end within {seconds} s: it stalled"
    return result


def stats(crawler: Crawler) -> dict[str, Any]:
    assert crawler.stats is not None
    return crawler.stats.get_stats()


def ccsignals_of(item: Any) -> Any:
    from itemadapter import ItemAdapter

    return ItemAdapter(item).get("ccsignals")


def page(title: str, body: str = "", head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def text(body: str) -> dict[str, Any]:
    return {"body": body, "headers": {"Content-Type": "text/plain"}}
