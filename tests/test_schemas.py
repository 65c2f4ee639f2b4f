"""The JSON Schemas shipped in ``scrapy_ccsignals/schemas/`` describe what a real crawl
writes: every item's provenance record and every audit line of a crawl of the demo web
(tag mode, so denied items are kept; RSL and cc-cr conditions accepted; an opted-out page
and an errback item for ``unchecked`` records), and of ``ccsignals-recheck`` on its items.
The schemas forbid unknown fields, so a field added to the code without the schema (and
docs/provenance.md, docs/audit-log.md) fails here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
import scrapy
from scrapy.http import Response, TextResponse

from example_project import demoweb
from scrapy_ccsignals import schemas
from tests.crawling import run_crawl
from tests.scrapy_cli import run_scrapy

jsonschema = pytest.importorskip("jsonschema", reason="pip install -e '.[test]'")

HINT = {
    "provenance": "scrapy_ccsignals/schemas/provenance.schema.json and docs/provenance.md",
    "audit-line": "scrapy_ccsignals/schemas/audit-line.schema.json and docs/audit-log.md",
}


def problems(name: str, documents: list[dict[str, Any]]) -> list[str]:
    """Each way a document breaks schema *name*, once per distinct message."""
    validator = jsonschema.Draft202012Validator(schemas.load(name))
    seen: dict[str, None] = {}
    for doc in documents:
        for error in validator.iter_errors(doc):
            seen.setdefault(f"{error.json_path}: {error.message[:300]}", None)
    return list(seen)


def assert_valid(name: str, documents: list[dict[str, Any]]) -> None:
    found = problems(name, documents)
    assert not found, (
        f"{len(found)} way(s) real output breaks the {name} schema; if the code is right, "
        f"describe the field in {HINT[name]}:\n  " + "\n  ".join(found)
    )


#: An origin whose page is cut mid-body (a failed download: audit ``request``/``error``)
#: and which redirects (audit ``response``/``redirected``).
EXTRAS = {
    "/robots.txt": {"body": "User-agent: *\nAllow: /\n", "headers": {"Content-Type": "text/plain"}},
    "/cut": {"body": "x" * 1000, "drop_after": 10},
    "/moved": {"status": 301, "headers": {"Location": "/"}},
    "/": {"body": "<!doctype html><title>extras</title>"},
}


class DemoSpider(scrapy.Spider):
    """Pages and files of the demo web (links and images followed), one opted-out page,
    and an item from the errback of a download that fails."""

    name = "demo"
    start_urls: list[str] = []
    opted_out = ""
    failing = ""

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield scrapy.Request(url)
        yield scrapy.Request(self.opted_out, meta={"dont_obey_ccsignals": True}, dont_filter=True)
        yield scrapy.Request(self.failing, errback=self.failed)

    def parse(self, response: Response) -> Any:
        yield {"url": response.url}
        if isinstance(response, TextResponse):
            for href in response.css("a::attr(href), img::attr(src)").getall():
                if response.urljoin(href).startswith("http://127.0.0.1:"):  # loopback only
                    yield response.follow(href)

    def failed(self, failure: Any) -> Any:
        yield {"url": failure.request.url, "failed": True}


def test_the_schemas_are_draft_2020_12_and_share_their_definitions():
    provenance, audit = schemas.load("provenance"), schemas.load("audit-line")
    for schema in (provenance, audit):
        jsonschema.Draft202012Validator.check_schema(schema)
    for name, definition in audit["$defs"].items():
        assert definition == provenance["$defs"][name], f"$defs/{name} differs between the two"


def test_an_unknown_field_is_refused():
    assert problems("provenance", [{"decision": "allow", "surprise": 1}])
    assert problems("audit-line", [{"stage": "crawl", "surprise": 1}])


@pytest_twisted.ensureDeferred
async def test_real_crawl_output_matches_the_schemas(server, tmp_path):
    sites = demoweb.start(server)
    log = tmp_path / "audit.jsonl"
    settings = {
        "USER_AGENT": "ExampleAIBot/1.0 (+https://example.org/bot)",
        "CCSIGNALS_AUDIT_LOG": str(log),
        "CCSIGNALS_MODE": "tag",
        "CCSIGNALS_ACCEPT_CONDITIONS": ["cc-cr", "rsl-license"],
        "CCSIGNALS_POLICY_TIMEOUT": 5,
        "LOG_LEVEL": "INFO",
    }
    DemoSpider.opted_out = sites["museum"] + "/"
    extras = server.add_origin(EXTRAS)
    DemoSpider.failing = extras + "/cut"
    _crawler, items = await run_crawl(
        [url + "/" for url in sites.values()] + [extras + "/moved"], settings, spider_cls=DemoSpider
    )
    records = [item["ccsignals"] for item in items]
    lines = [json.loads(line) for line in log.read_text().splitlines()]

    assert_valid("provenance", records)
    assert_valid("audit-line", lines)
    # The crawl reached what the schemas describe, so they were checked against it.
    assert {r["decision"] for r in records} == {"allow", "deny", "unchecked"}
    assert {"rsl", "asset", "attribution", "status", "sha256"} <= {k for r in records for k in r}
    assert {(line["stage"], line["action"]) for line in lines} >= {
        ("crawl", "started"),
        ("crawl", "finished"),
        ("policy", "fetched"),
        ("request", "dropped"),
        ("request", "error"),
        ("response", "fetched"),
        ("response", "redirected"),
        ("item", "tagged"),
        ("item", "unchecked"),
    }

    # ccsignals-recheck on the same items, while the sites are up: its kept and withdrawn
    # records and its audit lines follow the schemas too.
    feed = tmp_path / "items.jsonl"
    feed.write_text("".join(json.dumps(i) + "\n" for i in items if not i.get("failed")))
    done = run_scrapy(
        [
            "ccsignals-recheck",
            str(feed),
            "-o",
            "kept.jsonl",
            "--withdrawn",
            "withdrawn.jsonl",
            "--audit",
            "recheck.jsonl",
            "-s",
            "USER_AGENT=ExampleAIBot/1.0",
            "-s",
            "CCSIGNALS_ACCEPT_CONDITIONS=cc-cr,rsl-license",
        ],
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    rechecked = [
        json.loads(line)["ccsignals"]
        for name in ("kept.jsonl", "withdrawn.jsonl")
        for line in (tmp_path / name).read_text().splitlines()
    ]
    assert rechecked and all("recheck" in r for r in rechecked)
    assert_valid("provenance", rechecked)
    assert_valid(
        "audit-line",
        [json.loads(line) for line in (tmp_path / "recheck.jsonl").read_text().splitlines()],
    )
