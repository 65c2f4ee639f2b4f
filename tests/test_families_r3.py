"""Rulebook revision 3 through real crawls: each rule, each purpose (train-ai, ai-input,
search), both modes. Older aipref labels; DisallowAITraining / AllowAITraining; one
path-scoped set of robots.txt usage lines; Content-Signal ``use=``; ``noindex`` deciding
search; headers on robots.txt's own response; rights in real-world files; the RSL override
of ai-control; percent-encoded ``$`` in path patterns."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import pytest_twisted

from tests import assetfiles
from tests.crawling import page, run_crawl, stats, text

PURPOSES = ("train-ai", "ai-input", "search")
MODES = ("enforce", "tag")
ALL_ALLOW = {**dict.fromkeys(PURPOSES, "allow"), "family": ""}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def want(train: str, ai_input: str, search: str, family: str = "") -> dict[str, str]:
    """Expected decisions per purpose; *family* must be among the reasons of every deny."""
    return {"train-ai": train, "ai-input": ai_input, "search": search, "family": family}


async def check_pages(
    server: Any,
    robots: str | dict[str, Any],
    pages: dict[str, tuple[dict[str, Any], dict[str, str]]],
    purpose: str,
    mode: str,
    extra_routes: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, dict[str, Any]]:
    """Crawl every page of *pages* (path -> (route, expected)) on one origin and check the
    decision for *purpose*: in ``tag`` the item's provenance (and the deciding family of a
    deny), in ``enforce`` which items reached the pipeline. Returns the tag-mode records."""
    routes: dict[str, Any] = {"/robots.txt": text(robots) if isinstance(robots, str) else robots}
    for path, (route, _) in pages.items():
        routes.setdefault(path, {"body": page(path), **route})
    routes.update(extra_routes or {})
    origin = server.add_origin(routes)
    crawler, items = await run_crawl(
        [origin + path for path in pages],
        {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": mode, **settings},
        follow=False,
    )
    expected = {origin + path: wanted[purpose] for path, (_, wanted) in pages.items()}
    if mode == "enforce":
        kept = sorted(i["url"] for i in items)
        assert kept == sorted(u for u, d in expected.items() if d == "allow")
        denied = sum(1 for d in expected.values() if d == "deny")
        assert stats(crawler).get("ccsignals/items/dropped", 0) == denied
        return {}
    records = {i["url"][len(origin) :]: i["ccsignals"] for i in items}
    assert {origin + p: r["decision"] for p, r in records.items()} == expected
    for path, (_, wanted) in pages.items():
        if wanted[purpose] == "deny" and wanted["family"]:
            reasons = records[path]["reasons"]
            assert any(r.startswith(f"deny by {wanted['family']} ") for r in reasons), reasons
    return records


both = pytest.mark.parametrize("mode", MODES)
each = pytest.mark.parametrize("purpose", PURPOSES)


# --- 1. Older aipref labels: ai, genai, tdm, inference ---------------------------------------

LEGACY_PAGES = {
    "/ai/p": ({}, want("deny", "allow", "allow", "aipref")),  # robots.txt: /ai/ ai=n
    "/tdm": ({"headers": {"Content-Usage": "tdm=n"}}, want("deny", "deny", "allow", "aipref")),
    "/inference": (
        {"headers": {"Content-Usage": "inference=n"}},
        want("allow", "deny", "allow", "aipref"),
    ),
    "/genai": (  # genai is more specific than ai
        {"headers": {"Content-Usage": "ai=y, genai=n"}},
        want("deny", "allow", "allow", "aipref"),
    ),
    "/same-level": (  # bots and tdm are one level: restrictive
        {"headers": {"Content-Usage": "bots=y, tdm=n"}},
        want("deny", "deny", "allow", "aipref"),
    ),
    "/tdm-not-search": (
        {"headers": {"Content-Usage": "tdm=n, search=y"}},
        want("deny", "deny", "allow", "aipref"),
    ),
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_older_aipref_labels(server, purpose, mode):
    robots = "User-agent: *\nAllow: /\nContent-Usage: /ai/ ai=n\n"
    await check_pages(server, robots, LEGACY_PAGES, purpose, mode)


@both
@each
@pytest_twisted.ensureDeferred
async def test_older_aipref_labels_off_with_the_legacy_switch(server, purpose, mode):
    robots = "User-agent: *\nAllow: /\nContent-Usage: /ai/ ai=n\n"
    pages = {path: (route, ALL_ALLOW) for path, (route, _) in LEGACY_PAGES.items()}
    await check_pages(server, robots, pages, purpose, mode, CCSIGNALS_AIPREF_LEGACY=False)


# --- 2. DisallowAITraining / AllowAITraining (draft-canel-robots-ai-control-00) ------------

AI_CONTROL_ROBOTS = """\
User-agent: OtherBot
DisallowAITraining: /open/

User-agent: *
Allow: /
DisallowAITraining: /
AllowAITraining: /open/
DisallowAITraining: /open/closed
AllowAITraining: /tie
DisallowAITraining: /tie
DisallowAITraining:
"""
AI_CONTROL_PAGES = {
    "/p": ({}, want("deny", "allow", "allow", "ai-control")),
    "/open/x": ({}, ALL_ALLOW),
    "/open/closed": ({}, want("deny", "allow", "allow", "ai-control")),
    "/tie": ({}, want("deny", "allow", "allow", "ai-control")),  # equal lengths: restrictive
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_disallow_ai_training(server, purpose, mode):
    records = await check_pages(server, AI_CONTROL_ROBOTS, AI_CONTROL_PAGES, purpose, mode)
    if mode == "tag" and purpose == "train-ai":
        signal = next(s for s in records["/p"]["signals"] if s["family"] == "ai-control")
        assert (signal["layer"], signal["effect"]) == ("robots.txt", "deny")
        assert signal["raw"] == "DisallowAITraining: /"


@pytest_twisted.ensureDeferred
async def test_ai_control_lines_of_our_own_group_only(server):
    robots = "User-agent: TestBot\nAllow: /\n\nUser-agent: *\nDisallowAITraining: /\n"
    await check_pages(server, robots, {"/p": ({}, ALL_ALLOW)}, "train-ai", "tag")


# --- 3. One path-scoped set of usage lines across families ----------------------------------

ONE_SET_ROBOTS = """\
Content-Signal: ai-train=no
User-agent: *
Allow: /
Content-Usage: /blog/ train-ai=y
DisallowAITraining: /blog/drafts/
Content-Usage: /mixed/ train-ai=y
DisallowAITraining: /mixed/
Content-Usage: /quiet/ search=y
Sitemap: /sitemap.xml
Content-Signal: /news/ search=no
"""
ONE_SET_PAGES = {
    "/p": ({}, want("deny", "allow", "allow", "content-signal")),
    "/blog/post": ({}, ALL_ALLOW),  # the publisher's opt-back-in
    "/blog/drafts/x": ({}, want("deny", "allow", "allow", "ai-control")),
    "/mixed/x": ({}, want("deny", "allow", "allow", "ai-control")),
    "/quiet/x": ({}, want("deny", "allow", "allow", "content-signal")),  # silent: no hiding
    "/news/x": ({}, want("deny", "allow", "deny", "content-signal")),  # after Sitemap:
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_one_path_scoped_set_of_usage_lines(server, purpose, mode):
    records = await check_pages(server, ONE_SET_ROBOTS, ONE_SET_PAGES, purpose, mode)
    if mode == "tag" and purpose == "train-ai":
        allowing = [s for s in records["/blog/post"]["signals"] if s["effect"] != "unknown"]
        assert [(s["family"], s["value"]) for s in allowing] == [("aipref", "train-ai=y")]


# --- 4. Content-Signal use= ------------------------------------------------------------------

CLOUDFLARE_MANAGED = """\
# As a condition of accessing this website, you agree to abide by the following
# content signals:
# BEGIN Cloudflare Managed content

User-agent: *
Content-Signal: search=yes,ai-train=no,use=reference
Allow: /

User-agent: GPTBot
Disallow: /

# END Cloudflare Managed Content
"""
USE_PAGES = {
    "/p": ({}, want("deny", "allow", "allow", "content-signal")),
    "/imm": (
        {"headers": {"Content-Signal": "search=yes, use=immediate"}},
        want("deny", "deny", "deny", "content-signal"),
    ),
    "/odd": ({"headers": {"Content-Signal": "use=everything"}}, want("deny", "allow", "allow")),
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_content_signal_use_levels(server, purpose, mode):
    records = await check_pages(server, CLOUDFLARE_MANAGED, USE_PAGES, purpose, mode)
    if mode == "tag" and purpose == "search":
        reasons = " ".join(records["/imm"]["reasons"])
        assert "use=immediate" in reasons and "reference" in reasons


@pytest.mark.parametrize(
    ("level", "purpose", "expected"),
    [
        ("immediate", "ai-input", {"/p": "allow", "/imm": "allow"}),
        ("full", "search", {"/p": "deny", "/imm": "deny"}),
        ("reference", "train-ai", {"/p": "deny", "/imm": "deny"}),  # ai-train=no still
    ],
)
@pytest_twisted.ensureDeferred
async def test_content_use_setting(server, level, purpose, expected):
    pages = {
        path: (route, {**ALL_ALLOW, purpose: expected[path], "family": ""})
        for path, (route, _) in USE_PAGES.items()
        if path in expected
    }
    records = await check_pages(
        server, CLOUDFLARE_MANAGED, pages, purpose, "tag", CCSIGNALS_CONTENT_USE=level
    )
    if purpose == "search":
        assert any("use=reference" in r and "full" in r for r in records["/p"]["reasons"])


# --- 5. noindex / none decide search ---------------------------------------------------------

NOINDEX_PAGES = {
    "/ni": ({"headers": {"X-Robots-Tag": "noindex"}}, want("allow", "allow", "deny", "noindex")),
    "/none": (
        {"body": page("none", head='<meta name="robots" content="none">')},
        want("allow", "allow", "deny", "noindex"),
    ),
    "/other-scope": ({"headers": {"X-Robots-Tag": "otherbot: noindex"}}, ALL_ALLOW),
    "/own-scope": (
        {"headers": {"X-Robots-Tag": "otherbot: noai, testbot: noindex"}},
        want("allow", "allow", "deny", "noindex"),
    ),
    "/token-meta": (
        {"body": page("t", head='<meta name="TestBot" content="NoIndex, follow">')},
        want("allow", "allow", "deny", "noindex"),
    ),
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_noindex_decides_search(server, purpose, mode):
    await check_pages(server, "User-agent: *\nAllow: /\n", NOINDEX_PAGES, purpose, mode)


# --- 7. Headers speak for their own response ------------------------------------------------

OPT_OUT_HEADERS = {
    "Content-Type": "text/plain",
    "Content-Signal": "search=no, ai-train=no, ai-input=no, use=immediate",
    "Content-Usage": "train-ai=n, search=n, all=n",
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_headers_on_robots_txt_are_not_site_wide(server, purpose, mode):
    robots = {"body": "User-agent: *\nAllow: /\n", "headers": OPT_OUT_HEADERS}
    pages = {"/p": ({}, ALL_ALLOW), "/q/r": ({}, ALL_ALLOW)}
    await check_pages(server, robots, pages, purpose, mode)


@both
@each
@pytest_twisted.ensureDeferred
async def test_headers_on_robots_txt_speak_for_robots_txt_itself(server, purpose, mode):
    robots = {"body": "User-agent: *\nAllow: /\n", "headers": OPT_OUT_HEADERS}
    pages = {"/robots.txt": (robots, want("deny", "deny", "deny")), "/p": ({}, ALL_ALLOW)}
    await check_pages(server, robots, pages, purpose, mode)


# --- 8. Rights in real-world files -----------------------------------------------------------

VOCAB = assetfiles.PLUS_VOCAB


def _file(body: bytes, ctype: str) -> dict[str, Any]:
    return {"body_b64": b64(body), "headers": {"Content-Type": ctype}}


def _utf16_tiff() -> bytes:
    packet = assetfiles.xmp(data_mining="DMI-PROHIBITED").decode("utf-8")
    return assetfiles.tiff(packet.encode("utf-16"))


def _xapmeta_svg() -> bytes:
    packet = assetfiles.xmp(data_mining="DMI-PROHIBITED-AIMLTRAINING")
    packet = packet.replace(b"x:xmpmeta", b"x:xapmeta")
    return b'<svg xmlns="http://www.w3.org/2000/svg"><metadata>' + packet + b"</metadata></svg>"


def _bare_rdf_svg() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"><metadata><rdf:RDF>'
        b'<rdf:Description rdf:about="" plus:DataMining="DMI-PROHIBITED-GENAIMLTRAINING"/>'
        b'</rdf:RDF></metadata><rect width="1" height="1"/></svg>'
    )


FILE_PAGES = {
    "/bare.jpg": (
        _file(
            assetfiles.jpeg(assetfiles.xmp(data_mining="DMI-PROHIBITED-AIMLTRAINING")), "image/jpeg"
        ),
        want("deny", "allow", "allow", "iptc"),
    ),
    "/uri.png": (
        _file(
            assetfiles.png(
                assetfiles.xmp(data_mining=VOCAB + "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING")
            ),
            "image/png",
        ),
        want("deny", "deny", "allow", "iptc"),
    ),
    "/utf16.tif": (_file(_utf16_tiff(), "image/tiff"), want("deny", "deny", "deny", "iptc")),
    "/xap.svg": (_file(_xapmeta_svg(), "image/svg+xml"), want("deny", "allow", "allow", "iptc")),
    "/rdf.svg": (_file(_bare_rdf_svg(), "image/svg+xml"), want("deny", "allow", "allow", "iptc")),
}


@both
@each
@pytest_twisted.ensureDeferred
async def test_rights_in_real_world_files(server, purpose, mode):
    await check_pages(server, "User-agent: *\nAllow: /\n", FILE_PAGES, purpose, mode)


def _epub_cc_license() -> bytes:
    opf = assetfiles.opf3(None).replace(
        b'<link rel="dcterms:license" href="' + assetfiles.CC_BY.encode() + b'"/>',
        b'<link rel="cc:license" href="https://creativecommons.org/licenses/by-sa/4.0/"/>',
    )
    return assetfiles.epub(opf)


@pytest_twisted.ensureDeferred
async def test_free_text_rights_are_attribution_and_licence_links_are_licences(server):
    rights = assetfiles.jpeg(
        assetfiles.xmp(
            rights="Copyright 2024 Ada Lovelace. All rights reserved.",
            web_statement="https://photos.example/eula.html",
        )
    )
    statement = assetfiles.jpeg(
        assetfiles.xmp(web_statement="https://creativecommons.org/licenses/by/4.0/deed.de")
    )
    pages = {
        "/rights.jpg": (_file(rights, "image/jpeg"), ALL_ALLOW),
        "/statement.jpg": (_file(statement, "image/jpeg"), ALL_ALLOW),
        "/book.epub": (_file(_epub_cc_license(), "application/epub+zip"), ALL_ALLOW),
    }
    records = await check_pages(server, "User-agent: *\nAllow: /\n", pages, "train-ai", "tag")
    assert records["/rights.jpg"]["license"] is None
    copyright_ = records["/rights.jpg"]["attribution"]["copyright"]
    assert "Copyright 2024 Ada Lovelace" in copyright_
    assert "https://photos.example/eula.html" in copyright_
    assert records["/statement.jpg"]["license"]["id"] == "CC-BY-4.0"
    assert records["/book.epub"]["license"]["id"] == "CC-BY-SA-4.0"


@both
@each
@pytest_twisted.ensureDeferred
async def test_older_c2pa_entry_names_and_invalid_manifests(server, purpose, mode):
    c2pa_assets = pytest.importorskip("scrapy_ccsignals.testing.c2pa_assets")
    pytest.importorskip("c2pa")
    chain = c2pa_assets.signing_chain()
    older = c2pa_assets.sign(
        c2pa_assets.jpeg(),
        "image/jpeg",
        chain,
        [
            c2pa_assets.training_mining(
                "c2pa.training-mining",
                {
                    "c2pa.ai_inference": {"use": "notAllowed"},
                    "c2pa.ai_training": {"use": "allowed"},
                },
            )
        ],
    )
    entries = {"cawg.ai_training": {"use": "allowed"}, "cawg.data_mining": {"use": "notAllowed"}}
    signed = c2pa_assets.sign(
        c2pa_assets.png(),
        "image/png",
        chain,
        [c2pa_assets.training_mining("cawg.training-mining", entries)],
    )
    at = signed.index(b"IDAT") + 8  # one byte of the image changed after signing
    altered = signed[:at] + bytes([signed[at] ^ 1]) + signed[at + 1 :]
    allowing = {"cawg.ai_training": {"use": "allowed"}}
    signed_allow = c2pa_assets.sign(
        c2pa_assets.png(),
        "image/png",
        chain,
        [c2pa_assets.training_mining("cawg.training-mining", allowing)],
    )
    at = signed_allow.index(b"IDAT") + 8
    altered_allow = signed_allow[:at] + bytes([signed_allow[at] ^ 1]) + signed_allow[at + 1 :]
    pages = {
        "/older.jpg": (_file(older, "image/jpeg"), want("allow", "deny", "allow", "c2pa")),
        "/altered.png": (_file(altered, "image/png"), want("deny", "deny", "allow", "c2pa")),
        "/altered-allow.png": (_file(altered_allow, "image/png"), ALL_ALLOW),
    }
    records = await check_pages(
        server, "User-agent: *\nAllow: /\n", pages, purpose, mode, CCSIGNALS_DEFAULT="allow"
    )
    if mode == "tag" and purpose == "train-ai":
        record = records["/altered-allow.png"]
        assert record["c2pa"]["validation_state"] == "Invalid"
        assert not [
            s for s in record["signals"] if s["family"] == "c2pa" and s["effect"] == "allow"
        ]


# --- 9. The RSL override covers ai-control denials -------------------------------------------

LICENSE_PERMIT_TRAIN = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<permits type="usage">ai-train</permits><payment type="free"/></license></content></rsl>'
)


@both
@each
@pytest_twisted.ensureDeferred
async def test_rsl_licence_overrides_ai_control(server, purpose, mode):
    robots = "License: /license.xml\nUser-agent: *\nAllow: /\nDisallowAITraining: /\n"
    extra = {"/license.xml": {"body": LICENSE_PERMIT_TRAIN}}
    # The licence permits ai-train only: a permit list is exhaustive.
    pages = {"/p": ({}, want("allow", "deny", "deny", "rsl"))}
    records = await check_pages(server, robots, pages, purpose, mode, extra)
    if mode == "tag" and purpose == "train-ai":
        assert any(
            r.startswith("deny by ai-control") and "overridden by the RSL licence" in r
            for r in records["/p"]["reasons"]
        )


# --- 10. Percent-encoded $ is a literal $ ----------------------------------------------------


@both
@each
@pytest_twisted.ensureDeferred
async def test_percent_encoded_dollar_is_a_literal_dollar(server, purpose, mode):
    tdmrep = json.dumps([{"location": "/path/foo-%24", "tdm-reservation": 1}])
    robots = "User-agent: *\nAllow: /\nContent-Usage: /price-%24/ search=n\n"
    pages = {
        "/path/foo-$": ({}, want("deny", "deny", "allow", "tdmrep")),
        "/path/foo-x": ({}, ALL_ALLOW),
        "/price-$/list": ({}, want("allow", "allow", "deny", "aipref")),
        "/price-/list": ({}, ALL_ALLOW),
    }
    extra = {"/.well-known/tdmrep.json": {"body": tdmrep}}
    await check_pages(server, robots, pages, purpose, mode, extra)
