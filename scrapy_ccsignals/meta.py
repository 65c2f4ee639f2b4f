"""The request meta keys the plugin's components share, and the response URL helper both
middlewares use: the bottom of the top-level runtime, so that items, the pipeline and the
middlewares import it instead of importing each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from urllib.parse import ParseResult

    from scrapy.http import Request, Response

#: The response's provenance record (``response.meta["ccsignals"]``).
META_KEY = "ccsignals"
#: Request meta opt-out: neither gate checks the request (like ``dont_obey_robotstxt``).
OPT_OUT = "dont_obey_ccsignals"
#: Request meta key: the page facts whose attribution is still to be read (on its first
#: item).
ATTRIBUTION_PENDING = "_ccsignals_attribution_pending"


def response_url_parts(request: Request | None, response: Response) -> ParseResult:
    """The parsed response URL, reusing the parse Scrapy cached for the request: the
    URLs are the same unless a middleware gave the response another one."""
    if request is not None and response.url == request.url:
        return urlparse_cached(request)
    return urlparse_cached(response)
