"""One benchmark crawl in this process; prints its measurements as one JSON line.

Configurations: ``none`` (no politeness middleware), ``scrapy`` (Scrapy's own
``ROBOTSTXT_OBEY``), ``plugin`` (scrapy-ccsignals: every family, enforce mode, audit log on).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import resource
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class BenchSpider(scrapy.Spider):
    name = "bench"

    def __init__(self, urls: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url)

    def parse(self, response: Response):
        yield {"url": response.url, "title": response.css("title::text").get()}
        for href in response.css("nav a::attr(href)").getall():
            yield response.follow(href)


def settings_for(config: str, audit: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "USER_AGENT": "BenchBot/1.0",
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "RETRY_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "MEMUSAGE_ENABLED": False,
    }
    if config == "scrapy":
        base["ROBOTSTXT_OBEY"] = True
    elif config == "plugin":
        base["ADDONS"] = {"scrapy_ccsignals.Addon": 100}
        base["CCSIGNALS_MODE"] = "enforce"
        base["CCSIGNALS_AUDIT_LOG"] = audit
    return base


#: Thread CPU seconds spent in the plugin's own methods (``--config plugin``), in all
#: ("s") and per method.
OWN: defaultdict[str, float] = defaultdict(float)


class _Timed:
    """Awaits a coroutine, adding the thread CPU time of each of its steps to OWN (the
    time it waits for I/O or other coroutines is not counted)."""

    def __init__(self, coro: Any, name: str):
        self.coro = coro
        self.name = name

    def __await__(self) -> Any:
        gen = self.coro.__await__()
        value: Any = None
        error: BaseException | None = None
        while True:
            start = time.thread_time()
            try:
                step = gen.throw(error) if error is not None else gen.send(value)
            except StopIteration as stop:
                self._add(start)
                return stop.value
            except BaseException:
                self._add(start)
                raise
            self._add(start)
            try:
                value, error = (yield step), None
            except BaseException as exc:  # thrown in by the awaiting task
                value, error = None, exc

    def _add(self, start: float) -> None:
        spent = time.thread_time() - start
        OWN["s"] += spent
        OWN[self.name] += spent


def time_plugin() -> None:
    """Wrap the plugin's per-request and per-response methods to count their CPU time."""
    from scrapy_ccsignals.downloadermiddleware import CCSignalsDownloaderMiddleware
    from scrapy_ccsignals.pipeline import CCSignalsPipeline
    from scrapy_ccsignals.policy.hold import RequestHold
    from scrapy_ccsignals.spidermiddleware import CCSignalsSpiderMiddleware

    def timed_async(cls: Any, name: str) -> None:
        original = getattr(cls, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await _Timed(original(*args, **kwargs), f"{cls.__name__}.{name}")

        setattr(cls, name, wrapper)

    def timed(cls: Any, name: str) -> None:
        original = getattr(cls, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                OWN["s"] += spent
                OWN[f"{cls.__name__}.{name}"] += spent

        setattr(cls, name, wrapper)

    timed_async(CCSignalsDownloaderMiddleware, "process_request")
    timed_async(CCSignalsDownloaderMiddleware, "process_response")
    timed(CCSignalsDownloaderMiddleware, "process_exception")
    timed(CCSignalsSpiderMiddleware, "get_processed_item")
    timed(CCSignalsPipeline, "process_item")
    for name in ("_scheduled", "request_scheduled"):
        if hasattr(RequestHold, name):
            timed(RequestHold, name)


#: Thread CPU seconds of the steps inside the plugin's methods (``--own-steps``); counted
#: inside OWN's methods too, so not added to OWN["s"]. Each timed call adds ~1 us of
#: ``time.thread_time`` calls to the step and to the method around it.
STEPS: defaultdict[str, float] = defaultdict(float)


def time_steps() -> None:
    """Wrap the steps of the plugin's response path (facts, evaluate, record, the audit
    line, the stats, the item's attribution and copy, the dropped item's audit line)."""
    from scrapy_ccsignals import downloadermiddleware, extension, items, spidermiddleware
    from scrapy_ccsignals.records import audit

    def timed(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                STEPS[label] += time.thread_time() - start

        setattr(owner, name, wrapper)

    middleware = downloadermiddleware.CCSignalsDownloaderMiddleware
    timed(downloadermiddleware, "facts_of_response", "facts (headers, page scan)")
    timed(downloadermiddleware, "evaluate", "evaluate")
    timed(downloadermiddleware, "build_record", "record (SHA-256 incl.)")
    timed(middleware, "_account", "account (stats, audit line)")
    timed(audit.AuditLog, "event", "audit lines (all)")
    timed(extension.CCSignalsExtension, "inc", "stats (all)")
    timed(spidermiddleware, "add_page_attribution", "item: attribution")
    timed(items.ItemProvenance, "attach", "item: record copy")
    timed(spidermiddleware.CCSignalsSpiderMiddleware, "_audit_item", "item: dropped (audit line)")


def callgrind(command: str) -> None:
    """Tell the callgrind running this process to *command* (e.g. ``--instr=on``)."""
    subprocess.run(
        ["callgrind_control", command, str(os.getpid())], check=True, capture_output=True
    )


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=["none", "scrapy", "plugin"], required=True)
    parser.add_argument("--urls", required=True, help="file with one start URL per line")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="extra setting"
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="PATH",
        help="write a cProfile of the crawl (reactor thread, its CPU time) to PATH "
        "(bench/profdiff.py)",
    )
    parser.add_argument(
        "--no-own",
        action="store_true",
        help="do not time the plugin's own methods (the timing wrappers cost CPU too)",
    )
    parser.add_argument(
        "--own-steps",
        action="store_true",
        help="also time the steps inside the plugin's methods (plugin_own_steps_us)",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="under valgrind --tool=callgrind --instr-atstart=no: count instructions only "
        "from spider_opened to spider_closed (callgrind_control), not start-up",
    )
    parser.add_argument(
        "--slow",
        default=None,
        metavar="ORIGIN",
        help="report when every origin but this one was done (the slow-origin scenario)",
    )
    args = parser.parse_args()
    # Time spent in full (generation 2) collections: it grows with the retained heap.
    gc_time = {"gen2": 0.0, "start": 0.0}
    # Collections per generation between spider_opened and spider_closed, and the thread
    # CPU they took (freeing a page's lxml tree costs the same in whichever generation it
    # dies: compare the sum, not gen-2 alone).
    gc_count = [0, 0, 0]
    gc_cpu = [0.0, 0.0, 0.0, 0.0]  # per generation, and the start of the current one

    def gc_callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_count[info["generation"]] += 1
            gc_cpu[3] = time.thread_time()
        else:
            gc_cpu[info["generation"]] += time.thread_time() - gc_cpu[3]
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_time["start"] = time.perf_counter()
        else:
            gc_time["gen2"] += time.perf_counter() - gc_time["start"]

    gc.callbacks.append(gc_callback)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    urls = Path(args.urls).read_text().split()
    origins = {"/".join(url.split("/", 3)[:3]) for url in urls}
    if args.config == "plugin" and not args.no_own:
        time_plugin()
        if args.own_steps:
            time_steps()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(args.config, f"{tmp}/audit.jsonl")
        extra = dict(item.split("=", 1) for item in args.set)
        settings.update({k: None if v == "None" else v for k, v in extra.items()})
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(BenchSpider)
        marks: dict[str, float] = {}
        policy: Counter[str] = Counter()

        last_fast = {"t": 0.0}

        def opened(**kw: Any) -> None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            marks["t0"], marks["cpu0"] = time.perf_counter(), usage.ru_utime + usage.ru_stime
            marks["rss0"] = rss_mb()
            marks["thread0"] = time.thread_time()
            gc_time["gen2"] = 0.0
            gc_count[:] = [0, 0, 0]
            gc_cpu[:3] = [0.0, 0.0, 0.0]
            if args.callgrind:
                callgrind("--instr=on")

        def closed(**kw: Any) -> None:
            if args.callgrind:
                callgrind("--instr=off")
            usage = resource.getrusage(resource.RUSAGE_SELF)
            marks["t1"], marks["cpu1"] = time.perf_counter(), usage.ru_utime + usage.ru_stime
            marks["thread1"] = time.thread_time()
            marks["gc"] = list(gc_count)
            marks["gc_cpu"] = list(gc_cpu[:3])

        def received(response: Response, **kw: Any) -> None:
            path = urlsplit(response.url).path
            if path in ("/robots.txt", "/.well-known/tdmrep.json"):
                policy[path] += 1
            elif args.slow is not None and not response.url.startswith(args.slow):
                last_fast["t"] = time.perf_counter()

        crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        crawler.signals.connect(received, signal=signals.response_received, weak=False)
        process.crawl(crawler, urls=urls)
        if args.profile:
            # Thread CPU time as the timer: the time the reactor thread waits for the GIL
            # while a writer thread (audit log, evidence archive) holds it is not counted
            # (with the default wall clock it showed as lxml's parse time).
            profiler = cProfile.Profile(time.thread_time)
            profiler.runcall(process.start)
            profiler.dump_stats(args.profile)
        else:
            process.start()
        assert crawler.stats is not None
        stats = crawler.stats.get_stats()
    elapsed = marks["t1"] - marks["t0"]
    pages = stats.get("response_received_count", 0) - sum(policy.values())
    print(
        json.dumps(
            {
                "config": args.config,
                "pages": pages,
                "items": stats.get("item_scraped_count", 0),
                "seconds": elapsed,
                "pages_per_s": pages / elapsed if elapsed else 0.0,
                "cpu_s": marks["cpu1"] - marks["cpu0"],
                "peak_rss_mb": peak_rss_mb(),
                "policy_requests_per_origin": sum(policy.values()) / max(1, len(origins)),
                "cpu_ms_per_page": 1000 * (marks["cpu1"] - marks["cpu0"]) / max(1, pages),
                "gc2_s": gc_time["gen2"],
                # The reactor thread's CPU per page; the rest of cpu_ms_per_page is other
                # threads' (the audit log's writer, Scrapy's DNS and thread pools).
                "reactor_ms_per_page": 1000 * (marks["thread1"] - marks["thread0"]) / max(1, pages),
                "gc_collections": marks["gc"],
                "gc_cpu_ms_per_page": [round(1000 * t / max(1, pages), 3) for t in marks["gc_cpu"]],
                "rss_at_open_mb": marks["rss0"],
                "rss_per_origin_kb": 1024 * (peak_rss_mb() - marks["rss0"]) / max(1, len(origins)),
                "fast_done_s": (last_fast["t"] - marks["t0"]) if args.slow else None,
                # Thread CPU in the plugin's own methods per page (plugin only).
                "plugin_own_us_per_page": 1e6 * OWN["s"] / max(1, pages)
                if args.config == "plugin" and not args.no_own
                else None,
                "plugin_own_us_by_method": {
                    k: round(1e6 * v / max(1, pages), 1) for k, v in OWN.items() if k != "s"
                }
                if args.config == "plugin"
                else None,
                "plugin_own_steps_us": {
                    k: round(1e6 * v / max(1, pages), 1) for k, v in STEPS.items()
                }
                if STEPS
                else None,
            }
        )
    )


if __name__ == "__main__":
    main()
