"""Crawl sites from their home pages, follow links (and images) within each site, one item
per page or file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse


class CommonsSpider(scrapy.Spider):
    name = "commons"

    def __init__(self, urls: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.start_urls = [u for u in urls.split(",") if u]

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield scrapy.Request(url)

    def parse(self, response: Response) -> Any:
        if not isinstance(response, TextResponse):
            # An image, PDF or EPUB: the item is the file; its rights came from inside it.
            yield {
                "url": response.url,
                "media_type": response.headers.get(b"Content-Type", b"").decode("latin-1"),
                "bytes": len(response.body),
            }
            return
        yield {
            "url": response.url,
            "title": response.css("title::text").get(default="").strip(),
            "text": " ".join(
                t.strip() for t in response.css("main p::text, article p::text").getall()
            )[:600],
            "credit": " ".join(
                t.strip() for t in response.css(".credit ::text").getall() if t.strip()
            )
            or None,
        }
        here = urlsplit(response.url).netloc
        for href in response.css("a::attr(href), img::attr(src)").getall():
            url = response.urljoin(href)
            if urlsplit(url).netloc == here:
                yield scrapy.Request(url)
