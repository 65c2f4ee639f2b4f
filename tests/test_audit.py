"""The audit log, checked line by line against what the server saw."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest_twisted
from scrapy.exceptions import IgnoreRequest

from scrapy_ccsignals.records.report import summarise_file
from tests.crawling import PagesSpider, page, run_crawl, stats, text


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest_twisted.ensureDeferred
async def test_audit_log_accounts_for_every_request(server, tmp_path):
    origin = server.add_origin(
        {
            "/robots.txt": text(
                "User-agent: *\nDisallow: /private/\nContent-Usage: /closed/ train-ai=n\n"
            ),
            "/": {
                "body": page(
                    "Home",
                    "".join(
                        f'<a href="/{p}">{p}</a>'
                        for p in ("private/1", "closed/1", "open/1", "broken")
                    ),
                )
            },
            "/closed/*": {"body": page("Closed")},
            "/open/*": {"body": page("Open")},
            "/broken": {"body": "x" * 1000, "drop_after": 10},
        }
    )
    down = server.add_origin({"/robots.txt": {"status": 503}, "/a": {"body": page("A")}})
    log_path = tmp_path / "logs" / "%(name)s.jsonl"
    crawler, items = await run_crawl(
        [origin + "/", down + "/a"], {"CCSIGNALS_AUDIT_LOG": str(log_path)}
    )
    lines = read_log(tmp_path / "logs" / "pages.jsonl")
    assert all(
        {"time", "url", "origin", "stage", "action", "decision", "reasons", "signals"} <= set(line)
        for line in lines
    )

    by_url = {}
    for line in lines:
        if line["stage"] in ("request", "response"):
            assert line["url"] not in by_url, f"{line['url']} logged twice"
            by_url[line["url"]] = line
    # Every request the spider scheduled has exactly one outcome.
    assert set(by_url) == {
        origin + p for p in ("/", "/private/1", "/closed/1", "/open/1", "/broken")
    } | {down + "/a"}
    assert by_url[origin + "/private/1"]["action"] == "dropped"
    assert by_url[down + "/a"]["action"] == "dropped"
    assert "unreachable (503)" in by_url[down + "/a"]["reasons"][0]
    assert by_url[origin + "/broken"]["action"] == "error"
    assert by_url[origin + "/closed/1"]["decision"] == "deny"
    assert by_url[origin + "/closed/1"]["families"] == ["aipref"]
    assert by_url[origin + "/open/1"]["decision"] == "allow"

    # What was fetched according to the log is what the server saw.
    fetched = {
        u.replace(origin, "")
        for u, line in by_url.items()
        if line["stage"] == "response" and u.startswith(origin)
    }
    seen = set(server.paths(origin)) - {"/robots.txt", "/.well-known/tdmrep.json"}
    assert fetched == seen - {"/broken"}
    assert "/private/1" not in seen

    policy = [line for line in lines if line["stage"] == "policy"]
    assert Counter((p["origin"], p["policy"]["kind"]) for p in policy) == {
        (origin.replace("http://127.0.0.1", "http://127.0.0.1"), "robots.txt"): 1,
        (origin, "tdmrep.json"): 1,
        (down, "robots.txt"): 1,
        # No page of the unreachable origin was fetched: its tdmrep.json was never needed.
    }
    dropped_items = [line for line in lines if line["stage"] == "item"]
    assert [(d["url"], d["action"]) for d in dropped_items] == [(origin + "/closed/1", "dropped")]
    assert len(items) == 2 == stats(crawler)["ccsignals/items/passed"]


@pytest_twisted.ensureDeferred
async def test_tag_mode_logs_tagged_items(server, tmp_path):
    origin = server.add_origin(
        {"/robots.txt": text(""), "/p": {"body": page("P"), "headers": {"X-Robots-Tag": "noai"}}}
    )
    log = tmp_path / "audit.jsonl"
    await run_crawl([origin + "/p"], {"CCSIGNALS_AUDIT_LOG": str(log), "CCSIGNALS_MODE": "tag"})
    items = [line for line in read_log(log) if line["stage"] == "item"]
    assert [(i["action"], i["decision"]) for i in items] == [("tagged", "deny")]


@pytest_twisted.ensureDeferred
async def test_end_of_crawl_summary(server, caplog):
    import logging

    caplog.set_level(logging.INFO)
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private\n"),
            "/": {
                "body": page(
                    "Home", '<a href="/private">p</a><a href="/cc">cc</a><a href="/noai">n</a>'
                )
            },
            "/cc": {
                "body": page(
                    "CC",
                    "",
                    '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">',
                )
            },
            "/noai": {"body": page("N"), "headers": {"X-Robots-Tag": "noai"}},
        }
    )
    crawler, _ = await run_crawl([origin + "/"])
    assert stats(crawler)["ccsignals/licenses/CC-BY-4.0"] == 1
    assert stats(crawler)["ccsignals/licenses/none"] == 2
    blocks = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("scrapy-ccsignals summary:")
    ]
    assert len(blocks) == 1
    block = blocks[0]
    assert "requests forbidden by robots.txt: 1 (disallowed 1, unreachable 0)" in block
    assert "responses checked: 3 (allowed 2, with conditions 0, denied 1)" in block
    assert "denied per family: noai 1" in block
    assert "items: passed 2, dropped 1, tagged 0" in block
    assert "licences: none 2, CC-BY-4.0 1" in block


class DropSecondPage:
    """A downloader middleware of another project that ignores some requests."""

    def process_request(self, request):
        if request.url.endswith("/b"):
            raise IgnoreRequest("not wanted by DropSecondPage")


@pytest_twisted.ensureDeferred
async def test_requests_ignored_by_other_middlewares_are_logged(server, tmp_path):
    origin = server.add_origin(
        {"/robots.txt": text(""), "/a": {"body": page("A")}, "/b": {"body": page("B")}}
    )
    log = tmp_path / "audit.jsonl"
    settings = {
        "CCSIGNALS_AUDIT_LOG": str(log),
        "DOWNLOADER_MIDDLEWARES": {"tests.test_audit.DropSecondPage": 200},
    }
    await run_crawl([origin + "/a", origin + "/b"], settings, follow=False)
    lines = {
        line["url"]: line for line in read_log(log) if line["stage"] in ("request", "response")
    }
    assert lines[origin + "/a"]["action"] == "fetched"
    assert lines[origin + "/b"]["action"] == "dropped"
    assert lines[origin + "/b"]["decision"] is None
    assert lines[origin + "/b"]["reasons"] == ["IgnoreRequest: not wanted by DropSecondPage"]
    assert "/b" not in server.paths(origin)
    assert summarise_file(str(log)).overall.ignored == 1


class ScribblingPipeline:
    """A pipeline that edits the provenance lists it receives, in place."""

    def process_item(self, item):
        item["ccsignals"]["reasons"].append("edited by a pipeline")
        item["ccsignals"]["signals"].clear()
        return item


@pytest_twisted.ensureDeferred
async def test_audit_line_is_what_was_decided_not_what_a_pipeline_made_of_it(server, tmp_path):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\nContent-Usage: train-ai=y\n"),
            "/p": {"body": page("P")},
        }
    )
    log = tmp_path / "audit.jsonl"
    settings = {
        "CCSIGNALS_AUDIT_LOG": str(log),
        "ITEM_PIPELINES": {"tests.test_audit.ScribblingPipeline": 100},
    }
    _crawler, items = await run_crawl([origin + "/p"], settings)
    assert items[0]["ccsignals"]["reasons"][-1] == "edited by a pipeline"
    (line,) = [line for line in read_log(log) if line["stage"] == "response"]
    assert "edited by a pipeline" not in line["reasons"]
    assert [s["value"] for s in line["signals"]] == ["train-ai=y"]


class TwoItemsSpider(PagesSpider):
    name = "two_items"

    def parse(self, response):
        yield {"n": 1}
        yield {"n": 2}


@pytest_twisted.ensureDeferred
async def test_items_of_one_response_do_not_share_provenance(server, tmp_path):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\nContent-Usage: train-ai=y\n"),
            "/p": {"body": page("P")},
        }
    )
    settings = {"ITEM_PIPELINES": {"tests.test_audit.ScribblingPipeline": 100}}
    _crawler, items = await run_crawl([origin + "/p"], settings, spider_cls=TwoItemsSpider)
    assert [i["n"] for i in items] == [1, 2]
    # Each item was edited once by the pipeline, not twice through shared lists.
    for item in items:
        assert item["ccsignals"]["reasons"].count("edited by a pipeline") == 1
        assert item["ccsignals"]["signals"] == []


class NotingSpider(PagesSpider):
    """Edits the response's record between its two items, and looks at it afterwards."""

    name = "noting"

    def parse(self, response):
        record = response.meta["ccsignals"]
        yield {"n": 1}
        record["reasons"].append("noted by the spider")
        record["note"] = {"by": ["spider"]}
        yield {"n": 2}
        self.seen = json.loads(json.dumps(response.meta["ccsignals"]))


@pytest_twisted.ensureDeferred
async def test_each_item_copies_the_record_as_it_is_when_yielded(server, tmp_path):
    """Each item gets its own copy of the response's record as it is when the item is
    yielded (a spider's edit reaches the items it yields after it), and no pipeline's edit
    of an item reaches the record the spider reads or another item."""
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\nContent-Usage: train-ai=y\n"),
            "/p": {"body": page("P")},
        }
    )
    settings = {"ITEM_PIPELINES": {"tests.test_audit.ScribblingPipeline": 100}}
    crawler, items = await run_crawl([origin + "/p"], settings, spider_cls=NotingSpider)
    first, second = sorted(items, key=lambda item: item["n"])
    assert "noted by the spider" not in first["ccsignals"]["reasons"]
    assert "note" not in first["ccsignals"]
    assert second["ccsignals"]["reasons"][-2:] == ["noted by the spider", "edited by a pipeline"]
    assert second["ccsignals"]["note"] == {"by": ["spider"]}
    seen = crawler.spider.seen
    assert seen["reasons"][-1] == "noted by the spider"
    assert "edited by a pipeline" not in seen["reasons"]
    assert seen["signals"] and seen["note"] == {"by": ["spider"]}
