"""The evidence archive (issue 29 items 1 and 2): the policy documents a crawl fetched, and
on request its responses, as WARC records named by provenance and the audit log; checked
with ``warcio check`` and by re-hashing every payload provenance points at."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import ccsignals_of, page, run_crawl, stats, text

TAG = {"CCSIGNALS_MODE": "tag", "LOG_LEVEL": "INFO"}
RSL = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<permits type="usage">search</permits></license></content></rsl>'
)


def fixture_web(server) -> tuple[str, str]:
    """A site with a robots.txt (a License: line), no tdmrep.json (404) and pages; another
    whose tdmrep.json answers 503 and whose robots.txt reserves training."""
    site = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\nLicense: /license.xml\n"),
            "/license.xml": {"body": RSL, "headers": {"Content-Type": "application/rsl+xml"}},
            "/": {"body": page("home", '<a href="/a">a</a> <a href="/b">b</a>')},
            "/a": {"body": page("a"), "headers": {"Content-Usage": "train-ai=n"}},
            "/b": {"body": page("b")},
        }
    )
    other = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nContent-Usage: train-ai=n\n"),
            "/.well-known/tdmrep.json": {"status": 503, "body": "busy"},
            "/*": {"body": page("other")},
        }
    )
    return site, other


def warc_records(path: Path) -> dict[str, dict]:
    """Every record of the archive by id: type, URI, headers, payload, concurrent-to."""
    found = {}
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            headers = record.rec_headers
            found[headers.get_header("WARC-Record-ID")] = {
                "type": record.rec_type,
                "uri": headers.get_header("WARC-Target-URI"),
                "digest": headers.get_header("WARC-Payload-Digest"),
                "concurrent": headers.get_header("WARC-Concurrent-To"),
                "truncated": headers.get_header("WARC-Truncated"),
                "status": record.http_headers.get_statuscode() if record.http_headers else None,
                "payload": record.content_stream().read(),
            }
    return found


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_resolves(entry: dict, records: dict[str, dict]) -> dict:
    """*entry* (a provenance policies[] entry or record) names a response record whose
    payload hashes to the entry's sha256, and whose digest header says so too."""
    record = records[entry["warc_record_id"]]
    assert record["type"] == "response"
    assert hashlib.sha256(record["payload"]).hexdigest() == entry["sha256"]
    algo, b32 = record["digest"].split(":", 1)
    assert algo == "sha256" and base64.b32decode(b32).hex() == entry["sha256"]
    return record


@pytest_twisted.ensureDeferred
async def test_policy_documents_are_archived_and_named_by_provenance(server, tmp_path):
    site, other = fixture_web(server)
    audit = tmp_path / "audit.jsonl"
    _, items = await run_crawl(
        [f"{site}/", f"{other}/x", f"{other}/y"],
        {"CCSIGNALS_AUDIT_LOG": str(audit), "CCSIGNALS_MODE": "tag", "LOG_LEVEL": "INFO"},
    )
    warc = tmp_path / "audit.warc.gz"  # beside the audit log, on by default
    assert warc.exists()
    check = warcio_check(warc)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout
    records = warc_records(warc)
    responses = [r for r in records.values() if r["type"] == "response"]
    # Each document once: robots.txt x2, tdmrep.json x2 (a 404 and a 503), the RSL file.
    assert sorted((r["uri"], r["status"]) for r in responses) == sorted(
        [
            (f"{site}/robots.txt", "200"),
            (f"{site}/.well-known/tdmrep.json", "404"),
            (f"{site}/license.xml", "200"),
            (f"{other}/robots.txt", "200"),
            (f"{other}/.well-known/tdmrep.json", "503"),
        ]
    )
    # Each response has its request (headers included: our user agent).
    requests = [r for r in records.values() if r["type"] == "request"]
    assert {r["concurrent"] for r in requests} == {
        rid for rid, r in records.items() if r["type"] == "response"
    }
    assert all(r["payload"] == b"" for r in requests)
    named = 0
    assert len(items) == 5
    for item in items:
        for entry in ccsignals_of(item)["policies"]:
            if entry["status"] is None:  # not fetched (tdmrep.json pending): nothing to keep
                assert entry.get("warc_record_id") is None
                continue
            record = assert_resolves(entry, records)
            assert record["uri"] == entry["url"]
            named += 1
    assert named >= 10
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    policy_lines = [ln for ln in lines if ln["stage"] == "policy"]
    assert len(policy_lines) == 5
    for line in policy_lines:
        assert_resolves(line["policy"], records)
    started = next(ln for ln in lines if ln["stage"] == "crawl")
    assert started["evidence_warc"] == str(warc)


@pytest_twisted.ensureDeferred
async def test_no_archive_without_an_audit_log_or_when_turned_off(server, tmp_path):
    site, _ = fixture_web(server)
    audit = tmp_path / "audit.jsonl"
    _, items = await run_crawl(
        [f"{site}/b"],
        {"CCSIGNALS_AUDIT_LOG": str(audit), "CCSIGNALS_EVIDENCE_WARC": False, **TAG},
        follow=False,
    )
    assert list(tmp_path.iterdir()) == [audit]
    assert "warc_record_id" not in ccsignals_of(items[0])["policies"][0]
    elsewhere = tmp_path / "evidence" / "%(name)s.warc.gz"
    await run_crawl([f"{site}/b"], {"CCSIGNALS_EVIDENCE_WARC": str(elsewhere)}, follow=False)
    # Without an audit log, no archive unless one is named.
    await run_crawl([f"{site}/b"], {"CCSIGNALS_AUDIT_LOG": None, **TAG}, follow=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "evidence"]
    assert warcio_check(tmp_path / "evidence" / "pages.warc.gz").returncode == 0


@pytest_twisted.ensureDeferred
async def test_the_record_id_travels_with_a_stored_policy(server, tmp_path):
    """A second worker (here: a second run) that takes robots.txt from the shared store
    names the record the first one archived."""
    site, _ = fixture_web(server)
    store = f"sqlite:///{tmp_path}/policies.db"
    first, second = tmp_path / "one", tmp_path / "two"
    _, items1 = await run_crawl(
        [f"{site}/b"],
        {"CCSIGNALS_POLICY_STORE": store, "CCSIGNALS_AUDIT_LOG": str(first / "audit.jsonl"), **TAG},
        follow=False,
    )
    _, items2 = await run_crawl(
        [f"{site}/b"],
        {
            "CCSIGNALS_POLICY_STORE": store,
            "CCSIGNALS_AUDIT_LOG": str(second / "audit.jsonl"),
            **TAG,
        },
        follow=False,
    )
    robots1 = ccsignals_of(items1[0])["policies"][0]
    robots2 = ccsignals_of(items2[0])["policies"][0]
    assert robots2["cached"] is True
    assert robots2["warc_record_id"] == robots1["warc_record_id"]
    assert_resolves(robots2, warc_records(first / "audit.warc.gz"))
    # The second run fetched no robots.txt, so archived none.
    assert not [
        r
        for r in warc_records(second / "audit.warc.gz").values()
        if r["uri"] == f"{site}/robots.txt"
    ]


@pytest.mark.parametrize("which", ["kept", "all"])
@pytest_twisted.ensureDeferred
async def test_responses_are_archived_when_asked(server, tmp_path, which):
    site, _ = fixture_web(server)
    audit = tmp_path / "audit.jsonl"
    _, items = await run_crawl(
        [f"{site}/"],
        {
            "CCSIGNALS_AUDIT_LOG": str(audit),
            "CCSIGNALS_EVIDENCE_RESPONSES": which,
            "CCSIGNALS_PURPOSE": "search",  # the RSL licence permits search
            "LOG_LEVEL": "INFO",
        },
    )
    warc = tmp_path / "audit.warc.gz"
    assert warcio_check(warc).returncode == 0
    records = warc_records(warc)
    # /a says Content-Usage: train-ai=n, which does not concern search: all three kept.
    assert sorted(i["url"] for i in items) == [f"{site}/", f"{site}/a", f"{site}/b"]
    for item in items:
        record = ccsignals_of(item)
        archived = assert_resolves(record, records)
        assert archived["uri"] == record["url"] and archived["status"] == "200"
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    fetched = [ln for ln in lines if ln["stage"] == "response"]
    assert all(ln["warc_record_id"] in records for ln in fetched)
    # The page-level signal is in the archived headers.
    a = next(ccsignals_of(i) for i in items if i["url"].endswith("/a"))
    with warc.open("rb") as handle:
        for rec in ArchiveIterator(handle):
            if rec.rec_headers.get_header("WARC-Record-ID") == a["warc_record_id"]:
                assert rec.http_headers.get_header("Content-Usage") == "train-ai=n"


@pytest_twisted.ensureDeferred
async def test_kept_archives_only_allowed_responses_in_enforce(server, tmp_path):
    site, _ = fixture_web(server)
    audit = tmp_path / "audit.jsonl"
    _, items = await run_crawl(
        [f"{site}/"],
        {"CCSIGNALS_AUDIT_LOG": str(audit), "CCSIGNALS_EVIDENCE_RESPONSES": "kept",
         "LOG_LEVEL": "INFO"},
    )  # fmt: skip
    assert items == []  # train-ai: the RSL licence permits search only
    records = warc_records(tmp_path / "audit.warc.gz")
    assert not [r for r in records.values() if (r["uri"] or "").endswith(("/", "/a", "/b"))]


@pytest_twisted.ensureDeferred
async def test_policy_files_with_non_ascii_header_values_are_archived_and_counted(server, tmp_path):
    """A robots.txt answered with a non-ASCII header value that warcio's percent-encoding
    misses (bytes Scrapy passes on as they came) is archived like any other: provenance
    names its record, and the crawl's stats count the records written and none failed."""
    site = server.add_origin(
        {
            "/robots.txt": {
                "body": "User-agent: *\nAllow: /\n",
                "headers": {"Content-Type": "text/plain", "X-Cafe": "cr\u00e8me; a=b"},
            },
            "/.well-known/tdmrep.json": {"status": 404, "body": "none"},
            "/*": {"body": page("page")},
        }
    )
    audit = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl([f"{site}/"], {"CCSIGNALS_AUDIT_LOG": str(audit), **TAG})
    records = warc_records(tmp_path / "audit.warc.gz")
    [robots] = [e for e in ccsignals_of(items[0])["policies"] if e["kind"] == "robots.txt"]
    assert assert_resolves(robots, records)["uri"] == f"{site}/robots.txt"
    # The server's UTF-8 bytes, percent-encoded once (not read as Latin-1 and encoded again).
    with (tmp_path / "audit.warc.gz").open("rb") as handle:
        [value] = [
            record.http_headers.get_header("X-Cafe")
            for record in ArchiveIterator(handle)
            if record.rec_headers.get_header("WARC-Record-ID") == robots["warc_record_id"]
        ]
    assert value == "cr%C3%A8me; a=b"
    responses = [r for r in records.values() if r["type"] == "response"]
    counts = stats(crawler)
    assert counts["ccsignals/evidence/records"] == len(responses) == 2  # robots.txt, tdmrep.json
    assert "ccsignals/evidence/failed" not in counts
    finished = json.loads(audit.read_text().splitlines()[-1])
    assert finished["stats"]["ccsignals/evidence/records"] == 2
