"""The use gate in real crawls: one scenario per rule of SIGNALS.md, in both modes, with
the provenance record checked on the items that reach the pipeline."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import pytest_twisted
import scrapy

import scrapy_ccsignals
from tests.crawling import ITEM_TYPES, BareItem, ccsignals_of, page, run_crawl, stats, text

CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def site(
    server,
    robots: str = "User-agent: *\nAllow: /\n",
    tdmrep: Any = None,
    headers: dict[str, Any] | None = None,
    head: str = "",
    body: str = "",
    path: str = "/page",
    raw_route: dict[str, Any] | None = None,
) -> str:
    routes: dict[str, Any] = {"/robots.txt": text(robots)}
    if tdmrep is not None:
        routes["/.well-known/tdmrep.json"] = {
            "body": tdmrep if isinstance(tdmrep, str) else json.dumps(tdmrep),
            "headers": {"Content-Type": "application/json"},
        }
    routes[path] = raw_route or {"body": page("Page", body, head), "headers": headers or {}}
    return server.add_origin(routes) + path


# (id, site kwargs, settings, decision, families that decided, conditions)
SCENARIOS: list[tuple[str, dict[str, Any], dict[str, Any], str, list[str], list[str]]] = [
    ("no-signals-default-allow", {}, {}, "allow", ["default"], []),
    ("no-signals-default-deny", {}, {"CCSIGNALS_DEFAULT": "deny"}, "deny", ["default"], []),
    (
        "robots-content-usage-n",
        {"robots": "User-agent: *\nContent-Usage: train-ai=n\n"},
        {},
        "deny",
        ["aipref"],
        [],
    ),
    (
        "robots-content-usage-y",
        {"robots": "User-agent: *\nContent-Usage: train-ai=y\n"},
        {"CCSIGNALS_DEFAULT": "deny"},
        "allow",
        ["aipref"],
        [],
    ),
    (
        "robots-content-usage-path-scoped",
        {
            "robots": "User-agent: *\nContent-Usage: train-ai=n\nContent-Usage: /open/ train-ai=y\n",
            "path": "/open/a",
        },
        {},
        "allow",
        ["aipref"],
        [],
    ),
    (
        "robots-content-usage-other-group",
        {"robots": "User-agent: TestBot\nAllow: /\n\nUser-agent: *\nContent-Usage: train-ai=n\n"},
        {},
        "allow",
        ["default"],
        [],
    ),
    (
        "robots-legacy-label",
        {"robots": "User-agent: *\nContent-Usage: ai-train=n\n"},
        {},
        "deny",
        ["aipref"],
        [],
    ),
    (
        "robots-content-signal-no",
        {"robots": "User-agent: *\nContent-Signal: search=yes, ai-train=no\n"},
        {},
        "deny",
        ["content-signal"],
        [],
    ),
    (
        "header-content-usage-n",
        {"headers": {"Content-Usage": "train-ai=n"}},
        {},
        "deny",
        ["aipref"],
        [],
    ),
    (
        "header-uppercase-invalid",
        {"headers": {"Content-Usage": "Train-AI=n"}},
        {},
        "allow",
        ["default"],
        [],
    ),
    (
        "header-any-n-wins",
        {"headers": {"Content-Usage": ["train-ai=y", "train-genai=n"]}},
        {},
        "deny",
        ["aipref"],
        [],
    ),
    (
        "html-meta-content-usage",
        {"head": '<meta http-equiv="Content-Usage" content="train-ai=n">'},
        {},
        "deny",
        ["aipref"],
        [],
    ),
    (
        "cc-signal-not-accepted",
        {"headers": {"Content-Usage": "train-ai=n;exceptions=cc-cr"}},
        {},
        "deny",
        ["cc-signals"],
        [],
    ),
    (
        "cc-signal-accepted",
        {"headers": {"Content-Usage": "train-ai=n;exceptions=cc-cr"}},
        {"CCSIGNALS_ACCEPT_CONDITIONS": ["cc-cr"]},
        "allow",
        ["cc-signals"],
        ["cc-cr"],
    ),
    (
        "cc-signal-other-accepted",
        {"head": '<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr-ec">'},
        {"CCSIGNALS_ACCEPT_CONDITIONS": ["cc-cr"]},
        "deny",
        ["cc-signals"],
        [],
    ),
    (
        "tdmrep-file-reserved",
        {"tdmrep": [{"location": "/*", "tdm-reservation": 1}]},
        {},
        "deny",
        ["tdmrep"],
        [],
    ),
    (
        "tdmrep-first-match",
        {
            "tdmrep": [
                {"location": "/page", "tdm-reservation": 0},
                {"location": "/*", "tdm-reservation": 1},
            ]
        },
        {},
        "allow",
        ["tdmrep"],
        [],
    ),
    (
        "tdmrep-header-overrides-file",
        {"tdmrep": [{"location": "/*", "tdm-reservation": 1}], "headers": {"tdm-reservation": "0"}},
        {},
        "allow",
        ["tdmrep"],
        [],
    ),
    (
        "tdmrep-meta-overrides-header",
        {"headers": {"tdm-reservation": "0"}, "head": '<meta name="tdm-reservation" content="1">'},
        {},
        "deny",
        ["tdmrep"],
        [],
    ),
    ("tdmrep-invalid-json", {"tdmrep": "{not json"}, {}, "allow", ["default"], []),
    (
        "tdmrep-not-array",
        {"tdmrep": {"location": "/*", "tdm-reservation": 1}},
        {},
        "allow",
        ["default"],
        [],
    ),
    ("noai-header", {"headers": {"X-Robots-Tag": "noindex, NoAI"}}, {}, "deny", ["noai"], []),
    (
        "noai-header-scoped-other",
        {"headers": {"X-Robots-Tag": "otherbot: noai"}},
        {},
        "allow",
        ["default"],
        [],
    ),
    (
        "noai-header-scoped-own",
        {"headers": {"X-Robots-Tag": "testbot: noai"}},
        {},
        "deny",
        ["noai"],
        [],
    ),
    ("noai-meta-robots", {"head": '<meta name="robots" content="noai">'}, {}, "deny", ["noai"], []),
    (
        "noai-meta-token",
        {"head": '<meta name="TestBot" content="noai, noimageai">'},
        {},
        "deny",
        ["noai"],
        [],
    ),
    (
        "noimageai-html-page",
        {"headers": {"X-Robots-Tag": "noimageai"}},
        {},
        "allow",
        ["default"],
        [],
    ),
    ("noindex-is-not-ai", {"headers": {"X-Robots-Tag": "noindex"}}, {}, "allow", ["default"], []),
    (
        "license-no-effect",
        {"head": f'<link rel="license" href="{CC_BY}">'},
        {},
        "allow",
        ["default"],
        [],
    ),
    (
        "license-filter-pass",
        {"head": f'<link rel="license" href="{CC_BY}">'},
        {"CCSIGNALS_LICENSES": ["CC-BY-4.0", "CC0-1.0"]},
        "allow",
        ["default"],
        [],
    ),
    ("license-filter-block", {}, {"CCSIGNALS_LICENSES": ["CC0-1.0"]}, "deny", ["license"], []),
    (
        "search-purpose",
        {
            "robots": "User-agent: *\nContent-Usage: train-ai=n, search=y\n",
            "headers": {"X-Robots-Tag": "noai"},
        },
        {"CCSIGNALS_PURPOSE": "search"},
        "allow",
        ["aipref"],
        [],
    ),
    (
        "search-purpose-denied",
        {"headers": {"Content-Usage": "search=n"}},
        {"CCSIGNALS_PURPOSE": "search"},
        "deny",
        ["aipref"],
        [],
    ),
]


@pytest.mark.parametrize("mode", ["enforce", "tag"])
@pytest.mark.parametrize(
    ("kwargs", "settings", "decision", "families", "conditions"),
    [pytest.param(*row[1:], id=row[0]) for row in SCENARIOS],
)
@pytest_twisted.ensureDeferred
async def test_scenario(server, mode, kwargs, settings, decision, families, conditions):
    url = site(server, **kwargs)
    crawler, items = await run_crawl([url], {**settings, "CCSIGNALS_MODE": mode}, follow=False)
    s = stats(crawler)
    assert s[f"ccsignals/responses/{decision}"] == 1
    for family in families:
        assert s[f"ccsignals/{decision}/{family}"] == 1
    if decision == "deny" and mode == "enforce":
        assert items == []
        assert s["ccsignals/items/dropped"] == 1
        return
    assert len(items) == 1
    record = ccsignals_of(items[0])
    assert record["decision"] == decision
    assert record["conditions"] == conditions
    assert record["url"] == url
    assert record["reasons"]
    if decision == "deny":
        assert s["ccsignals/items/tagged_deny"] == 1
        if families == ["default"]:
            assert record["reasons"] == ["no signal for the purpose; CCSIGNALS_DEFAULT=deny"]
            return
        # Every deny reason names family, layer, source URL and rule text.
        assert all(r.startswith("deny by ") and "http://127.0.0.1:" in r for r in record["reasons"])
        assert any(f in r for r in record["reasons"] for f in families)


@pytest_twisted.ensureDeferred
async def test_provenance_record_complete(server):
    url = site(
        server,
        robots="User-agent: *\nContent-Usage: /page train-ai=y\nLicense: /rsl.xml\n",
        tdmrep=[{"location": "/", "tdm-reservation": 0, "tdm-policy": "https://pub/policy.json"}],
        headers={
            "Link": '<http://creativecommons.org/licenses/by-sa/4.0/deed.de>; rel="license"',
            "Content-Usage": "search=y",
        },
        head='<script type="application/ld+json">{"license": "https://creativecommons.org/publicdomain/zero/1.0/"}</script>',
    )
    _, items = await run_crawl([url], follow=False)
    record = ccsignals_of(items[0])
    assert set(record) == {
        "url", "fetched_at", "status", "content_type", "sha256", "purpose", "decision",
        "conditions", "reasons", "license", "signals", "signals_as_written", "policies", "agent",
        "attribution", "crawl",
    }  # fmt: skip
    assert record["status"] == 200
    assert record["content_type"].startswith("text/html")
    assert len(record["sha256"]) == 64
    assert record["fetched_at"].endswith("Z")
    assert record["purpose"] == "train-ai"
    assert record["decision"] == "allow"
    assert record["license"] == {
        "url": "https://creativecommons.org/licenses/by-sa/4.0/",
        "id": "CC-BY-SA-4.0",
        "source": "header Link",
        "raw": '<http://creativecommons.org/licenses/by-sa/4.0/deed.de>; rel="license"',
    }
    by_family = {(s["family"], s["layer"]) for s in record["signals"]}
    assert ("aipref", "robots.txt") in by_family
    assert ("tdmrep", "tdmrep.json") in by_family
    assert ("license", "robots.txt") in by_family
    assert ("license", "header") in by_family
    assert ("license", "html") in by_family
    # The header says nothing for train-ai: recorded as written all the same.
    silent = {"family": "aipref", "layer": "header", "value": "silent", "effect": "unknown"}
    assert dict(silent, source=url, raw="Content-Usage: search=y") in record["signals"]
    tdm = next(s for s in record["signals"] if s["family"] == "tdmrep")
    assert "tdm-policy=https://pub/policy.json" in tdm["value"]
    origin = url.rsplit("/", 1)[0]
    policies = {p["kind"]: p for p in record["policies"]}
    assert policies["robots.txt"]["url"] == f"{origin}/robots.txt"
    assert policies["robots.txt"]["status"] == 200
    assert policies["robots.txt"]["outcome"] == "parsed"
    assert policies["tdmrep.json"]["outcome"] == "found"
    assert record["agent"] == {
        "user_agent": "TestBot/1.0 (+http://127.0.0.1)",
        "token": "TestBot",
        "plugin": scrapy_ccsignals.__version__,
    }
    json.dumps(record)  # plain JSON


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


@pytest.mark.parametrize(
    ("directive", "decision"), [("noimageai", "deny"), ("noai", "deny"), ("noindex", "allow")]
)
@pytest_twisted.ensureDeferred
async def test_noimageai_on_image(server, directive, decision):
    url = site(
        server,
        path="/cat.png",
        raw_route={
            "body_b64": PNG,
            "headers": {"Content-Type": "image/png", "X-Robots-Tag": directive},
        },
    )
    _, items = await run_crawl([url], {"CCSIGNALS_MODE": "tag"}, follow=False)
    assert ccsignals_of(items[0])["decision"] == decision


JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64).decode()


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "", "image/jpg", "text/html; charset=utf-8"]
)
@pytest.mark.parametrize("file_metadata", [True, False], ids=["scanned", "scan-off"])
@pytest.mark.parametrize("purpose", ["train-ai", "ai-input"])
@pytest_twisted.ensureDeferred
async def test_noimageai_on_image_whatever_its_type_says(
    server, content_type, file_metadata, purpose
):
    """An image is an image by its first bytes too, as for its XMP and C2PA: noimageai on
    a JPEG sent as octet-stream, with an empty or misspelt type, or as HTML still denies (it
    was read as a non-image and allowed), also with the file scan off."""
    headers = {"X-Robots-Tag": "noimageai", "Content-Type": content_type}
    url = site(server, path="/cat.jpg", raw_route={"body_b64": JPEG, "headers": headers})
    settings: dict[str, Any] = {"CCSIGNALS_MODE": "tag", "CCSIGNALS_PURPOSE": purpose}
    if not file_metadata:
        settings["CCSIGNALS_ASSET_SCAN_BYTES"] = 0
    _, items = await run_crawl([url], settings, follow=False)
    record = ccsignals_of(items[0])
    assert record["decision"] == "deny", record
    assert "noimageai" in "; ".join(record["reasons"])


@pytest.mark.parametrize("item_type", list(ITEM_TYPES))
@pytest.mark.parametrize("mode", ["enforce", "tag"])
@pytest_twisted.ensureDeferred
async def test_item_types(server, item_type, mode):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nContent-Usage: /closed/ train-ai=n\n"),
            "/": {"body": page("Home", '<a href="/closed/1">c</a><a href="/open/1">o</a>')},
            "/closed/1": {"body": page("Closed", '<a href="/open/2">o2</a>')},
            "/open/*": {"body": page("Open", "", f'<link rel="license" href="{CC_BY}">')},
        }
    )
    crawler, items = await run_crawl(
        [origin + "/"], {"CCSIGNALS_MODE": mode}, item_type=ITEM_TYPES[item_type]
    )
    # Links on the denied page are still followed: /open/2 is only linked from /closed/1.
    assert "/open/2" in server.paths(origin)
    records = {ccsignals_of(i)["url"].replace(origin, ""): ccsignals_of(i) for i in items}
    expected = {"/", "/open/1", "/open/2"} | ({"/closed/1"} if mode == "tag" else set())
    assert set(records) == expected
    assert records["/open/1"]["license"]["id"] == "CC-BY-4.0"
    if mode == "tag":
        assert records["/closed/1"]["decision"] == "deny"
    assert all(type(i) is ITEM_TYPES[item_type] for i in items)
    assert stats(crawler).get("ccsignals/items/dropped", 0) == (1 if mode == "enforce" else 0)


@pytest_twisted.ensureDeferred
async def test_item_without_field_kept_and_counted(server, caplog):
    origin = server.add_origin(
        {
            "/robots.txt": text(""),
            "/a": {"body": page("A", '<a href="/b">b</a>')},
            "/b": {"body": page("B")},
        }
    )
    crawler, items = await run_crawl([origin + "/a"], item_type=BareItem)
    assert len(items) == 2
    assert stats(crawler)["ccsignals/items/field_missing"] == 2
    warnings = [r for r in caplog.records if "has no 'ccsignals' field" in r.getMessage()]
    assert len(warnings) == 1


@pytest_twisted.ensureDeferred
async def test_custom_item_field(server):
    url = site(server)
    _, items = await run_crawl([url], {"CCSIGNALS_ITEM_FIELD": "provenance"})
    assert items[0]["provenance"]["decision"] == "allow"
    assert "ccsignals" not in items[0]


@pytest_twisted.ensureDeferred
async def test_config_error_stops_crawl(server):
    from scrapy_ccsignals.config import ConfigError

    with pytest.raises(ConfigError, match="CCSIGNALS_MODE"):
        await run_crawl([site(server)], {"CCSIGNALS_MODE": "strict"})


@pytest.mark.parametrize(("scan", "decision"), [(0, "allow"), (100, "allow"), (262144, "deny")])
@pytest_twisted.ensureDeferred
async def test_html_scan_bytes_limit(server, scan, decision):
    url = site(server, body="x" * 500 + '<meta name="robots" content="noai">')
    _, items = await run_crawl(
        [url], {"CCSIGNALS_HTML_SCAN_BYTES": scan, "CCSIGNALS_MODE": "tag"}, follow=False
    )
    assert ccsignals_of(items[0])["decision"] == decision


@pytest.mark.parametrize(("cap", "decision"), [(8192, "deny"), (12, "allow")])
@pytest_twisted.ensureDeferred
async def test_header_max_bytes(server, cap, decision):
    # Cut at 12 bytes, "search=y, train-ai=n" becomes "search=y, tr": the train-ai
    # member is gone, so nothing speaks for the purpose and the default applies.
    url = site(server, headers={"Content-Usage": "search=y, train-ai=n"})
    _, items = await run_crawl(
        [url], {"CCSIGNALS_HEADER_MAX_BYTES": cap, "CCSIGNALS_MODE": "tag"}, follow=False
    )
    assert ccsignals_of(items[0])["decision"] == decision


class StatsWatchSpider(scrapy.Spider):
    """Reads the crawler's stats while the crawl runs: after the first page, it waits on
    a page the server answers late, then records what the stats collector holds."""

    name = "stats_watch"
    start_urls: list[str] = []
    seen: dict[str, Any] = {}

    async def start(self):
        yield scrapy.Request(self.start_urls[0], callback=self.first)

    def first(self, response):
        yield {"url": response.url}
        yield scrapy.Request(self.start_urls[1], callback=self.late)

    def late(self, response):
        self.seen.update(self.crawler.stats.get_stats())
        yield {"url": response.url}


@pytest_twisted.ensureDeferred
async def test_counts_reach_the_stats_collector_during_the_crawl(server):
    """Counts reach the stats collector as they happen, not only at close, so progress
    displays and monitoring extensions see them while the crawl runs."""
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/first": {"body": page("First")},
            "/late": {"body": page("Late"), "delay": 2.5},
        }
    )
    StatsWatchSpider.seen = {}
    crawler, items = await run_crawl(
        [f"{origin}/first", f"{origin}/late"], spider_cls=StatsWatchSpider
    )
    assert len(items) == 2
    # While /late was being answered, the first response's counts were there...
    assert StatsWatchSpider.seen.get("ccsignals/responses/allow", 0) >= 1  # /late's too
    assert StatsWatchSpider.seen.get("ccsignals/items/passed") == 1
    # ...and at close every count is there.
    final = stats(crawler)
    assert final["ccsignals/responses/allow"] == 2
    assert final["ccsignals/items/passed"] == 2
