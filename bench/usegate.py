"""Micro-benchmark of the plugin's own work for one HTML response, as the middlewares run
it: the response's facts (signal headers, the one page scan), the use gate's evaluation and
decision, the provenance record, the audit line (built and serialised, as on the reactor
thread), and for the response's first item the attribution and the item's own record.

Two pages (issue 25): an 8 KB signal-rich page (licence link + JSON-LD, Open Graph and
author metas, meta Content-Usage, a Content-Usage header, on an origin with robots.txt
Content-Usage and tdmrep.json), and a 96 KB page with 800 links (licence in the footer).
Times are thread CPU time (``time.thread_time``), so other processes on the machine count
less than in wall time; the pages are measured interleaved, in several repeats, and the
median and the spread (min-max) over repeats are printed.

    python -m bench.usegate              # both pages
    python -m bench.usegate --steps      # both pages, and each step of them on its own
    python -m bench.usegate --families   # the 8 KB page of each bench/web.py family
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from scrapy.settings import Settings

from bench.web import FAMILIES, FILLER, origin_routes
from scrapy_ccsignals.checked import ItemRecord
from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.facts import SIGNAL_HEADERS, ResponseFacts, scan_page
from scrapy_ccsignals.gate.provenance import add_page_attribution, build_record, own_copy
from scrapy_ccsignals.gate.usegate import Evaluation, evaluate
from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.records.audit import encode_line
from scrapy_ccsignals.signals.robots import parse_robots
from scrapy_ccsignals.signals.tdmrep import parse_tdmrep_json

ORIGIN = "http://127.0.0.1:1"
URL = f"{ORIGIN}/p/3"
TYPE = "text/html; charset=utf-8"
ROBOTS = "User-agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
TDMREP = b'[{"location": "/p/1*", "tdm-reservation": 1}, {"location": "/*", "tdm-reservation": 0}]'


def _split(raw: bytes) -> tuple[dict[str, list[str]], bytes]:
    head, body = raw.split(b"\r\n\r\n", 1)
    headers: dict[str, list[str]] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers, body


def _policy(cfg: Config, robots: str, tdmrep: bytes | None) -> OriginPolicy:
    record = PolicyRecord("robots.txt", "http://127.0.0.1:1/robots.txt", 200, "t", "x", "parsed")
    return OriginPolicy(
        "http://127.0.0.1:1",
        parse_robots(robots, cfg.token),
        record,
        parse_tdmrep_json(tdmrep)[0] if tdmrep else None,
        record,
        0.0,
    )


def _page(size: int, links: int, n: int = 3) -> bytes:
    """Page *n* of a site: what the site's template repeats (metas, licence, author) is
    the same on every page; the title, description, canonical link, headline and links
    are the page's own."""
    head = (
        f"<!doctype html><html><head><meta charset=utf-8><title>Signal-rich page {n}</title>"
        f'<meta name="description" content="about page {n}">'
        f'<meta property="og:title" content="Page {n}">'
        '<meta property="og:site_name" content="Site"><meta name="author" content="A. Author">'
        f'<link rel="canonical" href="/p/{n}"><link rel="stylesheet" href="/s.css">'
        '<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">'
        '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
        f'"Article", "headline": "Page {n}", "author": {{"@type": "Person", "name": '
        '"A. Author"}, "license": "https://creativecommons.org/licenses/by/4.0/"}</script>'
        "</head><body>"
    )
    nav = "".join(f'<li><a href="/p/{n + j}">page {n + j}</a></li>' for j in range(links))
    foot = (
        '<footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY'
        "</a></footer></body></html>"
    )
    fill = size - len(head) - len(nav) - len(foot) - 7
    text = (FILLER * (fill // len(FILLER) + 1))[: max(0, fill)]
    return f"{head}<nav>{nav}</nav><p>{text}</p>{foot}".encode()


def _audit_line(evaluation: Evaluation, record: dict[str, Any], body: bytes) -> str:
    """The response's audit line, built and serialised as ``records.audit`` does."""
    decision = evaluation.decision
    line = {
        "url": record["url"],
        "origin": "http://127.0.0.1:1",
        "stage": "response",
        "action": "fetched",
        "decision": decision.decision,
        "reasons": record["reasons"],
        "signals": record["signals"],
        "status": 200,
        "bytes": len(body),
        "content_type": TYPE,
        "families": list(decision.families),
        "conditions": record["conditions"],
        "license": record["license"],
        "time": record["fetched_at"],
    }
    return encode_line(line)


#: distinct pages of one site each measurement cycles through: whatever the plugin keeps
#: from one response to the next helps only with what a site's pages share
SITE_PAGES = 64


def _site(page: Callable[[int], bytes]) -> list[tuple[str, str, bytes]]:
    """(URL, path, body) of each page of the site."""
    return [(f"{ORIGIN}/p/{n}", f"/p/{n}", page(n)) for n in range(SITE_PAGES)]


def _one_response(
    cfg: Config,
    policy: OriginPolicy,
    headers: dict[str, list[str]],
    site: list[tuple[str, str, bytes]],
    full: bool = True,
) -> Callable[[], Any]:
    """One response's work, each call the next page of *site*: the page scan, evaluation
    and record, and with *full* the audit line, the attribution and the first item's
    record too."""
    wanted = {k: v for k, v in headers.items() if k in SIGNAL_HEADERS}
    pages = itertools.cycle(site)

    def one() -> Any:
        url, path, body = next(pages)
        facts = ResponseFacts(url, path, wanted, TYPE, html=True)
        facts.page = scan_page(cfg, body)
        evaluation = evaluate(cfg, facts, policy)
        record = build_record(cfg, "0", url, 200, TYPE, body, evaluation, policy)
        if not full:
            return record
        _audit_line(evaluation, record, body)
        add_page_attribution(record, facts.page, body, url, cfg.html_scan_bytes)
        return {"title": "x", "ccsignals": own_copy(record, ItemRecord)}

    return one


def _steps(
    cfg: Config, policy: OriginPolicy, headers: dict[str, list[str]], body: bytes
) -> dict[str, Callable[[], Any]]:
    """The steps of :func:`_one_response`, each on its own (inputs made once)."""
    wanted = {k: v for k, v in headers.items() if k in SIGNAL_HEADERS}
    facts = ResponseFacts(URL, "/p/3", wanted, TYPE, html=True)
    facts.page = scan_page(cfg, body)
    evaluation = evaluate(cfg, facts, policy)
    record = build_record(cfg, "0", URL, 200, TYPE, body, evaluation, policy)
    page = facts.page

    def attribution() -> None:
        add_page_attribution(dict(record), page, body, URL, cfg.html_scan_bytes)

    item_record = dict(record)
    add_page_attribution(item_record, page, body, URL, cfg.html_scan_bytes)
    return {
        "page scan": lambda: scan_page(cfg, body),
        "evaluate": lambda: evaluate(cfg, facts, policy),
        "record (SHA-256 incl.)": lambda: build_record(
            cfg, "0", URL, 200, TYPE, body, evaluation, policy
        ),
        "audit line + json.dumps": lambda: _audit_line(evaluation, record, body),
        "attribution (1st item)": attribution,
        "item's record copy": lambda: own_copy(item_record, ItemRecord),
    }


#: the two pages of issue 25: (response headers, body)
PAGES: dict[str, tuple[dict[str, list[str]], Callable[[int], bytes]]] = {
    "8 KB signal-rich": ({"content-usage": ["search=y"]}, lambda n: _page(8192, 20, n)),
    "96 KB, 800 links": ({}, lambda n: _page(96 * 1024, 800, n)),
}


def cases(steps: bool = False) -> dict[str, Callable[[], Any]]:
    """The whole response of each page; with *steps*, each step of it too."""
    cfg = Config.from_settings(Settings({"USER_AGENT": "BenchBot/1.0"}))
    policy = _policy(cfg, ROBOTS, TDMREP)
    found: dict[str, Callable[[], Any]] = {}
    for name, (headers, page) in PAGES.items():
        body = page(3)
        found[name] = _one_response(cfg, policy, headers, _site(page))
        if steps:
            for step, func in _steps(cfg, policy, headers, body).items():
                found[f"  {name.split()[0]} KB: {step}"] = func
    return found


def _per_call_us(func: Callable[[], Any], number: int) -> float:
    start = time.thread_time()
    for _ in range(number):
        func()
    return (time.thread_time() - start) / number * 1e6


def run(repeats: int = 7, budget_s: float = 0.3, steps: bool = False) -> dict[str, list[float]]:
    """Microseconds per response for each case, one value per repeat (cases interleaved)."""
    funcs = cases(steps)
    numbers = {}
    for name, func in funcs.items():
        func()  # warm caches, as a crawl's second page finds them
        once = max(_per_call_us(func, 3), 1.0)
        numbers[name] = max(10, int(budget_s * 1e6 / once))
    results: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            results[name].append(_per_call_us(func, numbers[name]))
    return results


def measure(family_index: int = 5, number: int = 2000, repeat: int = 7) -> float:
    """Median microseconds per response for the 8 KB page of origin *family_index* of
    bench/web.py: the page scan, the use gate and the record, the part the use-gate
    target of bench/README.md is stated for (``bench/run.py`` prints two of them)."""
    cfg = Config.from_settings(Settings({"USER_AGENT": "BenchBot/1.0"}))
    routes = origin_routes(family_index, SITE_PAGES, 8192)
    tdm = routes.get("/.well-known/tdmrep.json")
    policy = _policy(
        cfg, _split(routes["/robots.txt"])[1].decode(), _split(tdm)[1] if tdm else None
    )
    headers = _split(routes["/p/3"])[0]
    site = [(f"{ORIGIN}/p/{n}", f"/p/{n}", _split(routes[f"/p/{n}"])[1]) for n in range(SITE_PAGES)]
    func = _one_response(cfg, policy, headers, site, full=False)
    return statistics.median(_per_call_us(func, number) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--families", action="store_true", help="each bench/web.py family")
    parser.add_argument(
        "--steps", action="store_true", help="each step of the two pages on its own too"
    )
    args = parser.parse_args()
    if args.families:
        for index, family in enumerate(FAMILIES):
            print(f"{family:<22} {measure(index):7.1f} us per 8 KB response (scan, gate, record)")
        return
    for name, values in run(args.repeats, steps=args.steps).items():
        what = "per response" if not name.startswith(" ") else "per call    "
        print(
            f"{name:<32} {statistics.median(values):7.1f} us {what} (thread CPU; "
            f"{len(values)} repeats, spread {min(values):.1f}-{max(values):.1f})"
        )


if __name__ == "__main__":
    main()
