"""Hostile HTML must not stall the reactor: an unclosed tag opener repeated over the scan
window made the page scanners quadratic (256 KB of ``<a `` took minutes). These bound
the time very loosely (a hang, not a performance target) and check what is still read."""

from __future__ import annotations

import time

import pytest

from scrapy_ccsignals.signals.attribution import extract_attribution
from scrapy_ccsignals.signals.htmlscan import extract

SIZE = 256 * 1024


@pytest.mark.parametrize(
    "opener",
    [
        b"<a ",
        b"<meta ",
        b"<link ",
        b"<title",
        b"<script ",
        b"<title>",
        b"<!-- ",
        b"<span property=dc:title>",
    ],
)
@pytest.mark.parametrize("scanner", [extract, extract_attribution], ids=["htmlscan", "attribution"])
def test_unclosed_openers_scan_in_linear_time(opener, scanner):
    head = b'<html><head><title>T</title><meta name="robots" content="noai">'
    body = head + opener * (SIZE // len(opener))
    start = time.process_time()
    scanner(body)
    assert time.process_time() - start < 5.0  # was 20 s at 64 KB, 200 s at 256 KB


def test_tags_before_an_unclosed_opener_still_count():
    meta = extract(b'<meta name="robots" content="noai"><meta name="x" content="y')
    assert [(n, c) for n, c, _ in meta.names] == [("robots", "noai")]


def test_an_unclosed_tag_at_the_end_is_not_a_signal():
    assert extract(b'<p>x</p><meta name="robots" content="noai"').names == []
