"""A one-line progress display on stderr: pages, items, and what the plugin held back.

On a terminal the line is redrawn every half second; when stderr is a file or a pipe only
the final line is written (a redrawn line there is one long line of ``\\r``-glued text)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class Progress:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.loop = task.LoopingCall(self.show)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        # Only where the example runner asks for it (its log goes to a file): a progress
        # line would be glued to the log lines of other commands run in this project.
        if not crawler.settings.getbool("COMMONS_PROGRESS"):
            raise NotConfigured("COMMONS_PROGRESS is off")
        return cls(crawler)

    def opened(self) -> None:
        if sys.stderr.isatty():
            self.loop.start(0.5)

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show()
        sys.stderr.write("\n")

    def show(self) -> None:
        assert self.crawler.stats is not None
        get = self.crawler.stats.get_value
        pages = get("ccsignals/responses/allow", 0) + get("ccsignals/responses/deny", 0)
        kept = get("item_scraped_count", 0)
        sys.stderr.write(
            f"\rcrawling: {pages} {'page' if pages == 1 else 'pages'}, "
            f"{kept} {'item' if kept == 1 else 'items'} kept, "
            f"{get('ccsignals/forbidden/robots.txt', 0)} forbidden by robots.txt, "
            f"{get('ccsignals/items/dropped', 0)} held back"
        )
        sys.stderr.flush()
