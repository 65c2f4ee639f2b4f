"""Every kind of request the access gate sees, in one real crawl: what it decided and
counted is what it decided and counted before the request path was made cheaper (the
gate's lookups hoisted, a request's path normalised once and reused for its response)."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from tests.crawling import PagesSpider, ccsignals_of, page, run_crawl, stats, text


class EveryKind(PagesSpider):
    """From the home page: a plain link, a disallowed one, a redirect, a request carrying
    the home page's meta (its record included), and an opted-out disallowed one carrying
    it too."""

    def parse(self, response: Any) -> Any:
        yield {"url": response.url}
        if not response.url.endswith("/"):
            return
        yield response.follow("/public/1")
        yield response.follow("/private/1")
        yield response.follow("/redir")
        copied = {k: v for k, v in response.meta.items() if k != "download_latency"}
        yield response.follow("/public/3", meta=copied)
        yield response.follow("/private/2", meta={**copied, "dont_obey_ccsignals": True})


@pytest_twisted.ensureDeferred
async def test_each_kind_of_request_decided_and_counted(server):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/": {"body": page("home")},
            "/redir": {"status": 302, "headers": {"Location": "/public/2"}},
            "/public/*": {"body": page("public")},
            "/private/*": {"body": page("secret")},
        }
    )
    crawler, items = await run_crawl([f"{origin}/"], spider_cls=EveryKind)
    paths = server.paths(origin)
    assert "/private/1" not in paths
    assert sorted(p for p in paths if p.startswith(("/public/", "/private/", "/redir"))) == [
        "/private/2",
        "/public/1",
        "/public/2",
        "/public/3",
        "/redir",
    ]
    s = stats(crawler)
    assert s["ccsignals/forbidden/robots.txt"] == 1
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == 1
    assert s["ccsignals/responses/redirected"] == 1
    assert s["ccsignals/responses/allow"] == 4  # /, /public/1, /public/2, /public/3
    assert s["ccsignals/items/passed"] == 4
    assert s["ccsignals/items/unchecked"] == 1  # the opted-out /private/2
    records = {item["url"][len(origin) :]: ccsignals_of(item) for item in items}
    assert sorted(records) == ["/", "/private/2", "/public/1", "/public/2", "/public/3"]
    for path in ("/", "/public/1", "/public/2", "/public/3"):
        # each response's own record, also the one whose request carried the home page's
        assert records[path]["url"] == origin + path
        assert records[path]["decision"] == "allow"
    assert records["/private/2"]["decision"] == "unchecked"


@pytest_twisted.ensureDeferred
async def test_robots_txt_path_compared_in_normal_form(server):
    """robots.txt itself is always allowed (RFC 9309 section 2.5), also written with an
    escape of an unreserved character, while every other path is disallowed."""
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /\n"),
            "/%72obots.txt": text("same file"),
            "/page": {"body": page("page")},
        }
    )
    urls = [f"{origin}{p}" for p in ("/robots.txt", "/%72obots.txt", "/page")]
    crawler, items = await run_crawl(urls, follow=False)
    paths = server.paths(origin)
    assert paths.count("/robots.txt") == 2  # the plugin's fetch and the spider's
    assert "/%72obots.txt" in paths
    assert "/page" not in paths
    assert stats(crawler)["ccsignals/forbidden/robots.txt"] == 1
    assert sorted(item["url"][len(origin) :] for item in items) == [
        "/%72obots.txt",
        "/robots.txt",
    ]
