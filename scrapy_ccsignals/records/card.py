"""A Croissant 1.1 description of a crawled dataset, with its Responsible-AI fields.

Croissant (MLCommons, 1.1) is JSON-LD over schema.org ``Dataset``: ``distribution`` names
the files (each item feed with its SHA-256), ``recordSet`` the fields of their records —
here the items' own fields and the provenance fields (decision, licence, conditions,
attribution...). The RAI vocabulary (``rai:``, Croissant RAI 1.0) carries how the data was
collected (a web crawl by the named crawler, for the purpose, over the period the audit
log shows) and preprocessed (which preference families were honoured and how much each
held back), and the CC-signal conditions accepted.

Streamed: the feeds are read once (counts per licence, condition, decision; field names
capped) and hashed once, the audit logs summarised by ``records.summary.read_audit``.
``tests/test_card.py`` validates the output with ``mlcroissant``.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scrapy_ccsignals.records.feeds import FeedStats, Progress, feed_format, iter_items
from scrapy_ccsignals.records.report import Summary
from scrapy_ccsignals.records.summary import measures
from scrapy_ccsignals.records.words import counted

CROISSANT = "http://mlcommons.org/croissant/1.1"
RAI = "http://mlcommons.org/croissant/RAI/1.0"
MAX_FIELDS = 200  # top-level item fields described
ENCODINGS = {"jsonl": "application/jsonlines", "json": "application/json", "csv": "text/csv"}
#: The Croissant 1.1 JSON-LD context (as mlcroissant writes it for 1.1).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
#: Provenance fields described in the record set: (name, JSONPath in the record, type).
PROVENANCE_FIELDS = [
    ("url", "url", "sc:URL"),
    ("fetched_at", "fetched_at", "sc:Text"),
    ("sha256", "sha256", "sc:Text"),
    ("purpose", "purpose", "sc:Text"),
    ("decision", "decision", "sc:Text"),
    ("conditions", "conditions", "sc:Text"),
    ("license", "license.id", "sc:Text"),
    ("license_url", "license.url", "sc:URL"),
    ("title", "attribution.title", "sc:Text"),
    ("creator", "attribution.creator", "sc:Text"),
    ("site_name", "attribution.site_name", "sc:Text"),
]


@dataclass
class FeedFacts:
    """One item file: its hash, size, items and fields."""

    path: str
    format: str
    sha256: str = ""
    size: int = 0
    items: int = 0
    fields: list[str] = field(default_factory=list)
    #: field -> the JSON types its values had ("int", "float", "bool", "str", ...)
    types: dict[str, set[str]] = field(default_factory=dict)


def _data_type(key: str, types: set[str]) -> str:
    """The Croissant data type of an item field, from the values it had (CSV: all text)."""
    if key == "url":
        return "sc:URL"
    if types == {"bool"}:
        return "sc:Boolean"
    if types == {"int"}:
        return "sc:Integer"
    if types and types <= {"int", "float"}:
        return "sc:Float"
    return "sc:Text"


@dataclass
class DatasetFacts:
    feeds: list[FeedFacts] = field(default_factory=list)
    read: FeedStats = field(default_factory=FeedStats)
    licenses: Counter[str] = field(default_factory=Counter)  # licence URL (or id)
    conditions: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    purposes: Counter[str] = field(default_factory=Counter)
    with_provenance: int = 0
    with_attribution: int = 0


def _hash(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _bounded(counter: Counter[str], key: Any, cap: int = 200) -> None:
    if isinstance(key, str) and key and (key in counter or len(counter) < cap):
        counter[key] += 1


def read_dataset(
    paths: list[str], field_name: str = "ccsignals", progress: Progress | None = None
) -> DatasetFacts:
    facts = DatasetFacts()
    for path in paths:
        feed = FeedFacts(path, feed_format(path))
        feed.sha256, feed.size = _hash(path)
        seen: dict[str, None] = {}
        for _, item in iter_items([path], facts.read, progress):
            feed.items += 1
            for key, value in item.items():
                if key not in seen and len(seen) < MAX_FIELDS and isinstance(key, str):
                    seen[key] = None
                if key in seen and value is not None:
                    feed.types.setdefault(key, set()).add(type(value).__name__)
            record = item.get(field_name)
            if not isinstance(record, dict):
                continue
            facts.with_provenance += 1
            facts.decisions[str(record.get("decision"))] += 1
            lic = record.get("license")
            if isinstance(lic, dict):
                _bounded(facts.licenses, lic.get("url") or lic.get("id"))
            conditions = record.get("conditions")
            if isinstance(conditions, list):
                for condition in conditions:
                    _bounded(facts.conditions, condition)
            agent = record.get("agent")
            if isinstance(agent, dict):
                _bounded(facts.agents, agent.get("user_agent"), 20)
            _bounded(facts.purposes, record.get("purpose"), 20)
            if isinstance(record.get("attribution"), dict) and record["attribution"]:
                facts.with_attribution += 1
        feed.fields = list(seen)
        facts.feeds.append(feed)
    if progress is not None:
        progress.done()
    return facts


def _ids(feeds: list[FeedFacts]) -> list[str]:
    """Unique ``@id`` per file: its name, numbered when two files share one."""
    ids: list[str] = []
    for feed in feeds:
        base = os.path.basename(feed.path) or "items"
        name, n = base, 2
        while name in ids:
            name, n = f"{base}-{n}", n + 1
        ids.append(name)
    return ids


def _record_set(feed: FeedFacts, file_id: str, field_name: str) -> dict[str, Any]:
    rs_id = f"{file_id}/items"
    fields = []
    source = {"fileObject": {"@id": file_id}}
    for key in feed.fields:
        if key == field_name:
            continue
        fields.append({
            "@type": "cr:Field", "@id": f"{rs_id}/{key}", "name": key,
            "dataType": _data_type(key, feed.types.get(key, set())),
            "source": {**source, "extract": {"column": key}},
        })  # fmt: skip
    if field_name in feed.fields:
        for name, path, kind in PROVENANCE_FIELDS:
            fid = f"{rs_id}/{field_name}.{name}"
            entry: dict[str, Any] = {
                "@type": "cr:Field", "@id": fid, "name": f"{field_name}.{name}",
                "description": f"provenance: {path}", "dataType": kind,
                "source": {**source, "extract": {"column": field_name}},
            }  # fmt: skip
            if feed.format != "csv":  # CSV holds the record as a Python repr: no JSONPath
                entry["source"]["transform"] = {"jsonPath": path}
            fields.append(entry)
    return {
        "@type": "cr:RecordSet",
        "@id": rs_id,
        "name": f"{file_id} items",
        "description": f"{counted(feed.items, 'item')} of {file_id}",
        "field": fields,
    }


def build_card(
    dataset: DatasetFacts,
    summary: Summary,
    *,
    name: str,
    description: str = "",
    url: str = "",
    license: list[str] | None = None,
    base_dir: str = ".",
    field_name: str = "ccsignals",
    plugin: str = "",
) -> dict[str, Any]:
    """The Croissant JSON-LD document. *base_dir* is where the card is written: file paths
    in ``contentUrl`` are relative to it."""
    o = summary.overall
    ids = _ids(dataset.feeds)
    agents = ", ".join(dataset.agents) or "an unnamed crawler"
    purpose = ", ".join(dataset.purposes) or "an unstated purpose"
    period = [t for t in (summary.first_time, summary.last_time) if t]
    kept = o.allowed + o.allowed_with_conditions
    collection = (
        f"Web crawl by {agents} with Scrapy and scrapy-ccsignals {plugin}, for {purpose}. "
        f"{counted(o.requests, 'request')} to {counted(len(summary.origins), 'site')}: "
        f"{counted(o.fetched, 'response')} fetched, {counted(o.forbidden, 'request')} not sent "
        f"because robots.txt forbade them, {counted(kept, 'response')} kept and "
        f"{o.denied:,} withheld because their use was reserved. The dataset holds "
        f"{counted(dataset.read.items, 'item')}, each with its "
        f"provenance (URL, fetch time, SHA-256, licence, signals, decision and reasons)."
    )
    preprocessing = [
        f"{name_} ({spec}): {counted(requests, 'request')} not sent, "
        f"{counted(responses, 'response')} withheld"
        for name_, spec, requests, responses in measures(summary)
    ]
    preprocessing.append(
        f"Items of withheld responses dropped: {o.items_dropped:,}; kept but tagged: "
        f"{o.items_tagged:,}."
    )
    if o.conditions or dataset.conditions:
        conditions = ", ".join(
            f"{k} ({counted(v, 'item')})" for k, v in dataset.conditions.most_common()
        )
        limitations = [
            "CC-signal conditions accepted by the crawl, which every user of the dataset must "
            f"honour: {conditions or 'none in the items'}. cc-cr (Credit) asks at a minimum "
            "that the dataset and its collections be cited (scrapy ccsignals-credits)."
        ]
    else:
        limitations = ["No CC-signal conditions were accepted for the items of this dataset."]
    licenses = list(license or []) + [lic for lic in dataset.licenses if lic not in (license or [])]
    card: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CROISSANT, RAI],
        "name": name,
        "description": description
        or f"Web pages crawled by {agents}, with per-item provenance and licences.",
        "license": licenses,
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": file_id,
                "name": file_id,
                "contentUrl": os.path.relpath(feed.path, base_dir).replace(os.sep, "/"),
                "contentSize": f"{feed.size} B",
                "encodingFormat": ENCODINGS[feed.format],
                "sha256": feed.sha256,
            }
            for feed, file_id in zip(dataset.feeds, ids, strict=True)
        ],
        "recordSet": [
            _record_set(feed, file_id, field_name)
            for feed, file_id in zip(dataset.feeds, ids, strict=True)
        ],
        "rai:dataCollection": collection,
        "rai:dataCollectionType": ["Web Scraping"],
        "rai:dataPreprocessingProtocol": preprocessing,
        "rai:dataUseCases": [f"Purpose declared to the sites at crawl time: {purpose}."],
        "rai:dataLimitations": limitations,
    }
    if url:
        card["url"] = url
    if period:
        card["rai:dataCollectionTimeframe"] = period
        card["datePublished"] = period[-1][:10]
    return card
