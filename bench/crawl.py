"""One benchmark crawl in this process; prints its measurements as one JSON line.

Configurations: ``none`` (no politeness middleware), ``scrapy`` (Scrapy's own
``ROBOTSTXT_OBEY``), ``plugin`` (scrapy-ccsignals: every family, enforce mode, audit log on).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class BenchSpider(scrapy.Spider):
    name = "bench"

    def __init__(self, urls: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url)

    def parse(self, response: Response):
        yield {"url": response.url, "title": response.css("title::text").get()}
        for href in response.css("nav a::attr(href)").getall():
            yield response.follow(href)


def settings_for(config: str, audit: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "USER_AGENT": "BenchBot/1.0",
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "RETRY_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "MEMUSAGE_ENABLED": False,
    }
    if config == "scrapy":
        base["ROBOTSTXT_OBEY"] = True
    elif config == "plugin":
        base["ADDONS"] = {"scrapy_ccsignals.Addon": 100}
        base["CCSIGNALS_MODE"] = "enforce"
        base["CCSIGNALS_AUDIT_LOG"] = audit
    return base


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=["none", "scrapy", "plugin"], required=True)
    parser.add_argument("--urls", required=True, help="file with one start URL per line")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="extra setting"
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    urls = Path(args.urls).read_text().split()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(args.config, f"{tmp}/audit.jsonl")
        settings.update(dict(item.split("=", 1) for item in args.set))
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(BenchSpider)
        marks: dict[str, float] = {}
        policy: Counter[str] = Counter()

        def opened(**kw: Any) -> None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            marks["t0"], marks["cpu0"] = time.perf_counter(), usage.ru_utime + usage.ru_stime

        def closed(**kw: Any) -> None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            marks["t1"], marks["cpu1"] = time.perf_counter(), usage.ru_utime + usage.ru_stime

        def received(response: Response, **kw: Any) -> None:
            path = urlsplit(response.url).path
            if path in ("/robots.txt", "/.well-known/tdmrep.json"):
                policy[path] += 1

        crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        crawler.signals.connect(received, signal=signals.response_received, weak=False)
        process.crawl(crawler, urls=urls)
        process.start()
        assert crawler.stats is not None
        stats = crawler.stats.get_stats()
    elapsed = marks["t1"] - marks["t0"]
    pages = stats.get("response_received_count", 0) - sum(policy.values())
    print(
        json.dumps(
            {
                "config": args.config,
                "pages": pages,
                "items": stats.get("item_scraped_count", 0),
                "seconds": elapsed,
                "pages_per_s": pages / elapsed if elapsed else 0.0,
                "cpu_s": marks["cpu1"] - marks["cpu0"],
                "peak_rss_mb": peak_rss_mb(),
                "policy_requests_per_origin": sum(policy.values()) / max(1, len(urls)),
            }
        )
    )


if __name__ == "__main__":
    main()
