"""Pausing and resuming a crawl with ``JOBDIR``: requests held for their origin's robots.txt
are not in Scrapy's disk queue while they wait, so when the crawl stops early those that
nothing else would bring back are put there, and the resumed crawl fetches them."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest_twisted
from scrapy import Request, signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from scrapy_ccsignals.extension import CCSignalsExtension
from tests.crawling import PagesSpider, page, run_crawl, stats, text, within
from tests.test_broad import ALLOW_ALL, FilteredStartSpider

#: How many held requests StopWhenHeld waits for, with at least one robots.txt fetch
#: queued (with CONCURRENT_REQUESTS 4, at most 2 run at once).
HELD_AT_STOP = 3
SETTINGS: dict[str, Any] = {
    "CONCURRENT_REQUESTS": 4,
    "EXTENSIONS": {"tests.test_jobdir.StopWhenHeld": 0},
}


class StopWhenHeld:
    """Stops the crawl gracefully, as a first Ctrl-C does (``Crawler.stop_async``), once
    the hold keeps :data:`HELD_AT_STOP` requests and a robots.txt fetch waits its turn
    (setting ``STOP_WHEN_HELD``): not while the first start requests wait for their
    origin's robots.txt, which is in flight."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.loop = task.LoopingCall(self.check)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StopWhenHeld:
        return cls(crawler)

    def opened(self) -> None:
        if self.crawler.settings.getbool("STOP_WHEN_HELD"):
            self.loop.start(0.02)

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        hold = CCSignalsExtension.of(self.crawler).hold
        queued = self.crawler.stats.get_value("ccsignals/policy/queued", 0)
        if hold is not None and hold.held >= HELD_AT_STOP and queued >= 1:
            self.loop.stop()
            deferred_from_coro(self.crawler.stop_async())


def fetched(server, origins: list[str], prefix: str = "/p/") -> Counter[str]:
    """How often each page (or, with *prefix* ``/robots.txt``, robots.txt) of *origins*
    was asked for."""
    return Counter(
        f"{origin}{path}"
        for origin in origins
        for path in server.paths(origin)
        if path.startswith(prefix)
    )


def slow_origins(server, count: int = 8) -> list[str]:
    """New origins whose robots.txt takes 1 s."""
    return [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 1.0}, "/p/*": {"body": page("slow")}}
        )
        for _ in range(count)
    ]


def hub_and_linked(server) -> tuple[str, list[str]]:
    """A site whose first page links to 8 new origins, each robots.txt taking 1 s."""
    linked = slow_origins(server)
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
    """The crawl stops while links to new origins wait in the hold, their robots.txt
    fetches in flight or queued behind them. Closing waits for the fetches in flight, not
    for those queued; and a link is not yielded again by the resumed crawl (the page that
    yielded it is done): once, the requests still held were lost (only counted, in
    ``ccsignals/requests/held_lost``)."""
    hub, linked = hub_and_linked(server)
    urls = [f"{hub}/p/{i}" for i in range(6)]
    settings = {**SETTINGS, "JOBDIR": str(tmp_path / "job")}

    first, _items = await within(
        60,
        run_crawl(urls, {**settings, "STOP_WHEN_HELD": True}, spider_cls=FilteredStartSpider),
    )
    s = stats(first)
    assert s["finish_reason"] == "shutdown"
    not_started = [o for o in linked if not fetched(server, [o], "/robots.txt")]
    assert not_started  # their robots.txt fetch had not started when the crawl stopped
    assert s["ccsignals/requests/held_saved"] >= 1
    assert "ccsignals/requests/held_lost" not in s

    second, _items = await within(60, run_crawl(urls, settings, spider_cls=FilteredStartSpider))
    s = stats(second)
    assert s["finish_reason"] == "finished"
    assert "ccsignals/requests/held_lost" not in s
    # Every page once over the two runs: the linked ones too, and none twice.
    assert fetched(server, [hub, *linked]) == Counter(urls + [f"{o}/p/0" for o in linked])


@pytest_twisted.ensureDeferred
async def test_held_dont_filter_start_requests_are_left_to_the_resumed_start_list(server, tmp_path):
    """A ``dont_filter`` start request (Scrapy's default ``start()``) comes back with the
    resumed crawl's start list: saved as well, it would be fetched twice."""
    origins = slow_origins(server)
    urls = [f"{origin}/p/0" for origin in origins]
    settings = {**SETTINGS, "JOBDIR": str(tmp_path / "job")}

    first, _items = await within(
        60, run_crawl(urls, {**settings, "STOP_WHEN_HELD": True}, spider_cls=PagesSpider)
    )
    s = stats(first)
    assert s["finish_reason"] == "shutdown"
    not_started = [o for o in origins if not fetched(server, [o], "/robots.txt")]
    assert not_started
    assert s["ccsignals/requests/held_left_to_start"] >= 1
    assert "ccsignals/requests/held_saved" not in s
    assert "ccsignals/requests/held_lost" not in s

    await within(60, run_crawl(urls, settings, spider_cls=PagesSpider))
    pages = fetched(server, origins)
    assert set(pages) == set(urls)  # every page, over the two runs
    # Those left to the start list, once. (A page whose robots.txt was in flight when the
    # crawl stopped went to the queue, and its start request comes back too: Scrapy
    # fetches such a request twice with JOBDIR, with or without the plugin.)
    assert all(pages[f"{o}/p/0"] == 1 for o in not_started)


@pytest_twisted.ensureDeferred
async def test_without_jobdir_requests_held_when_the_crawl_stops_are_counted(server, caplog):
    """Without ``JOBDIR`` nothing resumes: what was held when the crawl stopped is counted
    and said in one warning, not saved."""
    hub, linked = hub_and_linked(server)
    crawler, _items = await within(
        60,
        run_crawl(
            [f"{hub}/p/{i}" for i in range(6)],
            {**SETTINGS, "STOP_WHEN_HELD": True},
            spider_cls=FilteredStartSpider,
        ),
    )
    s = stats(crawler)
    assert s["finish_reason"] == "shutdown"
    lost = s["ccsignals/requests/held_lost"]
    assert lost >= 1
    assert lost + sum(fetched(server, linked).values()) <= len(linked)
    assert "ccsignals/requests/held_saved" not in s
    assert f"{lost} request(s) were waiting for their origin's robots.txt" in caplog.text


@pytest_twisted.ensureDeferred
async def test_with_jobdir_but_not_the_pipeline_the_warning_says_what_saves_them(
    server, tmp_path, caplog
):
    """The item pipeline is what puts held requests in the ``JOBDIR`` queue (the last hook
    before Scrapy's scheduler closes): a crawl configured without it loses them, and the
    warning says why."""
    hub, _linked = hub_and_linked(server)
    crawler, _items = await within(
        60,
        run_crawl(
            [f"{hub}/p/{i}" for i in range(6)],
            {
                **SETTINGS,
                "JOBDIR": str(tmp_path / "job"),
                "STOP_WHEN_HELD": True,
                "ITEM_PIPELINES": {"scrapy_ccsignals.pipeline.CCSignalsPipeline": None},
            },
            spider_cls=FilteredStartSpider,
        ),
    )
    s = stats(crawler)
    assert s["ccsignals/requests/held_lost"] >= 1
    assert "ccsignals/requests/held_saved" not in s
    assert "scrapy_ccsignals.pipeline.CCSignalsPipeline, puts them in its queue" in caplog.text


class UnserialisableLinksSpider(FilteredStartSpider):
    """Links carry an object pickle cannot write: Scrapy's scheduler keeps such a request
    in memory, not in the ``JOBDIR`` queue."""

    name = "unserialisable-links"

    def parse(self, response: Any, lock: Any = None) -> Any:
        for output in super().parse(response):
            if isinstance(output, Request):
                output = output.replace(cb_kwargs={"lock": threading.Lock()})
            yield output


@pytest_twisted.ensureDeferred
async def test_held_requests_the_jobdir_queue_cannot_keep_are_counted_lost(server, tmp_path):
    hub, _linked = hub_and_linked(server)
    crawler, _items = await within(
        60,
        run_crawl(
            [f"{hub}/p/{i}" for i in range(6)],
            {**SETTINGS, "JOBDIR": str(tmp_path / "job"), "STOP_WHEN_HELD": True},
            spider_cls=UnserialisableLinksSpider,
        ),
    )
    s = stats(crawler)
    assert s["ccsignals/requests/held_lost"] >= 1
    assert "ccsignals/requests/held_saved" not in s
    assert s["scheduler/unserializable"] >= s["ccsignals/requests/held_lost"]
