"""Rulebook revision 2 through real crawls: each purpose (train-ai, ai-input, search) in
both modes, for Content-Signal everywhere, RSL licences, and the rights inside files
(XMP/IPTC, PDF and EPUB TDMRep, C2PA)."""

from __future__ import annotations

import base64
import json

import pytest
import pytest_twisted

from tests import assetfiles
from tests.crawling import page, run_crawl, stats, text

PURPOSES = ("train-ai", "ai-input", "search")
ALLOW_ALL = "User-agent: *\nAllow: /\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def decide(server, routes: dict, path: str, purpose: str, **settings) -> tuple[dict, dict]:
    origin = server.add_origin(routes)
    crawler, items = await run_crawl(
        [origin + path],
        {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": "tag", **settings},
        follow=False,
    )
    assert len(items) == 1
    return items[0]["ccsignals"], stats(crawler)


# --- Content-Signal: robots.txt preamble and the response header ------------------------


@pytest.mark.parametrize(
    ("purpose", "expected", "layer"),
    [
        ("train-ai", "deny", "robots.txt"),
        ("ai-input", "deny", "header"),
        ("search", "allow", "robots.txt"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_content_signal_before_first_group_and_header(server, purpose, expected, layer):
    routes = {
        "/robots.txt": text("Content-Signal: search=yes, ai-train=no\nUser-agent: *\nAllow: /\n"),
        "/p": {"body": page("p"), "headers": {"Content-Signal": "ai-input=no"}},
    }
    record, _ = await decide(server, routes, "/p", purpose)
    assert record["decision"] == expected
    deciding = [
        s for s in record["signals"] if s["family"] == "content-signal" and s["effect"] != "unknown"
    ]
    assert [s["layer"] for s in deciding] == [layer]


# --- RSL ---------------------------------------------------------------------------------

LICENSE_PERMIT_TRAIN = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<permits type="usage">ai-train</permits><payment type="free"/></license></content></rsl>'
)
LICENSE_PROHIBIT_INPUT = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<prohibits type="usage">ai-input</prohibits></license></content></rsl>'
)
LICENSE_SERVER = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/" server="https://licensing.example/">'
    '<license><permits type="usage">ai-train</permits>'
    '<payment type="subscription"><amount currency="USD">10</amount></payment>'
    "</license></content></rsl>"
)


def rsl_site(license_xml: str | None, robots_extra: str = "", status: int = 200) -> dict:
    routes = {
        "/robots.txt": text(f"License: /license.xml\nUser-agent: *\nAllow: /\n{robots_extra}"),
        "/p": {"body": page("p")},
    }
    if license_xml is not None:
        routes["/license.xml"] = {
            "status": status,
            "body": license_xml,
            "headers": {"Content-Type": "application/rsl+xml"},
        }
    return routes


@pytest_twisted.ensureDeferred
async def test_rsl_free_licence_overrides_content_usage_opt_out(server):
    routes = rsl_site(LICENSE_PERMIT_TRAIN, "Content-Usage: train-ai=n\n")
    record, s = await decide(server, routes, "/p", "train-ai")
    assert record["decision"] == "allow"
    assert any("overridden by the RSL licence" in r for r in record["reasons"])
    assert record["rsl"][0]["license_url"].endswith("/license.xml")
    assert any(p["kind"] == "rsl" and p["outcome"] == "parsed" for p in record["policies"])
    assert s["ccsignals/rsl/parsed"] == 1


@pytest.mark.parametrize(
    ("purpose", "expected"), [("train-ai", "allow"), ("ai-input", "deny"), ("search", "allow")]
)
@pytest_twisted.ensureDeferred
async def test_rsl_prohibiting_ai_input_only(server, purpose, expected):
    record, _ = await decide(server, rsl_site(LICENSE_PROHIBIT_INPUT), "/p", purpose)
    assert record["decision"] == expected


@pytest.mark.parametrize(("accept", "expected"), [([], "deny"), (["rsl-license"], "allow")])
@pytest_twisted.ensureDeferred
async def test_rsl_licence_server_is_conditional(server, accept, expected):
    record, _ = await decide(
        server, rsl_site(LICENSE_SERVER), "/p", "train-ai", CCSIGNALS_ACCEPT_CONDITIONS=accept
    )
    assert record["decision"] == expected
    if accept:
        assert record["conditions"] == ["rsl-license"]


@pytest.mark.parametrize(
    ("license_xml", "status", "outcome"),
    [
        (None, 404, "unreachable"),
        ("<rsl><oops", 200, "invalid"),
        (LICENSE_PERMIT_TRAIN, 503, "unreachable"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_unusable_rsl_has_no_effect_and_is_fetched_once(server, license_xml, status, outcome):
    origin = server.add_origin(
        rsl_site(license_xml, "Content-Usage: train-ai=n\n", status) | {"/q": {"body": page("q")}}
    )
    crawler, items = await run_crawl(
        [origin + "/p", origin + "/q"], {"CCSIGNALS_MODE": "tag"}, follow=False
    )
    assert [i["ccsignals"]["decision"] for i in items] == ["deny", "deny"]  # aipref n stands
    assert server.paths(origin).count("/license.xml") == 1
    s = stats(crawler)
    assert s[f"ccsignals/rsl/{outcome}"] == 1
    assert s["ccsignals/warnings/rsl"] >= 1


@pytest_twisted.ensureDeferred
async def test_rsl_from_link_header_applies_to_that_page(server):
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/p": {
                "body": page("p"),
                "headers": {"Link": '</lic.xml>; rel="license"; type="application/rsl+xml"'},
            },
            "/lic.xml": {"body": LICENSE_PROHIBIT_INPUT},
        }
    )
    _, items = await run_crawl(
        [origin + "/p"], {"CCSIGNALS_PURPOSE": "ai-input", "CCSIGNALS_MODE": "tag"}, follow=False
    )
    assert items[0]["ccsignals"]["decision"] == "deny"
    assert any(
        s["family"] == "rsl" and s["layer"] == "header" for s in items[0]["ccsignals"]["signals"]
    )


# --- Rights inside files -----------------------------------------------------------------

IPTC = "http://ns.useplus.org/ldf/vocab/"


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("mode", ["enforce", "tag"])
@pytest_twisted.ensureDeferred
async def test_jpeg_with_iptc_data_mining(server, purpose, mode):
    packet = assetfiles.xmp(
        data_mining=IPTC + "DMI-PROHIBITED-AIMLTRAINING",
        license="https://creativecommons.org/licenses/by/4.0/",
        creators=("Ada Lovelace",),
    )
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/photo.jpg": {
                "body_b64": b64(assetfiles.jpeg(packet)),
                "headers": {"Content-Type": "image/jpeg"},
            },
        }
    )
    crawler, items = await run_crawl(
        [origin + "/photo.jpg"],
        {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": mode},
        follow=False,
    )
    denied = purpose == "train-ai"
    if mode == "enforce" and denied:
        assert items == []
        return
    record = items[0]["ccsignals"]
    assert record["decision"] == ("deny" if denied else "allow")
    assert record["license"]["id"] == "CC-BY-4.0"
    assert record["asset"]["kind"] == "jpeg"
    assert any(s["family"] == "iptc" and s["layer"] == "file" for s in record["signals"])
    assert stats(crawler)["ccsignals/asset/jpeg/found"] == 1


@pytest.mark.parametrize(
    ("name", "body", "ctype"),
    [
        ("doc.pdf", lambda: assetfiles.pdf(assetfiles.xmp(tdm_reservation="1")), "application/pdf"),
        ("book3.epub", lambda: assetfiles.epub(assetfiles.opf3("1")), "application/epub+zip"),
        ("book2.epub", lambda: assetfiles.epub(assetfiles.opf2("1")), "application/epub+zip"),
    ],
)
@pytest.mark.parametrize(
    ("purpose", "expected"), [("train-ai", "deny"), ("ai-input", "deny"), ("search", "allow")]
)
@pytest_twisted.ensureDeferred
async def test_documents_with_tdmrep_metadata(server, name, body, ctype, purpose, expected):
    routes = {
        "/robots.txt": text(ALLOW_ALL),
        f"/{name}": {"body_b64": b64(body()), "headers": {"Content-Type": ctype}},
    }
    record, _ = await decide(server, routes, f"/{name}", purpose)
    assert record["decision"] == expected
    if expected == "deny":
        assert any(s["family"] == "tdmrep" and s["layer"] == "file" for s in record["signals"])


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("cut.jpg", lambda: assetfiles.jpeg(assetfiles.xmp(tdm_reservation="1"))[:40]),
        ("bad.epub", lambda: b"PK\x03\x04" + b"\x00" * 64),
    ],
)
@pytest_twisted.ensureDeferred
async def test_truncated_or_corrupt_files_give_no_signal(server, name, body):
    ctype = "image/jpeg" if name.endswith(".jpg") else "application/epub+zip"
    routes = {
        "/robots.txt": text(ALLOW_ALL),
        f"/{name}": {"body_b64": b64(body()), "headers": {"Content-Type": ctype}},
    }
    record, _ = await decide(server, routes, f"/{name}", "train-ai")
    assert record["decision"] == "allow"
    assert not [s for s in record["signals"] if s["layer"] == "file"]


@pytest_twisted.ensureDeferred
async def test_asset_scan_is_capped(server):
    packet = assetfiles.xmp(tdm_reservation="1")
    body = assetfiles.pdf(packet, filler=200_000)
    routes = {
        "/robots.txt": text(ALLOW_ALL),
        "/big.pdf": {"body_b64": b64(body), "headers": {"Content-Type": "application/pdf"}},
    }
    record, _ = await decide(
        server, routes, "/big.pdf", "train-ai", CCSIGNALS_ASSET_SCAN_BYTES=65536
    )
    assert record["decision"] == "allow"  # the metadata lies past the cap: not read


@pytest.mark.parametrize(
    ("purpose", "expected"), [("train-ai", "deny"), ("ai-input", "allow"), ("search", "allow")]
)
@pytest_twisted.ensureDeferred
async def test_c2pa_training_mining_assertion(server, purpose, expected):
    c2pa_assets = pytest.importorskip("scrapy_ccsignals.testing.c2pa_assets")
    pytest.importorskip("c2pa")
    chain = c2pa_assets.signing_chain()
    signed = c2pa_assets.sign(
        c2pa_assets.jpeg(),
        "image/jpeg",
        chain,
        [
            c2pa_assets.training_mining(
                "cawg.training-mining",
                {
                    "cawg.ai_generative_training": {"use": "notAllowed"},
                    "cawg.ai_inference": {"use": "allowed"},
                },
            )
        ],
    )
    routes = {
        "/robots.txt": text(ALLOW_ALL),
        "/signed.jpg": {"body_b64": b64(signed), "headers": {"Content-Type": "image/jpeg"}},
    }
    record, s = await decide(server, routes, "/signed.jpg", purpose)
    assert record["decision"] == expected
    assert record["c2pa"]["status"] == "available"
    assert s["ccsignals/c2pa/available"] == 1
    assert json.dumps(record)  # provenance stays JSON-serialisable


# --- The r2 rules of the older families, per purpose, both modes --------------------------

R2_PAGES = {
    # path: (route, {purpose: decision})
    "/legacy": (
        {"headers": {"Content-Usage": "bots=n, search=y"}},
        {"train-ai": "deny", "ai-input": "deny", "search": "allow"},
    ),
    "/all-n": ({"headers": {"Content-Usage": "all=n"}}, dict.fromkeys(PURPOSES, "deny")),
    "/scoped": (
        {"headers": {"X-Robots-Tag": "googlebot: noindex, testbot: noai"}},
        {"train-ai": "deny", "ai-input": "deny", "search": "allow"},
    ),
    "/other-bot": (
        {"headers": {"X-Robots-Tag": "testbot: noindex, otherbot: noai"}},
        {"train-ai": "allow", "ai-input": "allow", "search": "deny"},  # (r3) noindex: search
    ),
    "/noarchive": (
        {"headers": {"X-Robots-Tag": "noarchive"}},
        {"train-ai": "deny", "ai-input": "allow", "search": "allow"},
    ),
    "/tdm": (
        {"headers": {"tdm-reservation": "1"}},
        {"train-ai": "deny", "ai-input": "deny", "search": "allow"},
    ),
    "/a%2Fb/page": ({}, dict.fromkeys(PURPOSES, "allow")),  # %2F is not "/": not under /a/
    "/a/b/page": ({}, {"train-ai": "deny", "ai-input": "allow", "search": "allow"}),
}


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("mode", ["enforce", "tag"])
@pytest_twisted.ensureDeferred
async def test_r2_rules_per_purpose(server, purpose, mode):
    routes = {
        "/robots.txt": text("User-agent: *\nAllow: /\nContent-Usage: /a/\ttrain-ai=n\n"),
        **{path: {"body": page(path), **route} for path, (route, _) in R2_PAGES.items()},
    }
    origin = server.add_origin(routes)
    crawler, items = await run_crawl(
        [origin + path for path in R2_PAGES],
        {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": mode},
        follow=False,
    )
    expected = {origin + path: want[purpose] for path, (_, want) in R2_PAGES.items()}
    if mode == "tag":
        got = {i["url"]: i["ccsignals"]["decision"] for i in items}
        assert got == expected
    else:
        kept = sorted(i["url"] for i in items)
        assert kept == sorted(u for u, d in expected.items() if d == "allow")
        denied = sum(1 for d in expected.values() if d == "deny")
        assert stats(crawler).get("ccsignals/items/dropped", 0) == denied


@pytest.mark.parametrize(
    ("header", "setting"),
    [
        ({"Content-Usage": "bots=n"}, {"CCSIGNALS_AIPREF_LEGACY": False}),
        ({"X-Robots-Tag": "noarchive"}, {"CCSIGNALS_NOARCHIVE_IS_NOAI": False}),
    ],
    ids=["aipref-legacy-off", "noarchive-off"],
)
@pytest_twisted.ensureDeferred
async def test_switches_turn_a_legacy_signal_off(server, header, setting):
    routes = {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p"), "headers": header}}
    record, _ = await decide(server, routes, "/p", "train-ai", **setting)
    assert record["decision"] == "allow"


# --- Attribution (SIGNALS.md r2) ---------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_attribution_from_page_and_from_file(server):
    html = (
        "<html><head><title>Tide tables</title>"
        '<meta property="og:site_name" content="Harbour Wiki">'
        '<meta name="author" content="Ada Lovelace">'
        '<!-- <meta name="author" content="Not Me"> --></head><body>x</body></html>'
    )
    jpeg = assetfiles.jpeg(
        assetfiles.xmp(creators=("Ines Duarte",), title="Gulls", rights="(c) Ines")
    )
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/page": {"body": html},
            "/photo.jpg": {"body_b64": b64(jpeg), "headers": {"Content-Type": "image/jpeg"}},
        }
    )
    _, items = await run_crawl([origin + "/page", origin + "/photo.jpg"], follow=False)
    by_url = {i["url"]: i["ccsignals"] for i in items}
    page_attr = by_url[origin + "/page"]["attribution"]
    assert page_attr["title"] == "Tide tables"
    assert page_attr["site_name"] == "Harbour Wiki"
    assert page_attr["creator"] == "Ada Lovelace"
    file_attr = by_url[origin + "/photo.jpg"]["attribution"]
    assert file_attr == {"title": "Gulls", "creator": "Ines Duarte", "copyright": "(c) Ines"}


@pytest_twisted.ensureDeferred
async def test_rsl_document_kept_in_the_policy_store(server, tmp_path):
    """Like robots.txt, an RSL document goes into the shared policy store: a second crawl
    (another worker, or the next run) reads it from there instead of fetching it again."""
    origin = server.add_origin(rsl_site(LICENSE_PERMIT_TRAIN, "Content-Usage: train-ai=n\n"))
    settings = {
        "CCSIGNALS_POLICY_STORE": f"sqlite:///{tmp_path}/policies.db",
        "CCSIGNALS_MODE": "tag",
    }
    for _ in range(2):
        crawler, items = await run_crawl([origin + "/p"], settings, follow=False)
        assert items[0]["ccsignals"]["decision"] == "allow"
    assert server.paths(origin).count("/license.xml") == 1
    assert stats(crawler)["ccsignals/policy/store_hit"] >= 2  # the origin's files and the licence
    cached = [p for p in items[0]["ccsignals"]["policies"] if p["kind"] == "rsl"]
    assert cached[0]["cached"] is True


@pytest_twisted.ensureDeferred
async def test_a_page_cannot_make_the_crawler_fetch_many_rsl_documents(server):
    links = ", ".join(
        f'</lic{i}.xml>; rel="license"; type="application/rsl+xml"' for i in range(20)
    )
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/p": {"body": page("p"), "headers": {"Link": links}},
            "/lic*": {"status": 404, "body": "", "delay": 0.5},
        }
    )
    crawler, items = await run_crawl([origin + "/p"], {"CCSIGNALS_MODE": "tag"}, follow=False)
    fetched = [p for p in server.paths(origin) if p.startswith("/lic")]
    assert len(fetched) == 4
    s = stats(crawler)
    assert s["ccsignals/rsl/skipped"] == 16
    assert s["ccsignals/rsl/unreachable"] == 4
    times = [e["time"] for e in server.log(origin) if e["path"].startswith("/lic")]
    assert max(times) - min(times) < 0.4  # side by side, not one after another
    assert len(items) == 1
