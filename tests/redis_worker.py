"""One worker of a distributed crawl: scrapy-redis scheduler and dupefilter, the plugin with
the Redis policy store. Run: python -m tests.redis_worker REDIS_URL AUDIT_LOG CRAWL_ID URL..."""

from __future__ import annotations

import json
import sys

import scrapy
from scrapy.crawler import CrawlerProcess


class Worker(scrapy.Spider):
    name = "worker"

    def __init__(self, urls: list[str], **kwargs):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url)

    def parse(self, response):
        yield {"url": response.url}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)


def main() -> None:
    redis_url, audit, crawl_id, *urls = sys.argv[1:]
    process = CrawlerProcess(
        {
            "ADDONS": {"scrapy_ccsignals.Addon": 100},
            "CCSIGNALS_POLICY_STORE": redis_url,
            "CCSIGNALS_AUDIT_LOG": audit,
            "CCSIGNALS_CRAWL_ID": crawl_id,  # the workers' logs are one crawl
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # a worker that finishes first must not clear the shared dupefilter
            "SCHEDULER_IDLE_BEFORE_CLOSE": 1,
            "REDIS_URL": redis_url,
            "USER_AGENT": "WorkerBot/1.0",
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(Worker)
    process.crawl(crawler, urls=urls)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    print(
        json.dumps({k: v for k, v in stats.items() if k.startswith(("ccsignals/", "item_scraped"))})
    )


if __name__ == "__main__":
    main()
