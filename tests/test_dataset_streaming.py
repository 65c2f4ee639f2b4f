"""The dataset commands stream: a 1,000,000-item feed goes through credits and the card
with memory bounded by the number of origins (tracemalloc peak, bounded loosely: holding
the items, or even one string per work, would take hundreds of MB), and long inputs
show progress on stderr."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from scrapy_ccsignals.records.card import read_dataset
from scrapy_ccsignals.records.credits import write_credits
from scrapy_ccsignals.records.feeds import Progress

ITEMS = 1_000_000
ORIGINS = 500
PEAK_BOUND = 24 * 1024 * 1024  # bytes


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "items.jsonl"
    by = "https://creativecommons.org/licenses/by/4.0/"
    with path.open("w") as out:
        for start in range(0, ITEMS, 10_000):
            out.write("".join(
                f'{{"ccsignals": {{"url": "http://o{i % ORIGINS}.example/p/{i}", "decision": '
                f'"allow", "conditions": ["cc-cr"], "license": {{"id": "CC-BY-4.0", "url": "{by}"}}, '
                f'"attribution": {{"title": "Page {i}", "site_name": "Site {i % ORIGINS}"}}}}}}\n'
                for i in range(start, start + 10_000)
            ))  # fmt: skip
    yield path
    path.unlink()


class Sink(io.RawIOBase):
    """Counts what is written and keeps none of it."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.size += len(data)
        return len(data)


def test_credits_stream_a_million_items(big_feed):
    sink = Sink()
    out = io.TextIOWrapper(sink, encoding="utf-8")
    progress_out = io.StringIO()
    tracemalloc.start()
    try:
        credits = write_credits(
            [str(big_feed)], out, "md", progress=Progress("credits", 100_000, progress_out)
        )
        out.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert credits.credited == ITEMS and len(credits.collections) == ORIGINS
    assert credits.collections["http://o7.example"].site_name == "Site 7"
    assert sink.size > 50_000_000  # the works were all written...
    assert peak < PEAK_BOUND, f"peak {peak / 1e6:.1f} MB"  # ...but never held
    lines = progress_out.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("credits: 1,000,000 items (")


def test_card_streams_a_million_items(big_feed):
    tracemalloc.start()
    try:
        facts = read_dataset([str(big_feed)], progress=Progress("card", 0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert facts.read.items == ITEMS
    assert facts.conditions == {"cc-cr": ITEMS}
    assert facts.feeds[0].size == big_feed.stat().st_size
    assert peak < PEAK_BOUND, f"peak {peak / 1e6:.1f} MB"


def test_progress_on_a_terminal_rewrites_one_line():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    progress = Progress("x", 2, out)
    for _ in range(5):
        progress.tick()
    progress.done()
    assert out.getvalue().count("\r") == 2 and out.getvalue().endswith("\n")
    assert json.dumps(out.getvalue())  # plain text
