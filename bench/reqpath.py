"""Instructions per request and per spider output of the request path, the plugin's beside
Scrapy's ``ROBOTSTXT_OBEY``, counted by valgrind's callgrind (load-independent).

Cases, each run as the crawl runs it on a request of an origin whose robots.txt is known
(its URL parse cached, as Scrapy's filters leave it):

- ``scrapy-request``: ``RobotsTxtMiddleware.process_request`` (a parser lookup, protego);
- ``plugin-request``: the plugin's downloader middleware's ``process_request`` (the access
  gate);
- ``plugin-output``: one request a callback yields, through the plugin's spider middleware
  and the layer Scrapy wraps around every spider middleware's output (``ROBOTSTXT_OBEY``
  has no spider middleware: this is all extra).

Each case runs in two processes under ``valgrind --tool=callgrind`` making *warm* and
*warm* + *calls* calls; a ``base`` process that only builds the requests (and iterates them, for the output case) is
taken out, so
the difference divided by *calls* is the case's own count.

    python -m bench.reqpath                     # all cases
    python -m bench.reqpath --calls 2000 --warm 200
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from scrapy import Request, Spider
from scrapy.core.spidermw import SpiderMiddlewareManager
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import HtmlResponse
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.python import MutableAsyncChain
from scrapy.utils.test import get_crawler

ORIGIN = "http://127.0.0.1:1"
NETLOC = "127.0.0.1:1"
ROBOTS = "User-agent: *\nDisallow: /private/\nContent-Usage: train-ai=n\n"
CASES = ("scrapy-request", "plugin-request", "plugin-output")


class _Spider(Spider):
    name = "reqpath"


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends (a known origin's request) to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the coroutine waited: the origin's policy was not known")


def _crawler(plugin: bool) -> Any:
    settings: dict[str, Any] = {"CCSIGNALS_AUDIT_LOG": None, "LOG_LEVEL": "INFO"}
    if plugin:
        settings["ADDONS"] = {"scrapy_ccsignals.Addon": 100}
    else:
        settings["ROBOTSTXT_OBEY"] = True
    crawler = get_crawler(_Spider, settings)
    crawler.spider = _Spider()
    return crawler


def _requests(calls: int) -> list[Request]:
    requests = [Request(f"{ORIGIN}/p/{i}") for i in range(calls)]
    for request in requests:
        urlparse_cached(request)
    return requests


def scrapy_request(calls: int) -> Callable[[], None]:
    crawler = _crawler(plugin=False)
    middleware = RobotsTxtMiddleware.from_crawler(crawler)
    middleware._parsers[NETLOC] = ProtegoRobotParser(ROBOTS.encode(), crawler.spider)
    return _each(middleware.process_request, _requests(calls))


def _each(method: Callable[[Request], Any], requests: list[Request]) -> Callable[[], None]:
    def run() -> None:
        for request in requests:
            drive(method(request))

    return run


def plugin_request(calls: int) -> Callable[[], None]:
    from scrapy_ccsignals.downloadermiddleware import CCSignalsDownloaderMiddleware

    crawler = _crawler(plugin=True)
    middleware = CCSignalsDownloaderMiddleware.from_crawler(crawler)
    _know_origin(middleware.runtime)
    return _each(middleware.process_request, _requests(calls))


def _know_origin(runtime: Any) -> None:
    """Put the origin's parsed robots.txt in the plugin's policy cache, fresh for good."""
    from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
    from scrapy_ccsignals.signals.robots import parse_robots

    record = PolicyRecord("robots.txt", f"{ORIGIN}/robots.txt", 200, "t", "x", "parsed")
    rules = parse_robots(ROBOTS, runtime.cfg.token)
    policy = OriginPolicy(ORIGIN, rules, record, None, record, time.monotonic() + 1e9)
    runtime.fetcher.policies.put(ORIGIN, policy)


def plugin_output(calls: int) -> Callable[[], None]:
    from scrapy_ccsignals.downloadermiddleware import CCSignalsDownloaderMiddleware
    from scrapy_ccsignals.spidermiddleware import CCSignalsSpiderMiddleware

    crawler = _crawler(plugin=True)
    CCSignalsDownloaderMiddleware.from_crawler(crawler)  # the hold the spider middleware asks
    middleware = CCSignalsSpiderMiddleware.from_crawler(crawler)
    manager = SpiderMiddlewareManager.from_crawler(crawler)
    response = HtmlResponse(f"{ORIGIN}/", body=b"<html></html>", request=Request(f"{ORIGIN}/"))
    requests = _requests(calls)

    async def outputs() -> AsyncIterator[Any]:
        for request in requests:
            yield request

    async def consume() -> None:
        result = middleware.process_spider_output_async(response, outputs())
        async for _ in manager._evaluate_iterable(response, result, 0, MutableAsyncChain()):
            pass

    return lambda: drive(consume())


def base_request(calls: int) -> Callable[[], None]:
    """What the request cases do besides their own work: build the requests."""
    _requests(calls)
    return lambda: None


def base_output(calls: int) -> Callable[[], None]:
    """What the output case does besides its own work: build the requests, iterate them."""
    requests = _requests(calls)

    async def consume() -> None:
        async def outputs() -> AsyncIterator[Any]:
            for request in requests:
                yield request

        async for _ in outputs():
            pass

    return lambda: drive(consume())


_BUILD: dict[str, Callable[[int], Callable[[], None]]] = {
    "base-request": base_request,
    "base-output": base_output,
    "scrapy-request": scrapy_request,
    "plugin-request": plugin_request,
    "plugin-output": plugin_output,
}


def _collected(case: str, calls: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.reqpath",
            "--run",
            case,
            "--calls",
            str(calls),
        ],
        capture_output=True,
        text=True,
        check=True,
        # One hash seed for every process: dict and set layouts (and so the counts) repeat.
        env=dict(os.environ, PYTHONHASHSEED="0"),
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind for {case!r}")
    return int(found.group(1))


def per_call(case: str, calls: int, warm: int) -> float:
    return (_collected(case, warm + calls) - _collected(case, warm)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="requests measured per case")
    parser.add_argument("--warm", type=int, default=200, help="requests in the base count")
    parser.add_argument("--only", choices=CASES, action="append", help="only these cases")
    parser.add_argument("--run", choices=sorted(_BUILD), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        gc.disable()  # collections would grow with the list of requests, not the work
        _BUILD[args.run](args.calls)()
        return
    bases: dict[str, float] = {}
    for case in args.only or CASES:
        kind = case.rsplit("-", 1)[1]
        if kind not in bases:
            bases[kind] = per_call(f"base-{kind}", args.calls, args.warm)
        count = per_call(case, args.calls, args.warm) - bases[kind]
        print(f"{case:<16} {count / 1000:7.1f} thousand instructions per request")


if __name__ == "__main__":
    main()
