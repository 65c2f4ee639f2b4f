"""ccsignals-card: a Croissant 1.1 card with RAI fields that mlcroissant (the MLCommons
reference library) validates, whose files, hashes, records and counts are the crawl's."""

from __future__ import annotations

import hashlib
import json

import mlcroissant as mlc  # the test extra installs it; validation runs offline
import pytest

from tests.dataset_crawl import denied_by
from tests.scrapy_cli import run_scrapy

# mlcroissant 1.1 builds an rdflib ConjunctiveGraph, deprecated by rdflib 7: theirs, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def card(crawled, tmp_path_factory):
    folder = crawled["dir"]
    out = tmp_path_factory.mktemp("card")
    done = run_scrapy(
        ["ccsignals-card", str(folder / "items.jsonl"), str(folder / "items.csv"),
         str(folder / "items.json"), "--audit", str(folder / "audit.jsonl"),
         "-o", str(out / "croissant.json"), "--name", "demo-commons",
         "--url", "https://example.org/demo-commons",
         "--license", "https://creativecommons.org/licenses/by-sa/4.0/"],
        out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = run_scrapy(["ccsignals-report", "--json", str(folder / "audit.jsonl")], out)
    assert report.returncode == 0, report.stderr
    return {"path": out / "croissant.json", "report": json.loads(report.stdout)}


def items_of(crawled):
    return [json.loads(line) for line in (crawled["dir"] / "items.jsonl").read_text().splitlines()]


def test_validates_with_mlcroissant(card):
    dataset = mlc.Dataset(jsonld=str(card["path"]))  # raises ValidationError on any error
    assert not dataset.metadata.ctx.issues.errors
    assert dataset.metadata.name == "demo-commons"
    assert str(dataset.metadata.ctx.conforms_to.value) == "http://mlcommons.org/croissant/1.1"


def test_the_records_read_back_through_mlcroissant(card, crawled):
    dataset = mlc.Dataset(jsonld=str(card["path"]))
    records = list(dataset.records("items.jsonl/items"))
    items = items_of(crawled)
    assert [r["items.jsonl/items/url"].decode() for r in records] == [i["url"] for i in items]
    assert [r["items.jsonl/items/ccsignals.decision"].decode() for r in records] == [
        i["ccsignals"]["decision"] for i in items
    ]
    assert [r["items.jsonl/items/ccsignals.sha256"].decode() for r in records] == [
        i["ccsignals"]["sha256"] for i in items
    ]


def test_distribution_names_each_file_with_its_sha256(card, crawled):
    data = json.loads(card["path"].read_text())
    files = {f["name"]: f for f in data["distribution"]}
    assert set(files) == {"items.jsonl", "items.csv", "items.json"}
    for name, entry in files.items():
        raw = (crawled["dir"] / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(raw).hexdigest()
        assert entry["contentSize"] == f"{len(raw)} B"
        assert (card["path"].parent / entry["contentUrl"]).resolve() == crawled["dir"] / name
    assert files["items.csv"]["encodingFormat"] == "text/csv"


def test_rai_fields_come_from_the_records(card, crawled):
    data = json.loads(card["path"].read_text())
    report = card["report"]["overall"]
    audit = [json.loads(line) for line in (crawled["dir"] / "audit.jsonl").read_text().splitlines()]
    times = sorted(line["time"] for line in audit)
    assert data["rai:dataCollectionTimeframe"] == [times[0], times[-1]]
    assert "ExampleAIBot/1.0 (+https://example.org/bot)" in data["rai:dataCollection"]
    assert (
        f"{report['forbidden']:,} requests not sent because robots.txt"
        in data["rai:dataCollection"]
    )
    protocol = dict(line.split(": ", 1) for line in data["rai:dataPreprocessingProtocol"][:-1])
    tdmrep = next(v for k, v in protocol.items() if k.startswith("TDM Reservation Protocol"))
    assert (
        tdmrep == f"0 requests not sent, {report['denied_by_family']['tdmrep']} responses withheld"
    )
    assert report["denied_by_family"]["tdmrep"] == denied_by(crawled, "tdmrep") > 0
    conditions = sum("cc-cr" in i["ccsignals"]["conditions"] for i in items_of(crawled))
    assert f"cc-cr ({3 * conditions} items)" in data["rai:dataLimitations"][0]  # three feeds
    licences = {
        i["ccsignals"]["license"]["url"] for i in items_of(crawled) if i["ccsignals"]["license"]
    }
    assert data["license"][0] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert set(data["license"]) == licences | {data["license"][0]}
