"""Benchmark of the audit log writer (issue 29 item 4): does the background thread keep up
with 2,000 responses/s, and what does the crawl's own thread (the reactor) pay per line,
plain and gzip; bytes per page on disk, compressed vs plain.

Each "page" is the line a fetched, evaluated response writes (``response``/``fetched``, with
a realistic set of signals, licence and reasons, as ``downloadermiddleware`` builds it), and
every 50 pages a new origin adds its two ``policy`` lines. The paced run emits pages at the
target rate from this thread, as the reactor would, and records: CPU per page on the emitting
thread (``time.thread_time``; it includes building the bench's own dicts), the median and
99th percentile wall time of one page's ``event()`` calls (a writer holding the GIL or the
lock would show here), the most lines ever waiting for the writer, and how long ``close()``
takes to write what was left (a writer that keeps up leaves at most one interval's lines).
The unpaced run emits as fast as it can and measures pages per second until every line is on
disk. Run: ``python -m bench.audit [--pages 20000] [--rate 2000]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from scrapy_ccsignals.records.audit import AuditLog

SIGNALS: list[dict[str, Any]] = [
    {"family": "robots", "layer": "robots.txt", "source": "http://127.0.0.1:{port}/robots.txt",
     "value": "Content-Usage: train-ai=n", "effect": "none", "purpose": "train-ai"},
    {"family": "aipref", "layer": "header", "source": "Content-Usage",
     "value": "train-ai=y, search=y", "effect": "allow", "purpose": "train-ai"},
    {"family": "tdmrep", "layer": "tdmrep.json", "source": "http://127.0.0.1:{port}/.well-known/tdmrep.json",
     "value": "tdm-reservation=0", "effect": "none", "purpose": "train-ai"},
    {"family": "license", "layer": "html", "source": "link rel=license",
     "value": "https://creativecommons.org/licenses/by/4.0/", "effect": "none", "purpose": "train-ai"},
]  # fmt: skip


WORDS = [
    "river",
    "city",
    "garden",
    "history",
    "music",
    "open",
    "data",
    "policy",
    "school",
    "market",
    "winter",
    "science",
    "art",
    "travel",
    "review",
    "news",
    "local",
    "guide",
    "photo",
    "report",
    "season",
    "energy",
    "health",
    "sport",
    "recipe",
]


def page_facts(i: int, rng: random.Random) -> tuple[str, str, int]:
    """A varied URL path, body size and page hash, so the compression ratio is not flattered
    by identical lines."""
    slug = "-".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    path = f"/{rng.choice(WORDS)}/{2000 + rng.randint(0, 26)}/{rng.randint(1, 12):02d}/{slug}-{i}"
    return path, f"{rng.getrandbits(256):064x}", rng.randint(2_000, 200_000)


def emit_page(log: AuditLog, i: int, rng: random.Random) -> None:
    port = 20000 + i // 50
    origin = f"http://127.0.0.1:{port}"
    path, digest, size = page_facts(i, rng)
    if i % 50 == 0:
        for kind in ("robots.txt", "tdmrep.json"):
            log.event(
                url=f"{origin}/{kind}", origin=origin, stage="policy", action="fetched",
                decision=None, reasons=[f"{kind} parsed"],
                policy={"kind": kind, "url": f"{origin}/{kind}", "status": 200,
                        "fetched_at": "2026-12-03T12:00:00.000Z", "sha256": digest,
                        "outcome": "parsed", "cached": False},
            )  # fmt: skip
    signals = [{k: (v.format(port=port) if isinstance(v, str) else v) for k, v in s.items()}
               for s in SIGNALS]  # fmt: skip
    log.event(
        url=f"{origin}{path}", origin=origin,
        stage="response", action="fetched", decision="allow",
        reasons=["aipref header allows train-ai (Content-Usage: train-ai=y, search=y)"],
        signals=signals, status=200, bytes=size, sha256=digest, content_type="text/html; charset=utf-8",
        families=[], conditions=[],
        license={"id": "CC-BY-4.0", "url": "https://creativecommons.org/licenses/by/4.0/",
                 "source": "link rel=license"},
    )  # fmt: skip


def paced(path: Path, pages: int, rate: float) -> dict[str, float]:
    log = AuditLog(path, crawl="bench")
    rng = random.Random(1)
    step = 20  # pages per pacing step (10 ms at 2,000/s)
    start = time.monotonic()
    cpu = time.thread_time()
    calls: list[float] = []
    backlog = 0
    for first in range(0, pages, step):
        for i in range(first, min(first + step, pages)):
            t0 = time.perf_counter()
            emit_page(log, i, rng)
            calls.append(time.perf_counter() - t0)
        backlog = max(backlog, len(log._pending))
        due = start + (first + step) / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    cpu = time.thread_time() - cpu
    sent = time.monotonic() - start
    t0 = time.monotonic()
    log.close()
    drain = time.monotonic() - t0
    calls.sort()
    return {
        "rate": pages / sent,
        "cpu_us": cpu / pages * 1e6,
        "median_us": calls[len(calls) // 2] * 1e6,
        "p99_ms": calls[int(len(calls) * 0.99)] * 1e3,
        "backlog": backlog,
        "drain_ms": drain * 1e3,
        "bytes_per_page": path.stat().st_size / pages,
    }


def unpaced(path: Path, pages: int) -> float:
    log = AuditLog(path, crawl="bench")
    rng = random.Random(1)
    start = time.monotonic()
    for i in range(pages):
        emit_page(log, i, rng)
    log.close()
    return pages / (time.monotonic() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="pages per second")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("audit.jsonl", "audit.jsonl.gz"):
            result = paced(Path(tmp) / f"paced-{name}", args.pages, args.rate)
            result["max_rate"] = unpaced(Path(tmp) / f"fast-{name}", args.pages)
            rows.append((name, result))
    print(f"{args.pages:,} pages at {args.rate:,.0f}/s, one response line each "
          "(+2 policy lines per 50 pages)")  # fmt: skip
    print(f"{'file':<16} {'paced /s':>9} {'CPU us/page':>12} {'reactor %':>10} {'median us':>10} "
          f"{'p99 ms':>7} {'max waiting':>12} {'close ms':>9} {'bytes/page':>11} "
          f"{'max pages/s':>12}")  # fmt: skip
    for name, r in rows:
        share = r["cpu_us"] * args.rate / 1e4  # % of one thread at the target rate
        print(f"{name:<16} {r['rate']:>9,.0f} {r['cpu_us']:>12.1f} {share:>9.1f}% "
              f"{r['median_us']:>10.1f} {r['p99_ms']:>7.2f} {r['backlog']:>12,.0f} "
              f"{r['drain_ms']:>9.1f} {r['bytes_per_page']:>11,.0f} {r['max_rate']:>12,.0f}")  # fmt: skip
    plain, packed = rows[0][1]["bytes_per_page"], rows[1][1]["bytes_per_page"]
    print(f"gzip: {packed:,.0f} bytes/page vs {plain:,.0f} plain ({plain / packed:.1f}x smaller)")


if __name__ == "__main__":
    main()
