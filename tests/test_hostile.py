"""A crawl over the hostile fixture: nothing crashes, nothing hangs, nothing is lost, and
every case gets its defined outcome, a warning naming the URL, and a stats key."""

from __future__ import annotations

import json
import logging
import socket
from collections import Counter

import pytest
import pytest_twisted
from scrapy import Request
from scrapy.http import Response

from tests.crawling import PagesSpider, run_crawl, stats
from tests.hostile import cases


class AllUrlsSpider(PagesSpider):
    """Every URL once, no link following, items for every response the spider gets."""

    custom_settings = {"HTTPERROR_ALLOW_ALL": True}

    async def start(self):
        for url in self.start_urls:
            yield Request(url, errback=lambda failure: None)

    def parse(self, response: Response):
        yield {"url": response.url}


def refused_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


async def crawl_hostile(server, tmp_path, run: int):
    urls, expect, origins = [], {}, {}
    for case in cases():
        origin = (
            server.add_origin(case.routes)
            if case.routes is not None
            else f"http://127.0.0.1:{refused_port()}"
        )
        origins[case.name] = origin
        for path, outcome in case.expect.items():
            urls.append(origin + path)
            expect[origin + path] = outcome
    log = tmp_path / f"audit-{run}.jsonl"
    settings = {
        "CCSIGNALS_AUDIT_LOG": str(log),
        "CCSIGNALS_POLICY_TIMEOUT": 2,
        "DOWNLOAD_TIMEOUT": 5,
        "LOG_LEVEL": "INFO",
    }
    crawler, items = await run_crawl(urls, settings, follow=False, spider_cls=AllUrlsSpider)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return crawler, items, lines, expect, origins


@pytest_twisted.ensureDeferred
async def test_hostile_crawl(server, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    crawler, items, lines, expect, origins = await crawl_hostile(server, tmp_path, 1)
    messages = [r for r in caplog.records]
    assert not [r for r in messages if r.exc_info or "Traceback" in r.getMessage()]

    outcomes: dict[str, str] = {}
    counts = Counter()
    for line in lines:
        if line["stage"] == "request" and line["action"] == "dropped":
            outcomes[line["url"]] = "forbidden"
            counts[line["url"]] += 1
        elif line["stage"] == "request" and line["action"] == "error":
            outcomes[line["url"]] = "error"
            counts[line["url"]] += 1
        elif line["stage"] == "response":
            outcomes[line["url"]] = line["decision"]
            counts[line["url"]] += 1
    # Every scheduled request exactly once, with its defined outcome.
    assert set(counts.values()) == {1}
    assert outcomes == expect

    s = stats(crawler)
    for case in cases():
        for key in case.stats:
            assert s.get(key), f"{case.name}: stats key {key} missing"
        if case.warns:
            origin = origins[case.name]
            warnings = [
                r.getMessage()
                for r in messages
                if r.levelno == logging.WARNING and origin in r.getMessage()
            ]
            # One warning per policy file at most, each naming the file's URL.
            files = [
                f
                for f in ("/robots.txt", "/.well-known/tdmrep.json")
                for w in warnings
                if f"{origin}{f}" in w
            ]
            assert warnings and len(files) == len(set(files)) == len(warnings), (
                f"{case.name}: {warnings}"
            )
    # Accounting: items + dropped == responses evaluated.
    responses = s.get("ccsignals/responses/allow", 0) + s.get("ccsignals/responses/deny", 0)
    assert len(items) + s.get("ccsignals/items/dropped", 0) == responses


@pytest_twisted.ensureDeferred
async def test_hostile_crawl_is_deterministic(server, tmp_path):
    decisions = []
    for run in (1, 2):
        _, _, lines, _expect, origins = await crawl_hostile(server, tmp_path, run)
        by_case = {}
        names = {origin: name for name, origin in origins.items()}
        for line in lines:
            if line["stage"] in ("request", "response"):
                origin = line["url"].split("/", 3)
                name = names["/".join(origin[:3])]
                by_case[(name, "/" + origin[3])] = (line["stage"], line["action"], line["decision"])
        decisions.append(by_case)
    assert decisions[0] == decisions[1]


@pytest.mark.parametrize("cap", [100, 5000])
@pytest_twisted.ensureDeferred
async def test_robots_cap_setting(server, cap):
    from tests.crawling import page, text

    robots = "User-agent: *\n" + "#" * 1000 + "\nDisallow: /p\n"
    origin = server.add_origin({"/robots.txt": text(robots), "/p": {"body": page("p")}})
    _, items = await run_crawl(
        [origin + "/p"], {"CCSIGNALS_ROBOTSTXT_MAX_BYTES": cap}, follow=False
    )
    assert len(items) == (1 if cap == 100 else 0)
