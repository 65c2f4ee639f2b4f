"""A deterministic multi-origin fixture web on loopback, for the benchmarks.

Origins differ by address inside 127.0.0.0/8 and by port. Each origin serves
``/robots.txt``, ``/.well-known/tdmrep.json`` (on some origins) and ``/p/0`` ...
``/p/N-1``, pages of about ``--size`` bytes that link to the next pages, so a crawl from
``/p/0`` follows links through the whole origin. Every signal family is present on some
origins (origin index modulo 8). Responses are precomputed and served by a minimal asyncio
HTTP/1.1 server with keep-alive, so the server is rarely what limits a crawl.

Run: ``python bench/web.py --origins 20 --pages 200 --size 8192``; prints one JSON line
``{"origins": [base URLs]}`` and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys

FAMILIES = [
    "none",
    "robots-content-usage",  # robots.txt Content-Usage: train-ai=n
    "tdmrep",  # tdmrep.json reserves half of the pages
    "noai-header",  # X-Robots-Tag: noai
    "meta-content-usage",  # <meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">
    "license",  # <link rel="license"> CC BY 4.0 and JSON-LD
    "robots-disallow",  # robots.txt disallows a tenth of the pages
    "content-signal",  # robots.txt Content-Signal: ai-train=no
]

FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. "
)


def _response(status: str, body: bytes, content_type: str, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def origin_routes(index: int, pages: int, size: int) -> dict[str, bytes]:
    family = FAMILIES[index % len(FAMILIES)]
    robots = "User-agent: *\nAllow: /\n"
    if family == "robots-content-usage":
        robots += "Content-Usage: train-ai=n\n"
    elif family == "robots-disallow":
        robots += "Disallow: /p/9\n"
    elif family == "content-signal":
        robots += "Content-Signal: search=yes, ai-train=no\n"
    routes = {"/robots.txt": _response("200 OK", robots.encode(), "text/plain")}
    if family == "tdmrep":
        tdm = [
            {"location": "/p/1*", "tdm-reservation": 1},
            {"location": "/*", "tdm-reservation": 0},
        ]
        routes["/.well-known/tdmrep.json"] = _response(
            "200 OK", json.dumps(tdm).encode(), "application/json"
        )
    head_extra = ""
    header_extra = ""
    if family == "noai-header":
        header_extra = "X-Robots-Tag: noai\r\n"
    elif family == "meta-content-usage":
        head_extra = '<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">'
    elif family == "license":
        head_extra = (
            '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
            '<script type="application/ld+json">{"@type": "Article", '
            '"license": "https://creativecommons.org/licenses/by/4.0/"}</script>'
        )
    for i in range(pages):
        links = "".join(
            f'<li><a href="/p/{j}">page {j}</a></li>' for j in range(i + 1, min(i + 4, pages))
        )
        top = (
            f"<!doctype html><html><head><meta charset=utf-8><title>Origin {index} page {i}</title>"
            f'<meta name="description" content="page {i}">{head_extra}</head><body>'
            f"<nav><ul>{links}</ul></nav><main><h1>Page {i}</h1>"
        )
        bottom = "</main><footer>Generated</footer></body></html>"
        filler = size - len(top) - len(bottom)
        paragraphs = (FILLER * (filler // len(FILLER) + 1))[: max(0, filler - 7)]
        body = f"{top}<p>{paragraphs}</p>{bottom}".encode()
        routes[f"/p/{i}"] = _response("200 OK", body, "text/html; charset=utf-8", header_extra)
    return routes


def _rich_page(index: int, i: int, pages: int, size: int) -> tuple[str, str]:
    """Page *i* of a signal-rich origin: (extra response headers, HTML body)."""
    big = i % 20 == 19  # 1 page in 20: 64-128 KB with several hundred links
    count = 300 + (i * 37) % 500 if big else 10 + (i * 7) % 21
    # Links to the next pages first (the crawl reaches every page), then spread out.
    targets = [(i + 1 + k) % pages for k in range(3)]
    targets += [(i * 13 + k * 29) % pages for k in range(count - 3)]
    links = "".join(f'<li><a href="/p/{j}">page {j}</a></li>' for j in targets)
    head = (
        f"<title>Origin {index} page {i}</title>"
        f'<meta name="description" content="page {i} of origin {index}">'
        f'<meta property="og:title" content="Page {i}">'
        f'<meta property="og:site_name" content="Origin {index}">'
        f'<meta name="author" content="Author {i % 7}">'
        f'<link rel="canonical" href="/p/{i}"><link rel="stylesheet" href="/s.css">'
    )
    headers = ""
    if i % 5:  # licence link + JSON-LD on most pages
        head += (
            '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
            '<script type="application/ld+json">{"@context": "https://schema.org", '
            f'"@type": "Article", "headline": "Page {i}", "author": {{"@type": "Person", '
            f'"name": "Author {i % 7}"}}, '
            '"license": "https://creativecommons.org/licenses/by/4.0/"}</script>'
        )
    if i % 3 == 0:
        head += '<meta name="robots" content="index, follow">'
    if i % 6 == 1:
        head += '<meta http-equiv="Content-Usage" content="train-ai=n;exceptions=cc-cr">'
    if i % 4 == 2:
        headers += "Content-Usage: search=y\r\n"
    if i % 8 == 3:
        headers += "X-Robots-Tag: noai\r\n"
    if i % 10 == 7:
        headers += 'Link: <https://creativecommons.org/licenses/by-sa/4.0/>; rel="license"\r\n'
    top = (
        f"<!doctype html><html><head><meta charset=utf-8>{head}</head><body>"
        f"<nav><ul>{links}</ul></nav><main><h1>Page {i}</h1>"
    )
    bottom = (
        '<footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        "CC BY 4.0</a></footer></body></html>"
        if i % 5
        else "<footer>Generated</footer></body></html>"
    )
    target = (64 * 1024 + (i * 997) % (64 * 1024)) if big else size
    filler = target - len(top) - len(bottom)
    paragraphs = (FILLER * (filler // len(FILLER) + 1))[: max(0, filler - 7)]
    return headers, f"{top}<p>{paragraphs}</p>{bottom}"


def rich_routes(index: int, pages: int, size: int) -> dict[str, bytes]:
    """A signal-rich origin (issue 25): every family at realistic frequencies. robots.txt
    Content-Usage on half the origins and Content-Signal on a quarter; tdmrep.json on a
    quarter; on pages, a licence link + JSON-LD on 4 in 5, Open Graph/author/canonical on
    all, meta robots on 1 in 3, meta Content-Usage on 1 in 6; Content-Usage headers on 1
    response in 4, X-Robots-Tag on 1 in 8, a licence Link header on 1 in 10; 10-30 links
    per page, and 1 page in 20 of 64-128 KB with 300-800 links."""
    robots = "User-agent: *\nAllow: /\n"
    if index % 2 == 0:
        robots += "Content-Usage: train-ai=n\n"
    if index % 4 == 1:
        robots += "Content-Signal: search=yes, ai-train=no\n"
    routes = {"/robots.txt": _response("200 OK", robots.encode(), "text/plain")}
    if index % 4 == 2:
        tdm = [
            {"location": "/p/1*", "tdm-reservation": 1},
            {"location": "/*", "tdm-reservation": 0},
        ]
        routes["/.well-known/tdmrep.json"] = _response(
            "200 OK", json.dumps(tdm).encode(), "application/json"
        )
    for i in range(pages):
        headers, body = _rich_page(index, i, pages, size)
        routes[f"/p/{i}"] = _response("200 OK", body.encode(), "text/html; charset=utf-8", headers)
    return routes


NOT_FOUND = _response("404 Not Found", b"not found", "text/plain")


class Handler(asyncio.Protocol):
    def __init__(
        self,
        routes: dict[str, bytes],
        delays: dict[str, float] | None = None,
        idle_timeout: float = 0.0,
    ):
        self.routes = routes
        self.delays = delays or {}
        self.buffer = b""
        self.idle_timeout = idle_timeout
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._arm()

    def _arm(self) -> None:
        """Close a keep-alive connection idle for ``idle_timeout`` s, as web servers do
        (Apache's KeepAliveTimeout is 5 s): otherwise the crawler's connection pool keeps
        every origin's connections for 240 s, an open file each on both sides."""
        if self.idle is not None:
            self.idle.cancel()
        if self.idle_timeout > 0:
            loop = asyncio.get_running_loop()
            self.idle = loop.call_later(self.idle_timeout, self.transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle is not None:
            self.idle.cancel()

    def data_received(self, data: bytes) -> None:
        self._arm()
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            request, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            parts = request.split(b"\r\n", 1)[0].split(b" ")
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            answer = self.routes.get(path, NOT_FOUND)
            delay = self.delays.get(path)
            if delay:
                # Answers on this connection are no longer in order; a crawler sends one
                # request per connection at a time, so that does not matter here.
                loop = asyncio.get_running_loop()
                loop.call_later(delay, self._write, answer)
            else:
                self.transport.write(answer)  # type: ignore[attr-defined]

    def _write(self, answer: bytes) -> None:
        if not self.transport.is_closing():  # type: ignore[attr-defined]
            self.transport.write(answer)  # type: ignore[attr-defined]


def addresses(count: int) -> list[tuple[str, int]]:
    """Origins spread over addresses 127.0.x.y, ten per address (ports chosen free)."""
    return [(f"127.0.{1 + (i // 10) // 250}.{1 + (i // 10) % 250}", 0) for i in range(count)]


async def serve(
    origins: int,
    pages: int,
    size: int,
    slow_robots: float = 0.0,
    slow_pages: int = 0,
    idle_timeout: float = 0.0,
    first: int = 0,
    rich: bool = False,
) -> None:
    """With *slow_robots*, origin 0 answers its robots.txt after that many seconds and
    has *slow_pages* pages (the slow-origin scenario)."""
    loop = asyncio.get_running_loop()
    urls = []
    for index, (host, port) in enumerate(addresses(origins)):
        if index < first:
            continue  # served by another process (--first): one has too few open files
        slow = slow_robots > 0 and index == 0
        make = rich_routes if rich else origin_routes
        routes = make(index, slow_pages if slow else pages, size)
        delays = {"/robots.txt": slow_robots} if slow else {}
        server = await loop.create_server(
            lambda r=routes, d=delays: Handler(r, d, idle_timeout), host, port, backlog=512
        )
        bound = server.sockets[0].getsockname()
        urls.append(f"http://{bound[0]}:{bound[1]}")
    print(json.dumps({"origins": urls}), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=20)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--slow-robots", type=float, default=0.0)
    parser.add_argument("--slow-pages", type=int, default=40)
    parser.add_argument("--idle-timeout", type=float, default=0.0)
    parser.add_argument("--first", type=int, default=0, help="serve origins from this index")
    parser.add_argument("--rich", type=int, default=0, help="1: signal-rich origins")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(
            serve(
                args.origins,
                args.pages,
                args.size,
                args.slow_robots,
                args.slow_pages,
                args.idle_timeout,
                args.first,
                bool(args.rich),
            )
        )
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
