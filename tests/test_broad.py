"""Broad crawls: no origin stalls the others, tdmrep.json does not hold requests, and the
per-origin state stays bounded (LRU of parsed policies, refetch or store re-read on
eviction, bounded warning set)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import scrapy
from scrapy import Request

from tests.crawling import PagesSpider, page, run_crawl, stats, text, within
from tests.test_own_fetches import NoDontFilterSpider

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def fast_site(server) -> str:
    return server.add_origin({"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("fast")}})


def span(server, origins: list[str]) -> tuple[float, float]:
    """First and last request time (server clock) of the pages (not policy files)."""
    times = [
        entry["time"]
        for origin in origins
        for entry in server.log(origin)
        if entry["path"].startswith("/p/")
    ]
    return min(times), max(times)


@pytest_twisted.ensureDeferred
async def test_silent_robots_txt_does_not_stall_other_origins(server):
    """One origin whose robots.txt answers only after 12 s, and 40 of its pages first in the
    start list: the 50 other origins are crawled as fast as without it. (Before, its
    requests waited inside the downloader, filling CONCURRENT_REQUESTS.)"""
    settings = {"CONCURRENT_REQUESTS": 16, "CCSIGNALS_POLICY_TIMEOUT": 20}
    base = [fast_site(server) for _ in range(50)]
    await run_crawl([f"{o}/p/{i}" for o in base for i in range(3)], settings, follow=False)
    base_first, base_last = span(server, base)

    # Long enough that a loaded machine (the 150 fast pages took 4.4 s at load 7) still
    # finishes them well before it.
    delay = 12.0
    slow = server.add_origin(
        {"/robots.txt": {**text(ALLOW_ALL), "delay": delay}, "/p/*": {"body": page("slow")}}
    )
    fast = [fast_site(server) for _ in range(50)]
    urls = [f"{slow}/p/{i}" for i in range(40)] + [f"{o}/p/{i}" for o in fast for i in range(3)]
    crawler, items = await run_crawl(urls, settings, follow=False)
    assert len(items) == 40 + 150
    robots_asked = server.log(slow)[0]["time"]
    first, last = span(server, fast)
    # Every fast page was fetched long before the slow robots.txt answered...
    assert last < robots_asked + delay - 2
    # ...and about as fast as without the slow origin (loosely: the machine is shared).
    assert last - first <= 3 * (base_last - base_first) + 2.0
    s = stats(crawler)
    assert s["ccsignals/requests/held"] >= 40
    assert "ccsignals/requests/held_lost" not in s


@pytest_twisted.ensureDeferred
async def test_queued_origins_start_while_a_silent_robots_txt_is_in_flight(server):
    """The race behind a rare stall of the test above, made certain: a new origin's
    robots.txt waits until the downloader has room, and it was looked at again only when a
    request left the downloader or a policy fetch ended. A request that leaves the
    downloader is still counted in it (its response then waits in process_response for
    tdmrep.json, here 0.5 s), so when the last one left the downloader was full; nothing
    else left after that, and the only fetch still running was the silent robots.txt: the
    queued origins waited for it."""
    settings = {"CONCURRENT_REQUESTS": 4, "CCSIGNALS_POLICY_TIMEOUT": 20}
    delay = 8.0
    slow = server.add_origin(
        {"/robots.txt": {**text(ALLOW_ALL), "delay": delay}, "/p/*": {"body": page("slow")}}
    )
    tdmrep = {"body": "[]", "headers": {"Content-Type": "application/json"}, "delay": 0.5}
    fast = [
        server.add_origin(
            {
                "/robots.txt": text(ALLOW_ALL),
                "/.well-known/tdmrep.json": tdmrep,
                "/p/*": {"body": page("fast")},
            }
        )
        for _ in range(3)
    ]
    urls = [f"{slow}/p/{i}" for i in range(5)] + [f"{o}/p/{i}" for o in fast for i in range(3)]
    crawler, items = await run_crawl(urls, settings, follow=False)
    assert len(items) == 5 + 9
    robots_asked = server.log(slow)[0]["time"]
    _first, last = span(server, fast)
    # Each fast origin takes ~0.6 s (its tdmrep.json answers after 0.5 s).
    assert last < robots_asked + delay - 2
    s = stats(crawler)
    assert s["ccsignals/requests/held"] >= 5
    assert "ccsignals/requests/held_lost" not in s


@pytest_twisted.ensureDeferred
async def test_slow_tdmrep_does_not_delay_pages_but_is_waited_for(server):
    """tdmrep.json answers after 2 s: the page is fetched at once (robots.txt is all the
    access gate needs), and its response waits for tdmrep.json before the use gate
    decides: /p/1 is reserved by it, so enforce mode drops its item."""
    delay = 2.0
    tdm = '[{"location": "/p/1", "tdm-reservation": 1}, {"location": "/*", "tdm-reservation": 0}]'
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/.well-known/tdmrep.json": {
                "body": tdm,
                "headers": {"Content-Type": "application/json"},
                "delay": delay,
            },
            "/p/*": {"body": page("p")},
        }
    )
    crawler, items = await run_crawl([f"{origin}/p/0", f"{origin}/p/1"], follow=False)
    log = server.log(origin)
    tdmrep_asked = next(e["time"] for e in log if e["path"] == "/.well-known/tdmrep.json")
    pages = [e["time"] for e in log if e["path"].startswith("/p/")]
    assert len(pages) == 2
    assert max(pages) < tdmrep_asked + delay - 0.5
    assert [item["url"] for item in items] == [f"{origin}/p/0"]
    (record,) = [p for p in items[0]["ccsignals"]["policies"] if p["kind"] == "tdmrep.json"]
    assert record["outcome"] == "found"
    assert stats(crawler)["ccsignals/responses/deny"] == 1


class ChainSpider(scrapy.Spider):
    """Visits start_urls one after the other (each request sent once the previous response
    is in), so the order in which origins are used is known."""

    name = "chain"
    start_urls: list[str] = []

    async def start(self) -> Any:
        yield Request(self.start_urls[0], cb_kwargs={"index": 0}, dont_filter=True)

    def parse(self, response: Any, index: int) -> Any:
        yield {"url": response.url}
        if index + 1 < len(self.start_urls):
            yield Request(
                self.start_urls[index + 1], cb_kwargs={"index": index + 1}, dont_filter=True
            )


def chain_sites(server, count: int, delay: float = 0.0) -> list[str]:
    return [
        server.add_origin(
            {"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("p"), "delay": delay}}
        )
        for _ in range(count)
    ]


@pytest_twisted.ensureDeferred
async def test_evicted_policy_is_fetched_again(server):
    """CCSIGNALS_POLICY_CACHE_SIZE=2, origins used A B C A: A's policy was evicted by C,
    and the default memory store keeps no copy, so A's robots.txt is fetched again."""
    a, b, c = chain_sites(server, 3)
    urls = [f"{a}/p/1", f"{b}/p/1", f"{c}/p/1", f"{a}/p/2"]
    crawler, items = await run_crawl(
        urls, {"CCSIGNALS_POLICY_CACHE_SIZE": 2}, spider_cls=ChainSpider
    )
    assert [item["url"] for item in items] == urls
    assert server.paths(a).count("/robots.txt") == 2
    assert server.paths(b).count("/robots.txt") == 1
    s = stats(crawler)
    assert s["ccsignals/policy/evicted"] >= 2
    assert s["ccsignals/policy/fetched"] == 4


@pytest_twisted.ensureDeferred
async def test_policy_cache_large_enough_fetches_once(server):
    a, b, c = chain_sites(server, 3)
    urls = [f"{a}/p/1", f"{b}/p/1", f"{c}/p/1", f"{a}/p/2"]
    crawler, _ = await run_crawl(urls, {"CCSIGNALS_POLICY_CACHE_SIZE": 3}, spider_cls=ChainSpider)
    assert server.paths(a).count("/robots.txt") == 1
    assert "ccsignals/policy/evicted" not in stats(crawler)


@pytest.mark.parametrize(("max_age", "refetched"), [(60, False), (1, True)])
@pytest_twisted.ensureDeferred
async def test_evicted_policy_is_read_again_from_the_store_with_its_age(
    server, tmp_path, max_age, refetched
):
    """With a persistent store an evicted origin is read back from it, and its age counts
    from the original fetch: older than CCSIGNALS_POLICY_MAX_AGE by then, it is fetched."""
    a, b = chain_sites(server, 2)
    (c,) = chain_sites(server, 1, delay=1.5)  # A's entry is > 1 s old when A comes back
    urls = [f"{a}/p/1", f"{b}/p/1", f"{c}/p/1", f"{a}/p/2"]
    settings = {
        "CCSIGNALS_POLICY_CACHE_SIZE": 2,
        "CCSIGNALS_POLICY_STORE": f"sqlite:///{tmp_path / 'p.db'}",
        "CCSIGNALS_POLICY_MAX_AGE": max_age,
    }
    crawler, items = await run_crawl(urls, settings, spider_cls=ChainSpider)
    assert [item["url"] for item in items] == urls
    assert server.paths(a).count("/robots.txt") == (2 if refetched else 1)
    s = stats(crawler)
    assert s.get("ccsignals/policy/store_hit", 0) == (0 if refetched else 1)


def test_warned_set_is_bounded():
    from scrapy.utils.test import get_crawler

    from scrapy_ccsignals.extension import CCSignalsExtension

    crawler = get_crawler(
        settings_dict={
            "USER_AGENT": "TestBot/1.0",
            "CCSIGNALS_POLICY_CACHE_SIZE": 10,
            "CCSIGNALS_AUDIT_LOG": None,  # on by default: no log in the working folder
        }
    )
    ext = CCSignalsExtension(crawler)
    for i in range(100):
        ext.warn_once(f"http://o{i}.test:80", "robots", "w %s", i)
    assert len(ext._warned) == 10
    assert ("http://o99.test:80", "robots") in ext._warned
    assert ("http://o0.test:80", "robots") not in ext._warned
    ext.store.close()


@pytest_twisted.ensureDeferred
async def test_policy_fetches_are_bounded(server):
    """New origins' robots.txt are fetched at most CONCURRENT_REQUESTS/2 at a time (held
    start requests are outside the engine's pacing); the rest queue, none is lost."""
    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.5}, "/p/*": {"body": page("p")}}
        )
        for _ in range(8)
    ]
    crawler, items = await run_crawl(
        [f"{o}/p/1" for o in origins], {"CONCURRENT_REQUESTS": 4}, follow=False
    )
    assert len(items) == 8
    asked = sorted(e["time"] for o in origins for e in server.log(o) if e["path"] == "/robots.txt")
    assert len(asked) == 8
    # Each robots.txt takes 0.5 s: never more than 2 asked within any 0.4 s.
    assert max(sum(1 for u in asked if t <= u < t + 0.4) for t in asked) <= 2
    assert stats(crawler)["ccsignals/policy/queued"] == 6


@pytest_twisted.ensureDeferred
async def test_start_list_is_paced_by_policy_fetches(server):
    """A broad start list is not pulled into the hold all at once: held requests are outside
    the downloader, so Scrapy's engine would read the whole start() (a million URLs, a
    million Requests in memory). The plugin's process_start waits while CONCURRENT_REQUESTS
    // 2 origins are already queued for their robots.txt; nothing is lost."""
    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.2}, "/p/*": {"body": page("p")}}
        )
        for _ in range(40)
    ]
    crawler, items = await run_crawl(
        [f"{o}/p/1" for o in origins], {"CONCURRENT_REQUESTS": 4}, follow=False
    )
    assert len(items) == 40
    s = stats(crawler)
    # 2 fetches in flight + 2 queued, each holding one request (+1: the one just read).
    assert s["ccsignals/requests/held_max"] <= 5
    assert s["ccsignals/requests/held"] == 40
    assert "ccsignals/requests/held_lost" not in s


class FilteredStartSpider(NoDontFilterSpider):
    """Start requests as most spiders write them: ``Request(url)``, which Scrapy's filters
    (duplicates, off-site) may drop, so the hold takes them only once the access gate
    has given them back."""


class OffsiteStartSpider(FilteredStartSpider):
    allowed_domains = ["example.invalid"]


@pytest.mark.parametrize("jobdir", [False, True])
@pytest_twisted.ensureDeferred
async def test_start_list_of_filtered_requests_is_paced_by_policy_fetches(server, tmp_path, jobdir):
    """Also when start requests are not ``dont_filter``: they reach the hold through the
    scheduler and the downloader, after process_start has read on, so it counts them
    while they are on their way (once, the whole start list was read into the hold: a
    million URLs, a million Requests in memory). Also with ``JOBDIR``, whose scheduler keeps
    them on disk, gone from memory once queued (once, the start list was drained from disk
    into the hold, where an interrupted run would lose it)."""
    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.2}, "/p/*": {"body": page("p")}}
        )
        for _ in range(40)
    ]
    settings: dict[str, Any] = {"CONCURRENT_REQUESTS": 4}
    if jobdir:
        settings["JOBDIR"] = str(tmp_path / "job")
    crawler, items = await run_crawl(
        [f"{o}/p/1" for o in origins], settings, follow=False, spider_cls=FilteredStartSpider
    )
    assert len(items) == 40
    s = stats(crawler)
    if jobdir:
        assert s["scheduler/enqueued/disk"] >= 40
    # Without JOBDIR the start list is read ahead by up to 4 start requests per
    # CONCURRENT_REQUESTS (they keep the scheduler from running dry), never further.
    assert s["ccsignals/requests/held_max"] <= (5 if jobdir else 5 + 4 * 4)
    assert s["ccsignals/requests/held"] == 40
    assert "ccsignals/requests/held_lost" not in s


@pytest.mark.parametrize("spider_cls", [PagesSpider, FilteredStartSpider])
@pytest_twisted.ensureDeferred
async def test_many_start_urls_of_a_slow_origin_do_not_stall_the_others(server, spider_cls):
    """Many more start URLs of a slow origin than CONCURRENT_REQUESTS (as a start list
    sorted by origin has): they wait in the hold, and the start list is read on past
    them, up to CCSIGNALS_HOLD_LIMIT held."""
    delay = 4.0
    slow = server.add_origin(
        {"/robots.txt": {**text(ALLOW_ALL), "delay": delay}, "/p/*": {"body": page("slow")}}
    )
    fast = [fast_site(server) for _ in range(10)]
    urls = [f"{slow}/p/{i}" for i in range(100)] + [f"{o}/p/1" for o in fast]
    crawler, items = await within(
        60, run_crawl(urls, {"CONCURRENT_REQUESTS": 4}, follow=False, spider_cls=spider_cls)
    )
    assert len(items) == 110
    robots_asked = server.log(slow)[0]["time"]
    _first, last = span(server, fast)
    assert last < robots_asked + delay - 1.5
    assert stats(crawler)["ccsignals/requests/held_max"] >= 100


@pytest.mark.parametrize("spider_cls", [PagesSpider, FilteredStartSpider])
@pytest_twisted.ensureDeferred
async def test_start_list_of_one_slow_origin_is_not_read_into_the_hold(server, spider_cls):
    """Many start URLs of one origin whose robots.txt is slow: its requests wait in the
    hold, and the start list is not read on while CCSIGNALS_HOLD_LIMIT do (once, one
    origin counted once however many of its requests waited: a sitemap's worth of URLs in
    memory, read in the seconds a silent robots.txt can take)."""
    origin = server.add_origin(
        {"/robots.txt": {**text(ALLOW_ALL), "delay": 1.0}, "/p/*": {"body": page("p")}}
    )
    crawler, items = await within(
        60,
        run_crawl(
            [f"{origin}/p/{n}" for n in range(200)],
            {"CONCURRENT_REQUESTS": 4, "CCSIGNALS_HOLD_LIMIT": 20},
            follow=False,
            spider_cls=spider_cls,
        ),
    )
    assert len(items) == 200
    s = stats(crawler)
    # At most CCSIGNALS_HOLD_LIMIT (start requests on their way included), and one more:
    # the request read before the pacer looked.
    assert s["ccsignals/requests/held_max"] <= 20 + 1
    assert "ccsignals/requests/held_lost" not in s


@pytest_twisted.ensureDeferred
async def test_start_requests_scrapy_drops_do_not_stall_the_start_list(server):
    """Start requests Scrapy's filters drop (off-site, duplicates) never reach the access
    gate: they stop counting against the start list's pace all the same, and their
    sites are never contacted."""
    origins = [server.add_origin({"/robots.txt": text(ALLOW_ALL)}) for _ in range(12)]
    crawler, items = await run_crawl(
        [f"{o}/p/1" for o in origins] * 2,
        {"CONCURRENT_REQUESTS": 4},
        follow=False,
        spider_cls=OffsiteStartSpider,
    )
    assert items == []
    assert all(server.paths(o) == [] for o in origins)
    s = stats(crawler)
    assert s["offsite/filtered"] == 24
    assert "ccsignals/policy/fetched" not in s


#: Request meta key (tests): the pacer's token of a start request, kept for the checks.
STASHED = "_test_start_token"


def note_whether_counted(crawler: Any, what: str, token: str | None) -> None:
    """Note on the spider whether the start request of *token* is still counted."""
    from scrapy_ccsignals.extension import CCSignalsExtension

    if token is not None:  # it was counted (its origin was not known when read)
        pacer = CCSignalsExtension.of(crawler).fetcher.pacer
        crawler.spider.counted.setdefault(what, []).append(token in pacer.starts_on_the_way)


class NotesStartRequests(FilteredStartSpider):
    """Notes, for each counted start request, whether it was still counted right after it
    was dropped, reached the access gate (which gave it back to wait), or was answered or
    ignored by a middleware before the plugin's."""

    name = "notes-starts"

    async def start(self) -> Any:
        self.kept = []  # alive all along: none stops counting by being freed
        for url in self.start_urls:
            request = Request(url)
            self.kept.append(request)
            yield request

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.counted: dict[str, list[bool]] = {}
        # Connected before the pacer's receiver: the token is still in the meta here.
        crawler.signals.connect(spider.dropped, signal=scrapy.signals.request_dropped)
        crawler.signals.connect(spider.scheduled, signal=scrapy.signals.request_scheduled)
        return spider

    def dropped(self, request: Request, **_kwargs: Any) -> None:
        from twisted.internet import reactor

        from scrapy_ccsignals.policy.pacing import START_TOKEN

        token = request.meta.get(START_TOKEN)
        reactor.callLater(0, note_whether_counted, self.crawler, "dropped", token)

    def scheduled(self, request: Request, **_kwargs: Any) -> None:
        # The copy the access gate gave back, scheduled at once (the gate was just left).
        if request.dont_filter and request.meta.get(STASHED):
            note_whether_counted(self.crawler, "at the gate", request.meta.pop(STASHED))


class StashesStartTokens:
    """Before every other downloader middleware: keeps a start request's token aside."""

    def process_request(self, request: Request) -> None:
        from scrapy_ccsignals.policy.pacing import START_TOKEN

        token = request.meta.get(START_TOKEN)
        if token is not None:
            request.meta[STASHED] = token


class AnswersOrIgnoresSome:
    """A downloader middleware before the plugin's that answers some requests itself (as
    a cache does) and ignores others."""

    def process_request(self, request: Request) -> Any:
        from scrapy.exceptions import IgnoreRequest
        from scrapy.http import HtmlResponse

        if request.url.endswith("/answered"):
            return HtmlResponse(request.url, body=page("answered").encode(), request=request)
        if request.url.endswith("/ignored"):
            raise IgnoreRequest("ignored by a middleware")
        return None


class ChecksRightAfterThePlugin:
    """Between the answering middleware and the plugin's: its process_response and
    process_exception run right after the plugin's."""

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        return cls(crawler)

    def process_response(self, request: Request, response: Any) -> Any:
        if request.url.endswith("/answered"):
            note_whether_counted(self.crawler, "answered", request.meta.get(STASHED))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if request.url.endswith("/ignored"):
            note_whether_counted(self.crawler, "ignored", request.meta.get(STASHED))


@pytest_twisted.ensureDeferred
async def test_start_requests_scrapy_drops_stop_counting_at_once(server):
    """A start request the duplicate filter drops, one that reaches the access gate, one a
    middleware before the plugin's answers and one it ignores stop counting against the
    start list's pace when that happens (not only once nothing is in flight)."""
    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.3}, "/p/*": {"body": page("p")}}
        )
        for _ in range(6)
    ]
    urls = [f"{o}/p/{name}" for o in origins for name in ("1", "answered", "ignored")]
    crawler, items = await run_crawl(
        [url for url in urls for _ in range(2)],  # each twice: the duplicate filter drops one
        {
            "CONCURRENT_REQUESTS": 4,
            "DOWNLOADER_MIDDLEWARES": {
                StashesStartTokens: 40,
                AnswersOrIgnoresSome: 50,
                ChecksRightAfterThePlugin: 60,
            },
        },
        follow=False,
        spider_cls=NotesStartRequests,
    )
    spider = crawler.spider
    assert sorted(item["url"] for item in items) == sorted(
        u for u in urls if not u.endswith("/ignored")
    )
    # Each kind was counted on its way (most origins' robots.txt was not known yet) ...
    assert set(spider.counted) == {"dropped", "at the gate", "answered", "ignored"}, spider.counted
    assert sum(len(seen) for seen in spider.counted.values()) >= 18
    # ... and none of them still was once dropped, answered or ignored.
    assert not any(any(seen) for seen in spider.counted.values()), spider.counted


@pytest_twisted.ensureDeferred
async def test_requests_waiting_at_the_gate_do_not_wait_for_room_they_hold(server):
    """Requests sent with ``engine.download_async`` never pass the scheduler (nor the
    hold): they wait at the access gate, in the downloader, for their origin's robots.txt.
    When they fill it, those fetches start at once, and the crawl ends."""
    import asyncio

    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.2}, "/p/*": {"body": page("p")}}
        )
        for _ in range(8)
    ]
    hub = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/": {"body": page("hub")}})
    fetched: list[int] = []

    class DownloadsDirectly(PagesSpider):
        name = "downloads_directly"

        async def parse(self, response: Any, **kwargs: Any) -> Any:
            engine = self.crawler.engine
            responses = await asyncio.gather(
                *(engine.download_async(Request(f"{o}/p/1")) for o in origins)
            )
            fetched.extend(r.status for r in responses)
            yield {"url": response.url}

    crawler, items = await within(
        30,
        run_crawl([f"{hub}/"], {"CONCURRENT_REQUESTS": 4}, spider_cls=DownloadsDirectly),
    )
    assert stats(crawler)["finish_reason"] == "finished"
    assert fetched == [200] * len(origins)
    assert [item["url"] for item in items] == [f"{hub}/"]


@pytest_twisted.ensureDeferred
async def test_robots_txt_fetches_that_start_at_once_are_bounded_too(server):
    """A page can make a spider send any number of requests straight to the downloader
    (a media pipeline's files, each on a host of its own): the robots.txt fetches they
    wait for start at once, but at most ``CONCURRENT_REQUESTS`` at a time; the others wait
    for one of them to end, not for the downloader to have room."""
    import asyncio

    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.5}, "/p/*": {"body": page("p")}}
        )
        for _ in range(12)
    ]
    hub = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/": {"body": page("hub")}})

    class DownloadsDirectly(PagesSpider):
        name = "downloads_directly"

        async def parse(self, response: Any, **kwargs: Any) -> Any:
            engine = self.crawler.engine
            await asyncio.gather(*(engine.download_async(Request(f"{o}/p/1")) for o in origins))
            yield {"url": response.url}

    crawler, _items = await within(
        60, run_crawl([f"{hub}/"], {"CONCURRENT_REQUESTS": 4}, spider_cls=DownloadsDirectly)
    )
    asked = sorted(
        entry["time"] for o in origins for entry in server.log(o) if entry["path"] == "/robots.txt"
    )
    assert len(asked) == len(origins)
    # Each takes 0.5 s: the most asked for within 0.4 s of each other ran side by side.
    side_by_side = max(sum(t <= u < t + 0.4 for u in asked) for t in asked)
    assert side_by_side == 4
    assert stats(crawler)["ccsignals/policy/urgent"] == len(origins)


@pytest_twisted.ensureDeferred
async def test_responses_answered_before_the_gate_do_not_wait_for_room_they_hold(server):
    """A middleware before the plugin's answers links to new origins (as a cache does):
    each answered response waits in the downloader for its origin's robots.txt. When they
    fill it, those fetches cannot wait for the downloader to have room: they start at
    once, and the crawl ends."""
    origins = [
        server.add_origin(
            {"/robots.txt": {**text(ALLOW_ALL), "delay": 0.2}, "/p/*": {"body": page("p")}}
        )
        for _ in range(8)
    ]
    links = "".join(f'<a href="{o}/p/answered">x</a>' for o in origins)
    hub = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/": {"body": page("hub", links)}})
    crawler, items = await within(
        30,
        run_crawl(
            [f"{hub}/"],
            {"CONCURRENT_REQUESTS": 4, "DOWNLOADER_MIDDLEWARES": {AnswersOrIgnoresSome: 50}},
        ),
    )
    assert stats(crawler)["finish_reason"] == "finished"
    assert sorted(item["url"] for item in items) == sorted(
        [f"{hub}/"] + [f"{o}/p/answered" for o in origins]
    )


@pytest_twisted.ensureDeferred
async def test_the_pacer_listens_for_dropped_requests_only_while_it_counts_any(server):
    """Every duplicate link a deep crawl drops is a request_dropped signal: once the start
    requests are counted out, the pacer no longer listens to it."""
    from pydispatch import dispatcher

    from scrapy_ccsignals.extension import CCSignalsExtension

    origin = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("p", '<a href="/p/1">1</a>')}}
    )
    listening: list[bool] = []

    class Checks(FilteredStartSpider):
        name = "checks"

        def parse(self, response: Any, **kwargs: Any) -> Any:
            pacer = CCSignalsExtension.of(self.crawler).fetcher.pacer
            receivers = dispatcher.liveReceivers(
                dispatcher.getAllReceivers(
                    self.crawler.signals.sender, scrapy.signals.request_dropped
                )
            )
            listening.append(
                any(getattr(r, "__func__", None) is type(pacer)._dropped for r in receivers)
            )
            yield from super().parse(response, **kwargs)

    crawler, items = await run_crawl([f"{origin}/p/1", f"{origin}/p/2"], spider_cls=Checks)
    assert len(items) == 2
    assert stats(crawler)["dupefilter/filtered"] >= 1
    assert listening and not listening[-1], listening


@pytest_twisted.ensureDeferred
async def test_new_origins_wait_while_known_pages_fill_the_downloader(server):
    """robots.txt of new origins is fetched when the downloader has room, as Scrapy's own
    middleware paces it (through the requests it sends): otherwise fast policy fetches
    release new origins' requests faster than their pages download, and Scrapy's default
    priority queue slows down with every slot queued in it (issue 20)."""
    origins = [
        server.add_origin(
            {"/robots.txt": text(ALLOW_ALL), "/p/*": {"body": page("p"), "delay": 0.4}}
        )
        for _ in range(16)
    ]
    _crawler, items = await run_crawl(
        [f"{o}/p/1" for o in origins], {"CONCURRENT_REQUESTS": 4}, follow=False
    )
    assert len(items) == 16
    log = sorted((e["time"], e["path"]) for o in origins for e in server.log(o))
    last_robots = max(t for t, path in log if path == "/robots.txt")
    pages_before = sum(1 for t, path in log if path.startswith("/p/") and t < last_robots)
    # Pages take 0.4 s and at most 4 requests are in the downloader: when the last
    # origin's robots.txt is asked, most of the other origins' pages have been sent.
    assert pages_before >= 8


@pytest_twisted.ensureDeferred
async def test_origins_that_disallow_everything_do_not_stall_the_queue(server):
    """Requests the access gate denies leave the downloader without a signal; queued
    origins must still get their turn (no wait for a request that never leaves)."""
    disallow_all = {**text("User-agent: *\nDisallow: /\n"), "delay": 0.1}
    origins = [server.add_origin({"/robots.txt": disallow_all}) for _ in range(12)]
    # One fetch at a time; tdmrep.json (a 404) is in before robots.txt.
    crawler, items = await run_crawl(
        [f"{o}/p/{i}" for o in origins for i in range(2)], {"CONCURRENT_REQUESTS": 2}
    )
    assert items == []
    s = stats(crawler)
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == 24
    assert s["ccsignals/policy/fetched"] == 12
    assert s["finish_reason"] == "finished"


@pytest_twisted.ensureDeferred
async def test_tdmrep_json_is_asked_for_after_the_first_page(server):
    """tdmrep.json is fetched when the first response is to be decided, on the connection
    robots.txt and that page used (beside robots.txt it opened a second connection per
    origin, kept open by Scrapy's pool); the response waits for it."""
    tdm = '[{"location": "/p/0", "tdm-reservation": 1}]'
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/.well-known/tdmrep.json": {
                "body": tdm,
                "headers": {"Content-Type": "application/json"},
            },
            "/p/*": {"body": page("p")},
        }
    )
    crawler, items = await run_crawl([f"{origin}/p/0"], follow=False)
    assert [e["path"] for e in server.log(origin)] == [
        "/robots.txt",
        "/p/0",
        "/.well-known/tdmrep.json",
    ]
    assert items == []  # reserved by tdmrep.json: the response waited for it
    assert stats(crawler)["ccsignals/tdmrep/found"] == 1


@pytest_twisted.ensureDeferred
async def test_no_tdmrep_json_for_an_origin_none_of_whose_pages_is_fetched(server):
    origin = server.add_origin({"/robots.txt": text("User-agent: *\nDisallow: /\n")})
    crawler, items = await run_crawl([f"{origin}/p/0", f"{origin}/p/1"])
    assert items == []
    assert [e["path"] for e in server.log(origin)] == ["/robots.txt"]
    s = stats(crawler)
    assert s["ccsignals/forbidden/robots.txt/disallowed"] == 2
    assert not any(key.startswith("ccsignals/tdmrep/") for key in s)
