"""noai directives, licences and HTML metadata extraction: pure parsing."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.htmlscan import extract
from scrapy_ccsignals.signals.license import (
    canonical_license_id,
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
        # Scopes (Google's syntax, r2): a name: prefix runs to the next one.
        ("googlebot: noindex, mybot: noai", "MyBot", {"noai"}),
        ("googlebot: noindex, mybot: noai", "Googlebot", {"noindex"}),
        ("demobot: noai, examplebot: noai", "ExampleBot", {"noai"}),
        ("demobot: noai, examplebot: noai", "DemoBot", {"noai"}),
        ("demobot: noai, examplebot: noai", "MyBot", set()),
        ("mybot: noindex, noai, otherbot: noimageai", "MyBot", {"noindex", "noai"}),
        ("mybot: noindex, noai, otherbot: noimageai", "OtherBot", {"noimageai"}),
        # Before any prefix: every bot.
        ("noarchive, otherbot: noai", "MyBot", {"noarchive"}),
        ("noarchive, mybot: noai", "MyBot", {"noarchive", "noai"}),
        # Valued directives are not scopes.
        ("max-snippet: 20, noai", "MyBot", {"max-snippet: 20", "noai"}),
        ("otherbot: max-snippet: 20, noai", "MyBot", set()),
        (
            "mybot: unavailable_after: 2030-01-01, noai",
            "MyBot",
            {"unavailable_after: 2030-01-01", "noai"},
        ),
        ("MYBOT:NOAI", "mybot", {"noai"}),
        ("mybot:", "MyBot", set()),
        ("AI2Bot: noai", "AI2Bot", {"noai"}),
        ("AI2Bot: noai", "AI", set()),
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
        ({"noindex"}, "train-ai", False, ["unknown"]),  # recorded as written
    ],
)
def test_noai_effects(found, purpose, image, effects):
    assert [s.effect for s in noai_signals(found, purpose, image, "header", "u", "r")] == effects


# What each directive says for each purpose (rulebook, "noai", r2); "-" = no signal.
NOAI_TABLE = {
    ("noai", False): {"train-ai": "deny", "ai-input": "deny", "search": "unknown"},
    ("noai", True): {"train-ai": "deny", "ai-input": "deny", "search": "unknown"},
    ("noimageai", False): {"train-ai": "unknown", "ai-input": "unknown", "search": "unknown"},
    ("noimageai", True): {"train-ai": "deny", "ai-input": "deny", "search": "unknown"},
    ("noarchive", False): {"train-ai": "deny", "ai-input": "unknown", "search": "unknown"},
    # (r3) noindex and none decide search only (family noindex)
    ("noindex", False): {"train-ai": "unknown", "ai-input": "unknown", "search": "deny"},
    ("none", True): {"train-ai": "unknown", "ai-input": "unknown", "search": "deny"},
    ("nofollow", True): {"train-ai": "-", "ai-input": "-", "search": "-"},
}


@pytest.mark.parametrize(
    ("directive", "image", "purpose"),
    [(d, i, p) for (d, i) in NOAI_TABLE for p in ("train-ai", "ai-input", "search")],
)
def test_noai_table(directive, image, purpose):
    signals = noai_signals({directive}, purpose, image, "header", "u", "r")
    effect = signals[0].effect if signals else "-"
    assert effect == NOAI_TABLE[(directive, image)][purpose]
    assert all(s.value == directive for s in signals)


@pytest.mark.parametrize("purpose", ["train-ai", "ai-input", "search"])
def test_noarchive_switched_off(purpose):
    assert (
        noai_signals({"noarchive"}, purpose, False, "html", "u", "r", noarchive_is_noai=False) == []
    )


def test_noarchive_is_told_from_noai():
    signals = noai_signals({"noai", "noarchive"}, "train-ai", False, "header", "u", "r")
    assert [(s.value, s.effect) for s in signals] == [("noai", "deny"), ("noarchive", "deny")]


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


LICENSE_FORMS = [
    "{base}",
    "{base}legalcode",
    "{base}legalcode.de",
    "{base}deed.fr",
    "{base}deed.zh-hans",
    "{bare}",
    "{base}?ref=footer",
    "{base}#main",
    "{base}deed.en?x=1#y",
]


@pytest.mark.parametrize(
    ("path", "spdx"),
    [
        ("licenses/by/4.0/", "CC-BY-4.0"),
        ("licenses/by-nd-nc/1.0/", "CC-BY-NC-ND-1.0"),
        ("licenses/by-nc-nd/2.0/", "CC-BY-NC-ND-2.0"),
        ("licenses/sa/1.0/", "CC-SA-1.0"),
        ("licenses/nc-sa/1.0/", "LicenseRef-CC-NC-SA-1.0"),
        ("licenses/nd-nc/1.0/", "LicenseRef-CC-NC-ND-1.0"),
        ("licenses/nc/1.0/", "LicenseRef-CC-NC-1.0"),
        ("licenses/nd/1.0/", "LicenseRef-CC-ND-1.0"),
        ("licenses/by-sa/3.0/de/", "CC-BY-SA-3.0-DE"),
        ("licenses/by-nc-sa/2.0/uk/", "CC-BY-NC-SA-2.0-UK"),
        ("licenses/by-sa/2.1/jp/", "CC-BY-SA-2.1-JP"),
        ("licenses/by/3.0/igo/", "CC-BY-3.0-IGO"),
        ("licenses/by/3.0/us/", "CC-BY-3.0-US"),
        ("licenses/by/3.0/fr/", "LicenseRef-CC-BY-3.0-FR"),  # a port SPDX does not list
        ("licenses/by/2.5/scotland/", "LicenseRef-CC-BY-2.5-SCOTLAND"),
        ("licenses/publicdomain/", "CC-PDDC"),
        ("publicdomain/zero/1.0/", "CC0-1.0"),
        ("publicdomain/mark/1.0/", "CC-PDM-1.0"),
    ],
)
@pytest.mark.parametrize("form", LICENSE_FORMS)
@pytest.mark.parametrize(
    "origin",
    [
        "https://creativecommons.org/",
        "http://creativecommons.org/",
        "http://www.creativecommons.org/",
    ],
)
def test_normalise_cc_every_form(path, spdx, form, origin):
    url = form.format(base=origin + path, bare=(origin + path).rstrip("/"))
    assert normalise_cc(url) == ("https://creativecommons.org/" + path, spdx)


@pytest.mark.parametrize(
    "url",
    [
        "https://creativecommons.org/licenses/sa/2.0/",  # no non-BY licences after 1.0
        "https://creativecommons.org/licenses/by-by/4.0/",
        "https://creativecommons.org/licenses/",
        "https://creativecommons.org/publicdomain/",
        "https://creativecommons.org/share-your-work/cclicenses/",
    ],
)
def test_not_a_cc_licence(url):
    assert normalise_cc(url) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CC-BY-4.0", "CC-BY-4.0"),
        ("cc-by-nc-sa-3.0-de", "CC-BY-NC-SA-3.0-DE"),
        ("cc0-1.0", "CC0-1.0"),
        ("CC-PDDC", "CC-PDDC"),
        ("licenseref-cc-by-3.0-fr", "LicenseRef-CC-BY-3.0-FR"),
        ("LicenseRef-CC-NC-SA-1.0", "LicenseRef-CC-NC-SA-1.0"),
        ("CC-BY-3.0-FR", None),
        ("CC-BY-4", None),
        ("MIT", None),
        ("LicenseRef-CC-FOO-1.0", None),
        ("", None),
    ],
)
def test_canonical_license_id(text, expected):
    assert canonical_license_id(text) == expected


def test_normaliser_ids_are_valid_config_ids():
    for path in ("licenses/by/3.0/fr/", "licenses/nc-sa/1.0/", "licenses/by-nd-nc/1.0/"):
        result = normalise_cc("https://creativecommons.org/" + path)
        assert result is not None and canonical_license_id(result[1]) == result[1]


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


def test_a_licence_pages_repeat_is_made_once_and_a_long_one_never_kept():
    """A site's template names the same licence on every page: its License is made once
    and shared (it is immutable); the caches are bounded, and a URL too long to be a
    template's, which only a hostile server sends, is read each time and never kept."""
    from scrapy_ccsignals.signals import license as lic

    lic.kept_license.cache_clear()
    lic.kept_cc.cache_clear()
    url = "http://www.creativecommons.org/licenses/by-sa/4.0/deed.de"
    first = make_license(url, "html <link rel=license>", url)
    assert make_license(url, "html <link rel=license>", url) is first
    assert (first.url, first.id) == (
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "CC-BY-SA-4.0",
    )
    assert make_license(url, "html JSON-LD", url).source == "html JSON-LD"
    assert lic.kept_license.cache_info().maxsize == lic.MAX_KEPT_LICENSES
    kept = (lic.kept_license.cache_info().currsize, lic.kept_cc.cache_info().currsize)
    assert kept == (2, 1)
    long = "https://creativecommons.org/licenses/by/4.0/?" + "x" * lic.MAX_KEPT_URL
    made = make_license(long, "html <link rel=license>", long)
    assert (made.url, made.id) == ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0")
    assert normalise_cc(long) == (made.url, made.id)
    assert (lic.kept_license.cache_info().currsize, lic.kept_cc.cache_info().currsize) == kept


@pytest.mark.parametrize("depth", [0, 1, 7, 8, 9, 12])
@pytest.mark.parametrize("wrap", ["dict", "list"])
def test_jsonld_licenses_read_eight_levels_deep(depth, wrap):
    """Licences nested up to eight containers deep are read, in document order; deeper
    ones (a hostile block) are not."""
    data: object = {"license": "https://x/deep", "@type": "CreativeWork"}
    for _ in range(depth):
        data = {"hasPart": data} if wrap == "dict" else [data, 5, "s"]
    found = jsonld_licenses([{"license": ["https://x/1"]}, data, {"x": {"license": "https://x/2"}}])
    deep = ["https://x/deep"] if depth + 1 <= 8 else []
    assert found == ["https://x/1", *deep, "https://x/2"]
