"""The evidence archive: the policy documents (and, when asked, the responses) a crawl's
decisions rest on, as WARC records (ISO 28500, WARC/1.1), written with ``warcio``.

Provenance names each document by its SHA-256; this keeps the bytes, so the hash can be
checked and the decision replayed years later (``scrapy ccsignals-replay``). Each fetch is a
``request`` record and a ``response`` record (HTTP status line and headers included, 4xx and
5xx answers too), each its own gzip member, so any record can be read on its own. The
``response`` record's ``WARC-Record-ID`` is what provenance and the audit log name
(``warc_record_id``).

The payload is the body as the plugin read it: decompressed by Scrapy, cut at the byte cap
for policy files (``WARC-Truncated: length``), so its SHA-256 is provenance's ``sha256``.
The HTTP headers say so: ``Content-Encoding`` and ``Transfer-Encoding`` (which no longer
describe the stored bytes) are renamed ``X-Ccsignals-Orig-...`` and ``Content-Length`` is
the stored length. Digests are SHA-256 (``WARC-Payload-Digest: sha256:<base32>``).

A document already archived with the same URL, status and SHA-256 is not written again: the
earlier record id is returned (remembered for the most recent ``remember`` documents). The
records of a document up to ``INLINE_RECORD_BYTES``, headers included (nearly every policy
file), are built and compressed at once, on the caller's thread; larger ones in a
background thread. Either way the bytes are written to the file by the background thread,
as the audit log is, in the order archived; the record id is chosen at once, so provenance
has it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import re
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from scrapy_ccsignals.records.batches import BatchWriter

logger = logging.getLogger(__name__)

#: Headers that describe the bytes on the wire, not the stored (decoded) payload.
_RENAMED = {"content-encoding", "transfer-encoding"}
_DROPPED = {"content-length"}

#: Documents up to this many bytes (body and headers) are made into records on the caller's
#: thread (the reactor's): ~50-100 us for a policy file. On the writer thread the same
#: records cost ~270 us of CPU per policy file in a 1,000-origin crawl, against ~55 us in a
#: loop: each zlib call releases the GIL, and taking it back from a busy reactor thread is a
#: hand-off that both threads pay for. Larger documents (compressing 64 KB takes
#: milliseconds) go to the writer thread, where the compression itself runs without the GIL.
INLINE_RECORD_BYTES = 8192


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 digests (its default is SHA-1): the payload digest is
    then the provenance ``sha256``, in base32 as WARC writes digests.

    warcio builds each record; it is then written to *out* as a gzip member of its own by
    :func:`gzip_member`, not by warcio's gzip wrapper, which sets up zlib's largest window
    and hash table for every record (~100 us for a robots.txt record here, against ~10-25
    sized to the record)."""

    def __init__(self, out: IO[bytes]):
        super().__init__(BytesIO(), gzip=False, warc_version="1.1")
        self._target = out

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")

    def _write_warc_record(self, out: BytesIO, record: Any) -> None:
        super()._write_warc_record(out, record)
        self._target.write(gzip_member(out.getvalue()))
        out.seek(0)
        out.truncate()


def gzip_member(data: bytes) -> bytes:
    """*data* as one gzip member, compressed as warcio does (level 9), with zlib's window
    (``wbits`` 9-15) and hash table (``memLevel``) no larger than *data* needs: the same
    member, made without setting up and clearing ~200 KB for a record of a few hundred
    bytes."""
    wbits = min(15, max(9, len(data).bit_length()))
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits + 16, wbits - 7)
    return compressor.compress(data) + compressor.flush()


def _digest(data: bytes, sha256: bytes | None = None) -> str:
    """A WARC digest: ``sha256:`` and the SHA-256 in base32 (*sha256*, when the caller has
    it already)."""
    if sha256 is None:
        sha256 = hashlib.sha256(data).digest()
    return "sha256:" + base64.b32encode(sha256).decode("ascii")


def _record(fields: list[tuple[str, str]], block: bytes) -> bytes:
    """One WARC/1.1 record: its header *fields*, ``Content-Length``, then *block*."""
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return f"WARC/1.1\r\n{head}Content-Length: {len(block)}\r\n\r\n".encode() + block + b"\r\n\r\n"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def path_beside(audit_path: Path) -> Path:
    """The archive's path beside an audit log: ``audit.jsonl`` -> ``audit.warc.gz``."""
    name = audit_path.name
    for suffix in (".jsonl.gz", ".jsonl", ".json", ".log", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return audit_path.with_name(name + ".warc.gz")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its response, as the plugin saw them."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    date: str  # ISO 8601 UTC
    protocol: str = "HTTP/1.1"
    truncated: bool = False
    kind: str = ""  # robots.txt, tdmrep.json, rsl, page


def _http_block(first_line: str, headers: list[tuple[str, str]], protocol: str = "") -> bytes:
    """An HTTP message's head as warcio writes it (``StatusAndHeaders.to_ascii_bytes``),
    one line per header, and never an error: joined here when it is plain ASCII, as it
    nearly always is; else warcio percent-encodes non-ASCII values (RFC 8187); what that
    leaves (a non-ASCII name, a value its rule misses, a control character, a line break)
    is percent-encoded here: a server's bytes must not cost the record or its framing."""
    line = f"{protocol} {first_line}" if protocol else first_line
    text = line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    if _plain(text, len(headers)):
        return text.encode("ascii")
    try:
        head = StatusAndHeaders(first_line, list(headers), protocol=protocol).to_ascii_bytes()
        if _plain(head.decode("ascii"), len(headers)):
            return head
    except UnicodeError:
        pass
    return (
        _printable(line)
        + "\r\n"
        + "".join(f"{_printable(name)}: {_printable(value)}\r\n" for name, value in headers)
        + "\r\n"
    ).encode("ascii")


#: Control characters but tab (allowed in header values), CR and LF (counted instead).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(head: str, headers: int) -> bool:
    """Whether *head* is ASCII without control characters, and its only line breaks are
    the first line's, one per header and the blank line's."""
    breaks = headers + 2
    return (
        head.isascii()
        and head.count("\n") == breaks
        and head.count("\r") == breaks
        and _CONTROL.search(head) is None
    )


#: Printable ASCII but ``%``, which percent-encoding leaves as it is.
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
_UNPRINTABLE = re.compile(r"[^\t\x20-\x7e]")


def _printable(text: str) -> str:
    """*text* with every character outside printable ASCII percent-encoded as UTF-8 (and
    then ``%`` too, so such a field decodes back to *text*): one header, one ASCII line."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return quote(text, safe=_PRINTABLE)


def _response_headers(exchange: Exchange) -> list[tuple[str, str]]:
    out = []
    for name, value in exchange.response_headers:
        low = name.lower()
        if low in _DROPPED:
            continue
        if low in _RENAMED:
            name = "X-Ccsignals-Orig-" + name
        out.append((name, value))
    out.append(("Content-Length", str(len(exchange.body))))
    return out


def _size(exchange: Exchange) -> int:
    """About how many bytes *exchange*'s records hold: its body and both heads (a server
    chooses how many headers it sends)."""
    size = len(exchange.body)
    for headers in (exchange.response_headers, exchange.request_headers):
        for name, value in headers:
            size += len(name) + len(value) + 4
            if not value.isascii():  # percent-encoded: up to 6 bytes a character
                size += 5 * len(value)
    return size


def _request_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target, parts.netloc


#: What waits for the writer thread: records made already, or an exchange to make them of
#: (its response record id, and its body's SHA-256).
_Queued = bytes | tuple[str, Exchange, bytes]


class EvidenceArchive(BatchWriter[_Queued]):
    """Append-only WARC writer; a no-op (``enabled`` false) without a path."""

    def __init__(
        self, path: Path | None, info: dict[str, Any] | None = None, remember: int = 50_000
    ):
        self.path = path
        self._remember = remember
        self._seen: OrderedDict[tuple[str, int, bytes], str] = OrderedDict()
        super().__init__()
        self._queued = 0  # response records made or queued (the reactor thread counts)
        self._failed_now = 0  # documents whose records could not be made (reactor thread)
        self._failed_later = 0  # ... on the writer thread (which alone counts these)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        self._writer = _Sha256Writer(self._file)
        fields = {"software": "scrapy-ccsignals", "format": "WARC File Format 1.1"}
        fields.update({k: v for k, v in (info or {}).items() if v})
        self._writer.write_record(self._writer.create_warcinfo_record(path.name, fields))
        self._file.flush()
        self._start("ccsignals-warc")

    def archive(self, exchange: Exchange, dedupe: bool = True) -> str | None:
        """Queue *exchange* and return its response record's id (an earlier record's id
        when the same URL, status and body were archived already); None when off."""
        if self._thread is None:
            return None
        sha256 = hashlib.sha256(exchange.body).digest()
        key = (exchange.url, exchange.status, sha256)
        if dedupe:
            known = self._seen.get(key)
            if known is not None:
                self._seen.move_to_end(key)
                return known
        record_id = new_record_id()
        if _size(exchange) <= INLINE_RECORD_BYTES:
            try:
                self._put(self._records(record_id, exchange, sha256))
            except Exception:
                logger.exception("Cannot archive %s in %s", exchange.url, self.path)
                self._failed_now += 1
                return None
        else:
            self._put((record_id, exchange, sha256))
        if dedupe:
            self._seen[key] = record_id
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        self._queued += 1
        return record_id

    @property
    def records(self) -> int:
        """Response records written or on their way (all written once closed)."""
        return self._queued - self._failed_later

    @property
    def failed(self) -> int:
        """Documents that could not be made into records (each logged, naming its URL)."""
        return self._failed_now + self._failed_later

    def _records(self, record_id: str, exchange: Exchange, sha256: bytes) -> bytes:
        """The response record, then the request record naming it (``WARC-Concurrent-To``),
        each a gzip member. Built here, not with warcio's record builder: its header lists
        and digest passes cost ~4 x this per policy file; warcio still encodes the HTTP
        blocks (non-ASCII headers percent-encoded) and reads the archive back."""
        target, host = _request_target(exchange.url)
        request_headers = list(exchange.request_headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", host))
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = ""
        status_line = f"{exchange.status} {reason}".strip()
        response_block = (
            _http_block(status_line, _response_headers(exchange), exchange.protocol) + exchange.body
        )
        fields = [
            ("WARC-Record-ID", record_id),
            ("WARC-Date", exchange.date),
            ("WARC-Type", "response"),
            ("WARC-Target-URI", exchange.url),
            ("WARC-Payload-Digest", _digest(exchange.body, sha256)),
            ("WARC-Block-Digest", _digest(response_block)),
        ]
        if exchange.truncated:
            fields.append(("WARC-Truncated", "length"))
        fields.append(("Content-Type", "application/http; msgtype=response"))
        response = gzip_member(_record(fields, response_block))
        request_line = f"{exchange.method} {target} {exchange.protocol}"
        request_block = _http_block(request_line, request_headers)
        fields = [
            ("WARC-Record-ID", new_record_id()),
            ("WARC-Date", exchange.date),
            ("WARC-Type", "request"),
            ("WARC-Target-URI", exchange.url),
            ("WARC-Concurrent-To", record_id),
            ("WARC-Block-Digest", _digest(request_block)),
            ("Content-Type", "application/http; msgtype=request"),
        ]
        return response + gzip_member(_record(fields, request_block))

    def _write_batch(self, batch: list[_Queued]) -> None:
        if not batch:
            return
        not_made = 0
        try:
            write = self._file.write
            for entry in batch:
                if isinstance(entry, bytes):
                    write(entry)
                    continue
                try:  # one record that cannot be made costs only itself
                    write(self._records(*entry))
                except Exception:
                    logger.exception("Cannot archive %s in %s", entry[1].url, self.path)
                    not_made += 1
            self._file.flush()
        except Exception:
            logger.exception("Cannot write the ccsignals evidence archive %s", self.path)
            not_made = len(batch)  # not known to be in the file: none is counted written
        self._failed_later += not_made


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """One response record read back: URL, HTTP status, headers and payload."""

    record_id: str
    url: str
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool


class EvidenceError(ValueError):
    """A file given as evidence that is not a WARC archive; the message names it."""


def _starts_as_warc(path: str) -> bool:
    """Whether *path* starts as a WARC record does (``WARC/``), plain or gzip. warcio reads
    almost anything as records (the lines of a JSON file become "response" records), so a
    file given as evidence is checked before it is indexed."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        if not gzipped:
            return handle.read(5) == b"WARC/"
        try:
            with gzip.GzipFile(fileobj=handle) as unzipped:
                return unzipped.read(5) == b"WARC/"
        except (OSError, EOFError, zlib.error):  # not gzip after all, or cut short
            return False


class EvidenceReader:
    """The response records of one or more evidence archives, by record id.

    One pass over the files keeps each response record's file and offset (about 100 bytes
    per record; an archive of policy documents has one or two records per origin); a
    record is read back, and its payload checked against its digest, when asked for.
    :class:`EvidenceError` names a file that is not a WARC archive."""

    def __init__(self, paths: Iterable[str | Path]):
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        self.paths = [str(p) for p in paths]
        self._where: dict[str, tuple[int, int]] = {}
        for index, path in enumerate(self.paths):
            if not _starts_as_warc(path):
                raise EvidenceError(
                    f"{path} is not a WARC file (the evidence archive CCSIGNALS_EVIDENCE_WARC "
                    "writes, e.g. audit/<spider>-<time>.warc.gz)"
                )
            with open(path, "rb") as handle:
                records = ArchiveIterator(handle)
                try:
                    for record in records:
                        if record.rec_type == "response":
                            record_id = record.rec_headers.get_header("WARC-Record-ID")
                            offset = records.get_record_offset()
                            self._where.setdefault(record_id, (index, offset))
                except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as exc:
                    raise EvidenceError(
                        f"{path} is not a WARC file read to its end ({exc})"
                    ) from None
        self._handles: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._where

    def get(self, record_id: str) -> ArchivedResponse | None:
        """The record, or None when no archive holds it (or it is damaged: its payload
        does not match its digest)."""
        from warcio.archiveiterator import ArchiveIterator

        where = self._where.get(record_id)
        if where is None:
            return None
        index, offset = where
        handle = self._handles.get(index)
        if handle is None:
            handle = self._handles[index] = open(self.paths[index], "rb")  # noqa: SIM115
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)))
        body = record.content_stream().read()
        digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        if digest.startswith("sha256:"):
            expected = base64.b32decode(digest[len("sha256:") :]).hex()
            if hashlib.sha256(body).hexdigest() != expected:
                return None
        http = record.http_headers
        status = None
        if http is not None:
            try:
                status = int(http.get_statuscode())
            except (TypeError, ValueError):
                status = None
        return ArchivedResponse(
            record_id=record_id,
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            status=status,
            headers=list(http.headers) if http is not None else [],
            body=body,
            truncated=bool(record.rec_headers.get_header("WARC-Truncated")),
        )

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
