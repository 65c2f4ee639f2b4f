"""Bounded work per response on hostile HTML (issue 26 item 6): signals are capped per
family and layer without changing the decision, the provenance record says what was left
out, and the attribution look-ahead is bounded over the whole page. Time per response on
these bodies is measured by ``bench/usegate.py``-style benchmarks, not asserted here."""

from __future__ import annotations

import itertools
import logging
import random

import pytest
import pytest_twisted
from scrapy.settings import Settings

from scrapy_ccsignals import schemas
from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.decision import decide
from scrapy_ccsignals.gate.facts import ResponseFacts, scan_page
from scrapy_ccsignals.gate.provenance import build_record
from scrapy_ccsignals.gate.usegate import MAX_SIGNALS, cap_signals, evaluate
from scrapy_ccsignals.signals.attribution import LOOKAHEAD_BUDGET, extract_attribution
from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal
from scrapy_ccsignals.signals.htmlscan import MAX_ENTRIES, extract
from tests.crawling import ccsignals_of, page, run_crawl, stats, text

SIZE = 256 * 1024
URL = "http://127.0.0.1:1/p"
CFG = Config.from_settings(Settings({"USER_AGENT": "CapBot/1.0"}))


def evaluate_page(body: bytes, cfg: Config = CFG):
    facts = ResponseFacts(URL, "/p", {}, "text/html", html=True)
    facts.page = scan_page(cfg, body)
    return evaluate(cfg, facts, None)


def flood(unit: str, tail: str = "") -> bytes:
    return ("<html><head>" + unit * (SIZE // len(unit)) + tail).encode()


def test_repeated_meta_tags_give_a_bounded_record_with_a_truncated_marker():
    meta = '<meta http-equiv="Content-Usage" content="train-ai=n">'
    evaluation = evaluate_page(flood(meta))
    html = [s for s in evaluation.signals if s.layer == "html"]
    assert 1 <= len(html) <= MAX_SIGNALS
    assert evaluation.decision.decision == DENY
    left = evaluation.truncated[("aipref", "html")]
    assert left == len(extract(flood(meta)).http_equiv) - len(html) > 0
    record = build_record(CFG, "0", URL, 200, "text/html", b"", evaluation, None)
    assert [s.get("truncated") for s in record["signals"] if s["layer"] == "html"][-1] == left
    assert len(record["reasons"]) <= MAX_SIGNALS


def test_the_scan_keeps_repeated_identical_tags_once_past_its_cap():
    meta = '<meta name="robots" content="noai">'
    page = extract(flood(meta))
    assert len(page.names) == MAX_ENTRIES
    distinct = extract(flood(meta) + b'<meta name="robots" content="noimageai">')
    assert len(distinct.names) == MAX_ENTRIES + 1  # a new value still counts


def test_a_deny_after_thousands_of_distinct_allows_still_denies():
    allows = "".join(
        f'<meta http-equiv="Content-Usage" content="train-ai=y, x{i}=n">' for i in range(3000)
    )
    body = f"<html><head>{allows}<meta http-equiv=Content-Usage content=train-ai=n>".encode()
    evaluation = evaluate_page(body)
    assert evaluation.decision.decision == DENY
    assert len([s for s in evaluation.signals if s.family == "aipref"]) <= MAX_SIGNALS
    assert evaluation.truncated[("aipref", "html")] > 0


def test_few_signals_are_left_as_they_are():
    meta = '<meta http-equiv="Content-Usage" content="train-ai=n">'
    evaluation = evaluate_page(flood(meta)[: 12 + len(meta) * 3])
    assert len(evaluation.signals) == 3 and evaluation.truncated == {}


def _signal(effect: str, conditions: tuple[str, ...], n: int, family: str = "aipref") -> Signal:
    return Signal(family, "html", URL, effect, f"raw {n}", conditions=conditions)


@pytest.mark.parametrize("seed", range(30))
def test_capping_never_changes_the_decision(seed):
    rng = random.Random(seed)
    verdicts = [(ALLOW, ()), (DENY, ()), (UNKNOWN, ()), (CONDITIONAL, ("cc-cr",)),
                (CONDITIONAL, ("cc-dc",)), (CONDITIONAL, ("cc-cr", "cc-ec"))]  # fmt: skip
    family = itertools.cycle(["aipref", "rsl", "content-signal"])
    signals = [
        _signal(*rng.choice(verdicts), rng.randrange(40), next(family))
        for _ in range(rng.randrange(1, 200))
    ]
    for accept in (frozenset(), frozenset({"cc-cr"}), frozenset({"cc-cr", "cc-dc", "cc-ec"})):
        kept, left = cap_signals(signals, 4)
        full, capped = decide(signals, accept, "allow"), decide(kept, accept, "allow")
        assert (capped.decision, capped.conditions) == (full.decision, full.conditions)
        assert set(capped.families) == set(full.families)
        assert len(kept) + sum(left.values()) == len(signals)


def test_attribution_look_ahead_is_bounded_over_the_page():
    # Elements whose text would have to be read ahead; past the page's budget, no more
    # is read (a page of 256 KB of them costs what a page with a few does).
    empty = '<div property="dc:title"></div>' * (LOOKAHEAD_BUDGET // 4096 + 1)
    body = f'<title>T</title>{empty}<span property="dc:title">Late</span>'.encode()
    assert extract_attribution(body)["title"] == "T"
    few = f'<title>T</title>{empty[:60]}<span property="dc:title">Late</span>'.encode()
    assert extract_attribution(few)["title"] == "Late"


def test_a_found_field_stops_the_look_ahead_for_it():
    body = ('<span property="dc:title">First</span>' + '<div property="dc:title">' * 5000).encode()
    assert extract_attribution(body)["title"] == "First"


@pytest_twisted.ensureDeferred
async def test_crawl_of_a_meta_flood_page(server, caplog):
    caplog.set_level(logging.WARNING)
    flood_head = '<meta http-equiv="Content-Usage" content="train-ai=n">' * 4800
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/p": {"body": page("p", "<p>one</p>", flood_head)},
        }
    )
    settings = {"CCSIGNALS_MODE": "tag"}
    crawler, items = await run_crawl([f"{origin}/p"], settings, follow=False)
    record = ccsignals_of(items[0])
    assert record["decision"] == "deny"
    assert len(record["signals"]) <= MAX_SIGNALS and record["signals"][-1]["truncated"] > 0
    assert stats(crawler)["ccsignals/signals/truncated"] == record["signals"][-1]["truncated"]
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schemas.load("provenance"))
    assert not [e.message for e in validator.iter_errors(dict(record))]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if f"{origin}/p" in w and "truncated" in w]
