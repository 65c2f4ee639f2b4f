"""The demo web: seven small sites of the commons, each signalling reuse differently,
served on 127.0.0.1 by scrapy_ccsignals.testing.server (ports chosen free).

| site          | what it signals                                            | expected outcome            |
|---------------|------------------------------------------------------------|-----------------------------|
| encyclopedia  | CC BY-SA 4.0 via <link rel=license> and JSON-LD             | allowed, licence kept       |
| museum        | CC0 via <a rel=license>; robots.txt Content-Usage train-ai=y | allowed, CC0-1.0            |
| news          | tdmrep.json reserves /articles/ (tdm-reservation 1)         | articles held back          |
| research      | robots.txt Content-Usage train-ai=n;exceptions=cc-cr        | allowed with condition cc-cr |
| portfolio     | X-Robots-Tag: noai, noimageai and <meta name=robots noai>   | held back                   |
| forum         | robots.txt: User-agent: ExampleAIBot / Disallow: /          | never fetched               |
| wiki-mirror   | robots.txt answers 503                                      | never fetched (RFC 9309)    |
"""

from __future__ import annotations

import json
from typing import Any

from scrapy_ccsignals.testing.server import TestServer

BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
BY = "https://creativecommons.org/licenses/by/4.0/"


def _html(title: str, body: str, head: str = "", site: str = "") -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} - {site}</title>{head}</head><body>"
        f"<header><a href='/'>{site}</a></header><main>{body}</main></body></html>"
    )


def _nav(links: list[tuple[str, str]]) -> str:
    return (
        "<nav><ul>" + "".join(f"<li><a href='{h}'>{t}</a></li>" for h, t in links) + "</ul></nav>"
    )


def _page(
    status: int = 200, headers: dict[str, Any] | None = None, body: str = ""
) -> dict[str, Any]:
    return {"status": status, "headers": headers or {}, "body": body}


def _plain(text: str, status: int = 200) -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": "text/plain"}, "body": text}


ARTICLES = {
    "meadow": (
        "Meadow",
        "A meadow is an open habitat vegetated by grasses and other non-woody plants.",
    ),
    "lighthouse": (
        "Lighthouse",
        "A lighthouse is a tower designed to emit light to serve as a navigational aid.",
    ),
    "printing-press": (
        "Printing press",
        "A printing press applies pressure to an inked surface resting upon paper.",
    ),
    "public-domain": (
        "Public domain",
        "The public domain consists of creative work to which no exclusive rights apply.",
    ),
}


def encyclopedia() -> dict[str, Any]:
    site = "Commonspedia"
    license_head = f'<link rel="license" href="{BY_SA}">'
    routes: dict[str, Any] = {"/robots.txt": _plain("User-agent: *\nDisallow: /w/edit\n")}
    routes["/"] = _page(
        body=_html(
            "Main page",
            "<p>The free encyclopedia anyone can reuse with credit.</p>"
            + _nav([(f"/wiki/{k}", v[0]) for k, v in ARTICLES.items()]),
            license_head,
            site,
        )
    )
    for key, (title, lead) in ARTICLES.items():
        jsonld = json.dumps(
            {"@context": "https://schema.org", "@type": "Article", "name": title, "license": BY_SA}
        )
        body = (
            f"<article><h1>{title}</h1><p>{lead}</p><p>This article is maintained by volunteers.</p>"
            f"<p class=credit>Text by Commonspedia contributors, "
            f"<a rel='license' href='{BY_SA}'>CC BY-SA 4.0</a>.</p></article>"
            f"<a href='/w/edit?title={key}'>edit</a>"
        )
        routes[f"/wiki/{key}"] = _page(
            body=_html(
                title,
                body,
                license_head + f'<script type="application/ld+json">{jsonld}</script>',
                site,
            )
        )
    routes["/w/edit*"] = _page(body=_html("Edit", "<p>Editing form</p>", "", site))
    return routes


def museum() -> dict[str, Any]:
    site = "Open Museum"
    objects = {
        "1887-12": ("Harbour at dawn, oil on canvas, 1887", "Anonymous, Dutch school"),
        "1902-03": ("Silver teapot with ebony handle, 1902", "Workshop of J. Brandt"),
        "1931-44": ("Woodcut: Fishermen mending nets, 1931", "Lena Varga"),
    }
    routes: dict[str, Any] = {
        "/robots.txt": _plain("User-agent: *\nAllow: /\nContent-Usage: train-ai=y\n")
    }
    routes["/"] = _page(
        body=_html(
            "Collection",
            "<p>Our collection is free to reuse: "
            f"<a rel='license' href='{CC0}'>CC0 1.0</a>.</p>"
            + _nav([(f"/object/{k}", v[0]) for k, v in objects.items()]),
            "",
            site,
        )
    )
    for key, (title, maker) in objects.items():
        body = (
            f"<article><h1>{title}</h1><p>Maker: {maker}. Object number {key}.</p>"
            f"<p class=credit>Photo: Open Museum. Dedicated to the public domain, "
            f"<a rel='license' href='{CC0}'>CC0 1.0</a>.</p></article>"
        )
        routes[f"/object/{key}"] = _page(
            headers={"Link": f'<{CC0}>; rel="license"'}, body=_html(title, body, "", site)
        )
    return routes


def news() -> dict[str, Any]:
    site = "Daily Ledger"
    tdmrep = [
        {
            "location": "/articles/*",
            "tdm-reservation": 1,
            "tdm-policy": "https://ledger.example/tdm-policy.json",
        },
        {"location": "/press/*", "tdm-reservation": 0},
    ]
    stories = ["harbour-budget", "election-night", "storm-warning"]
    routes: dict[str, Any] = {
        "/robots.txt": _plain("User-agent: *\nAllow: /\n"),
        "/.well-known/tdmrep.json": {
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(tdmrep),
        },
    }
    routes["/"] = _page(
        body=_html(
            "Front page",
            "<p>News from the harbour city.</p>"
            + _nav(
                [(f"/articles/{s}", s.replace("-", " ").title()) for s in stories]
                + [("/press/annual-report", "Press: annual report")]
            ),
            "",
            site,
        )
    )
    for story in stories:
        body = (
            f"<article><h1>{story.replace('-', ' ').title()}</h1><p>Reporting by the Ledger newsroom. "
            "All rights reserved; text and data mining rights reserved under Article 4 of Directive 2019/790.</p></article>"
        )
        routes[f"/articles/{story}"] = _page(body=_html(story, body, "", site))
    routes["/press/annual-report"] = _page(
        body=_html(
            "Annual report",
            "<article><p>The Ledger published 4,210 stories this year.</p></article>",
            "",
            site,
        )
    )
    return routes


def research() -> dict[str, Any]:
    site = "Open Notebook"
    notes = {
        "soil-carbon": "Soil carbon after ten years of no-till",
        "river-ph": "River pH across seasons",
    }
    routes: dict[str, Any] = {
        "/robots.txt": _plain(
            "User-agent: *\nAllow: /\nContent-Usage: train-ai=n;exceptions=cc-cr\n"
        ),
        "/": _page(
            body=_html(
                "Lab notebook",
                "<p>Open lab notes.</p>" + _nav([(f"/notes/{k}", v) for k, v in notes.items()]),
                f'<link rel="license" href="{BY}">',
                site,
            )
        ),
    }
    for key, title in notes.items():
        body = (
            f"<article><h1>{title}</h1><p>Methods, raw data and plots from the field station.</p>"
            f"<p class=credit>By the Open Notebook lab, <a rel=license href='{BY}'>CC BY 4.0</a>. "
            "AI training is welcome if you credit us (CC signal: Credit).</p></article>"
        )
        routes[f"/notes/{key}"] = _page(
            body=_html(title, body, f'<link rel="license" href="{BY}">', site)
        )
    return routes


def portfolio() -> dict[str, Any]:
    site = "Mira Okafor illustration"
    noai = {"X-Robots-Tag": "noai, noimageai"}
    head = '<meta name="robots" content="noai, noimageai">'
    routes: dict[str, Any] = {
        "/robots.txt": _plain("User-agent: *\nAllow: /\n"),
        "/": _page(
            headers=noai,
            body=_html(
                "Portfolio",
                "<p>Illustrations, all rights reserved.</p>"
                + _nav([("/work/tide", "Tide"), ("/work/orchard", "Orchard")]),
                head,
                site,
            ),
        ),
    }
    for work in ("tide", "orchard"):
        routes[f"/work/{work}"] = _page(
            headers=noai,
            body=_html(
                work.title(),
                f"<article><h1>{work.title()}</h1><p>Gouache on paper. Not for AI training.</p></article>",
                head,
                site,
            ),
        )
    return routes


def forum() -> dict[str, Any]:
    robots = "User-agent: ExampleAIBot\nUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    return {
        "/robots.txt": _plain(robots),
        "/": _page(
            body=_html(
                "Forum",
                "<p>Community forum.</p>" + _nav([("/t/1", "Welcome thread")]),
                "",
                "Makers Forum",
            )
        ),
        "/t/1": _page(body=_html("Welcome", "<p>Hello!</p>", "", "Makers Forum")),
    }


def wiki_mirror() -> dict[str, Any]:
    return {
        "/robots.txt": _plain("Service Unavailable", status=503),
        "/": _page(body=_html("Mirror", "<p>A mirror of Commonspedia.</p>", "", "Wiki Mirror")),
    }


SITES = {
    "encyclopedia": encyclopedia,
    "museum": museum,
    "news": news,
    "research": research,
    "portfolio": portfolio,
    "forum": forum,
    "wiki-mirror": wiki_mirror,
}


def start(server: TestServer) -> dict[str, str]:
    """Open every demo site on the running server; returns {site name: base URL}."""
    return {name: server.add_origin(build()) for name, build in SITES.items()}
