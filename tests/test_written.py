"""Page signals read again from provenance for another purpose (``gate/written.py``): each
family gives what a crawl for that purpose would record, and what cannot be read back as
recorded is refused, never guessed."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.provenance import build_record
from scrapy_ccsignals.gate.usegate import ResponseFacts, evaluate
from scrapy_ccsignals.gate.written import Unreadable, as_written
from scrapy_ccsignals.signals.assets import IMAGE_KINDS, AssetMetadata
from scrapy_ccsignals.signals.c2pa import C2paResult, TrainingMiningEntry
from scrapy_ccsignals.signals.htmlscan import extract

URL = "https://example.com/p"
PURPOSES = ("train-ai", "ai-input", "search")


def config(purpose: str, **more) -> Config:
    return Config.from_settings(
        Settings({"USER_AGENT": "ExampleBot/1.0", "CCSIGNALS_PURPOSE": purpose, **more})
    )


def facts(
    headers=None, html: str = "", content_type: str = "text/html", asset=None, c2pa=None
) -> ResponseFacts:
    found = ResponseFacts(URL, "/p", headers or {}, content_type, html=bool(html))
    # An image by its first bytes, as the crawl tells it (the kind its file scan found).
    found.image_bytes = asset is not None and asset.kind in IMAGE_KINDS
    if html:
        found.page = extract(html.encode())
    found.asset, found.c2pa = asset, c2pa
    return found


def record_of(purpose: str, response: ResponseFacts) -> dict:
    """The provenance record a crawl for *purpose* makes of *response*."""
    cfg = config(purpose)
    evaluation = evaluate(cfg, response, None)
    return build_record(cfg, "0", URL, 200, response.content_type, b"", evaluation, None)


RESPONSES = {
    "content-usage header": lambda: facts({"content-usage": ["train-ai=n, search=y"]}),
    "cc-signals exception": lambda: facts({"content-usage": ["bots=n;exceptions=cc-cr"]}),
    "content-signal header": lambda: facts({"content-signal": ["search=no, use=reference"]}),
    "x-robots-tag": lambda: facts({"x-robots-tag": ["noindex, noarchive", "other: noai"]}),
    "meta robots": lambda: facts(html='<meta name="robots" content="none, noai">'),
    "meta content-usage": lambda: facts(
        html='<meta http-equiv="Content-Usage" content="ai-use=n, search=n;exceptions=cc-cr">'
    ),
    "tdmrep header and meta": lambda: facts(
        {"tdm-reservation": ["1"], "tdm-policy": ["https://example.com/policy"]},
        html='<meta name="tdm-reservation" content="0">',
    ),
    "noimageai on a jpeg sent as octet-stream": lambda: facts(
        {"x-robots-tag": ["noimageai"]},
        content_type="application/octet-stream",
        asset=AssetMetadata("jpeg", "absent"),
    ),
    "iptc": lambda: facts(
        content_type="image/png",
        asset=AssetMetadata(
            "png", "found", "XMP", data_mining=("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",)
        ),
    ),
    "c2pa": lambda: facts(
        content_type="image/jpeg",
        c2pa=C2paResult(
            "available",
            (
                TrainingMiningEntry("cawg.training-mining", "cawg.ai_inference", "notAllowed"),
                TrainingMiningEntry("cawg.training-mining", "cawg.ai_training", "allowed"),
            ),
            validation_state="Valid",
        ),
    ),
}


@pytest.mark.parametrize("name", RESPONSES)
@pytest.mark.parametrize("crawled", PURPOSES)
@pytest.mark.parametrize("asked", PURPOSES)
def test_read_for_any_purpose_as_a_crawl_for_it_records(name, crawled, asked):
    response = RESPONSES[name]()
    record = record_of(crawled, response)
    got = as_written(config(asked), record)
    want = evaluate(config(asked), response, None).signals
    key = lambda s: (s.family, s.layer, s.value, s.effect, s.raw, s.conditions)  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, want))


def test_a_record_from_before_is_refused():
    record = record_of("train-ai", RESPONSES["content-usage header"]())
    del record["signals_as_written"]
    assert as_written(config("train-ai"), record)  # its own purpose: as recorded
    with pytest.raises(Unreadable, match="from before signals were recorded as written"):
        as_written(config("search"), record)


def test_noimageai_without_the_file_kind_is_refused():
    # A crawl with the file scan off records no kind: whether the file was an image (by its
    # first bytes, whatever its type said) is not in the record.
    response = facts({"x-robots-tag": ["noimageai"]}, content_type="application/octet-stream")
    response.image_bytes = True
    record = record_of("search", response)
    with pytest.raises(Unreadable, match="whether the file is an image is not recorded"):
        as_written(config("train-ai"), record)


def test_page_signals_cut_at_the_cap_are_refused():
    values = [f"train-ai=n, search={'y' if i % 2 else 'n'}, x{i}=y" for i in range(40)]
    record = record_of("train-ai", facts({"content-usage": values}))
    assert [s["truncated"] for s in record["signals"] if "truncated" in s] == [24]
    with pytest.raises(Unreadable, match="more aipref header signals than provenance keeps"):
        as_written(config("search"), record)


def test_other_settings_than_the_crawl_are_refused():
    """Legacy labels off at replay, on in the crawl: ``bots=n`` does not read back."""
    record = record_of("train-ai", RESPONSES["cc-signals exception"]())
    with pytest.raises(Unreadable, match="does not read back as recorded"):
        as_written(config("search", CCSIGNALS_AIPREF_LEGACY=False), record)


def test_an_edited_signal_is_refused():
    record = record_of("train-ai", RESPONSES["content-usage header"]())
    record["signals"][0]["effect"] = "allow"
    with pytest.raises(Unreadable, match="does not read back as recorded"):
        as_written(config("search"), record)
    record = record_of("train-ai", RESPONSES["x-robots-tag"]())
    record["signals"].append(dict(record["signals"][0], family="made-up"))
    with pytest.raises(Unreadable, match="made-up signals cannot be read"):
        as_written(config("search"), record)


def test_a_content_use_level_set_for_the_crawl_reads_for_another_purpose():
    """``CCSIGNALS_CONTENT_USE`` set (to search's default level): a train-ai crawl needed
    ``reference``, not its default ``full``; a search replay reads the statement all the
    same and decides ``use=`` with its own level."""
    response = facts({"content-signal": ["ai-train=yes, use=reference"]})
    cfg = config("train-ai", CCSIGNALS_CONTENT_USE="reference")
    evaluation = evaluate(cfg, response, None)
    record = build_record(cfg, "0", URL, 200, "text/html", b"", evaluation, None)
    asked = config("search", CCSIGNALS_CONTENT_USE="reference")
    got = as_written(asked, record)
    assert got == evaluate(asked, response, None).signals
    assert [s.effect for s in got] == ["unknown"]  # use=reference: enough for reference


def test_a_record_with_more_page_signals_than_a_crawl_keeps_is_refused():
    """A crawl keeps at most 16 signals per family and layer; an edited feed with thousands
    is not read (bounded work per item)."""
    record = record_of("train-ai", RESPONSES["content-usage header"]())
    record["signals"] = record["signals"] * 5000
    with pytest.raises(Unreadable, match="more page signals than a crawl records"):
        as_written(config("search"), record)
