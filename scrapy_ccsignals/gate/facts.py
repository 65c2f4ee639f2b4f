"""What one response says, gathered once before the use gate decides: the URL and its
path, the signal headers, the content type, what the HTML page says about itself (one scan)
and what a file says about itself. The gate reads these facts; it never reads the body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from scrapy.http import HtmlResponse, TextResponse

from scrapy_ccsignals.signals import htmlscan
from scrapy_ccsignals.signals.assets import is_image_file
from scrapy_ccsignals.signals.pathmatch import url_path

if TYPE_CHECKING:
    from scrapy.http import Response

    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.signals.assets import AssetMetadata
    from scrapy_ccsignals.signals.c2pa import C2paResult

#: Response headers the use gate reads, lower-case name -> values in order.
SIGNAL_HEADERS = frozenset(
    {"content-usage", "content-signal", "tdm-reservation", "tdm-policy", "x-robots-tag", "link"}
)


@dataclass(slots=True)
class ResponseFacts:
    """One response as the use gate sees it. *headers* maps the lower-case names of
    :data:`SIGNAL_HEADERS` to their values; *page* is the scan of an HTML body (None for
    anything else); *asset* and *c2pa* what a non-HTML file says about itself;
    *access_checked* that the access gate already let *url* through."""

    url: str
    path: str
    headers: Mapping[str, list[str]] = field(default_factory=dict)
    content_type: str = ""
    #: the response is HTML (its *page* is None when the body is empty)
    html: bool = False
    page: htmlscan.HtmlMeta | None = None
    asset: AssetMetadata | None = None
    c2pa: C2paResult | None = None
    access_checked: bool = False
    #: the body is an image by its first bytes (a JPEG sent as octet-stream, say)
    image_bytes: bool = False

    @classmethod
    def of_url(cls, url: str, content_type: str = "") -> ResponseFacts:
        """Facts of a URL alone (no headers, no body): what re-checks evaluate."""
        return cls(url, url_path(url), content_type=content_type)

    @property
    def is_image(self) -> bool:
        """An image by its Content-Type or its first bytes (for ``noimageai``)."""
        return self.image_bytes or self.content_type.startswith("image/")


def is_html(content_type: str) -> bool:
    return content_type.startswith(("text/html", "application/xhtml+xml"))


@lru_cache(maxsize=16)
def _meta_names(token: str) -> tuple[bytes, ...]:
    """The ``<meta name>`` values the gate reads, as bytes for the scanner's pre-filter."""
    return (b"tdm-reservation", b"tdm-policy", b"robots", token.lower().encode("utf-8"))


def scan_page(cfg: Config, body: bytes) -> htmlscan.HtmlMeta:
    """The page-level metadata the use gate reads from an HTML body."""
    return htmlscan.extract(body[: cfg.html_scan_bytes], _meta_names(cfg.token))


def facts_of_response(
    cfg: Config, response: Response, path: str, access_checked: bool = False
) -> ResponseFacts:
    """The facts of a Scrapy response: the signal headers and content type (one pass over
    the raw header dict, whose keys are Scrapy-normalised bytes, instead of a ``getlist()``
    per name) and, for HTML, the page scan. The crawl and ``ccsignals-replay`` (which
    rebuilds the response from the evidence archive) read a response alike."""
    cap = cfg.header_max_bytes
    wanted: dict[str, list[str]] = {}
    content_type = ""
    # The raw dict items (as scrapy_compat.raw_header_items), without Headers' per-key work.
    for key, values in dict.items(response.headers):
        name = key.decode("latin-1").lower()
        if name in SIGNAL_HEADERS:
            wanted[name] = [v[:cap].decode("latin-1") for v in values]
        elif name == "content-type" and values:
            content_type = values[-1].decode("latin-1").lower()  # as Headers.get()
    facts = ResponseFacts(response.url, path, wanted, content_type, access_checked=access_checked)
    # Trust the class Scrapy chose: it sniffs bodies that come without a Content-Type
    # (SIGNALS.md, HTML scanning r2).
    facts.html = isinstance(response, HtmlResponse) or (
        isinstance(response, TextResponse) and is_html(content_type)
    )
    if not content_type.startswith("image/"):
        facts.image_bytes = is_image_file(response.body, content_type)
    if facts.html and response.body:
        facts.page = scan_page(cfg, response.body)
    return facts
