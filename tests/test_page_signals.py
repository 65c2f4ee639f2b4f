"""noai directives, licences and HTML metadata extraction: pure parsing."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.htmlscan import extract
from scrapy_ccsignals.signals.license import (
    choose_license,
    jsonld_licenses,
    link_header_licenses,
    make_license,
    normalise_cc,
)
from scrapy_ccsignals.signals.noai import noai_signals, x_robots_directives


@pytest.mark.parametrize(
    ("value", "token", "expected"),
    [
        ("noai", "MyBot", {"noai"}),
        ("NoAI, NoImageAI", "MyBot", {"noai", "noimageai"}),
        ("mybot: noai", "MyBot", {"noai"}),
        ("otherbot: noai", "MyBot", set()),
        ("noindex, nofollow", "MyBot", {"noindex", "nofollow"}),
        (
            "unavailable_after: 25 Jun 2010 15:00:00 PST",
            "MyBot",
            {"unavailable_after: 25 jun 2010 15:00:00 pst"},
        ),
        ("", "MyBot", set()),
    ],
)
def test_x_robots_directives(value, token, expected):
    assert x_robots_directives(value, token) == expected


@pytest.mark.parametrize(
    ("found", "purpose", "image", "effects"),
    [
        ({"noai"}, "train-ai", False, ["deny"]),
        ({"noimageai"}, "train-ai", False, ["unknown"]),
        ({"noimageai"}, "train-ai", True, ["deny"]),
        ({"noai"}, "search", False, ["unknown"]),
        ({"noindex"}, "train-ai", False, []),
    ],
)
def test_noai_effects(found, purpose, image, effects):
    assert [s.effect for s in noai_signals(found, purpose, image, "header", "u", "r")] == effects


@pytest.mark.parametrize(
    ("url", "canonical", "spdx"),
    [
        (
            "http://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by/4.0/",
            "CC-BY-4.0",
        ),
        (
            "https://www.creativecommons.org/licenses/by-sa/4.0/deed.fr",
            "https://creativecommons.org/licenses/by-sa/4.0/",
            "CC-BY-SA-4.0",
        ),
        (
            "https://creativecommons.org/licenses/by-nc-sa/3.0/de/legalcode",
            "https://creativecommons.org/licenses/by-nc-sa/3.0/de/",
            "CC-BY-NC-SA-3.0-DE",
        ),
        (
            "https://creativecommons.org/licenses/BY-ND/2.0?x=1#frag",
            "https://creativecommons.org/licenses/by-nd/2.0/",
            "CC-BY-ND-2.0",
        ),
        (
            "https://creativecommons.org/publicdomain/zero/1.0/legalcode.en",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "CC0-1.0",
        ),
        (
            "https://creativecommons.org/publicdomain/mark/1.0/",
            "https://creativecommons.org/publicdomain/mark/1.0/",
            "CC-PDM-1.0",
        ),
        (
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "CC-BY-NC-ND-4.0",
        ),
    ],
)
def test_normalise_cc(url, canonical, spdx):
    assert normalise_cc(url) == (canonical, spdx)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/licenses/by/4.0/",
        "https://creativecommons.org/about/",
        "not a url",
        "http://[::1",
    ],
)
def test_not_cc(url):
    assert normalise_cc(url) is None


def test_link_header():
    value = (
        '<https://creativecommons.org/licenses/by/4.0/>; rel="license", '
        '</rsl.xml>; rel="license"; type="application/rsl+xml", </next>; rel=next'
    )
    assert link_header_licenses(value) == [
        ("https://creativecommons.org/licenses/by/4.0/", None),
        ("/rsl.xml", "application/rsl+xml"),
    ]


def test_jsonld_licenses():
    data = {
        "@graph": [
            {"@type": "Article", "license": "https://creativecommons.org/licenses/by/4.0/"},
            {"license": {"@id": "https://creativecommons.org/publicdomain/zero/1.0/"}},
            {"license": [{"url": "https://x/l"}, 5]},
        ]
    }
    assert jsonld_licenses(data) == [
        "https://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "https://x/l",
    ]


def test_choose_license_prefers_cc_then_non_rsl():
    rsl = make_license("https://x/rsl.xml", "robots.txt License", "r", rsl=True)
    other = make_license("https://x/terms", "html <a rel=license>", "o")
    cc = make_license("http://creativecommons.org/licenses/by/4.0/", "html JSON-LD", "c")
    assert choose_license([rsl, other, cc]) == cc
    assert choose_license([rsl, other]) == other
    assert choose_license([rsl]) == rsl
    assert choose_license([]) is None


HTML = b"""<!doctype html><html><head>
<meta charset="utf-8"><META NAME="Robots" CONTENT="NoAI">
<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">
<meta name='tdm-reservation' content='1'><meta name=tdm-policy content=https://x/p>
<link rel="license" href="/license">
<link rel="stylesheet" href="/s.css">
<meta property="dcterms:license" content="https://creativecommons.org/licenses/by/4.0/">
<script type="application/ld+json">{"license": "https://creativecommons.org/publicdomain/zero/1.0/"}</script>
<script type="application/ld+json">{broken</script>
</head><body><a href="/x">x</a><a rel="license noopener" href="https://creativecommons.org/licenses/by-sa/4.0/">CC</a>
<a title="a &amp; b" href=/plain>plain</a></body></html>"""


def test_extract():
    meta = extract(HTML)
    assert ("robots", "NoAI", b'<META NAME="Robots" CONTENT="NoAI">') in meta.names
    assert [n for n, _, _ in meta.names] == ["robots", "tdm-reservation", "tdm-policy"]
    assert [(n, c) for n, c, _ in meta.http_equiv] == [
        ("content-usage", "train-ai=n;exceptions=cc-cr")
    ]
    assert [(how, href) for how, href, _, _ in meta.licenses] == [
        ("<link rel=license>", "/license"),
        ("<meta property=dcterms:license>", "https://creativecommons.org/licenses/by/4.0/"),
        ("<a rel=license>", "https://creativecommons.org/licenses/by-sa/4.0/"),
    ]
    assert meta.jsonld == [{"license": "https://creativecommons.org/publicdomain/zero/1.0/"}]


def test_extract_with_wanted_names_skips_other_meta_names_only():
    body = HTML + (
        b'<meta name="description" content="about robots">'
        b'<meta name="viewport" content="width=device-width">'
        b'<meta name="rob&#111;ts" content="noai">'
        b'<meta name="MyBot" content="noimageai">'
    )
    wanted = (b"tdm-reservation", b"tdm-policy", b"robots", b"mybot")
    kept = extract(body, wanted)
    everything = extract(body)
    # description mentions "robots" in its content, so the cheap filter keeps it too;
    # viewport names nothing wanted and is skipped; the entity-spelled name is kept.
    assert [n for n, _, _ in everything.names] == [
        "robots",
        "tdm-reservation",
        "tdm-policy",
        "description",
        "viewport",
        "robots",
        "mybot",
    ]
    assert [n for n, _, _ in kept.names] == [
        "robots",
        "tdm-reservation",
        "tdm-policy",
        "description",
        "robots",
        "mybot",
    ]
    assert kept.http_equiv == everything.http_equiv
    assert kept.licenses == everything.licenses
    assert kept.jsonld == everything.jsonld


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<",
        b"<meta",
        b"<meta name=",
        b"\x00\xff<a rel=license>",
        b"<script type=application/ld+json>",
    ],
)
def test_extract_garbage(body):
    meta = extract(body)
    assert meta.licenses == [] and meta.jsonld == []
