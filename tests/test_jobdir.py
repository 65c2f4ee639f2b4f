"""Pausing and resuming a crawl with ``JOBDIR``: requests held for their origin's robots.txt
are not in Scrapy's disk queue while they wait, so when the crawl stops early they are put
there, and the resumed crawl fetches them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest_twisted

from tests.crawling import page, run_crawl, stats, text, within
from tests.test_broad import ALLOW_ALL, FilteredStartSpider


def fetched_pages(server, origins: list[str]) -> Counter[str]:
    """How often each page (not policy file) of *origins* was asked for."""
    return Counter(
        f"{origin}{path}"
        for origin in origins
        for path in server.paths(origin)
        if path.startswith("/p/")
    )


def hub_and_linked(server) -> tuple[str, list[str]]:
    """A site whose first page links to 8 new origins, each robots.txt taking 1 s: with
    ``CONCURRENT_REQUESTS`` 4, two are fetched at once and the others queue."""
    linked = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 1.0}, "/p/*": {"body": page("linked")}}
        )
        for _ in range(8)
    ]
    links = "".join(f'<a href="{origin}/p/0">x</a>' for origin in linked)
    hub = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/p/0": {"body": page("hub", links)},
            "/p/*": {"body": page("fast")},
        }
    )
    return hub, linked


@pytest_twisted.ensureDeferred
async def test_requests_held_when_the_crawl_stops_are_fetched_when_it_resumes(server, tmp_path):
    """The crawl stops (here CLOSESPIDER_ITEMCOUNT; Ctrl-C alike) while links to new
    origins wait in the hold, their robots.txt fetches in flight or queued behind them.
    Closing waits for the fetches in flight, not for those queued; and a link is not
    yielded again by the resumed crawl (the page that yielded it is done): once, the
    requests still held were lost (only counted, in ``ccsignals/requests/held_lost``)."""
    fast, linked = hub_and_linked(server)
    urls = [f"{fast}/p/{i}" for i in range(6)]
    settings: dict[str, Any] = {"CONCURRENT_REQUESTS": 4, "JOBDIR": str(tmp_path / "job")}

    first, _items = await within(
        60,
        run_crawl(urls, {**settings, "CLOSESPIDER_ITEMCOUNT": 3}, spider_cls=FilteredStartSpider),
    )
    s = stats(first)
    assert s["finish_reason"] == "closespider_itemcount"
    assert sum(fetched_pages(server, linked).values()) < len(linked)  # stopped early
    assert s.get("ccsignals/requests/held_saved", 0) >= 1
    assert "ccsignals/requests/held_lost" not in s

    second, _items = await within(60, run_crawl(urls, settings, spider_cls=FilteredStartSpider))
    s = stats(second)
    assert s["finish_reason"] == "finished"
    assert "ccsignals/requests/held_lost" not in s
    # Every page once over the two runs: the linked ones too, and none twice.
    assert fetched_pages(server, [fast, *linked]) == Counter(
        urls + [f"{origin}/p/0" for origin in linked]
    )


@pytest_twisted.ensureDeferred
async def test_without_jobdir_requests_held_when_the_crawl_stops_are_counted(server, caplog):
    """Without ``JOBDIR`` nothing resumes: what was held when the crawl stopped is counted
    and said in one warning, not saved."""
    fast, linked = hub_and_linked(server)
    crawler, _items = await within(
        60,
        run_crawl(
            [f"{fast}/p/{i}" for i in range(6)],
            {"CONCURRENT_REQUESTS": 4, "CLOSESPIDER_ITEMCOUNT": 3},
            spider_cls=FilteredStartSpider,
        ),
    )
    s = stats(crawler)
    assert s["finish_reason"] == "closespider_itemcount"
    lost = s["ccsignals/requests/held_lost"]
    assert lost >= 1
    assert lost + sum(fetched_pages(server, linked).values()) <= len(linked)
    assert "ccsignals/requests/held_saved" not in s
    assert f"{lost} request(s) were waiting for their origin's robots.txt" in caplog.text
