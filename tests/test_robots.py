"""robots.txt parsing and group selection, as pure functions (RFC 9309)."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import (
    PARSED,
    UNAVAILABLE,
    UNREACHABLE,
    decode_body,
    outcome_for_status,
    parse_robots,
    rules_for_response,
)


def can(robots: str, url: str, token: str = "MyBot") -> bool:
    return parse_robots(robots, token).can_fetch(url, url_path(url))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, PARSED),
        (204, PARSED),
        (301, UNAVAILABLE),
        (400, UNAVAILABLE),
        (401, UNAVAILABLE),
        (403, UNAVAILABLE),
        (404, UNAVAILABLE),
        (429, UNREACHABLE),
        (500, UNREACHABLE),
        (503, UNREACHABLE),
        (599, UNREACHABLE),
    ],
)
def test_status_outcome(status, outcome):
    assert outcome_for_status(status) == outcome


def test_unreachable_disallows_all_but_robots_txt():
    rules = rules_for_response(503, b"User-agent: *\nAllow: /", "MyBot", 1000)
    assert not rules.can_fetch("http://a/", "/")
    assert rules.can_fetch("http://a/robots.txt", "/robots.txt")


def test_unavailable_allows_all():
    rules = rules_for_response(404, b"User-agent: *\nDisallow: /", "MyBot", 1000)
    assert rules.can_fetch("http://a/x", "/x")


@pytest.mark.parametrize(
    ("robots", "url", "token", "allowed"),
    [
        ("User-agent: *\nDisallow: /", "http://a/x", "MyBot", False),
        ("User-agent: *\nDisallow: /", "http://a/robots.txt", "MyBot", True),
        (
            "User-agent: mybot\nDisallow: /x\nUser-agent: *\nDisallow: /",
            "http://a/y",
            "MyBot",
            True,
        ),
        ("User-agent: MYBOT/2.1\nDisallow: /", "http://a/y", "MyBot", False),
        ("User-agent: other\nDisallow: /", "http://a/y", "MyBot", True),
        # Two groups naming the token are merged (RFC 9309 2.2.1).
        (
            "User-agent: MyBot\nDisallow: /a\n\nUser-agent: MyBot\nDisallow: /b",
            "http://a/b",
            "MyBot",
            False,
        ),
        # Consecutive user-agent lines share one group.
        ("User-agent: x\nUser-agent: MyBot\nDisallow: /z", "http://a/z", "MyBot", False),
        # Longest match wins; equal length: Allow wins.
        ("User-agent: *\nDisallow: /a\nAllow: /a/b", "http://a/a/b/c", "MyBot", True),
        ("User-agent: *\nAllow: /a\nDisallow: /a/b", "http://a/a/b/c", "MyBot", False),
        ("User-agent: *\nDisallow: /a\nAllow: /a", "http://a/a", "MyBot", True),
        ("User-agent: *\nDisallow: /*.pdf$", "http://a/x.pdf", "MyBot", False),
        ("User-agent: *\nDisallow: /*.pdf$", "http://a/x.pdf?x", "MyBot", True),
        ("User-agent: *\nDisallow: /caf%C3%A9", "http://a/caf%C3%A9", "MyBot", False),
        # Comments, blank lines, unknown records and sitemaps do not split groups.
        (
            "User-agent: MyBot # me\nSitemap: /s.xml\nFoo: bar\nDisallow: /q # no",
            "http://a/q",
            "MyBot",
            False,
        ),
        # Empty Disallow means allow all.
        ("User-agent: *\nDisallow:", "http://a/q", "MyBot", True),
        # No group at all.
        ("Disallow: /", "http://a/q", "MyBot", True),
        ("", "http://a/q", "MyBot", True),
        # A user-agent value with no name (found by hypothesis) names no group.
        ("User-agent: /\nDisallow: /", "http://a/q", "MyBot", True),
    ],
)
def test_matching(robots, url, token, allowed):
    assert can(robots, url, token) is allowed


def test_crawl_delay_of_matched_group_only():
    text = "User-agent: *\nCrawl-delay: 9\n\nUser-agent: MyBot\nCrawl-delay: 2.5\nDisallow:"
    assert parse_robots(text, "MyBot").crawl_delay == 2.5
    assert parse_robots(text, "Other").crawl_delay == 9
    assert parse_robots("User-agent: *\nCrawl-delay: soon", "x").crawl_delay is None


def test_extension_lines_from_matched_group():
    text = (
        "License: https://example.org/license.xml\n"
        "User-agent: *\nContent-Usage: train-ai=n\nContent-Signal: ai-train=no\n\n"
        "User-agent: MyBot\nContent-Usage: /open/ train-ai=y\nContent-Usage: search=y\n"
    )
    rules = parse_robots(text, "MyBot")
    assert rules.licenses == ["https://example.org/license.xml"]
    usage = rules.scoped("content-usage", "/open/page")
    assert [line.value for line in usage] == ["train-ai=y"]
    assert [line.value for line in rules.scoped("content-usage", "/closed")] == ["search=y"]
    assert rules.scoped("content-signal", "/") == []
    other = parse_robots(text, "Other")
    assert [line.value for line in other.scoped("content-signal", "/x")] == ["ai-train=no"]


def test_equal_scopes_all_kept():
    text = "User-agent: *\nContent-Usage: /a train-ai=y\nContent-Usage: /a train-ai=n\n"
    assert len(parse_robots(text, "x").scoped("content-usage", "/a/b")) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xef\xbb\xbfUser-agent: *", "User-agent: *"),
        ("User-agent: *".encode("utf-16"), "User-agent: *"),
        (b"User-agent: caf\xe9", "User-agent: caf\ufffd"),
        (b"\x00\xff\xfe\x01", "\x00\ufffd\ufffd\x01"),
    ],
)
def test_decode_leniently(body, expected):
    assert decode_body(body) == expected


def test_parse_limit_truncates():
    body = b"User-agent: *\n" + b"# padding\n" * 100 + b"Disallow: /\n"
    assert rules_for_response(200, body, "x", 50).can_fetch("http://a/x", "/x")
    assert not rules_for_response(200, body, "x", 10_000).can_fetch("http://a/x", "/x")
