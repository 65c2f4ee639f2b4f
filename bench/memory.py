"""Per-origin memory of the plugin's policy state, and the projection for 1,000,000 origins.

Builds, for N origins of the fixture web's eight families (bench/web.py), what the fetcher
keeps per origin once its robots.txt and tdmrep.json are known: the parsed rules, the two
policy records, the ``OriginPolicy`` (with its tdmrep.json statements and
robots.txt licences, made once) and its entry in the LRU (``PolicyCache``),
and measures them with ``tracemalloc``. Beside it, what Scrapy's ``RobotsTxtMiddleware``
keeps per origin: a protego parser of the same robots.txt, never evicted.

    python -m bench.memory [--origins 20000]

The crawl-level numbers (peak RSS per origin, side by side) are ``bench/run.py --scenario
broad``; this isolates the part the plugin owns and bounds.

Also the exclusion lists (``CCSIGNALS_EXCLUDE``): bytes per entry once loaded, and the
time to load and to match, for ``--exclusion-entries`` entries (default 1,000,000).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import tempfile
import time
import tracemalloc
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from protego import Protego

from bench.web import origin_routes
from scrapy_ccsignals.gate.exclusion import Exclusions
from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.records.audit import iso_time
from scrapy_ccsignals.signals.robots import rules_for_response
from scrapy_ccsignals.signals.tdmrep import parse_tdmrep_json

DEFAULT_CACHE = 50_000


def _body(raw: bytes | None) -> bytes | None:
    return raw.split(b"\r\n\r\n", 1)[1] if raw is not None else None


def plugin_state(index: int, origin: str) -> OriginPolicy:
    """What PolicyFetcher keeps for one origin of family *index*, built as it builds it."""
    routes = origin_routes(index, 1, 256)
    robots_body = _body(routes["/robots.txt"]) or b""
    tdm_body = _body(routes.get("/.well-known/tdmrep.json"))
    stamp = iso_time(1_795_000_000.0 + index)
    rules = rules_for_response(200, robots_body, "BenchBot", 512_000)
    robots_record = PolicyRecord(
        "robots.txt",
        f"{origin}/robots.txt",
        200,
        stamp,
        hashlib.sha256(robots_body).hexdigest(),
        "parsed",
    )
    entries = parse_tdmrep_json(tdm_body)[0] if tdm_body is not None else None
    tdm_record = PolicyRecord(
        "tdmrep.json",
        f"{origin}/.well-known/tdmrep.json",
        200 if tdm_body is not None else 404,
        stamp,
        hashlib.sha256(tdm_body or b"not found").hexdigest(),
        "found" if tdm_body is not None else "absent",
    )
    return OriginPolicy(origin, rules, robots_record, entries, tdm_record, 0.0)


def scrapy_state(index: int, origin: str) -> Any:
    """What Scrapy's RobotsTxtMiddleware keeps for one origin: a protego parser."""
    routes = origin_routes(index, 1, 256)
    return Protego.parse((_body(routes["/robots.txt"]) or b"").decode())


def per_origin_bytes(build: Callable[[int, str], Any], origins: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept: OrderedDict[str, Any] = OrderedDict()
    for i in range(origins):
        origin = f"http://127.0.{1 + (i // 10) // 250}.{1 + (i // 10) % 250}:{30000 + i % 10}"
        kept[origin] = build(i, origin)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / origins


def write_exclusion_list(path: str, entries: int) -> None:
    """*entries* lines, nine host names to one URL prefix, as a real list mixes them."""
    with open(path, "w", encoding="ascii") as out:
        for i in range(entries):
            out.write(f"site-{i}.example\n" if i % 10 else f"https://p{i}.example/user/{i}/\n")


def exclusion_list_cost(entries: int) -> dict[str, float]:
    """Bytes per entry of the loaded lists (tracemalloc), seconds to load them, and
    microseconds per match of a URL that is not listed (the common case) and of one that is."""
    fd, path = tempfile.mkstemp(suffix=".txt")
    os.close(fd)
    try:
        write_exclusion_list(path, entries)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        exclusions = Exclusions([("bench", path)])
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        started = time.perf_counter()
        Exclusions([("bench", path)])
        load = time.perf_counter() - started
    finally:
        os.unlink(path)
    urls = [f"http://www.other-{i}.example/a/b" for i in range(20_000)]
    listed = [f"http://www.site-{i}.example/a" for i in range(1, 20_000, 10)]
    started = time.perf_counter()
    for url in urls:
        exclusions.match_url(url)
    miss = (time.perf_counter() - started) / len(urls) * 1e6
    started = time.perf_counter()
    for url in listed:
        exclusions.match_url(url)
    hit = (time.perf_counter() - started) / len(listed) * 1e6
    return {"bytes_per_entry": kept / entries, "load_s": load, "miss_us": miss, "hit_us": hit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=20_000)
    parser.add_argument("--exclusion-entries", type=int, default=1_000_000)
    args = parser.parse_args()
    plugin = per_origin_bytes(plugin_state, args.origins)
    scrapy = per_origin_bytes(scrapy_state, args.origins)
    million = 1_000_000
    print(f"per origin, {args.origins} origins of the eight fixture families:")
    print(f"  plugin policy state (rules, 2 records, policy, LRU entry): {plugin / 1024:6.2f} KB")
    print(f"  Scrapy RobotsTxtMiddleware (protego parser):              {scrapy / 1024:6.2f} KB")
    print(f"at {million:,} origins:")
    print(
        f"  plugin, CCSIGNALS_POLICY_CACHE_SIZE={DEFAULT_CACHE:,} (default): "
        f"{plugin * DEFAULT_CACHE / 2**20:7.1f} MB (bounded; evicted origins are refetched or "
        "read from the store)"
    )
    print(f"  plugin, cache as large as the crawl:  {plugin * million / 2**20:7.1f} MB")
    print(f"  Scrapy RobotsTxtMiddleware (never evicts): {scrapy * million / 2**20:7.1f} MB")
    if args.exclusion_entries:
        cost = exclusion_list_cost(args.exclusion_entries)
        print(f"exclusion lists, {args.exclusion_entries:,} entries (9 hosts : 1 URL prefix):")
        print(f"  memory: {cost['bytes_per_entry']:.1f} bytes per entry")
        print(f"  load: {cost['load_s']:.2f} s")
        print(
            f"  match: {cost['miss_us']:.1f} us per URL not listed, {cost['hit_us']:.1f} us listed"
        )


if __name__ == "__main__":
    main()
