"""The demo web: sixteen small sites of the commons, each signalling reuse differently,
served on 127.0.0.1 by scrapy_ccsignals.testing.server (the project's public testing
helper; ports chosen free). Files with rights inside them come from
scrapy_ccsignals.testing.files.

| site          | what it signals                                            | expected outcome            |
|---------------|------------------------------------------------------------|-----------------------------|
| encyclopedia  | CC BY-SA 4.0 via <link rel=license> and JSON-LD             | allowed, licence kept       |
| museum        | CC0 via <a rel=license>; robots.txt Content-Usage train-ai=y | allowed, CC0-1.0            |
| news          | tdmrep.json reserves /articles/ (tdm-reservation 1)         | articles held back          |
| research      | robots.txt Content-Usage train-ai=n;exceptions=cc-cr        | allowed with condition cc-cr |
| portfolio     | X-Robots-Tag: noai, noimageai and <meta name=robots noai>   | held back                   |
| forum         | robots.txt: User-agent: ExampleAIBot / Disallow: /          | never fetched               |
| wiki-mirror   | robots.txt answers 503                                      | never fetched (RFC 9309)    |
| harbour-times | Cloudflare-style robots.txt: Content-Signal search=yes,      | train-ai: held back;        |
|               | ai-train=no; /live/ ai-input=no                              | ai-input: /live/ held back  |
| quarterly     | robots.txt Content-Usage train-ai=n + License: RSL file      | held back unless            |
|               | permitting ai-train/search for a subscription (licence server)| --accept rsl-license       |
| photo-archive | JPEGs with XMP: IPTC DataMining, CC licence, creator         | per photo and purpose       |
| papers        | PDF and EPUBs with TDMRep metadata in the file               | reserved files held back    |
| pressroom     | X-Robots-Tag scoped to another bot, and to ours              | only ours counts            |
| cloud-gazette | Cloudflare's managed robots.txt: Content-Signal              | train-ai: held back         |
|               | search=yes,ai-train=no,use=reference                         | (use=reference < full)      |
| recipe-box    | robots.txt DisallowAITraining: /recipes/                     | train-ai: recipes held back |
| studio-journal| site-wide Content-Signal ai-train=no, but Content-Usage:     | train-ai: only /blog/ kept  |
|               | /blog/ train-ai=y (the blog opted back in)                   |                             |
| busy-archive  | answers its first request 429 with Retry-After: 1            | paused 1 s, then crawled    |
"""

from __future__ import annotations

import base64
import json
from typing import Any

from scrapy_ccsignals.testing import files
from scrapy_ccsignals.testing.server import TestServer

BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
BY = "https://creativecommons.org/licenses/by/4.0/"


def _html(title: str, body: str, head: str = "", site: str = "") -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} - {site}</title>"
        + (f'<meta property="og:site_name" content="{site}">' if site else "")
        + f"{head}</head><body>"
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


def _file(data: bytes, content_type: str) -> dict[str, Any]:
    return {"headers": {"Content-Type": content_type}, "body_b64": base64.b64encode(data).decode()}


def harbour_times() -> dict[str, Any]:
    """A news publisher behind a CDN's managed robots.txt (contentsignals.org)."""
    site = "Harbour Times"
    robots = (
        "# As a condition of accessing this website, you agree to abide by the following\n"
        "# content signals: search=yes (building a search index), ai-train=no (training\n"
        "# AI models), and for live coverage ai-input=no (using it as AI input).\n"
        "Content-Signal: search=yes, ai-train=no\n\n"
        "User-agent: *\nContent-Signal: /live/ search=yes, ai-train=no, ai-input=no\nAllow: /\n"
    )
    routes: dict[str, Any] = {"/robots.txt": _plain(robots)}
    stories = {"/news/ferry-timetable": "New ferry timetable", "/live/regatta": "Live: the regatta"}
    routes["/"] = _page(
        body=_html("Front page", "<p>The city's daily.</p>" + _nav(list(stories.items())), "", site)
    )
    for path, title in stories.items():
        routes[path] = _page(
            body=_html(
                title,
                f"<article><h1>{title}</h1><p>Reporting by our staff.</p></article>",
                "",
                site,
            )
        )
    return routes


RSL_LICENSE = """<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/" server="https://licensing.quarterly.example/">
    <license>
      <permits type="usage">ai-train search</permits>
      <payment type="subscription">
        <standard>https://quarterly.example/ai-licence</standard>
        <amount currency="EUR">500</amount>
      </payment>
    </license>
    <copyright type="organization">Quarterly Review Ltd</copyright>
  </content>
</rsl>
"""


def quarterly() -> dict[str, Any]:
    """A publisher that opts out of AI training, except under its RSL licence (the RSL
    guide's pairing of Content-Usage train-ai=n with a paid licence)."""
    site = "Quarterly Review"
    robots = "License: /license.xml\nUser-agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
    essays = {"/essays/tides-of-trade": "Tides of trade", "/essays/slow-cities": "Slow cities"}
    routes: dict[str, Any] = {
        "/robots.txt": _plain(robots),
        "/license.xml": {"headers": {"Content-Type": "application/rsl+xml"}, "body": RSL_LICENSE},
        "/": _page(
            body=_html("Essays", "<p>Long reads.</p>" + _nav(list(essays.items())), "", site)
        ),
    }
    for path, title in essays.items():
        routes[path] = _page(
            body=_html(title, f"<article><h1>{title}</h1><p>An essay.</p></article>", "", site)
        )
    return routes


PHOTOS = {
    # name: (title, creator, licence, IPTC DataMining value)
    "gulls": ("Gulls at low tide", "Ines Duarte", BY, "DMI-PROHIBITED-AIMLTRAINING"),
    "market": ("Fish market", "Tomas Berg", CC0, "DMI-ALLOWED"),
    "pier": ("Pier at night", "Ines Duarte", BY, "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"),
}


def photo_archive() -> dict[str, Any]:
    """Photographs whose rights travel inside the JPEGs (XMP: IPTC PLUS, CC, Dublin Core)."""
    site = "Coastal Photo Archive"
    routes: dict[str, Any] = {"/robots.txt": _plain("User-agent: *\nAllow: /\n")}
    gallery = "".join(
        f"<figure><img src='/img/{k}.jpg' alt='{v[0]}'><figcaption>{v[0]}, {v[1]}</figcaption></figure>"
        for k, v in PHOTOS.items()
    )
    routes["/"] = _page(
        body=_html("Gallery", f"<p>Photographs of the coast.</p>{gallery}", "", site)
    )
    for key, (title, creator, licence, mining) in PHOTOS.items():
        packet = files.xmp(
            data_mining=files.PLUS_VOCAB + mining,
            license=licence,
            creators=(creator,),
            title=title,
            credit="Coastal Photo Archive",
        )
        routes[f"/img/{key}.jpg"] = _file(files.jpeg_with_xmp(packet), "image/jpeg")
    return routes


def papers() -> dict[str, Any]:
    """A document repository: TDMRep inside a PDF's XMP and EPUB package documents."""
    site = "Open Papers"
    docs = {
        "/files/report.pdf": (
            files.pdf(
                files.xmp(
                    tdm_reservation="1",
                    tdm_policy="https://papers.example/tdm",
                    title="Annual report",
                )
            ),
            "application/pdf",
        ),
        "/files/handbook.epub": (files.epub(files.opf3("0")), "application/epub+zip"),
        "/files/novel.epub": (files.epub(files.opf2("1")), "application/epub+zip"),
    }
    routes: dict[str, Any] = {"/robots.txt": _plain("User-agent: *\nAllow: /\n")}
    routes["/"] = _page(
        body=_html(
            "Repository",
            "<p>Reports and books.</p>" + _nav([(p, p.rsplit("/", 1)[1]) for p in docs]),
            "",
            site,
        )
    )
    for path, (data, ctype) in docs.items():
        routes[path] = _file(data, ctype)
    return routes


def pressroom() -> dict[str, Any]:
    """X-Robots-Tag scoped per bot (Google's syntax): a `name:` prefix opens a scope."""
    site = "City Pressroom"
    releases = {
        "/release/budget": "googlebot: noindex, exampleaibot: noai",  # ours: noai
        "/release/parks": "otherbot: noai",  # another bot's: not ours
    }
    routes: dict[str, Any] = {"/robots.txt": _plain("User-agent: *\nAllow: /\n")}
    routes["/"] = _page(
        body=_html(
            "Press releases",
            "<p>Official releases.</p>" + _nav([(p, p) for p in releases]),
            "",
            site,
        )
    )
    for path, tag in releases.items():
        routes[path] = _page(
            headers={"X-Robots-Tag": tag},
            body=_html(path, "<article><p>For immediate release.</p></article>", "", site),
        )
    return routes


def cloud_gazette() -> dict[str, Any]:
    """A site whose CDN writes its robots.txt: the managed block with Cloudflare's default
    content signals, `use=reference` among them (the most an AI system may do with the
    content: index, excerpt and link back; not summarise or reproduce)."""
    site = "Cloud Gazette"
    robots = (
        "# Content signals (contentsignals.org): search=yes means building a search index\n"
        "# is allowed; ai-train=no means training AI models is not; use=reference means an\n"
        "# AI system may only reference the content (index, excerpt, link back).\n\n"
        "# BEGIN managed content\n"
        "User-agent: *\nContent-Signal: search=yes,ai-train=no,use=reference\nAllow: /\n\n"
        "User-agent: Bytespider\nDisallow: /\n"
        "# END managed content\n"
    )
    stories = {"/story/tides": "Record tides", "/story/market": "Market day"}
    routes: dict[str, Any] = {"/robots.txt": _plain(robots)}
    routes["/"] = _page(
        body=_html("Today", "<p>Local news.</p>" + _nav(list(stories.items())), "", site)
    )
    for path, title in stories.items():
        routes[path] = _page(
            body=_html(
                title, f"<article><h1>{title}</h1><p>By our reporter.</p></article>", "", site
            )
        )
    return routes


def recipe_box() -> dict[str, Any]:
    """Microsoft's robots.txt AI-training rule (draft-canel-robots-ai-control): the recipes
    may be crawled, but not used to train AI models."""
    site = "Recipe Box"
    robots = "User-agent: *\nAllow: /\nDisallowAITraining: /recipes/\n"
    pages = {"/recipes/barley-soup": "Barley soup", "/recipes/rye-bread": "Rye bread"}
    routes: dict[str, Any] = {
        "/robots.txt": _plain(robots),
        "/": _page(
            body=_html(
                "Recipes",
                "<p>Family recipes.</p>" + _nav([*pages.items(), ("/about", "About us")]),
                "",
                site,
            )
        ),
        "/about": _page(body=_html("About", "<p>Two cooks and a blog.</p>", "", site)),
    }
    for path, title in pages.items():
        routes[path] = _page(
            body=_html(title, f"<article><h1>{title}</h1><p>Serves four.</p></article>", "", site)
        )
    return routes


def studio_journal() -> dict[str, Any]:
    """An illustrator's site that says no to AI training site-wide, and opts its blog back
    in: the longest matching path decides, whatever the family of the line."""
    site = "Studio Journal"
    robots = (
        "User-agent: *\nAllow: /\nContent-Signal: ai-train=no\nContent-Usage: /blog/ train-ai=y\n"
    )
    pages = {
        "/work/harbour-mural": "Harbour mural",
        "/blog/": "Blog",
        "/blog/sketching-outdoors": "Sketching outdoors",
    }
    routes: dict[str, Any] = {
        "/robots.txt": _plain(robots),
        "/": _page(
            body=_html("Studio", "<p>Murals and notes.</p>" + _nav(list(pages.items())), "", site)
        ),
    }
    for path, title in pages.items():
        routes[path] = _page(
            body=_html(
                title, f"<article><h1>{title}</h1><p>From the studio.</p></article>", "", site
            )
        )
    return routes


def busy_archive() -> dict[str, Any]:
    """A site that is busy when the crawl arrives: its first page answers 429 with
    Retry-After: 1, so the crawler leaves it alone for a second, then retries."""
    site = "Busy Archive"
    items = {"/item/1": "Letter, 1911", "/item/2": "Map, 1923"}
    home = _page(
        body=_html(
            "Archive", "<p>Scanned letters and maps.</p>" + _nav(list(items.items())), "", site
        )
    )
    routes: dict[str, Any] = {
        "/robots.txt": _plain("User-agent: *\nAllow: /\n"),
        "/": {
            "sequence": [
                {
                    "status": 429,
                    "headers": {"Retry-After": "1", "Content-Type": "text/plain"},
                    "body": "Too many requests, come back in a second.",
                },
                home,
            ]
        },
    }
    for path, title in items.items():
        routes[path] = _page(body=_html(title, f"<article><h1>{title}</h1></article>", "", site))
    return routes


SITES = {
    "encyclopedia": encyclopedia,
    "museum": museum,
    "news": news,
    "research": research,
    "portfolio": portfolio,
    "forum": forum,
    "wiki-mirror": wiki_mirror,
    "harbour-times": harbour_times,
    "quarterly": quarterly,
    "photo-archive": photo_archive,
    "papers": papers,
    "pressroom": pressroom,
    "cloud-gazette": cloud_gazette,
    "recipe-box": recipe_box,
    "studio-journal": studio_journal,
    "busy-archive": busy_archive,
}

#: What each site shows, one line each, for the example's output.
ABOUT = {
    "encyclopedia": "CC BY-SA 4.0 via rel=license and JSON-LD; robots.txt disallows /w/edit",
    "museum": "CC0; robots.txt Content-Usage: train-ai=y",
    "news": "tdmrep.json reserves /articles/",
    "research": "robots.txt Content-Usage: train-ai=n;exceptions=cc-cr (CC signals: credit)",
    "portfolio": "X-Robots-Tag and robots meta: noai, noimageai",
    "forum": "robots.txt: User-agent: ExampleAIBot / Disallow: /",
    "wiki-mirror": "robots.txt answers 503",
    "harbour-times": "Content-Signal: search=yes, ai-train=no; /live/ also ai-input=no",
    "quarterly": "Content-Usage: train-ai=n, and an RSL licence for subscribers",
    "photo-archive": "JPEGs with IPTC DataMining, licence and creator in their XMP",
    "papers": "PDF and EPUBs with TDMRep in the file",
    "pressroom": "X-Robots-Tag scoped to another bot, and to ours",
    "cloud-gazette": "Cloudflare managed robots.txt: search=yes,ai-train=no,use=reference",
    "recipe-box": "robots.txt DisallowAITraining: /recipes/",
    "studio-journal": "site-wide Content-Signal: ai-train=no; Content-Usage: /blog/ train-ai=y",
    "busy-archive": "answers its first request 429 with Retry-After: 1",
}


#: Sites on a loopback address of their own. Scrapy paces requests per host (its download
#: slots), so the busy archive's pause holds it alone while the sites on 127.0.0.1 go on.
HOSTS = {"busy-archive": "127.0.0.2"}


def start(server: TestServer) -> dict[str, str]:
    """Open every demo site on the running server; returns {site name: base URL}."""
    return {name: server.add_origin(build(), host=HOSTS.get(name)) for name, build in SITES.items()}
