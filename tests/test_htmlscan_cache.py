"""The page scan remembers what each short ``<meta>``/``<link>``/``<a>`` tag adds to the page
facts, and attribution what each ``<meta>``/``<link>`` offers (a site's pages repeat their
template's tags): the answers must be exactly those of a scan that remembers nothing,
whatever pages came before, and the caches stay bounded."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.signals import attribution, htmlscan

NAMES = (b"tdm-reservation", b"tdm-policy", b"robots", b"mybot")

#: tags a site's template repeats, in case-varied, entity-encoded and unquoted spellings
TAGS = [
    '<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">',
    "<META HTTP-EQUIV=content-usage CONTENT='train-ai=y'>",
    '<meta http-equiv="Content-&#85;sage" content="search=n">',
    '<meta name="robots" content="noai, noimageai">',
    '<meta name="ro&#98;ots" content="NoAI">',
    '<META NAME="ROBOTS" CONTENT="NOAI">',
    '<meta name="robots" content="noai">',
    '<meta name="MyBot" content="noai">',
    '<meta name="tdm-reservation" content="1">',
    '<Meta Name="TDM-Policy" Content="https://example.com/p.json">',
    '<meta name="description" content="about this page">',
    '<meta name="viewport" content="width=device-width">',
    '<meta property="og:title" content="A &amp; B">',
    '<meta property="OG:SITE_NAME" content="Site">',
    '<meta name="author" content="A. Author">',
    '<meta name="DC.Creator" content="D. C.">',
    '<meta name="dcterms.rights" content="(c) someone">',
    '<meta property="dct:license" content="https://creativecommons.org/licenses/by/4.0/">',
    '<meta property="cc:attributionName" content="CC Name">',
    '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">',
    "<LINK REL=LICENSE HREF=https://creativecommons.org/licenses/by-sa/4.0/ TYPE=Text/HTML>",
    '<link rel="lic&#101;nse" href="/l">',
    '<link rel="canonical" href="/p/1">',
    '<link rel="Canonical" href="/p/&#50;">',
    '<link rel="stylesheet" href="/s.css">',
    '<link rel="cc:attributionURL" href="/w">',
    '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">CC BY-NC</a>',
    '<A REL="License" HREF="/licence">licence</A>',
    '<a href="/license-info">not a licence link</a>',
    '<a href="/p/2">page 2</a>',
    '<a property="dct:title" rel="cc:attributionURL" href="/w">The Work</a>',
    '<a rel="cc:attributionURL dct:creator" property="cc:attributionName" href="/a">Name</a>',
    '<span property="dc:title">Span Title</span>',
    "<title>Page &lt;1&gt;</title>",
    '<script type="application/ld+json">{"@type": "Article", "headline": "H", '
    '"author": {"@type": "Person", "name": "J"}, "license": "https://example.com/l"}</script>',
    '<script>var s = "<meta name=robots content=noai>";</script>',
    '<!-- <link rel="license" href="/commented"> -->',
    "<p>text with a colon: and dc: words</p>",
    '<meta name="robots" content="noai">' + "x" * 600,  # long text after a short tag
    '<meta name="robots" content="' + "n" * 600 + '">',  # a tag past the cached size
    '<link rel="license" href="/' + "l" * 600 + '">',
]


def _facts(page: htmlscan.HtmlMeta) -> tuple:
    return (page.names, page.http_equiv, page.licenses, page.jsonld, page.attribution)


def _uncached(
    body: bytes, names: tuple[bytes, ...] | None, url: str, monkeypatch
) -> tuple[htmlscan.HtmlMeta, dict[str, str]]:
    """The page facts and attribution of a scan that remembers nothing."""
    with monkeypatch.context() as patch:
        patch.setattr(htmlscan, "CACHED_TAG_BYTES", -1)  # nothing remembered
        htmlscan._tag_cache(names).clear()
        attribution._META_ADDS.clear()
        attribution._LINK_ADDS.clear()
        page = htmlscan.extract(body, names)
        return page, attribution.page_attribution(page, body, url)


pages = st.lists(st.lists(st.sampled_from(TAGS), max_size=12), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(pages, st.sampled_from([NAMES, None]))
def test_remembered_tags_read_as_a_fresh_scan(site, names):
    """Pages of one site scanned in turn (each tag's steps remembered from earlier pages
    and earlier in the same page) give the facts and attribution a scan that remembers
    nothing gives."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        bodies = [("<html><head>" + "".join(tags) + "</head></html>").encode() for tags in site]
        url = "http://127.0.0.1/p/1"
        htmlscan._tag_cache(names).clear()
        warm = []
        for body in bodies:
            page = htmlscan.extract(body, names)
            warm.append((page, attribution.page_attribution(page, body, url)))
        for body, (page, credit) in zip(bodies, warm, strict=True):
            cold, cold_credit = _uncached(body, names, url, monkeypatch)
            assert _facts(page) == _facts(cold)
            assert credit == cold_credit
    finally:
        monkeypatch.undo()


def test_a_repeated_tag_is_read_once_per_site():
    """The second page of a site finds its template's tags remembered."""
    cache = htmlscan._tag_cache(NAMES)
    cache.clear()
    tag = b'<meta http-equiv="Content-Usage" content="train-ai=n">'
    first = htmlscan.extract(b"<head>" + tag + b"</head>", NAMES)
    assert tag in cache
    second = htmlscan.extract(b"<html><head>" + tag + b"<title>2</title></head>", NAMES)
    assert first.http_equiv == second.http_equiv == [("content-usage", "train-ai=n", tag)]


def test_the_cache_is_bounded_on_a_hostile_site():
    """Unique tags past the cap empty the cache instead of growing it; a tag longer than
    CACHED_TAG_BYTES is never kept; the facts are still read in full."""
    cache = htmlscan._tag_cache(NAMES)
    cache.clear()
    count = htmlscan.CACHED_TAGS + 100
    body = "".join(f'<meta name="robots" content="n{i}">' for i in range(count)).encode()
    page = htmlscan.extract(body, NAMES)
    assert 0 < len(cache) <= htmlscan.CACHED_TAGS
    assert len(page.names) == count
    long = b'<link rel="license" href="/' + b"l" * htmlscan.CACHED_TAG_BYTES + b'">'
    cache.clear()
    assert len(htmlscan.extract(long, NAMES).licenses) == 1
    assert long not in cache
    assert all(len(key) <= htmlscan.CACHED_TAG_BYTES for key in cache)


def test_attribution_remembers_tags_boundedly():
    """Attribution reads a repeated ``<meta>`` once per site; unique ones past the cap
    empty its cache; a long one is never kept."""
    attribution._META_ADDS.clear()
    head = '<meta name="author" content="A. Author"><meta property="og:site_name" content="S">'
    for n in range(3):
        body = f"<head>{head}<title>Page {n}</title></head>".encode()
        credit = attribution.page_attribution(htmlscan.extract(body), body)
        assert credit == {"title": f"Page {n}", "creator": "A. Author", "site_name": "S"}
    assert attribution._META_ADDS == {
        b' name="author" content="A. Author"': (("creator", 4, "A. Author"),),
        b' property="og:site_name" content="S"': (("site_name", 10, "S"),),
    }
    count = htmlscan.CACHED_TAGS + 10
    body = "".join(f'<meta name="author" content="{i}">' for i in range(count)).encode()
    assert attribution.page_attribution(htmlscan.extract(body), body) == {"creator": "0"}
    assert 0 < len(attribution._META_ADDS) <= htmlscan.CACHED_TAGS
    attribution._META_ADDS.clear()
    long = b'<meta name="author" content="' + b"a" * htmlscan.CACHED_TAG_BYTES + b'">'
    assert attribution.page_attribution(htmlscan.extract(long), long)["creator"]
    assert not attribution._META_ADDS


def _spans(pattern, tags, low: bytes) -> list[tuple[int, int, bytes | None, bytes | None]]:
    """Each match of a scan regex in turn: span, tag name, attributes."""
    found, pos = [], 0
    while (match := pattern.search(low, pos)) is not None:
        pos = match.end()
        index = match.lastindex if tags else None
        if tags:
            tag = tags[index] if index else None
            found.append((*match.span(), tag, match.group(index) if index else None))
        else:
            found.append((*match.span(), *match.group(1, 2)))
    return found


def _reference(tags: tuple[bytes, ...]):
    """The scan's regex as it was: one group for the tag name, the ``<a>`` licence check
    with a backtracking lookahead."""
    names = b"|".join(b"a(?=\\b[^<>]*license)" if tag.startswith(b"a(") else tag for tag in tags)
    return re.compile(
        rb"<(?:!--.*?(?:-->|\Z)|!\[cdata\[.*?(?:\]\]>|\Z)|(" + names + rb")\b([^>]*)(?:>|\Z))",
        re.DOTALL,
    )


html_bits = st.lists(
    st.sampled_from(
        ["<", ">", "a", "<a ", "<a", "<A ", " ", "l", "license", "icense", "lic", "licens", "lice", "<meta ",
         "<link ", "<script>", "</script>", "<title>", "<span ", "<p ", "<!--", "-->",
         "<![cdata[", "]]>", "rel=", '"', "x", "\n", "/", "<style>", "<abbr "]
    ),
    max_size=40,
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(html_bits)
@example(["<a ", "licens", "x", "license", ">"])
@example(["<a ", "l", "lic", "license", ">"])
@example(["<a ", "licens", "<", "license", ">"])
def test_scan_regex_finds_what_the_grouped_backtracking_form_found(bits):
    """The flat alternation (a group per tag) with the possessive licence check finds the
    same tags, at the same offsets, with the same attributes, as the earlier regex."""
    low = "".join(bits).encode().lower()
    for tags in (htmlscan._TAGS, htmlscan._TAGS_RDFA):
        pattern, names = htmlscan._tag_re(tags)
        assert _spans(pattern, names, low) == _spans(_reference(tags), (), low)
