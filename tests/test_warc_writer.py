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
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scrapy_ccsignals.records.warc import INLINE_BODY_BYTES, EvidenceArchive, Exchange

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
    assert len(BODIES["robots"]) <= INLINE_BODY_BYTES < len(BODIES["40k"])
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
