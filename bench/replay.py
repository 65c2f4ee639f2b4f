"""``ccsignals-replay`` on a large feed: time per item and peak RSS.

Takes a real crawl's items and evidence archive (e.g. the example project's
``output/items.jsonl`` and ``output/audit.warc.gz``), writes a feed of ``--items`` items by
repeating their provenance records under distinct URLs of the same origins, and replays it
the way the command does (checking the crawl's decisions), one item at a time.

    python -m example_project
    python -m bench.replay --feed output/items.jsonl --evidence output/audit.warc.gz \\
        --items 1000000 -s CCSIGNALS_ACCEPT_CONDITIONS=cc-cr
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from scrapy.settings import Settings

from scrapy_ccsignals.commands.replay import build_policy
from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.replay import Replayer, replay_items
from scrapy_ccsignals.records.warc import EvidenceReader


def write_feed(source: str, path: str, count: int) -> None:
    with open(source, encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle if line.strip()]
    records = [i["ccsignals"] for i in items if isinstance(i.get("ccsignals"), dict)]
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            record = records[n % len(records)]
            url = f"{record['url']}{'&' if '?' in record['url'] else '?'}copy={n}"
            out.write(json.dumps({"url": url, "ccsignals": dict(record, url=url)}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feed", required=True)
    parser.add_argument("--evidence", required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("-s", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = Settings({"USER_AGENT": "ExampleAIBot/1.0"})
    for pair in args.s:
        name, _, value = pair.partition("=")
        settings.set(name, value)
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    try:
        write_feed(args.feed, path, args.items)
        size = os.path.getsize(path)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        evidence = EvidenceReader([args.evidence])
        replayer = Replayer(Config.from_settings(settings), evidence, build_policy)
        started = time.perf_counter()
        run = replay_items([path], "ccsignals", lambda record: replayer, False)
        elapsed = time.perf_counter() - started
        evidence.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        os.unlink(path)
    totals = run.totals
    print(f"{totals['items']:,} items ({size / 1e6:,.0f} MB feed) in {elapsed:,.0f} s: "
          f"{elapsed / max(totals['items'], 1) * 1e6:,.0f} us per item")  # fmt: skip
    print(f"reproduced {totals['status reproduced']:,}, mismatched {totals['status mismatch']:,}, "
          f"undecidable {totals['undecidable']:,}")  # fmt: skip
    print(f"peak RSS {peak / 1024:,.0f} MB (before the replay {before / 1024:,.0f} MB)")


if __name__ == "__main__":
    main()
