"""The access gate in real crawls: robots.txt per RFC 9309 against a real server."""

from __future__ import annotations

import itertools

import pytest
import pytest_twisted

from tests.crawling import ADDON, page, run_crawl, stats, text

ROBOTS_DISALLOW_PRIVATE = "User-agent: *\nDisallow: /private/\n"


def private_site(server, robots: dict) -> str:
    return server.add_origin(
        {
            "/robots.txt": robots,
            "/": {"body": page("home")},
            "/private/*": {"body": page("secret")},
            "/public/*": {"body": page("public")},
        }
    )


@pytest_twisted.ensureDeferred
async def test_no_leak_under_concurrency(server):
    """25 requests to a disallowed path arrive while robots.txt is in flight: none leaks.
    (Scrapy 2.19's RobotsTxtMiddleware lets most such waiters through.)"""
    origin = private_site(server, {**text(ROBOTS_DISALLOW_PRIVATE), "delay": 0.5})
    urls = [f"{origin}/private/{i}" for i in range(25)] + [f"{origin}/public/{i}" for i in range(5)]
    crawler, items = await run_crawl(urls, follow=False)
    paths = server.paths(origin)
    assert [p for p in paths if p.startswith("/private/")] == []
    assert paths.count("/robots.txt") == 1
    assert paths.count("/.well-known/tdmrep.json") == 1
    assert sorted(p for p in paths if p.startswith("/public/")) == [
        f"/public/{i}" for i in range(5)
    ]
    s = stats(crawler)
    assert s["ccsignals/forbidden/robots.txt"] == 25
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == 25
    assert len(items) == 5


@pytest_twisted.ensureDeferred
async def test_scrapy_builtin_middleware_leaks_for_comparison(server):
    """The reason this plugin exists: the same crawl with ROBOTSTXT_OBEY leaks."""
    origin = private_site(server, {**text(ROBOTS_DISALLOW_PRIVATE), "delay": 0.5})
    urls = [f"{origin}/private/{i}" for i in range(25)]
    await run_crawl(urls, {"ADDONS": {}, "ROBOTSTXT_OBEY": True}, follow=False)
    leaked = [p for p in server.paths(origin) if p.startswith("/private/")]
    if not leaked:
        pytest.skip("this Scrapy version's RobotsTxtMiddleware no longer leaks")
    assert len(leaked) > 0


@pytest.mark.parametrize("status", [500, 502, 503, 429])
@pytest_twisted.ensureDeferred
async def test_server_error_disallows_whole_origin(server, status):
    origin = private_site(server, {"status": status, "body": "down"})
    crawler, items = await run_crawl([f"{origin}/public/1", f"{origin}/"], follow=False)
    paths = server.paths(origin)
    assert paths.count("/robots.txt") == 1
    assert [p for p in paths if p.startswith("/public") or p == "/"] == []
    assert items == []
    s = stats(crawler)
    assert s["ccsignals/robots/unreachable"] == 1
    assert s["ccsignals/forbidden/robots.txt/unreachable"] == 2


@pytest_twisted.ensureDeferred
async def test_503_crawled_by_scrapy_builtin(server):
    """Scrapy's own middleware crawls an origin whose robots.txt answers 503."""
    origin = private_site(server, {"status": 503, "body": "down"})
    _, items = await run_crawl(
        [f"{origin}/public/1"], {"ADDONS": {}, "ROBOTSTXT_OBEY": True}, follow=False
    )
    assert len(items) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
@pytest_twisted.ensureDeferred
async def test_client_error_allows_all(server, status):
    origin = private_site(server, {"status": status, "body": "nope"})
    crawler, items = await run_crawl([f"{origin}/private/1"], follow=False)
    assert "/private/1" in server.paths(origin)
    assert len(items) == 1
    assert stats(crawler)["ccsignals/robots/unavailable"] == 1


@pytest_twisted.ensureDeferred
async def test_unreachable_origin_disallowed(server):
    # A port nothing listens on: connection refused.
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    crawler, items = await run_crawl([f"http://127.0.0.1:{port}/page"], follow=False)
    s = stats(crawler)
    assert items == []
    assert s["ccsignals/robots/unreachable"] == 1
    assert s["ccsignals/forbidden/robots.txt/unreachable"] == 1


@pytest_twisted.ensureDeferred
async def test_timeout_disallows(server):
    origin = private_site(server, {**text("User-agent: *\nAllow: /"), "delay": 5})
    crawler, items = await run_crawl(
        [f"{origin}/public/1"], {"CCSIGNALS_POLICY_TIMEOUT": 0.5}, follow=False
    )
    assert items == []
    assert stats(crawler)["ccsignals/forbidden/robots.txt/unreachable"] == 1
    assert "/public/1" not in server.paths(origin)


@pytest.mark.parametrize(
    ("hops", "allowed"),
    [(1, False), (5, False), (6, True)],  # past 5 redirects: unavailable, allow all
)
@pytest_twisted.ensureDeferred
async def test_redirects(server, hops, allowed):
    # /robots.txt -> /r1 -> ... -> /r<hops>: `hops` redirects, then the file.
    routes = {
        f"/r{i}": {"status": 301, "headers": {"Location": f"/r{i + 1}"}} for i in range(1, hops)
    }
    routes["/robots.txt"] = {"status": 301, "headers": {"Location": "/r1"}}
    routes[f"/r{hops}"] = text("User-agent: *\nDisallow: /private/")
    routes["/private/*"] = {"body": page("secret")}
    origin = server.add_origin(routes)
    _, items = await run_crawl([f"{origin}/private/x"], follow=False)
    assert ("/private/x" in server.paths(origin)) is allowed
    assert len(items) == int(allowed)


@pytest_twisted.ensureDeferred
async def test_redirect_to_other_origin_applies_to_original(server):
    other = server.add_origin({"/rules.txt": text("User-agent: *\nDisallow: /private/")})
    origin = private_site(server, {"status": 302, "headers": {"Location": f"{other}/rules.txt"}})
    _, items = await run_crawl([f"{origin}/private/1", f"{origin}/public/1"], follow=False)
    paths = server.paths(origin)
    assert "/private/1" not in paths
    assert "/public/1" in paths
    assert server.paths(other) == ["/rules.txt"]
    assert len(items) == 1


@pytest.mark.parametrize(
    ("robots", "token", "fetched"),
    [
        ("User-agent: TestBot\nDisallow: /private/\n\nUser-agent: *\nDisallow: /", "", True),
        ("User-agent: testbot\nDisallow: /\n\nUser-agent: *\nAllow: /", "", False),
        ("User-agent: OtherBot\nDisallow: /\n", "", True),
        ("User-agent: *\nDisallow: /\n", "", False),
        ("User-agent: *\nDisallow: /\n\nUser-agent: GoodBot\nAllow: /", "GoodBot", True),
        ("User-agent: *\nDisallow: /pub\nAllow: /public/", "", True),  # longest match
        ("User-agent: *\nDisallow: /public/\nAllow: /public/", "", True),  # tie: allow
    ],
)
@pytest_twisted.ensureDeferred
async def test_token_groups(server, robots, token, fetched):
    origin = private_site(server, text(robots))
    settings = {"CCSIGNALS_USER_AGENT": token} if token else {}
    await run_crawl([f"{origin}/public/1"], settings, follow=False)
    assert ("/public/1" in server.paths(origin)) is fetched


@pytest_twisted.ensureDeferred
async def test_dont_obey_ccsignals_meta(server):
    import scrapy

    from tests.crawling import PagesSpider

    class OptOut(PagesSpider):
        async def start(self):
            for url in self.start_urls:
                yield scrapy.Request(url, meta={"dont_obey_ccsignals": True})

    origin = private_site(server, text("User-agent: *\nDisallow: /"))
    _, items = await run_crawl([f"{origin}/private/1"], follow=False, spider_cls=OptOut)
    assert server.paths(origin) == ["/private/1"]
    assert len(items) == 1


@pytest_twisted.ensureDeferred
async def test_crawl_delay_applied_and_capped(server):
    origin = private_site(server, text("User-agent: *\nCrawl-delay: 100\nAllow: /"))
    crawler, _ = await run_crawl(
        [f"{origin}/public/{i}" for i in range(3)],
        {"CCSIGNALS_MAX_CRAWL_DELAY": 0.4, "DOWNLOAD_DELAY_JITTER": 0},
        follow=False,
    )
    log = [e for e in server.log(origin) if e["path"].startswith("/public/")]
    assert len(log) == 3
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(log)]
    assert min(gaps) >= 0.35
    assert stats(crawler)["ccsignals/crawl_delay/applied"] == 1


@pytest_twisted.ensureDeferred
async def test_addon_disables_scrapy_robotstxt_middleware(server):
    origin = private_site(server, text("User-agent: *\nAllow: /"))
    crawler, _ = await run_crawl([f"{origin}/public/1"], {"ROBOTSTXT_OBEY": True}, follow=False)
    assert server.paths(origin).count("/robots.txt") == 1
    assert "robotstxt/request_count" not in stats(crawler)


@pytest_twisted.ensureDeferred
async def test_middlewares_enabled_by_hand(server):
    origin = private_site(server, text("User-agent: *\nDisallow: /private/"))
    settings = {
        "ADDONS": {},
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy_ccsignals.downloadermiddleware.CCSignalsDownloaderMiddleware": 100
        },
        "SPIDER_MIDDLEWARES": {"scrapy_ccsignals.spidermiddleware.CCSignalsSpiderMiddleware": 100},
        "EXTENSIONS": {"scrapy_ccsignals.extension.CCSignalsExtension": 0},
    }
    _, items = await run_crawl(
        [f"{origin}/private/1", f"{origin}/public/1"], settings, follow=False
    )
    assert "/private/1" not in server.paths(origin)
    assert [i["url"] for i in items] == [f"{origin}/public/1"]
    assert items[0]["ccsignals"]["decision"] == "allow"


@pytest_twisted.ensureDeferred
async def test_disabled(server):
    origin = private_site(server, text("User-agent: *\nDisallow: /"))
    _, items = await run_crawl([f"{origin}/private/1"], {"CCSIGNALS_ENABLED": False}, follow=False)
    assert server.paths(origin) == ["/private/1"]
    assert "ccsignals" not in items[0]


def test_addon_constant():
    assert ADDON == {"scrapy_ccsignals.Addon": 100}


@pytest_twisted.ensureDeferred
async def test_long_crawl_refetches_expired_policy(server):
    """RFC 9309 2.4: a parsed robots.txt is kept at most CCSIGNALS_POLICY_MAX_AGE."""
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/": {"body": page("home", '<a href="/slow/1">1</a>')},
            "/slow/1": {"body": page("1", '<a href="/slow/2">2</a>'), "delay": 0.8},
            "/slow/2": {"body": page("2", '<a href="/private/x">x</a>')},
            "/private/*": {"body": page("secret")},
        }
    )
    crawler, items = await run_crawl([origin + "/"], {"CCSIGNALS_POLICY_MAX_AGE": 0.5})
    paths = server.paths(origin)
    assert paths.count("/robots.txt") >= 2
    assert "/private/x" not in paths
    assert len(items) == 3
    assert stats(crawler)["ccsignals/policy/fetched"] >= 2
