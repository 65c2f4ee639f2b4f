"""A real crawl whose outputs the dataset-command tests read: the example's demo web plus
one blog whose pages state their attribution (JSON-LD, OpenGraph, ccREL), crawled with the
add-on and written as JSON lines, JSON and CSV feeds and an audit log.

The spider adds ``attribution`` to the provenance record the way the use gate will once
it is wired (``signals.attribution.extract_attribution`` on the page body), so the
commands read items as they will look. Run: ``python tests/dataset_crawl.py OUTDIR``;
prints the sites as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.http import Response, TextResponse  # noqa: E402

from example_project import demoweb  # noqa: E402
from scrapy_ccsignals.signals.attribution import extract_attribution  # noqa: E402
from scrapy_ccsignals.testing.server import TestServer  # noqa: E402

BY = "https://creativecommons.org/licenses/by/4.0/"


def blog_page(slug: str, title: str, author: str) -> str:
    jsonld = json.dumps({
        "@context": "https://schema.org", "@type": "BlogPosting", "headline": title,
        "author": {"@type": "Person", "name": author},
        "publisher": {"@type": "Organization", "name": "Field Notes"},
        "copyrightNotice": f"© 2026 {author}", "license": BY,
    })  # fmt: skip
    return (
        f"<!doctype html><html><head><title>{title} | Field Notes</title>"
        f'<meta property="og:site_name" content="Field Notes">'
        f'<link rel="canonical" href="/posts/{slug}">'
        f'<link rel="license" href="{BY}">'
        f'<script type="application/ld+json">{jsonld}</script>'
        "<!-- <meta name=author content='not this one'> --></head><body>"
        f"<main><p>{title} by {author}.</p><a href='/'>all posts</a></main></body></html>"
    )


def blog() -> dict[str, Any]:
    posts = {"heron": ("The heron's patience", "Ada Lund"),
             "moss": ("Moss, [slowly] | *growing*", "Bo Chen")}  # fmt: skip
    routes: dict[str, Any] = {
        "/robots.txt": {"body": "User-agent: *\nAllow: /\n", "headers": {"Content-Type": "text/plain"}},
        "/": {"body": "<html><head><title>Posts</title></head><body>"
                    + "".join(f"<a href='/posts/{s}'>{t}</a>" for s, (t, _) in posts.items())
                    + "</body></html>", "headers": {"Content-Type": "text/html"}},
    }  # fmt: skip
    for slug, (title, author) in posts.items():
        routes[f"/posts/{slug}"] = {
            "body": blog_page(slug, title, author),
            "headers": {"Content-Type": "text/html; charset=utf-8"},
        }
    return routes


class AttributedSpider(scrapy.Spider):
    name = "attributed"
    start_urls: list[str] = []

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield scrapy.Request(url)  # filtered like the links: each page crawled once

    def parse(self, response: Response) -> Any:
        record = response.meta.get("ccsignals")
        if isinstance(record, dict) and isinstance(response, TextResponse):
            record["attribution"] = extract_attribution(response.body, response.url)
        yield {"url": response.url, "title": response.css("title::text").get(default="")}
        if isinstance(response, TextResponse):
            here = urlsplit(response.url).netloc
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if urlsplit(url).netloc == here:  # the demo web only: no internet
                    yield scrapy.Request(url)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with TestServer() as server:
        sites = demoweb.start(server)
        sites["blog"] = server.add_origin(blog())
        process = CrawlerProcess({
            "ADDONS": {"scrapy_ccsignals.Addon": 100},
            "USER_AGENT": "ExampleAIBot/1.0 (+https://example.org/bot)",
            "CCSIGNALS_ACCEPT_CONDITIONS": ["cc-cr"],
            "CCSIGNALS_AUDIT_LOG": str(out / "audit.jsonl"),
            "FEEDS": {str(out / "items.jsonl"): {"format": "jsonlines"},
                      str(out / "items.json"): {"format": "json"},
                      str(out / "items.csv"): {"format": "csv"}},
            "FEED_EXPORT_ENCODING": "utf-8",
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "RETRY_ENABLED": False,
        })  # fmt: skip
        process.crawl(AttributedSpider, start_urls=[url + "/" for url in sites.values()])
        process.start()
    print(json.dumps(sites))


if __name__ == "__main__":
    main(Path(sys.argv[1]))


def denied_by(crawled, family: str) -> int:
    """Responses the audit log says a family denied."""
    lines = (crawled["dir"] / "audit.jsonl").read_text().splitlines()
    return sum(
        1
        for line in map(json.loads, lines)
        if line["stage"] == "response" and line.get("decision") == "deny"
        and family in line.get("families", [])
    )  # fmt: skip
