"""Access is decided after Scrapy's own filters (issue 26 item 3): a request that
OffsiteMiddleware or the duplicate filter drops never causes a policy fetch nor names an
origin; ``dont_obey_ccsignals`` holds only for the origin it was set on (item 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest_twisted
import scrapy
from scrapy import Request

from tests.crawling import PagesSpider, page, run_crawl, stats, text

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def audit_lines(path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class LoopbackOnlySpider(PagesSpider):
    """Scope: host 127.0.0.1 only (other 127.0.0.x addresses are other sites)."""

    name = "loopback-only"
    allowed_domains = ["127.0.0.1"]


# --- requests Scrapy drops never start a policy fetch (#26.3) ---------------------------


@pytest_twisted.ensureDeferred
async def test_offsite_links_start_no_policy_fetch_and_are_no_origin(server, tmp_path):
    """A page linking to two other sites, outside allowed_domains: Scrapy's
    OffsiteMiddleware drops those requests, so their robots.txt is never fetched, the
    drop is counted once each, and the audit log never names those origins."""
    others = [
        server.add_origin(
            {"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("other")}}, host=host
        )
        for host in ("127.0.0.2", "127.0.0.3")
    ]
    links = "".join(f'<a href="{o}/p/1">x</a>' for o in others)
    home = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p/0": {"body": page("home", links)}}
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [f"{home}/p/0"], {"CCSIGNALS_AUDIT_LOG": str(log)}, spider_cls=LoopbackOnlySpider
    )
    assert [item["url"] for item in items] == [f"{home}/p/0"]
    for other in others:
        assert server.paths(other) == []
    s = stats(crawler)
    assert s["offsite/filtered"] == 2
    assert s["ccsignals/policy/fetched"] == 1
    named = {line.get("origin") for line in audit_lines(log)}
    assert not any(other in str(named) for other in others)


class NoDontFilterSpider(PagesSpider):
    """Start requests go through the duplicate filter like links do."""

    name = "no-dont-filter"

    async def start(self) -> Any:
        for url in self.start_urls:
            yield Request(url)


@pytest_twisted.ensureDeferred
async def test_duplicate_request_starts_no_policy_fetch(server):
    """A's policy is evicted (cache of 1) when B's page links back to A's page, already
    crawled: the duplicate filter drops that request, so A's robots.txt is not fetched
    again for it."""
    a = server.add_origin({"/robots.txt": text(ALLOW_ALL)})
    b = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p/1": {"body": page("b", f'<a href="{a}/p/1">a</a>')}}
    )
    server.set_routes(
        a, {"/robots.txt": text(ALLOW_ALL), "/p/1": {"body": page("a", f'<a href="{b}/p/1">b</a>')}}
    )
    crawler, items = await run_crawl(
        [f"{a}/p/1"], {"CCSIGNALS_POLICY_CACHE_SIZE": 1}, spider_cls=NoDontFilterSpider
    )
    assert sorted(item["url"] for item in items) == sorted([f"{a}/p/1", f"{b}/p/1"])
    assert server.paths(a).count("/robots.txt") == 1
    assert stats(crawler)["dupefilter/filtered"] == 1


# --- dont_obey_ccsignals holds for its own origin only (#26.5) ----------------------------


class OptOutSpider(scrapy.Spider):
    name = "opt-out"
    start_urls: list[str] = []

    async def start(self) -> Any:
        for url in self.start_urls:
            yield Request(url, meta={"dont_obey_ccsignals": True}, dont_filter=True)

    def parse(self, response: Any) -> Any:
        yield {"url": response.url}


@pytest_twisted.ensureDeferred
async def test_opt_out_does_not_follow_a_redirect_to_another_origin(server):
    """The opt-out was set for A: A's robots.txt is not asked for. Its redirect to B, whose
    robots.txt disallows /p/, is checked there and dropped; the redirect to B's allowed
    page is fetched and decided by the use gate."""
    b = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /p/\n"),
            "/p/1": {"body": page("b")},
            "/ok": {"body": page("ok"), "headers": {"Content-Usage": "train-ai=n"}},
        },
        host="127.0.0.2",
    )
    a = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /\n"),
            "/go": {"status": 302, "headers": {"Location": f"{b}/p/1"}, "body": ""},
            "/go-ok": {"status": 302, "headers": {"Location": f"{b}/ok"}, "body": ""},
            "/here": {"body": page("here")},
        }
    )
    crawler, items = await run_crawl(
        [f"{a}/go", f"{a}/go-ok", f"{a}/here"], {"CCSIGNALS_MODE": "tag"}, spider_cls=OptOutSpider
    )
    assert "/robots.txt" not in server.paths(a)
    assert "/p/1" not in server.paths(b)
    assert sorted(item["url"] for item in items) == sorted([f"{a}/here", f"{b}/ok"])
    by_url = {item["url"]: item for item in items}
    # Not checked on the opt-out's own origin; checked where it was redirected.
    assert by_url[f"{a}/here"]["ccsignals"]["decision"] == "unchecked"
    assert by_url[f"{b}/ok"]["ccsignals"]["decision"] == "deny"
    s = stats(crawler)
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == 1
