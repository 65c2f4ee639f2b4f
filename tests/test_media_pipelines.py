"""Issue 26 item 1: files and images that Scrapy's own ``FilesPipeline`` and
``ImagesPipeline`` download go through both gates, with no code in the user's project.

One gallery page names one image per family that can deny a file (the ``Content-Usage``
header, ``X-Robots-Tag: noai`` and ``noimageai, noindex``, IPTC in XMP, a C2PA manifest, the
``tdm-reservation`` header, a robots.txt usage rule), one that robots.txt disallows and one
that says nothing. In ``enforce`` a denied file is not stored and its result is a failed
download saying why; in ``tag`` it is stored and its result carries its own record."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import scrapy
from itemadapter import ItemAdapter
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.images import ImagesPipeline

from scrapy_ccsignals.signals.c2pa import c2pa_installed
from tests.assetfiles import CC_BY, jpeg, xmp
from tests.crawling import page, run_crawl, stats, text

PURPOSES = ("train-ai", "ai-input", "search")
TRAINING = {"train-ai", "ai-input"}

#: name -> (response headers, which purposes the file denies)
FAMILIES: dict[str, tuple[dict[str, str], set[str]]] = {
    "header": ({"Content-Usage": "train-ai=n, ai-use=n, search=n"}, set(PURPOSES)),
    "noai": ({"X-Robots-Tag": "noai"}, TRAINING),
    "noimageai": ({"X-Robots-Tag": "noimageai, noindex"}, set(PURPOSES)),
    "iptc": ({}, set(PURPOSES)),
    "c2pa": ({}, TRAINING),
    "tdmrep": ({"tdm-reservation": "1"}, TRAINING),
    "rule": ({}, set(PURPOSES)),
}
ROBOTS = (
    "User-agent: *\n"
    "Disallow: /img/forbidden/\n"
    "Content-Signal: /img/rule/ search=no, ai-train=no, ai-input=no\n"
)


def _bodies() -> dict[str, bytes]:
    plain = jpeg(size=(24, 24))
    bodies = {name: plain for name in FAMILIES}
    bodies["iptc"] = jpeg(
        xmp(data_mining="DMI-PROHIBITED", license=CC_BY, creators=("Ada Lund",)), size=(24, 24)
    )
    if c2pa_installed():
        from scrapy_ccsignals.testing.c2pa_assets import sign, signing_chain, training_mining

        entries = {
            name: {"use": "notAllowed"}
            for name in ("cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference")
        }
        assertion = training_mining("cawg.training-mining", entries)
        bodies["c2pa"] = sign(plain, "image/jpeg", signing_chain(), [assertion])
    return bodies


@pytest.fixture(scope="module")
def gallery(server) -> str:
    bodies = _bodies()
    routes: dict[str, Any] = {"/robots.txt": text(ROBOTS)}
    for name, (headers, _denies) in FAMILIES.items():
        routes[f"/img/{name}/a.jpg"] = {
            "body_b64": base64.b64encode(bodies[name]).decode(),
            "headers": {"Content-Type": "image/jpeg", **headers},
        }
    for name in ("forbidden", "ok"):
        routes[f"/img/{name}/a.jpg"] = {
            "body_b64": base64.b64encode(jpeg(size=(24, 24))).decode(),
            "headers": {"Content-Type": "image/jpeg"},
        }
    routes["/gallery"] = {"body": page("Gallery")}
    return server.add_origin(routes)


class GallerySpider(scrapy.Spider):
    name = "gallery"
    start_urls: list[str] = []
    urls_field = "file_urls"

    async def start(self):
        yield scrapy.Request(self.start_urls[0])

    def parse(self, response):
        names = [*FAMILIES, "forbidden", "ok"]
        yield {
            "url": response.url,
            self.urls_field: [response.urljoin(f"/img/{n}/a.jpg") for n in names],
        }


class ImageGallerySpider(GallerySpider):
    name = "image-gallery"
    urls_field = "image_urls"


class ReasonsFilesPipeline(FilesPipeline):
    """A user's own subclass that keeps why each failed download failed."""

    def item_completed(self, results, item, info):
        item = super().item_completed(results, item, info)
        ItemAdapter(item)["file_errors"] = [str(value.value) for ok, value in results if not ok]
        return item


PIPELINES = {
    "files": (FilesPipeline, "FILES_STORE", GallerySpider, "files"),
    "images": (ImagesPipeline, "IMAGES_STORE", ImageGallerySpider, "images"),
}


def _denied(purpose: str) -> set[str]:
    return {name for name, (_h, denies) in FAMILIES.items() if purpose in denies}


async def _crawl(gallery: str, tmp_path: Path, kind: str, mode: str, purpose: str, pipeline=None):
    cls, store_setting, spider, result_field = PIPELINES[kind]
    store = tmp_path / "store"
    log = tmp_path / "audit.jsonl"
    settings = {
        "ITEM_PIPELINES": {pipeline or cls: 1},
        store_setting: str(store),
        "CCSIGNALS_MODE": mode,
        "CCSIGNALS_PURPOSE": purpose,
        "CCSIGNALS_AUDIT_LOG": str(log),
    }
    crawler, items = await run_crawl([f"{gallery}/gallery"], settings, spider_cls=spider)
    assert len(items) == 1
    results = {r["url"].rsplit("/", 2)[-2]: r for r in items[0][result_field]}
    audit = [json.loads(x) for x in log.read_text().splitlines()]
    stored = list((store / "full").iterdir()) if (store / "full").exists() else []
    return crawler, items[0], results, audit, stored


def _skip_c2pa(purpose: str) -> None:
    if not c2pa_installed() and "c2pa" in _denied(purpose):
        pytest.skip("c2pa-python (the c2pa extra) is not installed")


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("kind", sorted(PIPELINES))
@pytest_twisted.ensureDeferred
async def test_enforce_stores_no_denied_file(gallery, tmp_path, kind, purpose):
    _skip_c2pa(purpose)
    crawler, _, results, audit, stored = await _crawl(gallery, tmp_path, kind, "enforce", purpose)
    denied = _denied(purpose)
    expected = {"ok"} | (set(FAMILIES) - denied)
    assert set(results) == expected
    assert len(stored) == len(expected)
    for name in expected:
        assert results[name]["ccsignals"]["decision"] == "allow", name
    crawl_stats = stats(crawler)
    assert crawl_stats["ccsignals/files/dropped"] == len(denied)
    assert crawl_stats["ccsignals/files/passed"] == len(expected)
    dropped = {
        a["url"].rsplit("/", 2)[-2]: a
        for a in audit
        if (a["stage"], a["action"]) == ("file", "dropped")
    }
    assert set(dropped) == denied
    assert all(a["decision"] == "deny" and a["reasons"] for a in dropped.values())
    # The access gate: the disallowed file is never requested.
    assert crawl_stats["ccsignals/forbidden/robots.txt/disallowed"] == 1
    assert any(
        a["stage"] == "request" and a["decision"] == "forbidden" and "/img/forbidden/" in a["url"]
        for a in audit
    )


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("kind", sorted(PIPELINES))
@pytest_twisted.ensureDeferred
async def test_tag_stores_every_file_with_its_own_record(gallery, tmp_path, kind, purpose):
    _skip_c2pa(purpose)
    crawler, _, results, audit, stored = await _crawl(gallery, tmp_path, kind, "tag", purpose)
    denied = _denied(purpose)
    assert set(results) == {"ok", *FAMILIES}
    assert len(stored) == len(results)
    for name, result in results.items():
        record = result["ccsignals"]
        assert record["url"] == result["url"]
        assert record["purpose"] == purpose
        assert record["decision"] == ("deny" if name in denied else "allow"), name
        if name in denied:
            assert record["reasons"], name
    iptc = results["iptc"]["ccsignals"]
    assert any(s["family"] == "iptc" and s["layer"] == "file" for s in iptc["signals"])
    assert iptc["license"]["id"] == "CC-BY-4.0"
    assert iptc["attribution"]["creator"] == "Ada Lund"
    if "c2pa" in denied:
        c2pa = results["c2pa"]["ccsignals"]
        assert any(s["family"] == "c2pa" and s["layer"] == "file" for s in c2pa["signals"])
    crawl_stats = stats(crawler)
    assert crawl_stats["ccsignals/files/tagged_deny"] == len(denied)
    assert "ccsignals/files/dropped" not in crawl_stats
    tagged = {
        a["url"].rsplit("/", 2)[-2]
        for a in audit
        if (a["stage"], a["action"]) == ("file", "tagged")
    }
    assert tagged == denied
    assert crawl_stats["ccsignals/forbidden/robots.txt/disallowed"] == 1


@pytest_twisted.ensureDeferred
async def test_users_own_files_pipeline_sees_why_a_file_failed(gallery, tmp_path):
    _, item, results, _, _ = await _crawl(
        gallery, tmp_path, "files", "enforce", "search", pipeline=ReasonsFilesPipeline
    )
    assert set(results) == {"ok"} | (set(FAMILIES) - _denied("search"))
    assert all(r["ccsignals"]["decision"] == "allow" for r in results.values())
    errors = item["file_errors"]
    assert len(errors) == len(_denied("search")) + 1  # the denied files and the forbidden one
    header = next(e for e in errors if "/img/header/" in e)
    assert "search" in header and "aipref" in header
    assert any("Forbidden by robots.txt" in e and "/img/forbidden/" in e for e in errors)


@pytest_twisted.ensureDeferred
async def test_file_already_in_the_store_is_marked_unchecked(gallery, tmp_path):
    """A second crawl into the same store: the pipeline does not download a fresh copy
    again (``uptodate``), so no decision covers it this time and its record says so."""
    await _crawl(gallery, tmp_path, "files", "enforce", "train-ai")
    crawler, _, results, _, _ = await _crawl(gallery, tmp_path, "files", "enforce", "train-ai")
    assert set(results) == {"ok"}
    assert results["ok"]["status"] == "uptodate"
    record = results["ok"]["ccsignals"]
    assert record["decision"] == "unchecked"
    assert record["url"] == results["ok"]["url"]
    assert "uptodate" in record["reasons"][0]
    assert stats(crawler)["ccsignals/files/unchecked"] == 1
