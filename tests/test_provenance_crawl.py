"""Every provenance record names its crawl (``crawl``), the id every audit line of that
crawl starts with, so an item ties to its crawl's log: also an unchecked item (from an
errback), and with a crawl id given by ``CCSIGNALS_CRAWL_ID`` (distributed workers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted
import scrapy

from scrapy_ccsignals.schemas import load as load_schema
from tests.crawling import page, run_crawl, text


class PageAndErrbackSpider(scrapy.Spider):
    name = "page-and-errback"
    start_urls: list[str] = []

    async def start(self):
        yield scrapy.Request(self.start_urls[0])

    def parse(self, response):
        yield {"url": response.url}
        yield response.follow("/gone", errback=self.failed)

    def failed(self, failure):
        yield {"url": failure.request.url, "failed": True}


@pytest.mark.parametrize("given", [None, "worker-run-7"])
@pytest_twisted.ensureDeferred
async def test_items_name_the_crawl_of_the_audit_log(server, tmp_path, given):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/p": {"body": page("p")},
            "/gone": {"body": "x" * 100, "drop_after": 5},
        }
    )
    log = tmp_path / "audit.jsonl"
    settings: dict[str, Any] = {"CCSIGNALS_AUDIT_LOG": str(log)}
    if given:
        settings["CCSIGNALS_CRAWL_ID"] = given
    _crawler, items = await run_crawl([f"{origin}/p"], settings, spider_cls=PageAndErrbackSpider)
    crawls = {json.loads(line)["crawl"] for line in log.read_text().splitlines()}
    assert len(crawls) == 1
    (crawl,) = crawls
    if given:
        assert crawl == given
    records = {item.get("failed", False): item["ccsignals"] for item in items}
    assert records[False]["decision"] == "allow"
    assert records[True]["decision"] == "unchecked"
    assert {r["crawl"] for r in records.values()} == {crawl}


def test_schema_knows_the_crawl_field():
    schema = load_schema("provenance")
    assert schema["properties"]["crawl"]["type"] == "string"
