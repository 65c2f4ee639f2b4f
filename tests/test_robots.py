"""robots.txt parsing and group selection, as pure functions (RFC 9309)."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import (
    PARSED,
    UNAVAILABLE,
    UNREACHABLE,
    agent_name,
    decode_body,
    outcome_for_status,
    parse_robots,
    product_token,
    rules_for_response,
    valid_token,
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
    assert rules.licenses == ("https://example.org/license.xml",)
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


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [
        ("MyAIBot/1.0 (+https://example.org/bot)", "MyAIBot"),
        ("AI2Bot/1.0", "AI2Bot"),
        ("360Spider", "360Spider"),
        ("Mozilla/5.0 (compatible; ExampleAIBot/1.0; +https://example.org/bot)", "ExampleAIBot"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
            "+https://openai.com/gptbot)",
            "GPTBot",
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "Mozilla"),
        ("  CCBot/2.0 (https://commoncrawl.org/faq/)", "CCBot"),
        ("Scrapy/2.19 (+https://scrapy.org)", "Scrapy"),
        ("my_bot-2", "my_bot-2"),
        ("Bot\tv2", "Bot"),
        ("My.Bot/1.0", None),  # "." is not a token character
        ("Mozilla/5.0 (compatible; My.Bot/1.0)", "Mozilla"),  # falls back to the first product
        ("", None),
        ("/1.0", None),
        ("(compatible)", None),
    ],
)
def test_product_token(user_agent, token):
    assert product_token(user_agent) == token


@pytest.mark.parametrize(
    ("text", "valid"),
    [("AI2Bot", True), ("my_bot-2", True), ("", False), ("My Bot", False), ("Bot/1", False)],
)
def test_valid_token(text, valid):
    assert valid_token(text) is valid


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("AI2Bot", "ai2bot"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "googlebot"),
        ("Foo Bar", "foo"),
        ("Foo\tBar", "foo"),
        ("*", "*"),
        ("", ""),
    ],
)
def test_agent_name(value, name):
    assert agent_name(value) == name


@pytest.mark.parametrize(
    ("robots", "token", "allowed"),
    [
        # Digits are part of the name: AI2Bot's group is not AI's, and 360Spider's is its own.
        ("User-agent: AI2Bot\nDisallow: /\nUser-agent: *\nAllow: /", "AI2Bot", False),
        ("User-agent: AI2Bot\nDisallow: /\nUser-agent: *\nAllow: /", "AI", True),
        ("User-agent: AI\nDisallow: /", "AI2Bot", True),
        ("User-agent: 360Spider\nDisallow: /", "360Spider", False),
        ("User-agent: ai2bot/1.0\nDisallow: /", "AI2Bot", False),
        ("User-agent: AI2Bot\tnot-part\nDisallow: /", "AI2Bot", False),
    ],
)
def test_token_group_with_digits(robots, token, allowed):
    assert can(robots, "http://a/x", token) is allowed


@pytest.mark.parametrize(
    ("rule", "path", "allowed"),
    [
        # RFC 9309 2.2.2: %2F stays escaped and is not "/".
        ("Disallow: /a/", "/a%2Fb/", True),
        ("Disallow: /a%2Fb", "/a%2fb", False),
        ("Disallow: /a%2Fb", "/a/b", True),
        # Escapes of unreserved characters are decoded.
        ("Disallow: /%7Ejoe", "/~joe/x", False),
        ("Disallow: /~joe", "/%7ejoe/x", False),
        ("Disallow: /foo/bar/%62%61%7A", "/foo/bar/baz", False),
        # Non-ASCII is compared as its UTF-8 escapes.
        ("Disallow: /caf\u00e9", "/caf%C3%A9", False),
        ("Disallow: /caf%c3%a9", "/caf\u00e9", False),
    ],
)
def test_percent_encoding(rule, path, allowed):
    url = "http://a" + path
    assert can(f"User-agent: *\n{rule}", url) is allowed


def values(rules, key, path):
    return [line.value for line in rules.scoped(key, path)]


def test_content_signal_before_first_user_agent():
    text = (
        "# As a condition of accessing this website...\n"
        "Content-Signal: search=yes, ai-train=no\n"
        "Content-Signal: /docs/ ai-input=no\n"
        "User-agent: MyBot\nContent-Signal: ai-train=yes\nDisallow: /private\n\n"
        "User-agent: *\nAllow: /\n"
    )
    own = parse_robots(text, "MyBot")
    assert values(own, "content-signal", "/x") == ["search=yes, ai-train=no", "ai-train=yes"]
    assert values(own, "content-signal", "/docs/a") == ["ai-input=no"]
    star = parse_robots(text, "Other")
    assert values(star, "content-signal", "/x") == ["search=yes, ai-train=no"]
    # No group matches at all: the top-level lines still apply.
    none = parse_robots("Content-Signal: ai-train=no\nUser-agent: X\nDisallow: /", "MyBot")
    assert none.group is None
    assert values(none, "content-signal", "/") == ["ai-train=no"]
    # Content-Usage is a group line only (draft-ietf-aipref-attach section 4).
    assert values(parse_robots("Content-Usage: train-ai=n\n", "MyBot"), "content-usage", "/") == []


@pytest.mark.parametrize(
    ("line", "path", "value"),
    [
        ("Content-Usage: /open/ train-ai=y", "/open/", "train-ai=y"),
        ("Content-Usage: /open/\ttrain-ai=y", "/open/", "train-ai=y"),
        ("Content-Usage: /open/ \t train-ai=y", "/open/", "train-ai=y"),
        ("Content-Usage: train-ai=y", "/", "train-ai=y"),
        ("Content-Usage: /only-a-path", "/", "/only-a-path"),
        ("Content-Signal: /docs/\tai-train=no", "/docs/", "ai-train=no"),
    ],
)
def test_scoped_path_ends_at_space_or_tab(line, path, value):
    rules = parse_robots(f"User-agent: *\n{line}\n", "x")
    (scoped,) = rules.extensions
    assert (scoped.path, scoped.value) == (path, value)


def test_scopes_match_percent_encoded_paths():
    text = "User-agent: *\nContent-Usage: /a/ train-ai=n\nContent-Usage: /caf\u00e9/ train-ai=y\n"
    rules = parse_robots(text, "x")
    assert values(rules, "content-usage", url_path("http://h/a%2Fb/")) == []
    assert values(rules, "content-usage", url_path("http://h/a/b")) == ["train-ai=n"]
    assert values(rules, "content-usage", url_path("http://h/caf%C3%A9/x")) == ["train-ai=y"]


def test_no_matcher_is_kept_when_nothing_is_disallowed():
    """Kept per origin for the crawl: an allow-only group needs no protego parser."""
    from scrapy_ccsignals.signals.robots import parse_robots

    for text in ("User-agent: *\nAllow: /\n", "User-agent: *\nDisallow:\n", "User-agent: *\n"):
        rules = parse_robots(text, "TestBot")
        assert rules._matcher is None
        assert rules.can_fetch("http://a.test/x", "/x")
    rules = parse_robots("User-agent: *\nAllow: /x/y\nDisallow: /x\n", "TestBot")
    assert rules._matcher is not None
    assert not rules.can_fetch("http://a.test/x/z", "/x/z")
    assert rules.can_fetch("http://a.test/x/y", "/x/y")
