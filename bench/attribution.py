"""Cost per page of attribution extraction: ``signals.attribution.extract_attribution``
(one byte-regex pass) against ``extruct`` (lxml parse, then JSON-LD, OpenGraph, microdata,
RDFa, Dublin Core; ``pip install 'scrapy-ccsignals[bench]'``), with ``htmlscan.extract``
(the scan the use gate already does) for scale.

    python -m bench.attribution

Pages: a small article with JSON-LD and OpenGraph (~3 KB), the same padded to ~60 KB of
body text, and a 250 KB page of navigation and scripts with the metadata in its head.
"""

from __future__ import annotations

import json
import statistics
import timeit
from collections.abc import Callable

from scrapy_ccsignals.signals.attribution import extract_attribution
from scrapy_ccsignals.signals.htmlscan import extract


def _head() -> str:
    jsonld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Meadows in spring",
        "author": [{"@type": "Person", "name": "Ada Lund"}],
        "publisher": {"@type": "Organization", "name": "Field Notes"},
        "copyrightNotice": "© 2026 Ada Lund", "license": "https://creativecommons.org/licenses/by/4.0/",
    })  # fmt: skip
    return (
        "<meta charset=utf-8><title>Meadows in spring | Field Notes</title>"
        '<meta name="viewport" content="width=device-width"><meta name="description" content="x">'
        '<meta property="og:title" content="Meadows in spring">'
        '<meta property="og:site_name" content="Field Notes"><meta name="author" content="Ada Lund">'
        '<link rel="canonical" href="https://notes.example/meadows">'
        '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        f'<script type="application/ld+json">{jsonld}</script>'
        "<link rel=stylesheet href=/s.css><script src=/app.js></script>"
    )


def pages() -> dict[str, bytes]:
    para = "<p>" + "Grasses and wild flowers grow in the open meadow. " * 8 + "</p>"
    nav = (
        "<nav>" + "".join(f"<a href='/p/{i}' class='n'>Link {i}</a>" for i in range(40)) + "</nav>"
    )
    script = "<script>" + "var x = {a: 1, b: '<div>'};" * 200 + "</script>"
    small = f"<!doctype html><html><head>{_head()}</head><body>{nav}{para * 3}</body></html>"
    medium = f"<!doctype html><html><head>{_head()}</head><body>{nav}{para * 120}</body></html>"
    large = (
        f"<!doctype html><html><head>{_head()}{script * 3}</head><body>"
        + (nav + para * 10 + script) * 12 + "</body></html>"
    )  # fmt: skip
    return {name: page.encode() for name, page in
            (("small", small), ("medium", medium), ("large", large))}  # fmt: skip


def per_call(func: Callable[[], object], number: int) -> float:
    runs = timeit.repeat(func, number=number, repeat=5)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    try:
        import extruct
    except ImportError:
        extruct = None
        print("extruct is not installed: pip install 'scrapy-ccsignals[bench]'")
    url = "https://notes.example/meadows"
    print(
        f"{'page':<8} {'KB':>6} {'attribution':>12} {'htmlscan':>10} {'extruct':>10}  (us per page)"
    )
    for name, body in pages().items():
        ours = per_call(lambda b=body: extract_attribution(b, url), 200)
        scan = per_call(lambda b=body: extract(b), 200)
        theirs = (
            per_call(lambda b=body: extruct.extract(b, base_url=url, uniform=True), 10)
            if extruct
            else float("nan")
        )
        print(f"{name:<8} {len(body) / 1024:6.1f} {ours:12.1f} {scan:10.1f} {theirs:10.1f}")
    print("attribution:", extract_attribution(pages()["small"], url))


if __name__ == "__main__":
    main()
