"""A Scrapy request and its response as an :class:`~scrapy_ccsignals.records.warc.Exchange`
for the evidence archive: what the policy downloader archives for every policy file (each
redirect hop included), and the downloader middleware for the responses it is asked to keep
(``CCSIGNALS_EVIDENCE_RESPONSES``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_ccsignals.records.audit import utc_now
from scrapy_ccsignals.records.warc import EvidenceArchive, Exchange
from scrapy_ccsignals.scrapy_compat import raw_header_items

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.http.headers import Headers


def _text(raw: bytes) -> str:
    """A header's bytes as text: UTF-8 when they are (so the archive percent-encodes the
    bytes the server sent), else Latin-1 (any bytes)."""
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _headers(headers: Headers) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, values in raw_header_items(headers):
        name = _text(key)
        out.extend((name, _text(value)) for value in values)
    return out


def _protocol(response: Response) -> str:
    protocol = getattr(response, "protocol", None)
    return protocol if isinstance(protocol, str) and protocol.startswith("HTTP/") else "HTTP/1.1"


def archive_exchange(
    archive: EvidenceArchive,
    kind: str,
    request: Request,
    response: Response,
    body: bytes,
    truncated: bool = False,
    dedupe: bool = True,
) -> str | None:
    """Archive *request* and *response* with *body* (what the plugin read of it, so its
    SHA-256 is provenance's); the response record's id, or None when the archive is off."""
    if not archive.enabled:
        return None
    return archive.archive(
        Exchange(
            url=response.url,
            method=request.method,
            request_headers=_headers(request.headers),
            status=response.status,
            response_headers=_headers(response.headers),
            body=body,
            date=utc_now(),
            protocol=_protocol(response),
            truncated=truncated,
            kind=kind,
        ),
        dedupe=dedupe,
    )
