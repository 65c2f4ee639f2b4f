"""Issue #14: ordinary Scrapy setups must not quietly weaken robots.txt or the use gate.
Each test is a real crawl against the loopback test server."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
import pytest_twisted
import scrapy

from tests.crawling import page, run_crawl, stats, text

DISALLOW_ALL = "User-agent: *\nDisallow: /private/\n"


def site(server, robots: dict, extra: dict | None = None) -> str:
    return server.add_origin(
        {
            "/robots.txt": robots,
            "/private/*": {"body": page("secret")},
            "/public/*": {"body": page("public")},
            **(extra or {}),
        }
    )


# 2. Turning the plugin off leaves Scrapy's robots.txt middleware in force.
@pytest.mark.parametrize(
    "off",
    [
        {"CCSIGNALS_ENABLED": False},
        {
            "DOWNLOADER_MIDDLEWARES": {
                "scrapy_ccsignals.downloadermiddleware.CCSignalsDownloaderMiddleware": None
            }
        },
    ],
    ids=["setting", "middleware-none"],
)
@pytest_twisted.ensureDeferred
async def test_plugin_off_keeps_scrapy_robotstxt(server, off):
    origin = site(server, text(DISALLOW_ALL))
    crawler, _ = await run_crawl(
        [f"{origin}/private/1", f"{origin}/public/1"], {"ROBOTSTXT_OBEY": True, **off}, follow=False
    )
    paths = server.paths(origin)
    assert "/private/1" not in paths
    assert "/public/1" in paths
    assert stats(crawler).get("robotstxt/forbidden") == 1


# 3. Policy redirects to other schemes are failed fetches (disallow all), never read.
@pytest.mark.parametrize("target", ["file:///{path}", "ftp://127.0.0.1/robots.txt", "data:,x"])
@pytest_twisted.ensureDeferred
async def test_policy_redirect_to_other_scheme_is_unreachable(server, tmp_path, target):
    local = tmp_path / "robots.txt"
    local.write_text("User-agent: *\nAllow: /\n")
    location = target.format(path=str(local).lstrip("/"))
    origin = site(server, {"status": 302, "headers": {"Location": location}, "body": ""})
    crawler, items = await run_crawl([f"{origin}/public/1"], follow=False)
    assert "/public/1" not in server.paths(origin)
    assert items == []
    s = stats(crawler)
    assert s["ccsignals/policy/bad_redirect"] >= 1
    assert s["ccsignals/robots/unreachable"] == 1


# 4. Policy files never come from Scrapy's HTTP cache.
@pytest_twisted.ensureDeferred
async def test_http_cache_does_not_serve_policy_files(server, tmp_path):
    origin = site(server, text("User-agent: *\nAllow: /\n"))
    settings = {"HTTPCACHE_ENABLED": True, "HTTPCACHE_DIR": str(tmp_path / "cache")}
    await run_crawl([f"{origin}/public/1"], settings, follow=False)
    server.set_routes(
        origin,
        {"/robots.txt": text("User-agent: *\nDisallow: /\n"), "/public/*": {"body": page("p")}},
    )
    _, items = await run_crawl([f"{origin}/public/2"], settings, follow=False)
    assert server.paths(origin).count("/robots.txt") == 2
    assert "/public/2" not in server.paths(origin)
    assert items == []


# 6. HTML without a Content-Type header is still scanned (Scrapy built an HtmlResponse).
@pytest_twisted.ensureDeferred
async def test_html_without_content_type_is_scanned(server):
    body = '<html><head><meta name="robots" content="noai"></head><body>x</body></html>'
    origin = site(
        server,
        text("User-agent: *\nAllow: /\n"),
        {
            "/page": {
                "body_b64": base64.b64encode(body.encode()).decode(),
                "headers": {"Content-Type": ""},
            }
        },
    )
    _, items = await run_crawl([f"{origin}/page"], {"CCSIGNALS_MODE": "tag"}, follow=False)
    assert items[0]["ccsignals"]["decision"] == "deny"
    assert any(s["family"] == "noai" for s in items[0]["ccsignals"]["signals"])


# 7. Tags in comments and scripts are not signals.
@pytest.mark.parametrize(
    ("body", "decision"),
    [
        (
            "<meta name=tdm-reservation content=1>"
            "<!-- old: <meta name=tdm-reservation content=0> -->",
            "deny",
        ),
        ('<script>var s = \'<meta name="robots" content="noai">\';</script>', "allow"),
        ('<style>/* <meta name="robots" content="noai"> */</style>', "allow"),
        ('<![CDATA[ <meta name="robots" content="noai"> ]]>', "allow"),
    ],
    ids=["comment", "script", "style", "cdata"],
)
@pytest_twisted.ensureDeferred
async def test_comments_and_scripts_are_not_signals(server, body, decision):
    html = f"<html><head><title>t</title>{body}</head><body>x</body></html>"
    origin = site(server, text("User-agent: *\nAllow: /\n"), {"/page": {"body": html}})
    _, items = await run_crawl([f"{origin}/page"], {"CCSIGNALS_MODE": "tag"}, follow=False)
    assert items[0]["ccsignals"]["decision"] == decision


# 6. data: responses are not signal-free either.
@pytest_twisted.ensureDeferred
async def test_data_url_page_signals_count():
    url = "data:text/html,<html><head><meta name=robots content=noai></head></html>"
    _, items = await run_crawl([url], {"CCSIGNALS_MODE": "tag"}, follow=False)
    assert items[0]["ccsignals"]["decision"] == "deny"


# 5. Crawl-delay is a floor: jitter and AutoThrottle may only lengthen the gap.
@pytest.mark.parametrize(
    "settings",
    [
        {"DOWNLOAD_DELAY_JITTER": 0.5},
        {"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0, "AUTOTHROTTLE_MAX_DELAY": 5},
    ],
    ids=["jitter", "autothrottle"],
)
@pytest_twisted.ensureDeferred
async def test_crawl_delay_is_a_floor(server, settings):
    delay = 0.6
    origin = site(server, text(f"User-agent: *\nCrawl-delay: {delay}\nAllow: /\n"))
    urls = [f"{origin}/public/{i}" for i in range(6)]
    await run_crawl(urls, {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, **settings}, follow=False)
    times = [e["time"] for e in server.log(origin) if e["path"].startswith("/public/")]
    assert len(times) == 6
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= delay * 0.95, gaps


# 9. Redirect hops and meta-refresh sources are in the audit log; errback items are unchecked.
@pytest_twisted.ensureDeferred
async def test_redirect_hops_and_meta_refresh_are_audited(server, tmp_path):
    origin = site(
        server,
        text("User-agent: *\nAllow: /\n"),
        {
            "/old": {"status": 301, "headers": {"Location": "/moved"}, "body": ""},
            "/moved": {"status": 302, "headers": {"Location": "/refresh"}, "body": ""},
            "/refresh": {
                "body": '<html><head><meta http-equiv="refresh" content="0; url=/final">'
                "</head></html>"
            },
            "/final": {"body": page("final")},
        },
    )
    log = tmp_path / "audit.jsonl"
    await run_crawl([f"{origin}/old"], {"CCSIGNALS_AUDIT_LOG": str(log)}, follow=False)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    fetched = [(x["url"], x["action"]) for x in lines if x["stage"] in ("request", "response")]
    seen = [p for p in server.paths(origin) if p not in ("/robots.txt", "/.well-known/tdmrep.json")]
    assert seen == ["/old", "/moved", "/refresh", "/final"]
    assert fetched == [
        (f"{origin}/old", "redirected"),
        (f"{origin}/moved", "redirected"),
        (f"{origin}/refresh", "redirected"),
        (f"{origin}/final", "fetched"),
    ]
    hops = {x["url"]: x for x in lines if x["action"] == "redirected"}
    assert hops[f"{origin}/old"]["status"] == 301
    assert "meta refresh" in hops[f"{origin}/refresh"]["reasons"][0]


class ErrbackSpider(scrapy.Spider):
    name = "errback"
    start_urls: list[str] = []

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, errback=self.failed)

    def parse(self, response):
        yield {"url": response.url}

    def failed(self, failure):
        yield {"url": failure.request.url, "failed": True}


@pytest_twisted.ensureDeferred
async def test_errback_items_are_marked_unchecked(server, tmp_path):
    origin = site(
        server, text("User-agent: *\nAllow: /\n"), {"/gone": {"body": "x" * 100, "drop_after": 5}}
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [f"{origin}/gone"], {"CCSIGNALS_AUDIT_LOG": str(log)}, spider_cls=ErrbackSpider
    )
    assert len(items) == 1
    record = items[0]["ccsignals"]
    assert record["decision"] == "unchecked"
    assert "no response" in record["reasons"][0]
    assert stats(crawler)["ccsignals/items/unchecked"] == 1
    assert '"action": "unchecked"' in log.read_text()


# 1. The token from common User-Agent strings (SIGNALS.md, The token r2).
@pytest.mark.parametrize(
    ("user_agent", "group"),
    [
        ("Mozilla/5.0 (compatible; ExampleAIBot/1.0; +https://example.org/bot)", "ExampleAIBot"),
        ("AI2Bot/1.0 (+https://example.org)", "AI2Bot"),
        ("360Spider", "360Spider"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_token_from_user_agent_selects_its_group(server, user_agent, group):
    robots = (
        f"User-agent: AI\nAllow: /\n\nUser-agent: {group}\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    )
    origin = site(server, text(robots))
    crawler, items = await run_crawl(
        [f"{origin}/public/1"], {"USER_AGENT": user_agent}, follow=False
    )
    assert "/public/1" not in server.paths(origin)
    assert items == []
    assert stats(crawler)["ccsignals/forbidden/robots.txt/disallowed"] == 1


class MetaCopySpider(scrapy.Spider):
    """Follows with ``meta=response.meta`` (a common idiom) to a page that opts out, and
    yields an item that already carries a record it copied."""

    name = "metacopy"
    start_urls: list[str] = []

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url)

    def parse(self, response):
        if "/private/" in response.url:
            yield {"url": response.url, "ccsignals": {"decision": "allow", "forged": True}}
            return
        yield {"url": response.url}
        meta = {**response.meta, "dont_obey_ccsignals": True}
        yield response.follow("/private/x", meta=meta)


@pytest_twisted.ensureDeferred
async def test_records_are_never_inherited_or_forged(server):
    origin = site(server, text("User-agent: *\nAllow: /\n"), {"/p": {"body": page("p")}})
    crawler, items = await run_crawl([f"{origin}/p"], spider_cls=MetaCopySpider)
    by_url = {i["url"]: i["ccsignals"] for i in items}
    assert by_url[f"{origin}/p"]["decision"] == "allow"
    opted_out = by_url[f"{origin}/private/x"]
    assert opted_out["decision"] == "unchecked"
    assert "forged" not in opted_out
    assert stats(crawler)["ccsignals/items/unchecked"] == 1


@pytest_twisted.ensureDeferred
async def test_unchecked_items_dropped_when_enforcing_a_deny_default(server, tmp_path):
    origin = site(
        server, text("User-agent: *\nAllow: /\n"), {"/gone": {"body": "x" * 100, "drop_after": 5}}
    )
    settings = {"CCSIGNALS_DEFAULT": "deny", "CCSIGNALS_AUDIT_LOG": str(tmp_path / "a.jsonl")}
    crawler, items = await run_crawl([f"{origin}/gone"], settings, spider_cls=ErrbackSpider)
    assert items == []
    assert stats(crawler)["ccsignals/items/dropped"] == 1
    assert '"action": "dropped"' in (tmp_path / "a.jsonl").read_text()


@pytest_twisted.ensureDeferred
async def test_compressed_policy_file_cannot_inflate_past_a_bound(server):
    """A 20 MB robots.txt gzipped to a few KB was inflated whole, past every cap."""
    import gzip

    bomb = gzip.compress(b"User-agent: *\nAllow: /\n" + b"#" * (20 << 20))
    origin = site(
        server,
        {
            "body_b64": base64.b64encode(bomb).decode(),
            "headers": {"Content-Encoding": "gzip", "Content-Type": "text/plain"},
        },
    )
    crawler, items = await run_crawl([f"{origin}/public/1"], follow=False)
    assert items == [] and "/public/1" not in server.paths(origin)  # unreachable: disallow all
    assert stats(crawler)["ccsignals/robots/unreachable"] == 1
    robots = [e for e in server.log(origin) if e["path"] == "/robots.txt"]
    assert robots  # asked for, plain please


class MovedResponse:
    """Stands for a download handler that follows redirects itself (browser-style): the
    response comes back with another URL than the request's, one the access gate never saw."""

    def process_response(self, request, response):
        if request.url.endswith("/public/moved"):
            return response.replace(url=request.url.replace("/public/moved", "/private/x"))
        return response


@pytest_twisted.ensureDeferred
async def test_response_url_the_access_gate_never_saw_is_checked(server):
    origin = site(server, text(DISALLOW_ALL))
    settings = {
        "CCSIGNALS_MODE": "tag",
        "DOWNLOADER_MIDDLEWARES": {"tests.test_trust.MovedResponse": 950},
    }
    _, items = await run_crawl([f"{origin}/public/moved"], settings, follow=False)
    record = items[0]["ccsignals"]
    assert items[0]["url"] == f"{origin}/private/x"
    assert record["decision"] == "deny"
    assert any("robots.txt" in r and "response URL" in r for r in record["reasons"])
