"""Origin work once per origin, bounded per page: a robots.txt or tdmrep.json with
thousands of path patterns costs its parse once, not a pass over every pattern's
compilation for every page (the compiled-pattern cache used to cycle past 4,096 patterns:
seconds per page on the reactor). Counted, not timed: the calls of the pattern compiler
during a crawl."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import pytest_twisted

from scrapy_ccsignals.signals.pathmatch import compile_pattern
from scrapy_ccsignals.signals.robots import MAX_ACCESS_RULES, MAX_USAGE_LINES
from scrapy_ccsignals.signals.rsl import MAX_RSL_CONTENTS
from scrapy_ccsignals.signals.tdmrep import MAX_TDMREP_ENTRIES
from tests.crawling import ccsignals_of, page, run_crawl, stats, text

PAGES = [f"/page/{n}" for n in range(20)]


def compilations() -> int:
    info = compile_pattern.cache_info()
    return info.hits + info.misses


async def crawl(server: Any, routes: dict[str, Any], **settings: Any) -> tuple[Any, list, int]:
    """Crawl :data:`PAGES` (and whatever else *routes* serves that is listed first) on one
    origin in tag mode; returns the crawler, the items and the pattern compilations."""
    paths = [p for p in routes if p.startswith("/page") or p.startswith("/p-")]
    for path in PAGES:
        routes.setdefault(path, {"body": page(path)})
        if path not in paths:
            paths.append(path)
    origin = server.add_origin(routes)
    before = compilations()
    crawler, items = await run_crawl(
        [origin + p for p in paths], {"CCSIGNALS_MODE": "tag", **settings}, follow=False
    )
    return crawler, items, compilations() - before


def decisions(items: list) -> dict[str, str]:
    return {item["url"].split("/", 3)[3]: ccsignals_of(item)["decision"] for item in items}


@pytest_twisted.ensureDeferred
async def test_usage_lines_are_compiled_once_per_origin(server):
    lines = [f"Content-Usage: /*x{n}y train-ai=n" for n in range(400)]
    robots = "User-agent: *\n" + "\n".join(lines) + "\nContent-Usage: /*-keep train-ai=n\n"
    crawler, items, compiled = await crawl(
        server, {"/robots.txt": text(robots), "/p-keep": {"body": page("keep")}}
    )
    # Each pattern once, when the policy is parsed; none per page (was 401 per page).
    assert compiled <= len(lines) + 10
    found = decisions(items)
    assert found.pop("p-keep") == "deny"
    assert set(found.values()) == {"allow"}
    assert not stats(crawler).get("ccsignals/robots/usage_lines_capped")


@pytest_twisted.ensureDeferred
async def test_tdmrep_locations_are_compiled_once_per_origin(server):
    entries = [{"location": f"/*x{n}y", "tdm-reservation": 1} for n in range(400)]
    entries.append({"location": "/*-keep", "tdm-reservation": 1})
    routes = {
        "/.well-known/tdmrep.json": {
            "body": json.dumps(entries),
            "headers": {"Content-Type": "application/json"},
        },
        "/p-keep": {"body": page("keep")},
    }
    _crawler, items, compiled = await crawl(server, routes)
    assert compiled <= 2 * len(entries) + 10  # parsed (validated, then prepared): not per page
    found = decisions(items)
    assert found.pop("p-keep") == "deny"
    assert set(found.values()) == {"allow"}


@pytest.mark.parametrize("purpose", ["train-ai", "ai-input", "search"])
@pytest_twisted.ensureDeferred
async def test_usage_lines_past_the_cap_deny_every_page(server, caplog, purpose):
    """Past :data:`MAX_USAGE_LINES` usage lines in the crawler's group, the rest is not read
    and may say anything: every page of the origin is denied (fail closed), once warned
    and counted; the per-page work stops growing with the file."""
    caplog.set_level(logging.WARNING)
    count = MAX_USAGE_LINES * 8
    lines = [f"Content-Usage: /*x{n}y train-ai=y, search=y" for n in range(count)]
    robots = "User-agent: *\n" + "\n".join(lines) + "\n"
    crawler, items, compiled = await crawl(
        server, {"/robots.txt": text(robots)}, CCSIGNALS_PURPOSE=purpose
    )
    assert compiled <= MAX_USAGE_LINES + 10
    assert len(items) == len(PAGES)
    assert set(decisions(items).values()) == {"deny"}
    record = ccsignals_of(items[0])
    assert any("usage lines" in reason for reason in record["reasons"])
    assert stats(crawler)["ccsignals/robots/usage_lines_capped"] == 1
    robots_url = items[0]["url"].split("/page/")[0] + "/robots.txt"
    warned = [r.getMessage() for r in caplog.records if robots_url in r.getMessage()]
    assert len(warned) == 1 and str(count) in warned[0], warned


def test_rsl_content_patterns_are_compiled_once_per_document():
    """An RSL document serves every page that points at it: its ``<content>`` patterns
    are compiled when it is parsed, not for each page."""
    from scrapy_ccsignals.signals.rsl import match_content, parse_rsl

    contents = "".join(f'<content url="/*x{n}y"/>' for n in range(400))
    body = f'<rsl xmlns="https://rslstandard.org/rsl">{contents}<content url="/*-keep"/></rsl>'
    before = compilations()
    doc = parse_rsl(body.encode(), "https://a.example/license.xml")
    parsed = compilations() - before
    assert parsed <= 401
    for n in range(20):
        assert match_content(doc, f"https://a.example/page/{n}") is None
    assert match_content(doc, "https://a.example/p-keep").url == "/*-keep"
    assert compilations() - before == parsed


@pytest_twisted.ensureDeferred
async def test_access_rules_past_the_cap_disallow_the_origin(server, caplog):
    """protego matches a URL against the group's Allow/Disallow rules one by one, so a
    file of thousands of wildcard rules costs milliseconds per request. Past
    :data:`MAX_ACCESS_RULES` the rest is not read and may disallow anything: the origin is
    disallowed (fail closed), warned once, counted."""
    caplog.set_level(logging.WARNING)
    count = MAX_ACCESS_RULES + 1
    robots = "User-agent: *\n" + "\n".join(f"Disallow: /*x{n}y" for n in range(count)) + "\n"
    origin = server.add_origin(
        {"/robots.txt": text(robots), **{p: {"body": page(p)} for p in PAGES}}
    )
    log_crawler, items = await run_crawl(
        [origin + p for p in PAGES], {"CCSIGNALS_MODE": "tag"}, follow=False
    )
    assert items == []
    assert server.paths(origin) == ["/robots.txt"]
    s = stats(log_crawler)
    assert s["ccsignals/robots/rules_capped"] == 1
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == len(PAGES)
    warned = [r.getMessage() for r in caplog.records if f"{origin}/robots.txt" in r.getMessage()]
    assert len(warned) == 1 and str(count) in warned[0], warned


@pytest.mark.parametrize("count", [MAX_ACCESS_RULES, MAX_ACCESS_RULES + 1])
def test_access_rule_cap_boundary(count):
    from scrapy_ccsignals.signals.robots import parse_robots

    rules = [f"Disallow: /x{n}/" for n in range(count - 1)] + ["Allow: /"]
    parsed = parse_robots("User-agent: *\n" + "\n".join(rules), "Bot")
    capped = count > MAX_ACCESS_RULES
    assert parsed.access_rules_dropped == (count - MAX_ACCESS_RULES if capped else 0)
    assert parsed.can_fetch("https://a.example/page", "/page") is not capped
    assert parsed.can_fetch("https://a.example/x1/", "/x1/") is False
    assert parsed.can_fetch("https://a.example/robots.txt", "/robots.txt") is True


@pytest.mark.parametrize("unreachable", ["deny", "unknown"])
@pytest_twisted.ensureDeferred
async def test_tdmrep_entries_past_the_cap(server, caplog, unreachable):
    """The first matching entry decides (TDMRep 3.2), so reading only the first
    :data:`MAX_TDMREP_ENTRIES` is exact for a page one of them matches; for a page none of
    them matches, an unread entry might: read as an unreachable tdmrep.json
    (``CCSIGNALS_TDMREP_UNREACHABLE``). Warned once, counted; per-page work bounded."""
    caplog.set_level(logging.WARNING)
    entries = [{"location": "/p-keep", "tdm-reservation": 0}]
    entries += [{"location": f"/*x{n}y", "tdm-reservation": 0} for n in range(MAX_TDMREP_ENTRIES)]
    entries.append({"location": "/", "tdm-reservation": 0})  # past the cap: never read
    routes = {
        "/.well-known/tdmrep.json": {
            "body": json.dumps(entries),
            "headers": {"Content-Type": "application/json"},
        },
        "/p-keep": {"body": page("keep")},
    }
    crawler, items, compiled = await crawl(server, routes, CCSIGNALS_TDMREP_UNREACHABLE=unreachable)
    assert compiled <= 2 * len(entries) + 10
    found = decisions(items)
    assert found.pop("p-keep") == "allow"
    assert set(found.values()) == {"deny" if unreachable == "deny" else "allow"}
    record = ccsignals_of(next(i for i in items if i["url"].endswith("/page/0")))
    tdm = [s for s in record["signals"] if s["family"] == "tdmrep"]
    assert tdm and "entries" in tdm[0]["raw"], tdm
    assert stats(crawler)["ccsignals/tdmrep/entries_capped"] == 1
    warned = [
        r.getMessage()
        for r in caplog.records
        if "tdmrep.json" in r.getMessage() and str(len(entries)) in r.getMessage()
    ]
    assert len(warned) == 1, warned


@pytest.mark.parametrize("count", [MAX_RSL_CONTENTS, MAX_RSL_CONTENTS + 1])
def test_rsl_contents_cap(count):
    """Each page is matched against a document's ``<content>`` elements in order: past
    :data:`MAX_RSL_CONTENTS` the document is refused as hostile (invalid, no effect), like
    one past the element cap."""
    from scrapy_ccsignals.signals.rsl import RslError, parse_rsl

    contents = "".join(f'<content url="/*x{n}y"/>' for n in range(count))
    body = f'<rsl xmlns="https://rslstandard.org/rsl">{contents}</rsl>'.encode()
    if count > MAX_RSL_CONTENTS:
        with pytest.raises(RslError, match="<content>"):
            parse_rsl(body, "https://a.example/l.xml")
    else:
        assert len(parse_rsl(body, "https://a.example/l.xml").contents) == count
