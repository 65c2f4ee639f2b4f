"""The evidence archive's writer on its own: every record a gzip member of its own that
any reader takes, payloads and digests that hash to what provenance names, and HTTP
blocks that read as HTTP (checked with warcio, the library that reads them back in
``ccsignals-replay``)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scrapy_ccsignals.records.warc import INLINE_RECORD_BYTES, EvidenceArchive, Exchange

BODIES = {
    "empty": b"",
    "robots": b"User-agent: *\nAllow: /\n",
    "40k": os.urandom(10_000).hex().encode() + b"Disallow: /x\n" * 1500,
    "200k": b"User-agent: *\n" + os.urandom(100_000),
}


def exchange(name: str, body: bytes, **kwargs) -> Exchange:
    return Exchange(
        url=f"http://127.0.0.1:8000/{name}.txt?v=1",
        method="GET",
        request_headers=[("Accept", "*/*"), ("User-Agent", "TestBot/1.0")],
        status=200,
        response_headers=[
            ("Content-Type", "text/plain"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "999"),
        ],
        body=body,
        date="2026-12-04T05:00:00.123456Z",
        kind="robots.txt",
        **kwargs,
    )


def gzip_members(data: bytes) -> list[bytes]:
    """The archive's gzip members, each decompressed on its own."""
    members = []
    while data:
        inflater = zlib.decompressobj(31)
        members.append(inflater.decompress(data) + inflater.flush())
        assert inflater.eof
        data = inflater.unused_data
    return members


def write(tmp_path: Path, exchanges: list[Exchange]) -> tuple[Path, list[str]]:
    path = tmp_path / "evidence.warc.gz"
    archive = EvidenceArchive(path, {"software-note": "test"})
    ids = [archive.archive(item, dedupe=False) for item in exchanges]
    archive.close()
    return path, [i for i in ids if i]


def test_records_are_gzip_members_with_payloads_and_digests_that_hash_right(tmp_path):
    exchanges = [exchange(name, body) for name, body in BODIES.items()]
    path, ids = write(tmp_path, exchanges)
    members = gzip_members(path.read_bytes())
    assert len(members) == 1 + 2 * len(exchanges)  # warcinfo, then response and request
    assert all(member.startswith(b"WARC/1.1\r\n") for member in members)
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    responses = {}
    requests = {}
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            headers = record.rec_headers
            if record.rec_type == "response":
                body = record.content_stream().read()
                responses[headers.get_header("WARC-Record-ID")] = (record, body)
            elif record.rec_type == "request":
                requests[headers.get_header("WARC-Concurrent-To")] = record
    assert list(responses) == ids
    for (record, body), item in zip(responses.values(), exchanges, strict=True):
        assert body == item.body
        algo, b32 = record.rec_headers.get_header("WARC-Payload-Digest").split(":", 1)
        assert algo == "sha256"
        assert base64.b32decode(b32) == hashlib.sha256(item.body).digest()
        assert record.rec_headers.get_header("WARC-Target-URI") == item.url
        assert record.rec_headers.get_header("WARC-Date") == item.date
        http = record.http_headers
        assert http.get_statuscode() == "200"
        # The stored payload is decoded: its length, and the wire encoding renamed.
        assert http.get_header("Content-Length") == str(len(item.body))
        assert http.get_header("X-Ccsignals-Orig-Content-Encoding") == "gzip"
        assert http.get_header("Content-Encoding") is None
    assert set(requests) == set(ids)


def test_the_request_record_holds_an_http_request_line(tmp_path):
    """``GET /path?query HTTP/1.1``, then the Host header: the record read back as the
    request it was (the line once began with a second ``HTTP/1.1``)."""
    path, ids = write(tmp_path, [exchange("robots", BODIES["robots"])])
    _warcinfo, _response, request = gzip_members(path.read_bytes())
    warc_headers, block = request.split(b"\r\n\r\n", 1)
    assert b"WARC-Type: request" in warc_headers.split(b"\r\n")
    assert f"WARC-Concurrent-To: {ids[0]}".encode() in warc_headers.split(b"\r\n")
    assert block.split(b"\r\n")[:2] == [b"GET /robots.txt?v=1 HTTP/1.1", b"Host: 127.0.0.1:8000"]


def test_a_cut_body_is_marked_truncated(tmp_path):
    path, _ = write(tmp_path, [exchange("cut", b"x" * 100, truncated=True)])
    with path.open("rb") as handle:
        response = next(r for r in ArchiveIterator(handle) if r.rec_type == "response")
    assert response.rec_headers.get_header("WARC-Truncated") == "length"


def test_records_keep_the_order_archived_whichever_thread_makes_them(tmp_path):
    """Small bodies are made into records at once and large ones on the writer thread; the
    archive still holds them in the order they were archived."""
    names = ["200k", "robots", "40k", "empty", "robots"]
    exchanges = [exchange(f"{name}-{i}", BODIES[name]) for i, name in enumerate(names)]
    assert len(BODIES["robots"]) <= INLINE_RECORD_BYTES < len(BODIES["40k"])
    path, ids = write(tmp_path, exchanges)
    with path.open("rb") as handle:
        order = [
            (record.rec_headers.get_header("WARC-Record-ID"), record.content_stream().read())
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        ]
    assert order == list(zip(ids, [item.body for item in exchanges], strict=True))


def test_http_heads_are_byte_for_byte_what_warcio_writes():
    """The plugin joins an all-ASCII head itself; warcio writes (percent-encodes) the rest."""
    from warcio.statusandheaders import StatusAndHeaders

    from scrapy_ccsignals.records.warc import _http_block

    for headers in (
        [("Content-Type", "text/plain"), ("X-Robots-Tag", "noai, noimageai")],
        [
            ("Content-Disposition", "attachment; filename=caf\u00e9.txt"),
            ("X-Name", "\u00e9t\u00e9"),
        ],
        [],
    ):
        for first, protocol in (("200 OK", "HTTP/1.1"), ("GET /x?y=1 HTTP/1.1", "")):
            expected = StatusAndHeaders(first, list(headers), protocol=protocol).to_ascii_bytes()
            assert _http_block(first, headers, protocol) == expected


HOSTILE_HEADS = [
    [("X-Caf\u00c3\u00a9", "1")],  # a UTF-8 name, as Scrapy's bytes decode (latin-1)
    [("Link", "\u00e9; rel=license")],  # a non-ASCII value warcio's RFC 8187 rule misses
    [("X-Split", "a\r\nInjected: yes")],  # a line break inside a value
    [("X-Nul", "a\x00b"), ("X-Ok", "fine")],
]


def test_any_header_makes_a_record_with_one_ascii_line_per_header(tmp_path):
    """Whatever the headers hold, the record is made (provenance names it) and its HTTP head
    stays one ASCII line per header, so the archive reads back the same headers."""
    exchanges = []
    for i, headers in enumerate(HOSTILE_HEADS):
        for body in (BODIES["robots"], BODIES["40k"]):  # made at once, and on the writer thread
            base = exchange(f"hostile-{i}-{len(body)}", body)
            exchanges.append(replace(base, response_headers=headers, request_headers=headers))
    path, ids = write(tmp_path, exchanges)
    assert len(ids) == len(exchanges)
    with path.open("rb") as handle:
        records = {
            record.rec_headers.get_header("WARC-Record-ID"): (
                record.content_stream().read(),
                [name for name, _ in record.http_headers.headers],
            )
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        }
    assert list(records) == ids
    for record_id, item in zip(ids, exchanges, strict=True):
        body, names = records[record_id]
        assert body == item.body
        assert len(names) == len(item.response_headers) + 1  # and Content-Length
    members = gzip_members(path.read_bytes())
    for member in members[1:]:
        head = member.split(b"\r\n\r\n", 2)[1]  # the HTTP head, after the WARC head
        assert head.isascii()
        lines = head.split(b"\r\n")
        assert all(b"\n" not in line and b"\r" not in line for line in lines)


def test_a_record_that_cannot_be_made_is_counted_and_costs_only_itself(tmp_path, monkeypatch):
    """Were a record ever impossible to make, the archive says so (``failed``, which the
    crawl reports as ``ccsignals/evidence/failed``) and the other records are kept."""
    from scrapy_ccsignals.records import warc

    real = warc._http_block

    def fails_for_bad(first_line, headers, protocol=""):
        if any(name == "X-Bad" for name, _ in headers):
            raise RuntimeError("cannot")
        return real(first_line, headers, protocol)

    monkeypatch.setattr(warc, "_http_block", fails_for_bad)
    path = tmp_path / "evidence.warc.gz"
    archive = EvidenceArchive(path)
    good = archive.archive(exchange("good", BODIES["robots"]), dedupe=False)
    bad_small = replace(exchange("bad", BODIES["robots"]), response_headers=[("X-Bad", "1")])
    bad_large = replace(bad_small, body=BODIES["40k"])
    assert archive.archive(bad_small, dedupe=False) is None
    archive.archive(bad_large, dedupe=False)
    last = archive.archive(exchange("last", BODIES["40k"]), dedupe=False)
    archive.close()
    assert archive.failed == 2
    assert archive.records == 2
    with path.open("rb") as handle:
        ids = [
            record.rec_headers.get_header("WARC-Record-ID")
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        ]
    assert ids == [good, last]


def test_records_with_large_heads_are_made_on_the_writer_thread(tmp_path, monkeypatch):
    """What decides where a record is made is its size, headers included: a small body with
    megabytes of headers (a hostile server's) would otherwise be compressed on the reactor."""
    import threading

    from scrapy_ccsignals.records import warc

    made_on: dict[str, str] = {}
    real = warc.gzip_member

    def spy(data: bytes) -> bytes:
        for name in ("small-head", "large-head", "large-request-head"):
            if f"/{name}.txt".encode() in data[:2000] and b"WARC-Type: response" in data[:2000]:
                made_on[name] = threading.current_thread().name
        return real(data)

    monkeypatch.setattr(warc, "gzip_member", spy)
    small = exchange("small-head", BODIES["robots"])
    many = [(f"X-Filler-{i}", "v" * 100) for i in range(INLINE_RECORD_BYTES // 100)]
    large = replace(exchange("large-head", BODIES["robots"]), response_headers=many)
    large_request = replace(exchange("large-request-head", BODIES["robots"]), request_headers=many)
    _, ids = write(tmp_path, [small, large, large_request])
    assert len(ids) == 3
    here = threading.current_thread().name
    assert made_on == {
        "small-head": here,
        "large-head": "ccsignals-warc",
        "large-request-head": "ccsignals-warc",
    }


def test_records_the_file_cannot_take_are_counted_failed(tmp_path):
    """A file that cannot be written (closed, full) loses the records waiting for it: they
    count as failed (``ccsignals/evidence/failed``), not as written."""
    path = tmp_path / "evidence.warc.gz"
    archive = EvidenceArchive(path)
    archive._file.close()  # as a disk that fails would: every write raises
    ids = [archive.archive(exchange(f"lost-{i}", BODIES["robots"]), dedupe=False) for i in range(3)]
    archive.close()
    assert all(ids)  # ids are chosen before the writing fails
    assert archive.failed == 3
    assert archive.records == 0
