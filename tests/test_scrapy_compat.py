"""Fails loudly when a Scrapy upgrade changes an internal that scrapy_compat relies on."""

from __future__ import annotations

import random

import pytest
import pytest_twisted
from scrapy.core.downloader import Downloader, Slot
from scrapy.http import Headers
from scrapy.utils.test import get_crawler

from scrapy_ccsignals.scrapy_compat import (
    floor_slot,
    floor_slot_delay,
    item_pipelines,
    raw_header_items,
    scheduler_has_pending,
)
from tests.crawling import PagesSpider, page, run_crawl, text


def test_headers_are_a_dict_of_bytes_lists():
    headers = Headers({"Content-Usage": ["train-ai=n", "search=y"], "X-Robots-Tag": "noai"})
    items = dict(raw_header_items(headers))
    assert items[b"Content-Usage"] == [b"train-ai=n", b"search=y"]
    assert items[b"X-Robots-Tag"] == [b"noai"]


def test_floored_slot_never_goes_under_its_floor():
    random.seed(1)
    slot = Slot(concurrency=1, delay=1.0, jitter=0.5)
    assert min(slot.download_delay() for _ in range(200)) < 0.9  # Scrapy's jitter shortens
    floor_slot(slot, 1.0)
    assert min(slot.download_delay() for _ in range(200)) >= 1.0
    slot.delay = 0.1  # what AutoThrottle does
    assert slot.download_delay() >= 1.0
    floor_slot(slot, 0.5)  # a lower floor never lowers it
    assert slot.floor == 1.0
    assert isinstance(slot, Slot)


def test_downloader_internals_used_for_slot_settings():
    crawler = get_crawler(settings_dict={"DOWNLOAD_DELAY": 0.25})
    crawler._apply_settings()
    downloader = Downloader(crawler)
    assert downloader._delay == 0.25
    floor_slot_delay(downloader, "example.com", 2.0)
    assert downloader.per_slot_settings["example.com"]["delay"] == 2.0
    assert isinstance(downloader.slots, dict)
    assert downloader.DOWNLOAD_SLOT == "download_slot"
    downloader.close()


def test_engine_slot_nextcall_that_wake_engine_uses():
    """wake_engine() reaches engine._slot.nextcall.schedule(): fail here, not by a crawl
    that waits for Scrapy's 5 s heartbeat, if Scrapy renames them."""
    import inspect

    from scrapy.core import engine

    assert "nextcall" in inspect.signature(engine._Slot.__init__).parameters
    assert "self._slot" in inspect.getsource(engine.ExecutionEngine.__init__)
    assert "schedule" in dir(engine.CallLaterOnce)


@pytest_twisted.ensureDeferred
async def test_scheduler_has_pending_in_a_real_crawl(server):
    """scheduler_has_pending() reads engine._slot.scheduler: with one request at a time,
    the later start requests wait in the scheduler while the first is parsed, and none
    is left when the last is."""
    seen: list[bool] = []

    class Spider(PagesSpider):
        name = "pending"

        def parse(self, response):
            seen.append(scheduler_has_pending(self.crawler.engine))
            yield {"url": response.url}

    origin = server.add_origin(
        {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/p/*": {"body": page("p")}}
    )
    _crawler, items = await run_crawl(
        [f"{origin}/p/{i}" for i in range(3)],
        {"CONCURRENT_REQUESTS": 1},
        follow=False,
        spider_cls=Spider,
    )
    assert len(items) == 3
    assert seen[0] is True and seen[-1] is False


@pytest_twisted.ensureDeferred
async def test_item_pipelines_of_a_real_crawl(server, tmp_path):
    """item_pipelines() reads engine.scraper.itemproc.middlewares: the media pipeline the
    crawl was configured with is among them (its files then get provenance records)."""
    from scrapy.pipelines.files import FilesPipeline

    seen: list[tuple[type, ...]] = []

    class Spider(PagesSpider):
        name = "pipelines"

        def parse(self, response):
            seen.append(tuple(type(p) for p in item_pipelines(self.crawler.engine)))
            yield {"url": response.url}

    origin = server.add_origin(
        {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/p": {"body": page("p")}}
    )
    await run_crawl(
        [f"{origin}/p"],
        {
            "ITEM_PIPELINES": {"scrapy.pipelines.files.FilesPipeline": 1},
            "FILES_STORE": str(tmp_path),
        },
        follow=False,
        spider_cls=Spider,
    )
    assert seen and FilesPipeline in seen[0]


def test_stats_method_skips_only_scrapys_spider_argument_shim():
    import functools

    from scrapy.statscollectors import MemoryStatsCollector

    from scrapy_ccsignals.scrapy_compat import stats_method

    crawler = get_crawler()
    stats = MemoryStatsCollector(crawler)
    # The shim this skips (if Scrapy drops it, so can scrapy_compat.stats_method):
    assert stats.inc_value.__code__.co_qualname.startswith("_warn_spider_arg.")
    inc = stats_method(stats, "inc_value")
    assert not (
        inc.__code__ if hasattr(inc, "__code__") else inc.__func__.__code__
    ).co_qualname.startswith("_warn_spider_arg.")
    inc("a", 2)
    inc("a", 1)
    assert stats.get_value("a") == 3

    calls: list[str] = []

    def exported(func):
        @functools.wraps(func)
        def inner(self, key, *args, **kwargs):
            calls.append(key)
            return func(self, key, *args, **kwargs)

        return inner

    class ExportingStats(MemoryStatsCollector):
        inc_value = exported(MemoryStatsCollector.inc_value)

    own = ExportingStats(crawler)
    stats_method(own, "inc_value")("b")
    assert calls == ["b"]  # the collector's own wrapper still runs
    assert own.get_value("b") == 1


def test_slot_pause_and_exact_floor():
    """The back-off moves ``Slot.lastseen`` and sets an exact floor; the downloader must
    still count a slot's next download from ``lastseen`` plus ``download_delay()``."""
    import inspect

    from scrapy_ccsignals.scrapy_compat import pause_slot, set_slot_floor

    source = inspect.getsource(Downloader._process_queue)
    assert "slot.download_delay()" in source and "slot.lastseen" in source
    slot = Slot(concurrency=1, delay=0.0, jitter=0.0)
    pause_slot(slot, 100.0)  # no floor: nothing to count a pause from
    assert slot.lastseen == 0
    set_slot_floor(slot, 2.0)
    pause_slot(slot, 100.0)
    assert slot.download_delay() == 2.0 and slot.lastseen == 98.0
    floor_slot(slot, 3.0)
    set_slot_floor(slot, 0.5)  # lower, unlike floor_slot
    assert slot.floor == 0.5
    set_slot_floor(slot, 0.0)
    assert type(slot) is Slot


@pytest.mark.parametrize(
    "storage",
    [
        "scrapy.extensions.httpcache.FilesystemCacheStorage",
        "scrapy.extensions.httpcache.DbmCacheStorage",
    ],
)
def test_http_cache_storages_say_when_they_stored(tmp_path, storage):
    from scrapy.http import Request, Response
    from scrapy.utils.misc import load_object

    from scrapy_ccsignals.scrapy_compat import cached_at

    crawler = get_crawler(PagesSpider, {"HTTPCACHE_DIR": str(tmp_path)})
    crawler.spider = spider = PagesSpider.from_crawler(crawler)
    cache = load_object(storage)(crawler.settings)
    cache.open_spider(spider)
    try:
        request = Request("http://127.0.0.1/x")
        cache.store_response(spider, request, Response(request.url, body=b"x"))
        again = Request("http://127.0.0.1/x")
        response = cache.retrieve_response(spider, again)
        assert isinstance(again.meta["cache_timestamp"], float)
        assert cached_at(again, response) == again.meta["cache_timestamp"]
    finally:
        cache.close_spider(spider)


def test_stats_incrementer_counts_into_scrapys_collectors_without_their_attribute_hook():
    """Scrapy's ``StatsCollector.__getattribute__`` runs for every attribute read of a
    collector, ``inc_value``'s own ``self._stats`` included, and raises an AttributeError
    inside for each: the plugin's several counts per response go to the collector's dict
    directly, for collectors that keep Scrapy's own ``inc_value`` (the hook is what the
    plugin skips; the counts and ``set_stats`` behave as through ``inc_value``)."""
    from scrapy.statscollectors import (
        DummyStatsCollector,
        MemoryStatsCollector,
        StatsCollector,
    )

    from scrapy_ccsignals.scrapy_compat import stats_incrementer

    crawler = get_crawler()
    stats = MemoryStatsCollector(crawler)
    reads: list[str] = []

    class Watched(MemoryStatsCollector):
        def __getattribute__(self, name):
            reads.append(name)
            return StatsCollector.__getattribute__(self, name)

    # The layout this relies on: Scrapy's inc_value reads self._stats through the hook.
    watched = Watched(crawler)
    watched.inc_value("w")
    assert "_stats" in reads and watched.get_value("w") == 1

    inc = stats_incrementer(stats)
    inc("a")
    inc("a", 2)
    stats.inc_value("a")  # Scrapy's own increments land in the same place
    assert stats.get_value("a") == 4
    stats.set_stats({"b": 5})  # a collector given new stats: counts follow them
    inc("b")
    inc("a")
    assert stats.get_stats() == {"b": 6, "a": 1}

    # A collector with its own inc_value, or its own attribute hook, is called as before.
    assert stats_incrementer(DummyStatsCollector(crawler)) is not None
    dummy = DummyStatsCollector(crawler)
    stats_incrementer(dummy)("c")
    assert dummy.get_stats() == {}
    reads.clear()
    stats_incrementer(watched)("w")
    assert watched.get_value("w") == 2 and "_stats" in reads

    calls: list[str] = []

    class Exporting(MemoryStatsCollector):
        def inc_value(self, key, count=1, start=0, spider=None):
            calls.append(key)
            super().inc_value(key, count, start)

    own = Exporting(crawler)
    stats_incrementer(own)("e", 3)
    assert calls == ["e"] and own.get_value("e") == 3
