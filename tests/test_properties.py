"""Property-based tests: no parser raises on any input, and pattern matching agrees with a
simple reference implementation."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from functools import cache

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.records.audit import iso_time
from scrapy_ccsignals.signals.aipref import parse_usage, preference_signals
from scrapy_ccsignals.signals.content_signal import header_signals, parse_content_signal
from scrapy_ccsignals.signals.htmlscan import extract
from scrapy_ccsignals.signals.license import (
    canonical_license_id,
    jsonld_licenses,
    link_header_licenses,
    normalise_cc,
)
from scrapy_ccsignals.signals.noai import noai_signals, x_robots_directives
from scrapy_ccsignals.signals.pathmatch import normalise, pattern_matches, url_path
from scrapy_ccsignals.signals.robots import (
    agent_name,
    decode_body,
    parse_robots,
    product_token,
    valid_token,
)
from scrapy_ccsignals.signals.tdmrep import TdmRepError, first_match, parse_tdmrep_json

FAST = settings(max_examples=300, deadline=None)


@FAST
@given(st.text())
def test_text_parsers_never_raise(text):
    parse_robots(text, "Bot").can_fetch("http://a/x", "/x")
    parse_usage(text)
    for purpose in ("train-ai", "ai-input", "search"):
        preference_signals(text, purpose, "header", "u")
        preference_signals(text, purpose, "header", "u", legacy=False)
        header_signals([text], purpose, "u")
        noai_signals(x_robots_directives(text, "Bot"), purpose, True, "header", "u", text)
    parse_content_signal(text)
    normalise_cc(text)
    canonical_license_id(text)
    link_header_licenses(text)
    product_token(text)
    agent_name(text)
    normalise(text)


@FAST
@given(st.binary())
def test_byte_parsers_never_raise(data):
    decode_body(data)
    extract(data)
    with contextlib.suppress(TdmRepError):
        parse_tdmrep_json(data)


robots_line = st.sampled_from(
    [
        "User-agent",
        "Disallow",
        "Allow",
        "Crawl-delay",
        "Content-Usage",
        "Content-Signal",
        "License",
        "Sitemap",
        "x",
    ]
)


@FAST
@given(st.lists(st.tuples(robots_line, st.text(max_size=30)), max_size=30), st.text(max_size=20))
def test_structured_robots_never_raise(lines, path):
    text = "\n".join(f"{k}: {v}" for k, v in lines)
    rules = parse_robots(text, "Bot")
    rules.can_fetch("http://a/" + path, "/" + path)
    rules.scoped("content-usage", "/" + path)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@FAST
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["location", "tdm-reservation", "tdm-policy", "x"]), json_value
        ),
        max_size=10,
    ),
    st.text(max_size=20),
)
def test_tdmrep_entries_never_raise(entries, path):
    parsed, _ = parse_tdmrep_json(json.dumps(entries).encode())
    first_match(parsed, "/" + path)


@FAST
@given(json_value)
def test_jsonld_never_raises(value):
    jsonld_licenses(value)


@cache
def reference_match(pattern: str, path: str) -> bool:
    """RFC 9309 2.2.3 by recursion: '*' any sequence, final '$' anchors, else prefix."""
    if pattern == "$":
        return path == ""
    if pattern == "":
        return True
    if pattern[0] == "*":
        return any(reference_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and path[0] == pattern[0] and reference_match(pattern[1:], path[1:])


patterns = st.text(alphabet="ab/.*", max_size=8).map(lambda p: "/" + p) | st.text(
    alphabet="ab/.*", max_size=8
).map(lambda p: "/" + p + "$")
paths = st.text(alphabet="ab/.", max_size=10).map(lambda p: "/" + p)


@settings(max_examples=500, deadline=None)
@given(patterns, paths)
def test_pattern_matching_agrees_with_reference(pattern, path):
    assert pattern_matches(pattern, path) == reference_match(pattern, path)


@settings(max_examples=500, deadline=None)
@given(patterns, paths)
def test_robots_matching_agrees_with_reference(pattern, path):
    rules = parse_robots(f"User-agent: *\nDisallow: {pattern}\n", "Bot")
    expected = not reference_match(pattern, path) or path == "/robots.txt"
    assert rules.can_fetch("http://a" + path, path) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=4), paths)
def test_tdmrep_first_match_agrees_with_reference(locations, path):
    entries, _ = parse_tdmrep_json(
        json.dumps(
            [{"location": p, "tdm-reservation": i % 2} for i, p in enumerate(locations)]
        ).encode()
    )
    expected = next((p for p in locations if reference_match(p, path)), None)
    found = first_match(entries, path)
    assert (found.location if found else None) == expected


@FAST
@given(st.floats(min_value=0, max_value=2**33, allow_nan=False))
@example(3000642412.673)  # 0.673 is 0.67299997... as a float: datetime rounds to µs first
@example(1764100000.9999996)  # rounds up into the next second
@example(0.0)
def test_iso_time_matches_datetime(timestamp):
    """The per-second cached formatter writes what datetime would, milliseconds included."""
    expected = datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")
    assert iso_time(timestamp) == expected.replace("+00:00", "Z")


@FAST
@given(st.text())
def test_product_token_is_a_valid_token(text):
    token = product_token(text)
    assert token is None or (valid_token(token) and token in text)


@FAST
@given(st.text(max_size=40))
def test_normalise_is_idempotent_and_ascii(text):
    once = normalise(text)
    assert normalise(once) == once
    assert once.isascii()
    assert "%2f" not in once  # escapes are upper-cased


unreserved = st.text(alphabet="abcXYZ019-._~", max_size=8)


@FAST
@given(unreserved, unreserved)
def test_escaped_unreserved_matches_plain(head, tail):
    """A path written with %XX escapes of unreserved characters is the same path."""
    escaped = "".join(f"%{ord(c):02x}" for c in tail)
    assert pattern_matches("/" + head + tail + "$", url_path(f"http://h/{head}{escaped}"))
    assert not pattern_matches(f"/{head}/", url_path(f"http://h/{head}%2F{tail}"))


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "noai",
                "noindex",
                "mybot: noai",
                "otherbot: noai",
                "otherbot: noindex",
                "max-snippet: 5",
                "noarchive",
            ]
        ),
        max_size=6,
    )
)
def test_x_robots_scopes_agree_with_reference(elements):
    """Reference: walk the elements, a bot prefix switches the scope."""
    expected: set[str] = set()
    scope = None
    for element in elements:
        name, sep, rest = element.partition(": ")
        if sep and name != "max-snippet":
            scope, element = name, rest
        if scope in (None, "mybot"):
            expected.add(element)
    assert x_robots_directives(", ".join(elements), "MyBot") == expected


labels = st.sampled_from(
    ["train-ai", "search", "train-genai", "ai-train", "ai-use", "ai-output", "all", "bots"]
)


@FAST
@given(
    st.dictionaries(labels, st.sampled_from(["y", "n"]), max_size=8),
    st.sampled_from(["train-ai", "ai-input", "search"]),
)
def test_legacy_hierarchy_most_specific_level_decides(prefs, purpose):
    """The deciding effects all come from one level: the most specific one stated."""
    from scrapy_ccsignals.signals.aipref import HIERARCHY

    text = ", ".join(f"{k}={v}" for k, v in prefs.items())
    deciding = [s for s in preference_signals(text, purpose, "h", "u") if s.effect != "unknown"]
    level = next((lv for lv in HIERARCHY[purpose] if any(k in prefs for k in lv)), ())
    assert sorted(s.value.split("=")[0] for s in deciding) == sorted(k for k in level if k in prefs)
