"""Downloading one policy file (robots.txt, tdmrep.json, an RSL document) through Scrapy's
engine: high priority, plain (``identity``) encoding, a byte cap counted on the wire,
Scrapy's HTTP cache and redirect middleware bypassed, and up to 5 redirects followed by hand
so the limit and the chain are ours (RFC 9309 section 2.3.1.2). Whatever happens, the
result is a :class:`~scrapy_ccsignals.policy.store.RawFile`, never an exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http.request import NO_CALLBACK

from scrapy_ccsignals.policy.evidence import archive_exchange
from scrapy_ccsignals.policy.store import RawFile
from scrapy_ccsignals.signals import robots

if TYPE_CHECKING:
    from scrapy.http import Response

    from scrapy_ccsignals.policy.host import FetcherHost

#: Request meta key marking the plugin's own policy requests (value: the file's kind).
POLICY_META = "ccsignals_policy"
#: Request meta key holding the byte cap of a policy request.
MAXSIZE_META = "ccsignals_maxsize"
DOWNLOAD_PRIORITY = 1000
#: The error text of a fetch that passed the redirect limit.
TOO_MANY_REDIRECTS = "too many redirects"
#: The error text of a redirect to a scheme other than http/https.
BAD_REDIRECT = "redirect to a non-HTTP(S) URL"
#: The error text of a redirect hop the caller's check refused (followed by why).
REFUSED = "refused"
#: The error text of a file longer than its byte cap (its first bytes are kept).
OVER_CAP = "over the byte cap"


#: Says why a redirect target must not be fetched (None: it may).
HopCheck = Callable[[str], Awaitable[str | None]]


def policy_maxsize(max_bytes: int) -> int:
    """``download_maxsize`` of a policy request: room for a compressed file that inflates
    to well past the cap that is read, never the gigabyte Scrapy allows by default."""
    return max(16 * max_bytes, 4 << 20)


class PolicyDownloader:
    """Downloads policy files for the fetcher (and the RSL documents)."""

    def __init__(self, runtime: FetcherHost):
        self.runtime = runtime
        self.cfg = runtime.cfg
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        # The byte-cap handler runs for every chunk of every response while it is
        # connected, so it is connected only while policy downloads are in flight.
        self._in_flight = 0

    def request(self, kind: str, url: str, max_bytes: int) -> Request:
        """The request for one hop of a policy file download."""
        return Request(
            url,
            headers={"Accept-Encoding": "identity"},
            priority=DOWNLOAD_PRIORITY,
            callback=NO_CALLBACK,
            dont_filter=True,
            meta={
                POLICY_META: kind,
                MAXSIZE_META: max_bytes,
                "dont_obey_robotstxt": True,
                "dont_redirect": True,
                # The plugin's store is the only policy cache: its age is known and
                # the 24 h rule holds (SIGNALS.md r2), so Scrapy's HTTP cache is bypassed.
                "dont_cache": True,
                # The byte cap counts bytes on the wire; a compressed body would be
                # inflated whole by HttpCompressionMiddleware. Ask for it plain, and
                # bound what decompression may produce (past it: a failed fetch).
                "download_maxsize": policy_maxsize(max_bytes),
                "handle_httpstatus_all": True,
                "download_timeout": self.cfg.policy_timeout,
                "max_retry_times": self.cfg.policy_retries,
                # With no retries, RetryMiddleware stays out (no "Gave up retrying" error).
                "dont_retry": self.cfg.policy_retries == 0,
            },
        )

    async def download(
        self, kind: str, url: str, max_bytes: int, check: HopCheck | None = None
    ) -> RawFile:
        """The file at *url*, following up to 5 redirects by hand (http/https only). With
        *check*, each redirect target is first given to it: a reason it returns stops the
        download (a failed fetch, error ``refused: <reason>``)."""
        try:
            return await self._download(kind, url, max_bytes, check)
        except Exception as exc:
            return RawFile(url, None, None, repr(exc), url)

    async def _download(
        self, kind: str, url: str, max_bytes: int, check: HopCheck | None
    ) -> RawFile:
        first = url
        hops: list[str] = []
        for hop in range(robots.MAX_REDIRECTS + 1):
            if hop and check is not None:
                why = await check(url)
                if why is not None:
                    return RawFile(first, None, None, f"{REFUSED}: {why}", url)
            req = self.request(kind, url, max_bytes)
            engine = self.runtime.crawler.engine
            assert engine is not None
            self._track(+1)
            try:
                response: Response = await engine.download_async(req)
            except Exception as exc:
                return RawFile(first, None, None, f"{type(exc).__name__}: {exc}", url)
            finally:
                self._track(-1)
            body = response.body[:max_bytes]
            # Every answer, each redirect hop and 4xx/5xx included, goes to the evidence
            # archive (once per distinct content); the final one's record id travels with
            # the file, to the store and to provenance.
            truncated = len(response.body) > max_bytes or "download_stopped" in response.flags
            record_id = archive_exchange(
                self.runtime.evidence, kind, req, response, body, truncated=truncated
            )
            location = response.headers.get(b"Location")
            if 300 <= response.status < 400 and location:
                url = urljoin(url, location.decode("latin-1"))
                if urlsplit(url).scheme.lower() not in ("http", "https"):
                    # Only http/https targets (SIGNALS.md r2): a file: or ftp: redirect is a
                    # failed fetch, never read.
                    self.runtime.inc("ccsignals/policy/bad_redirect")
                    return RawFile(first, None, None, f"{BAD_REDIRECT}: {url[:200]!r}", url)
                hops.append(url)
                continue
            error = f"{OVER_CAP} ({max_bytes} bytes)" if truncated else ""
            return RawFile(first, response.status, body, error, url, record_id, tuple(hops))
        return RawFile(first, None, None, f"{TOO_MANY_REDIRECTS} ({robots.MAX_REDIRECTS})", url)

    def _track(self, change: int) -> None:
        signal_manager = self.runtime.crawler.signals
        self._in_flight += change
        if change > 0 and self._in_flight == 1:
            signal_manager.connect(self._bytes_received, signal=signals.bytes_received)
        elif change < 0 and self._in_flight == 0:
            signal_manager.disconnect(self._bytes_received, signal=signals.bytes_received)

    def _bytes_received(self, data: bytes, request: Request, **kwargs: Any) -> None:
        """Stop reading a policy file at its cap; the part read so far is used."""
        cap = request.meta.get(MAXSIZE_META)
        if cap is None:
            return
        seen = self._received.get(request, 0) + len(data)
        self._received[request] = seen
        if seen > cap:
            self.runtime.inc(f"ccsignals/policy/truncated/{request.meta[POLICY_META]}")
            raise StopDownload(fail=False)
