"""tdmrep.json that cannot be read (issue 26 item 4, issue 27 item 6): a 5xx, 429, timeout,
network error or a file over the byte cap is not "absent". The origin's reservation is
unknown, so train-ai and ai-input are denied (``CCSIGNALS_TDMREP_UNREACHABLE = "deny"``, the
default) or it is only recorded (``"unknown"``); a warning once per origin, a stat, and a
new try after ``CCSIGNALS_POLICY_ERROR_MAX_AGE``. It is the cascade's first source: a later
``tdm-reservation`` still overrides it. 4xx other than 429 stays "absent"."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import scrapy
from scrapy import Request

from tests.crawling import page, run_crawl, stats, text

ALLOW_ALL = text("User-agent: *\nAllow: /\n")
TDMREP_PATH = "/.well-known/tdmrep.json"
EMPTY_TDMREP = {"body": "[]", "headers": {"Content-Type": "application/json"}}


def site(server, tdmrep: dict[str, Any], **pages: dict[str, Any]) -> str:
    routes = {"/robots.txt": ALLOW_ALL, TDMREP_PATH: tdmrep, "/p": {"body": page("p")}}
    routes.update({f"/{name}": route for name, route in pages.items()})
    return server.add_origin(routes)


async def crawl_one(url: str, **settings: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    crawler, items = await run_crawl([url], {"CCSIGNALS_MODE": "tag", **settings}, follow=False)
    assert len(items) == 1
    return items[0]["ccsignals"], stats(crawler)


def tdmrep_record(record: dict[str, Any]) -> dict[str, Any]:
    (found,) = [p for p in record["policies"] if p["kind"] == "tdmrep.json"]
    return found


@pytest.mark.parametrize(
    ("route", "why"),
    [
        ({"status": 503, "body": "busy"}, "503"),
        ({"status": 429, "headers": {"Retry-After": "60"}, "body": "slow down"}, "429"),
        ({"status": 500, "body": "oops"}, "500"),
        ({**EMPTY_TDMREP, "delay": 5}, "timeout"),
        ({"body": "[" + '{"location": "/x", "tdm-reservation": 0},' * 2000 + "{}]"}, "byte cap"),
    ],
    ids=["503", "429", "500", "timeout", "over-cap"],
)
@pytest.mark.parametrize(
    ("purpose", "decision"), [("train-ai", "deny"), ("ai-input", "deny"), ("search", "allow")]
)
@pytest_twisted.ensureDeferred
async def test_unreachable_tdmrep_denies_train_ai_and_ai_input(
    server, route, why, purpose, decision
):
    origin = site(server, route)
    record, s = await crawl_one(
        f"{origin}/p",
        CCSIGNALS_PURPOSE=purpose,
        CCSIGNALS_POLICY_TIMEOUT=1,
        CCSIGNALS_TDMREP_MAX_BYTES=4096,
    )
    assert record["decision"] == decision
    assert tdmrep_record(record)["outcome"] == "unreachable"
    (signal,) = [x for x in record["signals"] if x["family"] == "tdmrep"]
    assert signal["layer"] == "tdmrep.json"
    assert "tdmrep.json unreachable (" in signal["raw"]
    assert why.lower() in signal["raw"].lower()
    if decision == "deny":
        assert any("tdmrep.json unreachable" in reason for reason in record["reasons"])
    assert s["ccsignals/tdmrep/unreachable"] == 1
    assert s["ccsignals/warnings/tdmrep"] >= 1


@pytest_twisted.ensureDeferred
async def test_unknown_setting_records_it_and_decides_nothing(server):
    origin = site(server, {"status": 503})
    record, s = await crawl_one(f"{origin}/p", CCSIGNALS_TDMREP_UNREACHABLE="unknown")
    assert record["decision"] == "allow"
    (signal,) = [x for x in record["signals"] if x["family"] == "tdmrep"]
    assert signal["effect"] == "unknown"
    assert "tdmrep.json unreachable (503)" in signal["raw"]
    assert s["ccsignals/tdmrep/unreachable"] == 1


@pytest_twisted.ensureDeferred
async def test_a_later_tdm_reservation_header_still_overrides(server):
    origin = site(
        server, {"status": 503}, q={"body": page("q"), "headers": {"tdm-reservation": "0"}}
    )
    record, _ = await crawl_one(f"{origin}/q")
    assert record["decision"] == "allow"


@pytest.mark.parametrize("status", [404, 403, 410])
@pytest_twisted.ensureDeferred
async def test_other_4xx_is_still_absent(server, status):
    origin = site(server, {"status": status})
    record, s = await crawl_one(f"{origin}/p")
    assert record["decision"] == "allow"
    assert tdmrep_record(record)["outcome"] == "absent"
    assert "ccsignals/tdmrep/unreachable" not in s


class TwoPagesSpider(scrapy.Spider):
    """/p, then /slow (asked once /p is in): the second page is decided later."""

    name = "two-pages"
    start_urls: list[str] = []

    async def start(self) -> Any:
        yield Request(self.start_urls[0], dont_filter=True, cb_kwargs={"last": False})

    def parse(self, response: Any, last: bool) -> Any:
        yield {"url": response.url}
        if not last:
            yield Request(self.start_urls[1], dont_filter=True, cb_kwargs={"last": True})


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest_twisted.ensureDeferred
async def test_retried_after_the_error_max_age(server, tmp_path, store):
    """tdmrep.json answers 503, then an empty list: the first page is denied; the second,
    decided after CCSIGNALS_POLICY_ERROR_MAX_AGE (1 s), reads it again and is allowed."""
    origin = site(
        server,
        {"sequence": [{"status": 503}, EMPTY_TDMREP]},
        slow={"body": page("slow"), "delay": 1.5},
    )
    settings: dict[str, Any] = {"CCSIGNALS_MODE": "tag", "CCSIGNALS_POLICY_ERROR_MAX_AGE": 1}
    if store == "sqlite":
        settings["CCSIGNALS_POLICY_STORE"] = f"sqlite:///{tmp_path / 'p.db'}"
    crawler, items = await run_crawl(
        [f"{origin}/p", f"{origin}/slow"], settings, spider_cls=TwoPagesSpider
    )
    decisions = {item["url"]: item["ccsignals"]["decision"] for item in items}
    assert decisions == {f"{origin}/p": "deny", f"{origin}/slow": "allow"}
    assert server.paths(origin).count(TDMREP_PATH) == 2
    assert server.paths(origin).count("/robots.txt") == 1
    s = stats(crawler)
    assert s["ccsignals/tdmrep/unreachable"] == 1
    assert s["ccsignals/tdmrep/found"] == 1
