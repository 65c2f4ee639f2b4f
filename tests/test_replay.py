"""``scrapy ccsignals-replay`` (issue 29 item 3): decisions re-made offline from provenance
and the evidence archive, after real crawls of a fixture web on 127.0.0.1."""

from __future__ import annotations

import base64
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
from tests import assetfiles
from tests.crawling import ccsignals_of, page, run_crawl, text
from tests.scrapy_cli import run_scrapy

ACCEPT = "cc-cr"


def fixture_web(server) -> list[str]:
    """Sites whose decisions differ by purpose: a robots.txt reserving training; a
    Content-Usage header; noindex (search only); a CC-signals exception; a plain site that
    disallows a folder and reserves a page in its tdmrep.json."""
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
            "/.well-known/tdmrep.json": {
                "body": '[{"location": "/ok", "tdm-reservation": 1}]',
                "headers": {"Content-Type": "application/json"},
            },
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
    assert decisions(items)[urls[2].rstrip("/") + "/ok"] == "deny"  # tdmrep.json
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


def any_purpose_web(server) -> list[str]:
    """Pages whose decision for search or ai-input rests on what a train-ai crawl finds
    silent (issue 29 item 3): a site-wide robots.txt statement and a path-scoped line that
    speak only for other purposes, noindex (meta and header), header-only Content-Signal
    and Content-Usage statements (one with a CC signals exception), a meta Content-Usage,
    noarchive (train-ai only) and an image whose IPTC DataMining excepts search."""
    image = assetfiles.png(assetfiles.xmp(data_mining="DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"))
    site = server.add_origin(
        {
            "/robots.txt": text(
                "Content-Signal: ai-input=no\n"
                "User-agent: *\nAllow: /\nContent-Usage: /nosearch/ search=n\n"
            ),
            "/": {"body": page("a", '<a href="/nosearch/p">1</a> <a href="/plain">2</a>')},
            "/plain": {"body": page("plain")},
            "/nosearch/p": {"body": page("nosearch")},
        }
    )
    pages = {
        "/meta-noindex": {"body": page("m", head='<meta name="robots" content="noindex">')},
        "/header-noindex": {"body": page("h"), "headers": {"X-Robots-Tag": "noindex"}},
        "/cs": {"body": page("cs"), "headers": {"Content-Signal": "search=no"}},
        "/cu": {
            "body": page("cu"),
            "headers": {"Content-Usage": "train-ai=y, ai-use=n;exceptions=cc-cr"},
        },
        "/cu-search": {
            "body": page("cus"),
            "headers": {"Content-Usage": "search=n;exceptions=cc-cr"},
        },
        "/meta-cu": {
            "body": page("mcu", head='<meta http-equiv="Content-Usage" content="search=n">')
        },
        "/noarchive": {"body": page("na"), "headers": {"X-Robots-Tag": "noarchive"}},
        "/img.png": {
            "body_b64": base64.b64encode(image).decode(),
            "headers": {"Content-Type": "image/png"},
        },
    }
    links = " ".join(f'<a href="{path}">{path}</a>' for path in pages)
    pages_origin = server.add_origin(
        {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/": {"body": page("b", links)}, **pages}
    )
    return [f"{site}/", f"{pages_origin}/"]


def outcomes(items: list) -> dict[str, tuple[str, list[str]]]:
    """Each item's decision and conditions, by URL."""
    return {
        ccsignals_of(i)["url"]: (ccsignals_of(i)["decision"], ccsignals_of(i)["conditions"])
        for i in items
    }


def replayed(folder: Path, *args: str) -> dict[str, tuple[str, list[str]]]:
    """Replay with *args*; every item's decision and conditions, by URL."""
    done = replay(folder, *args, "--details", "d.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "undecidable 0" in done.stdout, done.stdout
    details = [json.loads(line) for line in (folder / "d.jsonl").read_text().splitlines()]
    assert {d["basis"] for d in details} == {"provenance"}
    return {d["url"]: (d["decision"], d["conditions"]) for d in details}


@pytest_twisted.ensureDeferred
async def test_any_purpose_from_a_crawl_without_archived_responses(server, tmp_path):
    """Replay of a train-ai crawl that archived no response (policies only) decides search
    and ai-input, with and without accepted conditions, item by item as fresh crawls of
    the same web do: every signal was recorded as written, whatever the crawl's purpose."""
    urls = any_purpose_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    assert not any("warc_record_id" in ccsignals_of(i) for i in items)
    write_items(tmp_path / "items.jsonl", items)
    train = outcomes(items)
    assert len(train) == 12
    for purpose, accept in (("search", [ACCEPT]), ("ai-input", []), ("search", [])):
        folder = tmp_path / f"{purpose}-{len(accept)}"
        crawl_settings = settings(
            folder, CCSIGNALS_PURPOSE=purpose, CCSIGNALS_ACCEPT_CONDITIONS=accept
        )
        _, fresh = await run_crawl(urls, crawl_settings)
        expected = outcomes(fresh)
        got = replayed(tmp_path, "--purpose", purpose, "--accept", ",".join(accept))
        assert got == expected, purpose
        assert got != train  # the answer is not the crawl's own


@pytest_twisted.ensureDeferred
async def test_signals_silent_for_the_purpose_are_recorded_as_written(server, tmp_path):
    """A train-ai crawl's provenance lists what speaks only for other purposes, with effect
    unknown and value ``silent`` (noindex with its directive), and says it does."""
    urls = any_purpose_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    records = {ccsignals_of(i)["url"]: ccsignals_of(i) for i in items}
    assert all(r["signals_as_written"] is True for r in records.values())

    def signals(path: str, origin: int = 1) -> list[tuple[str, str, str, str, str]]:
        record = records[urls[origin] + path.lstrip("/")]
        return [
            (s["family"], s["layer"], s["value"], s["effect"], s["raw"]) for s in record["signals"]
        ]

    site_wide = ("content-signal", "robots.txt", "silent", "unknown", "Content-Signal: ai-input=no")
    assert site_wide in signals("/plain", 0)
    assert ("aipref", "robots.txt", "silent", "unknown", "Content-Usage: /nosearch/ search=n") in (
        signals("/nosearch/p", 0)
    )
    assert ("content-signal", "header", "silent", "unknown", "Content-Signal: search=no") in (
        signals("/cs")
    )
    conditional_search = "Content-Usage: search=n;exceptions=cc-cr"
    assert ("aipref", "header", "silent", "unknown", conditional_search) in signals("/cu-search")
    assert ("noindex", "header", "noindex", "unknown", "X-Robots-Tag: noindex") in (
        signals("/header-noindex")
    )
    assert [s[:4] for s in signals("/meta-noindex")] == [("noindex", "html", "noindex", "unknown")]
    assert [s[:4] for s in signals("/meta-cu")] == [("aipref", "html", "silent", "unknown")]
    assert all(r["decision"] == "allow" for u, r in records.items() if u.endswith("noindex"))


@pytest_twisted.ensureDeferred
async def test_a_record_from_before_signals_as_written_is_undecidable_for_another_purpose(
    server, tmp_path
):
    urls = any_purpose_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    old = []
    for item in items:
        record = dict(ccsignals_of(item))
        record.pop("signals_as_written")
        record["signals"] = [s for s in record["signals"] if s["value"] != "silent"]
        old.append({"url": record["url"], "ccsignals": record})
    write_items(tmp_path / "items.jsonl", old)
    done = replay(tmp_path, "--purpose", "search", "-o", "kept.jsonl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"undecidable {len(old)}" in done.stdout
    assert "from before signals were recorded as written" in done.stdout
    assert (tmp_path / "kept.jsonl").read_text() == ""
    # Its own purpose is still decided from what it recorded.
    done = replay(tmp_path, "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"decision reproduced {len(old)}; mismatched 0; undecidable 0" in done.stdout


@pytest_twisted.ensureDeferred
async def test_what_the_evidence_cannot_decide_is_reported_not_guessed(server, tmp_path):
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))  # policies only
    write_items(tmp_path / "items.jsonl", items)
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


@pytest_twisted.ensureDeferred
async def test_inputs_are_globs_and_the_wrong_kind_of_file_is_one_line(server, tmp_path):
    """As every command that reads files (docs: Commands, Inputs): quoted globs are
    expanded for the items and for ``--evidence``; an audit log given as the items, or a
    file that is not a WARC given as evidence, or standard input as evidence (a WARC is
    read back by offset), stops it with one line naming the file, exit code 2: never a
    traceback, and never a replay against records read out of a file that is no archive."""
    urls = fixture_web(server)
    _, items = await run_crawl(urls, settings(tmp_path))
    write_items(tmp_path / "items.jsonl", items)
    (tmp_path / "junk.warc.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    accept = ("-s", f"CCSIGNALS_ACCEPT_CONDITIONS={ACCEPT}")

    done = run_scrapy(
        ["ccsignals-replay", "item*.jsonl", "--evidence", "audit*.warc.gz", *accept], tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"decision reproduced {len(items)}; mismatched 0; undecidable 0" in done.stdout

    for args, named in (
        (["audit.jsonl", "--evidence", "audit.warc.gz"], "audit.jsonl is an audit log"),
        (["items.jsonl", "--evidence", "audit.jsonl"], "audit.jsonl is not a WARC"),
        (["items.jsonl", "--evidence", "items.jsonl"], "items.jsonl is not a WARC"),
        (["items.jsonl", "--evidence", "junk.warc.gz"], "junk.warc.gz is not a WARC"),
        (["items.jsonl", "--evidence", "-"], "standard input"),
    ):
        done = run_scrapy(["ccsignals-replay", *args, *accept], tmp_path, stdin=b"")
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ccsignals-replay: "), lines
        assert named in lines[0], lines
        assert done.stdout == "", done.stdout
