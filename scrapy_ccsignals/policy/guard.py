"""The plugin's own fetches of URLs a response named (RSL documents, and any such fetch added
later). Every such URL is attacker-chosen, so before anything is sent to it, it must
(SIGNALS.md r3, "the plugin's own fetches"):

1. stay within the crawl's scope: the page's own origin, a host Scrapy's
   ``OffsiteMiddleware`` lets through (``allowed_domains``, or its subclass's
   ``should_follow``), or a host named by ``CCSIGNALS_RSL_HOSTS`` (or its subdomain);
2. not be, or resolve to, an internal address (``CCSIGNALS_INTERNAL_NETWORKS``: loopback,
   private, link-local, multicast and unspecified by default) unless the page's own origin
   is one: checked on the address the crawler's resolver gives, the one Scrapy would
   connect to, so a public-looking name that resolves to 10.0.0.1 is refused too;
3. be allowed by its own origin's robots.txt for our token, fetched through the same
   fetcher (and kept, like any origin's).

Each redirect hop is checked the same way. A URL that fails is refused with a reason;
the caller records it and lets it have no effect.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.defer import maybe_deferred_to_future

from scrapy_ccsignals.policy.origin import origin_of_parts
from scrapy_ccsignals.scrapy_compat import offsite_follows
from scrapy_ccsignals.signals.pathmatch import url_path_of_parts

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from scrapy_ccsignals.policy.fetcher import PolicyFetcher
    from scrapy_ccsignals.policy.host import FetcherHost

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Pages' origins remembered as internal or not; past it the memory starts again.
MAX_REMEMBERED = 4096


class NamedFetchGuard:
    def __init__(self, runtime: FetcherHost, fetcher: PolicyFetcher):
        self.runtime = runtime
        self.fetcher = fetcher
        cfg = runtime.cfg
        self.hosts = tuple(h.lower().strip(".") for h in cfg.rsl_hosts)
        self.networks = cfg.internal_networks
        self.dns_timeout = runtime.crawler.settings.getfloat("DNS_TIMEOUT", 60)
        #: page origin -> whether it is on an internal address
        self._internal_pages: dict[str, bool] = {}

    async def refusal(self, parts: SplitResult, page_origin: str | None) -> str | None:
        """Why the URL *parts* (http or https) must not be fetched for a response of
        *page_origin*, or None when it may."""
        origin = origin_of_parts(parts)
        host = (parts.hostname or "").lower()
        if origin is None or not host:
            return "not an http(s) URL"
        url = parts.geturl()
        if origin != page_origin:
            if not self._in_scope(url, host):
                return f"{host} is outside the crawl's scope (allowed_domains, CCSIGNALS_RSL_HOSTS)"
            address = await self._resolve(host)
            if address is None:
                return f"{host} could not be resolved"
            if self._internal(address) and not await self._page_internal(page_origin):
                return f"{host} resolves to {address}, an internal address"
        policy = await self.fetcher.policy_for(origin, Request(url), urgent=True)
        if not policy.robots.can_fetch(url, url_path_of_parts(parts)):
            return f"disallowed by {policy.robots_url} ({policy.robots.outcome})"
        return None

    def _in_scope(self, url: str, host: str) -> bool:
        if any(host == h or host.endswith(f".{h}") for h in self.hosts):
            return True
        # Without an OffsiteMiddleware, Scrapy's own requests go anywhere too.
        return offsite_follows(self.runtime.crawler, Request(url))

    def _internal(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        return any(address in network for network in self.networks)

    async def _page_internal(self, page_origin: str | None) -> bool:
        """Whether the page's own origin is on an internal address (an intranet crawl may
        read licences on other internal hosts)."""
        if page_origin is None:
            return False
        known = self._internal_pages.get(page_origin)
        if known is not None:
            return known
        host = page_origin.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
        address = await self._resolve(host)
        internal = address is not None and self._internal(address)
        if len(self._internal_pages) >= MAX_REMEMBERED:
            self._internal_pages.clear()
        self._internal_pages[page_origin] = internal
        return internal

    async def _resolve(self, host: str) -> Address | None:
        """*host*'s address as the crawler's resolver gives it (Scrapy installs
        ``DNS_RESOLVER`` on the reactor), or the address *host* is; None when it cannot
        be resolved."""
        try:
            return ipaddress.ip_address(host)
        except ValueError:
            pass
        from twisted.internet import reactor

        resolve: Any = reactor.resolve  # IReactorCore.resolve: the installed resolver
        try:
            text = await maybe_deferred_to_future(resolve(host, (max(1, int(self.dns_timeout)),)))
            return ipaddress.ip_address(text)
        except Exception:
            return None
