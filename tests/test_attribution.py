"""signals/attribution.py: the attribution fields of SIGNALS.md "Attribution (r2)", from
each source, in precedence order, and the HTML scanning rule (r2)."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.signals.attribution import MAX_CHARS, extract_attribution


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


CASES = [
    # (html, expected subset, expected absent keys)
    ("<title> Meadow  - Wiki </title>", {"title": "Meadow - Wiki"}, ["creator"]),
    (
        '<meta property="og:title" content="Meadow"><title>Meadow - Wiki</title>',
        {"title": "Meadow"},
        [],
    ),
    ('<meta name="DC.title" content="Meadow DC"><title>T</title>', {"title": "Meadow DC"}, []),
    ('<meta property="dcterms:title" content="Meadow DCT">', {"title": "Meadow DCT"}, []),
    (
        ld({"@type": "Article", "headline": "H", "name": "N"})
        + '<meta property="og:title" content="OG">',
        {"title": "H"},
        [],
    ),
    (ld({"@type": "CreativeWork", "name": "N"}), {"title": "N"}, []),
    (ld({"@type": "WebSite", "name": "Site"}), {"site_name": "Site"}, ["title"]),
    (
        ld({"@type": "Article", "author": {"@type": "Person", "name": "Ada"}}),
        {"creator": "Ada"},
        [],
    ),
    (
        ld(
            {
                "@type": "Article",
                "author": [{"name": "Ada"}, "Bo", {"@type": "Organization", "name": "Lab"}],
            }
        ),
        {"creator": "Ada, Bo, Lab"},
        [],
    ),
    (ld({"@type": "Article", "creator": "Cy"}), {"creator": "Cy"}, []),
    (
        ld(
            {
                "@graph": [
                    {"@type": "Article", "author": {"@id": "#a"}},
                    {"@id": "#a", "@type": "Person", "name": "Ref"},
                ]
            }
        ),
        {"creator": "Ref"},
        [],
    ),
    ('<meta name="author" content="Meta Author">', {"creator": "Meta Author"}, []),
    ('<meta name="dc.creator" content="DC Author">', {"creator": "DC Author"}, []),
    ('<meta name="author" content="M"><meta name="dc.creator" content="D">', {"creator": "M"}, []),
    (
        '<meta property="og:site_name" content="OG Site">'
        + ld({"@type": "Article", "publisher": {"name": "Pub"}}),
        {"site_name": "OG Site"},
        [],
    ),
    (
        ld({"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Pub"}}),
        {"site_name": "Pub"},
        [],
    ),
    ('<link rel="canonical" href="/a/b">', {"attribution_url": "http://h.example/a/b"}, []),
    (
        '<link rel="canonical" href="/c"><a rel="cc:attributionURL" href="https://x.org/w">w</a>',
        {"attribution_url": "https://x.org/w"},
        [],
    ),
    (
        ld({"@type": "Article", "copyrightNotice": "© 2026 Ada", "copyrightHolder": {"name": "H"}}),
        {"copyright": "© 2026 Ada"},
        [],
    ),
    (
        ld({"@type": "Article", "copyrightHolder": {"@type": "Organization", "name": "Holder"}}),
        {"copyright": "Holder"},
        [],
    ),
    (
        '<meta name="dc.rights" content="All rights reserved">',
        {"copyright": "All rights reserved"},
        [],
    ),
    # CC licence chooser markup (ccREL in RDFa)
    (
        '<p xmlns:cc="http://creativecommons.org/ns#" xmlns:dct="http://purl.org/dc/terms/">'
        '<a property="dct:title" rel="cc:attributionURL" href="https://x.org/p">A <b>Photo</b></a> by '
        '<a rel="cc:attributionURL dct:creator" property="cc:attributionName" href="https://x.org/me">Ada &amp; Bo</a>'
        "</p><title>Other</title>",
        {"title": "A Photo", "creator": "Ada & Bo", "attribution_url": "https://x.org/p"},
        [],
    ),
    (
        '<span property="cc:attributionName" content="Given Name">shown</span>',
        {"creator": "Given Name"},
        [],
    ),
    # nothing stated: nothing guessed
    (
        "<html><body><p>by Ada</p></body></html>",
        {},
        ["title", "creator", "site_name", "attribution_url", "copyright"],
    ),
]


@pytest.mark.parametrize(("html", "expected", "absent"), CASES)
def test_fields(html, expected, absent):
    got = extract_attribution(html.encode(), "http://h.example/page")
    assert {k: got.get(k) for k in expected} == expected
    for key in absent:
        assert key not in got


@pytest.mark.parametrize(
    "hidden",
    [
        "<!-- <meta name=author content=Hidden> -->",
        "<script>document.write('<meta name=author content=Hidden>')</script>",
        "<style>/* <meta name=author content=Hidden> */</style>",
        "<![CDATA[ <meta name=author content=Hidden> ]]>",
        "<SCRIPT type=text/javascript>var a = '<title>Hidden</title>';</SCRIPT >",
    ],
)
def test_tags_in_comments_scripts_styles_and_cdata_are_not_read(hidden):
    got = extract_attribution(f"<head>{hidden}<meta name=author content=Shown></head>".encode())
    assert got.get("creator") == "Shown"
    assert "Hidden" not in json.dumps(got)


def test_an_unterminated_comment_hides_the_rest():
    got = extract_attribution(b"<title>T</title><!-- <meta name=author content=X>")
    assert got == {"title": "T"}


def test_json_ld_is_read_but_broken_json_ld_says_nothing():
    good = ld({"@type": "Article", "headline": "Good"})
    broken = '<script type="application/ld+json">{"headline": "Bro</script>'
    assert extract_attribution((broken + good).encode()) == {"title": "Good"}
    assert extract_attribution(broken.encode()) == {}


def test_only_the_first_max_bytes_are_read():
    body = b"<title>Early</title>" + b" " * 5000 + b"<meta name=author content=Late>"
    assert extract_attribution(body, max_bytes=1000) == {"title": "Early"}
    assert extract_attribution(body, max_bytes=10000)["creator"] == "Late"


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00<\x00t\x00i",
        b"<meta name=author content='" + b"A" * 100_000 + b"'>",
        b"<title>" + b"\x00\x01\x1b[31m" * 10 + b"x</title>",
        b"<" * 10_000,
        b'<script type="application/ld+json">' + b"[" * 100_000 + b"</script>",
        b'<script type="application/ld+json">{"@graph": {"@graph": 3}}</script>',
        b'<script type="application/ld+json">{"@type": 5, "author": {"name": ["x", 3]}}</script>',
    ],
)
def test_hostile_input_never_raises_and_is_capped(body):
    got = extract_attribution(body, "http://h.example/")
    for value in got.values():
        assert isinstance(value, str)
        assert len(value) <= MAX_CHARS
        assert not any(ord(c) < 32 for c in value)


@pytest.mark.parametrize("colons", [0, 1, 15, 16, 17, 500])
@pytest.mark.parametrize(
    "element",
    [
        '<span property="dc:title">Found</span>',
        '<div property="DCTERMS:title">Found</div>',
        '<p property="dct:title" content="Found">x</p>',
        '<cite property="cc:attributionName">Found</cite>',
    ],
)
def test_rdfa_is_found_after_any_number_of_colons(colons, element):
    """Whether a page names a ccREL / Dublin Core term is found by looking at its colons
    (then, past a few dozen, by searching for each term): both ways find it."""
    text = "<p>" + "a: b " * colons + "</p>"
    got = extract_attribution((text + element).encode())
    key = "creator" if "attributionName" in element else "title"
    assert got == {key: "Found"}


def test_a_colon_alone_is_no_rdfa_term():
    got = extract_attribution(b"<p>cc: dc-x: dctx: attribution:</p><span>not read</span>")
    assert got == {}


def test_demo_web_pages(crawled):
    """On the real crawl: the blog's JSON-LD/OpenGraph pages give every field; the comment
    planted in their head does not count."""
    items = [json.loads(line) for line in (crawled["dir"] / "items.jsonl").read_text().splitlines()]
    heron = next(i for i in items if i["url"].endswith("/posts/heron"))
    assert heron["ccsignals"]["attribution"] == {
        "title": "The heron's patience",
        "creator": "Ada Lund",
        "site_name": "Field Notes",
        "attribution_url": heron["url"],
        "copyright": "© 2026 Ada Lund",
    }


_URL_CHARS = "/.:?#;@%[]\t\n aA0-_~+=&!$*,'\"\\é"


@settings(max_examples=2000, deadline=None)
@example("http://127.0.0.1:8080/a/b?q=1#f", "/p/3")
@example("https://user:pw@example.org", "/a//b.html")
@example("http:///x", "/a:b@c")
@example("http://h?x", "/")
@example("http://h#x/y", "/x/./y")
@given(
    st.sampled_from(
        [
            "http://127.0.0.1:8080/a/b?q=1#f",
            "https://user:pw@example.org",
            "http:///x",
            "https://h.test/dir/",
            "http://[::1]:80/p",
            "http://h\t/p",
            "http://hé.test/p",
            "HTTP://h/p",
            "ftp://h/p",
            "http://h?x",
            "http://h#x/y",
        ]
    ),
    st.text(alphabet=_URL_CHARS, max_size=12).map(lambda s: "/" + s) | st.text(_URL_CHARS),
)
def test_resolve_url_is_urljoin(base, href):
    """The fast path for a canonical link's plain path gives urljoin's answer, or its error."""
    from urllib.parse import urljoin

    from scrapy_ccsignals.signals.attribution import resolve_url

    try:
        expected: object = urljoin(base, href)
    except ValueError as exc:
        expected = type(exc)
    try:
        got: object = resolve_url(base, href)
    except ValueError as exc:
        got = type(exc)
    assert got == expected
