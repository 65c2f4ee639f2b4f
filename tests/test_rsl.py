"""RSL 1.0: parsing (hostile XML refused), <content> matching, the rsl family's signal for
each purpose, provenance terms and discovery helpers. Documents under tests/data/rsl/."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN
from scrapy_ccsignals.signals.license import make_license
from scrapy_ccsignals.signals.rsl import (
    Content,
    RslDocument,
    RslError,
    is_rsl_type,
    match_content,
    parse_rsl,
    rsl_license_urls,
    rsl_link_urls,
    rsl_signals,
    terms_dict,
)

DATA = Path(__file__).parent / "data" / "rsl"
LICENSE_URL = "https://example.com/license.xml"
LIC = ("rsl-license",)
ATTR = ("attribution",)
BOTH = ("rsl-license", "attribution")


def load(name: str) -> RslDocument:
    return parse_rsl((DATA / name).read_bytes(), LICENSE_URL)


def evaluate(doc: RslDocument, page: str, purpose: str, accept=()):
    [signal] = rsl_signals(doc, match_content(doc, page), purpose, "robots.txt", doc.url, accept)
    return signal


# file, page, {purpose: (effect, conditions)}
CASES = [
    (
        "guide-prohibit-ai-training.xml",
        "https://example.com/a",
        {"train-ai": (DENY, ()), "ai-input": (ALLOW, ()), "search": (ALLOW, ())},
    ),
    (
        "guide-allow-ai-training.xml",
        "https://example.com/a",
        {"train-ai": (ALLOW, ()), "ai-input": (DENY, ()), "search": (DENY, ())},
    ),
    (
        "guide-attribution-server.xml",
        "https://example.com/a",
        {"train-ai": (CONDITIONAL, BOTH), "ai-input": (DENY, ()), "search": (DENY, ())},
    ),
    (
        "guide-custom-subscription.xml",
        "https://example.com/a",
        {"train-ai": (CONDITIONAL, LIC), "ai-input": (DENY, ()), "search": (DENY, ())},
    ),
    (
        "collective-royalty.xml",
        "https://example.com/a",
        {"train-ai": (CONDITIONAL, LIC), "ai-input": (DENY, ()), "search": (DENY, ())},
    ),
    (
        "collective-live-royalty.xml",
        "https://example.com/a",
        {"train-ai": (CONDITIONAL, LIC), "ai-input": (CONDITIONAL, LIC), "search": (DENY, ())},
    ),
    (
        "collective-site-standard.xml",
        "https://example.com/a",
        {"train-ai": (ALLOW, ()), "ai-input": (ALLOW, ()), "search": (DENY, ())},
    ),
    (
        "cc-by-attribution.xml",
        "https://example.com/a",
        {
            "train-ai": (CONDITIONAL, ATTR),
            "ai-input": (CONDITIONAL, ATTR),
            "search": (CONDITIONAL, ATTR),
        },
    ),
    (
        "prohibit-ai-train-ai-input.xml",
        "https://example.com/a",
        {"train-ai": (DENY, ()), "ai-input": (DENY, ()), "search": (ALLOW, ())},
    ),
    # Two <content url="/news/*">: the first wins, so ai-input is not permitted.
    (
        "vendor-news-two-contents.xml",
        "https://publisher.example.com/news/today",
        {"train-ai": (DENY, ()), "ai-input": (DENY, ()), "search": (ALLOW, ())},
    ),
    (
        "vendor-news-two-contents.xml",
        "https://publisher.example.com/sport/today",
        {"train-ai": (UNKNOWN, ()), "ai-input": (UNKNOWN, ()), "search": (UNKNOWN, ())},
    ),
    (
        "wp-plugin-subscription.xml",
        "https://example.com/",
        {"train-ai": (DENY, ()), "ai-input": (DENY, ()), "search": (CONDITIONAL, LIC)},
    ),
    (
        "project-full.xml",
        "https://example.com/premium/x",
        {"train-ai": (DENY, ()), "ai-input": (CONDITIONAL, LIC), "search": (DENY, ())},
    ),
    # Same path on another origin: the full-URL entry does not match; "/" does.
    (
        "project-full.xml",
        "http://example.com/premium/x",
        {"train-ai": (DENY, ()), "ai-input": (DENY, ()), "search": (ALLOW, ())},
    ),
    (
        "project-full.xml",
        "https://example.com/files/doc.pdf",
        {"train-ai": (DENY, ()), "ai-input": (DENY, ()), "search": (ALLOW, ())},
    ),
    (
        "project-full.xml",
        "https://example.com/open/page",
        {
            "train-ai": (CONDITIONAL, ATTR),
            "ai-input": (CONDITIONAL, ATTR),
            "search": (CONDITIONAL, ATTR),
        },
    ),
]


@pytest.mark.parametrize("purpose", ["train-ai", "ai-input", "search"])
@pytest.mark.parametrize(
    ("name", "page", "expected"), CASES, ids=[f"{c[0]}:{c[1].split('/', 3)[3]}" for c in CASES]
)
def test_documents_for_each_purpose(name, page, expected, purpose):
    signal = evaluate(load(name), page, purpose)
    effect, conditions = expected[purpose]
    assert (signal.family, signal.effect, signal.conditions) == ("rsl", effect, conditions)
    assert signal.all_required == bool(conditions)
    assert signal.layer == "robots.txt" and signal.source == LICENSE_URL
    assert LICENSE_URL in signal.raw


def test_every_data_file_is_evaluated():
    tested = {case[0] for case in CASES}
    assert tested == {p.name for p in DATA.glob("*.xml")}


@pytest.mark.parametrize(
    ("accept", "conditions"),
    [((), ATTR), ({"attribution"}, ATTR), ({"rsl-license"}, LIC), (set(BOTH), ATTR)],
)
def test_alternative_licences_the_one_asking_least_wins(accept, conditions):
    # /open/ offers all-with-attribution or ai-train-for-purchase.
    signal = evaluate(load("project-full.xml"), "https://example.com/open/x", "train-ai", accept)
    assert signal.conditions == conditions


def test_search_has_only_the_attribution_offer_whatever_is_accepted():
    doc = load("project-full.xml")
    signal = evaluate(doc, "https://example.com/open/x", "search", {"rsl-license"})
    assert signal.conditions == ATTR


def test_free_licence_beats_a_conditional_one():
    body = b"""<rsl xmlns="https://rslstandard.org/rsl"><content url="/">
      <license><permits type="usage">ai-input</permits><payment type="use"/></license>
      <license><permits type="usage">ai-input</permits><payment type="free"/></license>
    </content></rsl>"""
    signal = evaluate(parse_rsl(body, LICENSE_URL), "https://x.org/", "ai-input")
    assert (signal.effect, signal.conditions) == (ALLOW, ())


@pytest.mark.parametrize(
    ("permits", "prohibits", "purpose", "effect"),
    [
        ("ai-train", "", "train-ai", ALLOW),
        ("train-ai", "", "train-ai", ALLOW),  # the guide's spelling
        ("AI-Train", "", "train-ai", ALLOW),
        ("ai-all", "", "train-ai", ALLOW),
        ("ai-all", "", "ai-input", ALLOW),
        ("ai-all", "", "search", DENY),
        ("all", "", "search", ALLOW),
        ("ai-index", "", "ai-input", DENY),  # ai-index is not ai-input
        ("search,ai-input", "", "ai-input", ALLOW),  # commas read as separators
        ("", "", "search", DENY),  # an empty permit list permits nothing
        ("all", "ai-train", "train-ai", DENY),  # prohibited beats permitted
        ("all", "ai-train", "ai-input", ALLOW),
        (None, "all", "search", DENY),
        (None, "ai-all", "search", ALLOW),
        (None, "ai-index", "ai-input", ALLOW),
        (None, "nonsense", "train-ai", ALLOW),  # unknown tokens are recorded, not applied
    ],
)
def test_usage_vocabulary(permits, prohibits, purpose, effect):
    terms = "" if permits is None else f'<permits type="usage">{permits}</permits>'
    terms += f'<prohibits type="usage">{prohibits}</prohibits>' if prohibits else ""
    body = f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>{terms}</license></content></rsl>'
    signal = evaluate(parse_rsl(body.encode(), LICENSE_URL), "https://x.org/p", purpose)
    assert signal.effect == effect


@pytest.mark.parametrize(
    ("content_attrs", "payment", "conditions"),
    [
        ("", "", ()),
        ("", '<payment type="free"/>', ()),
        ("", "<payment/>", ()),  # type defaults to free
        ("", '<payment type="attribution"/>', ATTR),
        ('server="https://ls.example/"', "", LIC),  # a licence even when free (RSL 1.0)
        ('server="https://ls.example/"', '<payment type="attribution"/>', BOTH),
        ("", '<payment type="purchase"/>', LIC),
        ("", '<payment type="subscription"/>', LIC),
        ("", '<payment type="training"/>', LIC),
        ("", '<payment type="crawl"/>', LIC),
        ("", '<payment type="use"/>', LIC),
        ("", '<payment type="contribution"/>', LIC),
        ("", '<payment type="per-token"/>', LIC),  # unknown types are not free
        ("", '<payment type="attribution"/><payment type="crawl"/>', BOTH),
    ],
)
def test_payment_and_server_conditions(content_attrs, payment, conditions):
    body = (
        f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/" {content_attrs}><license>'
        f'<permits type="usage">all</permits>{payment}</license></content></rsl>'
    )
    signal = evaluate(parse_rsl(body.encode(), LICENSE_URL), "https://x.org/", "search")
    assert signal.conditions == conditions
    assert signal.effect == (CONDITIONAL if conditions else ALLOW)


def test_user_restrictions_are_noted_not_applied():
    doc = load("project-full.xml")
    signal = evaluate(doc, "https://example.com/premium/x", "ai-input")
    assert signal.effect == CONDITIONAL
    assert "users: education non-commercial only, not commercial" in signal.raw
    pdf = evaluate(doc, "https://example.com/a.pdf", "search")
    assert pdf.effect == ALLOW and "users: commercial prohibited" in pdf.raw
    news = evaluate(load("vendor-news-two-contents.xml"), "https://p.example/news/x", "search")
    assert "users:" not in news.raw  # commercial is among the permitted users


def test_raw_names_licence_content_terms_and_server():
    signal = evaluate(load("vendor-news-two-contents.xml"), "https://p.example/news/x", "search")
    assert signal.raw.startswith(f"{LICENSE_URL} <content url=/news/*>")
    assert "permits usage=search" in signal.raw
    assert "terms https://publisher.example.com/licensing-terms" in signal.raw
    served = evaluate(load("guide-attribution-server.xml"), "https://x.org/", "train-ai")
    assert "server=https://rslcollective.org/api" in served.raw
    assert "payment attribution (https://rslcollective.org/license)" in served.raw
    assert served.value == "rsl-license+attribution"


def test_terms_dict():
    doc = load("project-full.xml")
    content = match_content(doc, "https://example.com/premium/x")
    assert content is not None
    assert terms_dict(doc, content) == {
        "license_url": LICENSE_URL,
        "content_url": "https://example.com/premium/*",
        "server": "https://license.example.com/api",
        "encrypted": True,
        "copyright": {
            "holder": "Ada Example",
            "type": "person",
            "contact_email": "ada@example.com",
        },
        "terms": "https://example.com/legal/ai-terms",  # a path, resolved against the licence
        "licenses": [
            {
                "permits": {
                    "usage": ["ai-input"],
                    "user": ["education", "non-commercial"],
                    "geo": ["EU", "US"],
                },
                "prohibits": {},
                "payment": [{"type": "crawl", "amount": "0.01", "currency": "EUR"}],
            }
        ],
    }
    live = load("collective-live-royalty.xml")
    data = terms_dict(live, live.contents[0])
    assert data["server"] == "api.rslcollective.org"  # as written: not a path
    assert data["licenses"][0]["payment"] == [
        {"type": "use", "standard": "rslcollective.org/license"}
    ]
    free = load("guide-allow-ai-training.xml")
    assert terms_dict(free, free.contents[0])["licenses"][0]["payment"] == [{"type": "free"}]


def test_no_licence_element_is_unknown():
    body = b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"/></rsl>'
    signal = evaluate(parse_rsl(body, LICENSE_URL), "https://x.org/", "train-ai")
    assert signal.effect == UNKNOWN and "no <license>" in signal.raw


# --- matching ----------------------------------------------------------------------------


def doc_with(*urls: str) -> RslDocument:
    return RslDocument(LICENSE_URL, tuple(Content(url) for url in urls))


@pytest.mark.parametrize(
    ("urls", "page", "matched"),
    [
        (("/news/*", "/"), "https://a.example/news/x", "/news/*"),
        (("/news/*", "/"), "https://a.example/sport", "/"),
        (("/news/",), "https://a.example/newsroom", None),
        (("/news",), "https://a.example/newsroom", "/news"),  # RFC 9309 prefix
        (("/*.pdf$",), "https://a.example/a/b.pdf", "/*.pdf$"),
        (("/*.pdf$",), "https://a.example/a/b.pdf?x=1", None),
        (("*.pdf$",), "https://a.example/b.pdf", "*.pdf$"),
        (("/caf%C3%A9/",), "https://a.example/café/x", "/caf%C3%A9/"),
        (("/search?q=",), "https://a.example/search?q=rsl", "/search?q="),
        (("https://a.example/*",), "https://A.EXAMPLE:443/x", "https://a.example/*"),
        (("https://a.example",), "https://a.example/deep/page", "https://a.example"),
        (("https://a.example/x/",), "https://a.example:8443/x/1", None),
        (("https://a.example/x/",), "http://a.example/x/1", None),
        (("http://a.example:8080/x/",), "http://a.example:8080/x/1", "http://a.example:8080/x/"),
        (("https://b.example/",), "https://a.example/", None),
        (("news/",), "https://a.example/news/", None),  # neither a URL nor a path pattern
        (("/",), "https://[::1/", None),  # a page URL that does not parse
    ],
)
def test_match_content(urls, page, matched):
    found = match_content(doc_with(*urls), page)
    assert (found.url if found else None) == matched


# --- parsing -----------------------------------------------------------------------------


def test_parse_reads_every_field():
    doc = load("project-full.xml")
    assert doc.url == LICENSE_URL and len(doc.contents) == 4 and doc.skipped == 0
    premium = doc.contents[0]
    assert premium.encrypted and premium.lastmod == "2026-01-01T00:00:00Z"
    assert premium.copyright is not None and premium.copyright.holder == "Ada Example"
    [lic] = premium.licenses
    assert lic.permitted("geo") == frozenset({"US", "EU"})
    assert lic.permitted("usage") == frozenset({"ai-input"})
    assert lic.prohibited("usage") == frozenset()
    assert lic.payments[0].amount == "0.01" and lic.payments[0].currency == "EUR"


def test_legal_and_foreign_elements():
    doc = load("vendor-news-two-contents.xml")
    assert doc.contents[0].licenses[0].legal == (
        ("warranty", "ownership authority"),
        ("disclaimer", "as-is no-liability"),
    )
    wp = load("wp-plugin-subscription.xml")  # <server> inside <license> is not RSL 1.0
    assert wp.contents[0].server is None


def test_no_namespace_is_accepted_foreign_elements_ignored():
    body = b"""<rsl><content url="/"><license><permits type="usage">search</permits>
      <x:permits xmlns:x="urn:other" type="usage">all</x:permits></license></content></rsl>"""
    doc = parse_rsl(body, LICENSE_URL)
    assert doc.contents[0].licenses[0].permitted("usage") == frozenset({"search"})


def test_content_without_url_is_skipped():
    body = b'<rsl xmlns="https://rslstandard.org/rsl"><content/><content url=" /a "/></rsl>'
    doc = parse_rsl(body, LICENSE_URL)
    assert doc.skipped == 1 and doc.contents[0].url == "/a"


def test_utf16_document_parses():
    body = (
        (DATA / "guide-allow-ai-training.xml")
        .read_text()
        .replace("<rsl", '<?xml version="1.0" encoding="UTF-16"?>\n<rsl', 1)
    )
    doc = parse_rsl(body.encode("utf-16"), LICENSE_URL)
    assert doc.contents[0].licenses[0].permitted("usage") == frozenset({"train-ai"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed"),
        (b"   ", "malformed"),
        (b"<rsl", "malformed"),
        (b"\xff\xfe\x00garbage", "malformed"),
        (b'{"json": true}', "malformed"),
        (b"<html><body>Not found</body></html>", "not <rsl>"),
        (b'<rsl xmlns="urn:not-rsl"><content url="/"/></rsl>', "not <rsl>"),
        (b'<rsl xmlns="https://rslstandard.org/rsl"></rsl>', "no <content>"),
        (b'<rsl xmlns="https://rslstandard.org/rsl"><content/></rsl>', "no <content>"),
        # The guide page's typographic quotes, pasted as published.
        (
            '<rsl xmlns="https://rslstandard.org/rsl"><content url=”/”><license>'
            '<prohibits type="usage">train-ai</prohibits></license></content></rsl>'.encode(),
            "malformed",
        ),
    ],
)
def test_invalid_documents(body, message):
    with pytest.raises(RslError, match=message):
        parse_rsl(body, LICENSE_URL)


# --- hostile XML -------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rsl [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>
<permits type="usage">&lol9;</permits></license></content></rsl>"""


def quadratic_blowup() -> bytes:
    big = "A" * 50_000
    refs = "&a;" * 5_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE rsl [<!ENTITY a "{big}">]>'
        f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><terms>{refs}</terms>'
        "</content></rsl>"
    ).encode()


def test_billion_laughs_refused_quickly():
    start = time.monotonic()
    with pytest.raises(RslError, match="refused XML: DTDForbidden"):
        parse_rsl(BILLION_LAUGHS, LICENSE_URL)
    assert time.monotonic() - start < 1


def test_quadratic_blowup_refused():
    body = quadratic_blowup()
    start = time.monotonic()
    with pytest.raises(RslError, match="refused XML"):
        parse_rsl(body, LICENSE_URL)
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE rsl [<!ENTITY secret SYSTEM "file://{path}">]>',
        '<!DOCTYPE rsl [<!ENTITY % p SYSTEM "file://{path}"> %p;]>',
        '<!DOCTYPE rsl SYSTEM "file://{path}">',
    ],
)
def test_external_entities_do_not_read_local_files(tmp_path, declaration):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (
        '<?xml version="1.0"?>'
        + declaration.format(path=secret)
        + '<rsl xmlns="https://rslstandard.org/rsl">'
        '<content url="/"><terms>&secret;</terms><license/></content></rsl>'
    ).encode()
    with pytest.raises(RslError, match="refused XML") as info:
        parse_rsl(body, LICENSE_URL)
    assert "TOP-SECRET" not in str(info.value)


def test_xinclude_is_not_processed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (
        '<rsl xmlns="https://rslstandard.org/rsl" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<content url="/"><terms><xi:include href="file://{secret}" parse="text"/></terms>'
        '<license><permits type="usage">search</permits></license></content></rsl>'
    ).encode()
    doc = parse_rsl(body, LICENSE_URL)
    assert "TOP-SECRET" not in repr(doc)
    assert doc.contents[0].terms is None


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY secret "fetched">')

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback():
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE rsl SYSTEM "{base}/x.dtd">',
        '<!DOCTYPE rsl [<!ENTITY secret SYSTEM "{base}/entity">]>',
        '<!DOCTYPE rsl [<!ENTITY % ext SYSTEM "{base}/param.dtd"> %ext;]>',
    ],
)
def test_external_dtds_and_entities_make_no_request(loopback, declaration):
    base, hits = loopback
    body = (
        declaration.format(base=base)
        + '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><terms>&secret;</terms>'
        "</content></rsl>"
    ).encode()
    with pytest.raises(RslError, match="refused XML"):
        parse_rsl(body, LICENSE_URL)
    assert hits == []


def test_huge_tree_refused_early():
    licences = "<license/>" * 200_000
    body = f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/">{licences}</content></rsl>'
    start = time.monotonic()
    with pytest.raises(RslError, match="more than 10000 elements"):
        parse_rsl(body.encode(), LICENSE_URL, max_bytes=10**7)
    assert time.monotonic() - start < 2


def test_deep_tree_refused():
    depth = 50_000
    body = "<rsl>" + "<a>" * depth + "</a>" * depth + "</rsl>"
    with pytest.raises(RslError, match="nested deeper than 16"):
        parse_rsl(body.encode(), LICENSE_URL, max_bytes=10**7)


def test_caps_are_parameters():
    body = (DATA / "project-full.xml").read_bytes()
    with pytest.raises(RslError, match="more than 5 elements"):
        parse_rsl(body, LICENSE_URL, max_elements=5)
    with pytest.raises(RslError, match="larger than 100 bytes"):
        parse_rsl(body, LICENSE_URL, max_bytes=100)
    assert parse_rsl(body, LICENSE_URL, max_elements=40, max_depth=5).contents


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/rsl+xml", True),
        ("Application/RSL+XML; charset=utf-8", True),
        (" application/rsl+xml ", True),
        ("application/xml", False),
        ("", False),
        (None, False),
    ],
)
def test_is_rsl_type(media_type, expected):
    assert is_rsl_type(media_type) is expected


def test_rsl_link_urls():
    header = (
        '</license.xml>; rel="license"; type="application/rsl+xml", '
        '<https://creativecommons.org/licenses/by/4.0/>; rel="license", '
        '<https://rslcollective.org/royalty.xml>; rel="license"; type="application/rsl+xml", '
        '</license.xml>; rel="license"; type="application/rsl+xml", '
        '</other.xml>; rel="alternate"; type="application/rsl+xml"'
    )
    assert rsl_link_urls(header, "https://example.com/page") == [
        "https://example.com/license.xml",
        "https://rslcollective.org/royalty.xml",
    ]


def test_rsl_license_urls_from_gathered_licences():
    found = [
        make_license("https://example.com/license.xml", "robots.txt License", "x", rsl=True),
        make_license("https://creativecommons.org/licenses/by/4.0/", "html <link>", "y"),
        make_license("https://example.com/license.xml", "header Link", "z", rsl=True),
        make_license("https://example.com/page-license.xml", "html <link>", "w", rsl=True),
    ]
    assert rsl_license_urls(found) == [
        "https://example.com/license.xml",
        "https://example.com/page-license.xml",
    ]


# --- with the other families (SIGNALS.md, Combining (r2)) -------------------------------


@pytest.mark.parametrize(
    ("accept", "decision"), [(frozenset(), "deny"), (frozenset({"rsl-license"}), "allow")]
)
def test_guide_pairing_of_content_usage_and_a_paid_licence(accept, decision):
    """rslstandard.org/guide/ai-preferences: ``Content-Usage: train-ai=n`` with a licence that
    permits train-ai by subscription. The crawl that takes the licence may train."""
    from scrapy_ccsignals.gate.decision import decide
    from scrapy_ccsignals.signals.aipref import preference_signals

    robots = "https://example.com/robots.txt"
    doc = load("guide-custom-subscription.xml")
    signals = preference_signals("train-ai=n", "train-ai", "robots.txt", robots)
    signals += rsl_signals(
        doc, match_content(doc, "https://example.com/a"), "train-ai", "robots.txt", doc.url
    )
    result = decide(signals, accept, "allow")
    assert result.decision == decision
    if decision == "allow":
        assert result.conditions == ("rsl-license",)
        assert any("overridden by the RSL licence" in r for r in result.reasons)
