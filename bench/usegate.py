"""Micro-benchmark of the use gate: one 8 KB HTML response (headers + page) through
signal evaluation, decision and provenance record, as the downloader middleware runs it."""

from __future__ import annotations

import statistics
import timeit

from scrapy.settings import Settings

from bench.web import origin_routes
from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.facts import SIGNAL_HEADERS, ResponseFacts, scan_page
from scrapy_ccsignals.gate.provenance import build_record
from scrapy_ccsignals.gate.usegate import evaluate
from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.signals.robots import parse_robots
from scrapy_ccsignals.signals.tdmrep import parse_tdmrep_json


def _split(raw: bytes) -> tuple[dict[str, list[str]], bytes]:
    head, body = raw.split(b"\r\n\r\n", 1)
    headers: dict[str, list[str]] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers, body


def measure(family_index: int = 5, number: int = 2000, repeat: int = 7) -> float:
    """Median microseconds per response for origin *family_index* of bench/web.py."""
    cfg = Config.from_settings(Settings({"USER_AGENT": "BenchBot/1.0"}))
    routes = origin_routes(family_index, 8, 8192)
    _robots_headers, robots_body = _split(routes["/robots.txt"])
    tdm = routes.get("/.well-known/tdmrep.json")
    record = PolicyRecord("robots.txt", "http://127.0.0.1:1/robots.txt", 200, "t", "x", "parsed")
    policy = OriginPolicy(
        "http://127.0.0.1:1",
        parse_robots(robots_body.decode(), cfg.token),
        record,
        parse_tdmrep_json(_split(tdm)[1])[0] if tdm else None,
        record,
        0.0,
    )
    all_headers, body = _split(routes["/p/3"])
    headers = {k: v for k, v in all_headers.items() if k in SIGNAL_HEADERS}  # as the middleware
    url = "http://127.0.0.1:1/p/3"

    def one() -> None:
        facts = ResponseFacts(url, "/p/3", headers, "text/html; charset=utf-8", True)
        facts.page = scan_page(cfg, body)
        evaluation = evaluate(cfg, facts, policy)
        build_record(cfg, "0", url, 200, "text/html; charset=utf-8", body, evaluation, policy)

    runs = timeit.repeat(one, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    from bench.web import FAMILIES

    for index, family in enumerate(FAMILIES):
        print(f"{family:<22} {measure(index):7.1f} us per 8 KB response")


if __name__ == "__main__":
    main()
