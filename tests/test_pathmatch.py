"""The shared path matcher (RFC 9309 sections 2.2.2-2.2.3): percent-encoding and patterns."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.pathmatch import (
    match_length,
    normalise,
    pattern_matches,
    url_path,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/plain/path?q=1&r=2", "/plain/path?q=1&r=2"),
        # Unreserved escapes are decoded.
        ("/foo/bar/%62%61%7A", "/foo/bar/baz"),
        ("/%7Ejoe", "/~joe"),
        ("/%2d%2E%5f", "/-._"),
        # Reserved and other escapes stay escaped, hex upper-cased.
        ("/a%2fb", "/a%2Fb"),
        ("/a%2Fb", "/a%2Fb"),
        ("/q%3d1", "/q%3D1"),
        ("/%e3%83%84", "/%E3%83%84"),
        # Non-ASCII is encoded as UTF-8.
        ("/foo/bar/\u30c4", "/foo/bar/%E3%83%84"),
        ("/caf\u00e9", "/caf%C3%A9"),
        # ASCII a URI may not hold, and a stray "%", are escaped.
        ("/a b", "/a%20b"),
        ("/a<b>", "/a%3Cb%3E"),
        ("/50%", "/50%25"),
        ("/50%zz", "/50%25zz"),
        ("/%4", "/%254"),
        # Reserved characters written literally stay as they are, but the pattern
        # characters $ and * compare escaped (RFC 9309 2.2.3: a literal $ is %24).
        ("/a:b@c!&'()+,;=", "/a:b@c!&'()+,;="),
        ("/a$b*c", "/a%24b%2Ac"),
        ("", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected
    assert normalise(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("/a/", "http://h/a%2Fb/", False),
        ("/a/", "http://h/a/b/", True),
        ("/a%2Fb/", "http://h/a%2fb/c", True),
        ("/a%2Fb/", "http://h/a/b/c", False),
        ("/foo/bar/baz", "http://h/foo/bar/%62%61%7A", True),
        ("/foo/bar/%62%61%7A", "http://h/foo/bar/baz", True),
        ("/\u30c4", "http://h/%E3%83%84", True),
        ("/%E3%83%84", "http://h/\u30c4", True),
        ("/*.pdf$", "http://h/caf%C3%A9.pdf", True),
        ("/*/caf\u00e9$", "http://h/x/caf%c3%a9", True),
        ("/p?q=%2F", "http://h/p?q=%2f", True),
        ("/p?q=/", "http://h/p?q=%2F", False),
    ],
)
def test_pattern_matches_url(pattern, url, matches):
    assert pattern_matches(pattern, url_path(url)) is matches


def test_match_length_counts_the_comparison_form():
    assert match_length("/caf\u00e9") == match_length("/caf%C3%A9") == len("/caf%C3%A9")
    assert match_length("/a*b$") == 3


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        # RFC 9309 2.2.3's own examples: special characters matched verbatim are %-encoded.
        ("/path/foo-%24", "/path/foo-$", True),
        ("/path/file-with-a-%2A.html", "/path/file-with-a-*.html", True),
        ("/path/file-with-a-%2A.html", "/path/file-with-a-x.html", False),
        ("/path/foo-$", "/path/foo-$", False),  # a final $ is the anchor, not a character
        ("/path/foo-$", "/path/foo-", True),
        ("/a$b", "/a$b", True),  # a $ inside a pattern is a literal
        ("/price-%24/", "/price-%24/list", True),
    ],
)
def test_percent_encoded_pattern_characters(pattern, path, matches):
    assert pattern_matches(pattern, path) is matches
