"""``scrapy ccsignals-replay`` (issue 29 item 3): decisions re-made offline from provenance
and the evidence archive, after real crawls of a fixture web on 127.0.0.1."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest_twisted
from itemadapter import ItemAdapter
from scrapy.settings import Settings

from scrapy_ccsignals.commands.replay import build_policy
from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.replay import Replayer, replay_items
from scrapy_ccsignals.records.warc import EvidenceReader
from tests.crawling import ccsignals_of, page, run_crawl, text
from tests.scrapy_cli import run_scrapy

ACCEPT = "cc-cr"


def fixture_web(server) -> list[str]:
    """Sites whose decisions differ by purpose: a robots.txt reserving training; a
    Content-Usage header; noindex (search only); a CC-signals exception; a plain site; and a
    site that disallows a folder."""
    reserved = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nContent-Usage: train-ai=n, search=y\n"),
            "/*": {"body": page("reserved")},
        }
    )
    headers = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/": {"body": page("h", '<a href="/n">n</a> <a href="/cc">cc</a> <a href="/x">x</a>')},
            "/n": {"body": page("n"), "headers": {"X-Robots-Tag": "noindex"}},
            "/cc": {
                "body": page("cc"),
                "headers": {"Content-Usage": "train-ai=n;exceptions=cc-cr"},
            },
            "/x": {"body": page("x", head='<meta name="robots" content="noai">')},
        }
    )
    plain = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/": {"body": page("p", '<a href="/private/1">1</a> <a href="/ok">ok</a>')},
            "/ok": {"body": page("ok")},
            "/private/*": {"body": page("secret")},
        }
    )
    return [f"{reserved}/a", f"{headers}/", f"{plain}/"]


def settings(folder: Path, **more) -> dict:
    return {
        "CCSIGNALS_AUDIT_LOG": str(folder / "audit.jsonl"),
        "CCSIGNALS_MODE": "tag",
        "CCSIGNALS_ACCEPT_CONDITIONS": [ACCEPT],
        "LOG_LEVEL": "INFO",
        **more,
    }


def write_items(path: Path, items: list) -> Path:
    with path.open("w") as out:
        for item in items:
            out.write(json.dumps(ItemAdapter(item).asdict()) + "\n")
    return path


def replay(folder: Path, *args: str):
    return run_scrapy(
        ["ccsignals-replay", "items.jsonl", "--evidence", "audit.warc.gz", *args], folder
    )


def decisions(items: list) -> dict[str, str]:
    return {ccsignals_of(i)["url"]: ccsignals_of(i)["decision"] for i in items}


@pytest_twisted.ensureDeferred
async def test_replay_reproduces_every_decision(server, tmp_path):
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    assert set(decisions(items).values()) == {"allow", "deny"}
    write_items(tmp_path / "items.jsonl", items)
    done = replay(tmp_path, "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}", "--details", "d.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Items: {len(items)}; decision reproduced {len(items)}; mismatched 0" in done.stdout
    details = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert {d["basis"] for d in details} == {"provenance"}

    # A tampered decision is a mismatch, listed, exit 1.
    lines = (tmp_path / "items.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["ccsignals"]["decision"] = (
        "deny" if first["ccsignals"]["decision"] == "allow" else "allow"
    )
    (tmp_path / "items.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    done = replay(tmp_path, "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}")
    assert done.returncode == 1
    assert "mismatched 1" in done.stdout and first["ccsignals"]["url"] in done.stdout


@pytest_twisted.ensureDeferred
async def test_old_evidence_keeps_the_old_decision_after_the_site_changes(server, tmp_path):
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    write_items(tmp_path / "items.jsonl", items)
    reserved_origin = urls[0].rsplit("/", 1)[0]
    assert decisions(items)[urls[0]] == "deny"
    # The site lifts its reservation: a new crawl would now allow the page...
    server.set_routes(
        reserved_origin,
        {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/*": {"body": page("reserved")}},
    )
    _, fresh = await run_crawl([urls[0]], settings(tmp_path / "again"), follow=False)
    assert decisions(fresh)[urls[0]] == "allow"
    # ...but the evidence of the first crawl still decides as the first crawl did.
    done = replay(tmp_path, "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mismatched 0; undecidable 0" in done.stdout


@pytest_twisted.ensureDeferred
async def test_replay_for_another_purpose_matches_a_fresh_crawl(server, tmp_path):
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path, CCSIGNALS_EVIDENCE_RESPONSES="all"))
    write_items(tmp_path / "items.jsonl", items)
    done = replay(tmp_path, "--purpose", "search", "-o", "kept.jsonl", "--origins", "o.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = {json.loads(line)["url"] for line in (tmp_path / "kept.jsonl").read_text().splitlines()}
    _, search = await run_crawl(urls, settings(tmp_path / "search", CCSIGNALS_PURPOSE="search"))
    allowed = {url for url, decision in decisions(search).items() if decision == "allow"}
    assert kept == allowed
    assert kept != {url for url, d in decisions(items).items() if d == "allow"}
    assert "undecidable 0" in done.stdout
    table = (tmp_path / "o.csv").read_text().splitlines()
    assert table[0] == "origin,items,allow,deny,forbidden,undecidable" and len(table) == 4


@pytest_twisted.ensureDeferred
async def test_what_the_evidence_cannot_decide_is_reported_not_guessed(server, tmp_path):
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))  # policies only
    write_items(tmp_path / "items.jsonl", items)
    done = replay(tmp_path, "--purpose", "search", "-o", "kept.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"undecidable {len(items)}" in done.stdout
    assert (tmp_path / "kept.jsonl").read_text() == ""
    # Other conditions for the same purpose: decided from the recorded signals.
    done = replay(tmp_path, "--accept", "", "-o", "kept.jsonl")
    assert "undecidable 0" in done.stdout
    kept = {json.loads(line)["url"] for line in (tmp_path / "kept.jsonl").read_text().splitlines()}
    assert not any(url.endswith("/cc") for url in kept)  # its exception is not accepted now
    # A record the archive does not hold.
    lines = (tmp_path / "items.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["ccsignals"]["policies"][0]["warc_record_id"] = "<urn:uuid:0-not-there>"
    (tmp_path / "items.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    done = replay(tmp_path, "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}")
    assert done.returncode == 1
    assert "undecidable 1" in done.stdout and "is not in the evidence" in done.stdout


@pytest_twisted.ensureDeferred
async def test_a_large_feed_streams_in_bounded_memory(server, tmp_path):
    """Items are replayed one at a time: the peak does not grow with the feed (tracemalloc;
    ``bench/replay.py`` runs 1,000,000 items the same way)."""
    urls = fixture_web(server)
    _, items = await run_crawl([urls[2]], settings(tmp_path), follow=False)
    record = ccsignals_of(items[0])
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    write_feed(small, record, 2_000)
    write_feed(large, record, 20_000)
    evidence = EvidenceReader([tmp_path / "audit.warc.gz"])
    cfg = Config.from_settings(
        Settings({"USER_AGENT": "TestBot/1.0", "CCSIGNALS_ACCEPT_CONDITIONS": [ACCEPT]})
    )
    replayer = Replayer(cfg, evidence, build_policy)
    peaks = {}
    for feed in (small, large):
        tracemalloc.start()
        try:
            run = replay_items([str(feed)], "ccsignals", lambda r: replayer, False)
            _, peaks[feed.name] = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert run.totals["items"] == run.totals["status reproduced"]
    evidence.close()
    assert run.totals["items"] == 20_000
    assert peaks["large.jsonl"] < peaks["small.jsonl"] + 2_000_000, peaks


def write_feed(path: Path, record: dict, count: int) -> None:
    origin = record["url"].rsplit("/", 1)[0]
    with path.open("w") as out:
        for i in range(count):
            out.write(
                json.dumps(
                    {"url": f"{origin}/p{i}", "ccsignals": dict(record, url=f"{origin}/p{i}")}
                )
                + "\n"
            )
