"""The public page describing the crawler, as the crawler best-practices draft
(draft-illyes-webbotauth-cbcp, "Crawlers MUST explain how the crawled data is used and how
the crawler can be blocked") and the GPAI code of practice ask: who it is (user agent and
robots.txt token), its purpose and what the data is used for, a contact, how to block it
with robots.txt and how to check a robots.txt, whether it renders pages, how it treats the
server, its exemptions from those practices with their reasons, where its IP ranges are
published (``rel="client-ranges"``), and the reservation protocols it honours. What the
crawl cannot know is a ``[PROVIDER: ...]`` placeholder, as in the summary."""

from __future__ import annotations

import html

from scrapy_ccsignals.records.summary import PLACEHOLDER, PROTOCOLS, Crawler

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}code,pre{background:#f3f3f3}"
)


def _or(value: str, what: str) -> str:
    return html.escape(value if value else PLACEHOLDER.format(what))


def render_crawler_page(crawler: Crawler) -> str:
    """A self-contained public HTML page describing the crawler."""
    esc = html.escape
    token = esc(crawler.token or PLACEHOLDER.format("robots.txt product token"))
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(spec)}</td><td>{esc(what)}</td></tr>"
        for _, name, spec, what in PROTOCOLS
    )
    ranges = crawler.client_ranges
    head_link = f'<link rel="client-ranges" href="{esc(ranges)}">' if ranges else ""
    ranges_dd = (
        f'<a href="{esc(ranges)}">{esc(ranges)}</a>'
        if ranges
        else _or("", "URL of the crawler's IP ranges (JAFAR format)")
    )
    exemptions = (
        "<ul>" + "".join(f"<li>{esc(e)}</li>" for e in crawler.exemptions) + "</ul>"
        if crawler.exemptions
        else "<p>"
        + _or("", "exemptions from the crawler best practices, each with its reason, or 'none'")
        + "</p>"
    )
    rendering = (
        "It renders pages in a browser: it runs the pages' JavaScript."
        if crawler.rendered
        else "It does not render pages: it reads the HTML as your server sends it and runs "
        "no JavaScript."
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{token}: about this crawler</title>{head_link}<style>{STYLE}</style>"
        f"</head><body><h1>{token}</h1>"
        f"<p>{token} is a web crawler. Every request it sends carries the user agent below; "
        f"in robots.txt it obeys the group for <code>{token}</code>.</p>"
        "<dl>"
        f"<dt>User agent</dt><dd><code>{_or(crawler.user_agent, 'user agent string')}</code></dd>"
        f"<dt>robots.txt token</dt><dd><code>{token}</code></dd>"
        f"<dt>Purpose</dt><dd>{_or(crawler.purpose, 'purpose of the crawl')}</dd>"
        f"<dt>How the data is used</dt><dd>{_or(crawler.data_use, 'how the crawled data is used')}</dd>"
        f"<dt>Contact</dt><dd>{_or(crawler.contact, 'contact address for site owners')}</dd>"
        f"<dt>IP ranges</dt><dd>{ranges_dd}</dd>"
        f"<dt>Software</dt><dd>Scrapy with scrapy-ccsignals {esc(crawler.plugin)}</dd>"
        "</dl>"
        "<h2>How to block it</h2>"
        "<p>To keep this crawler out of your site, add to <code>/robots.txt</code>:</p>"
        f"<pre>User-agent: {token}\nDisallow: /</pre>"
        "<p>To keep it out of part of the site only:</p>"
        f"<pre>User-agent: {token}\nDisallow: /drafts/</pre>"
        "<p>To let it read your pages but reserve their use for AI training, use any of the "
        "protocols below, e.g. <code>Content-Usage: train-ai=n</code> in robots.txt or a "
        "<code>/.well-known/tdmrep.json</code>.</p>"
        "<h3>Checking your robots.txt</h3>"
        "<p>The crawler reads <code>/robots.txt</code> as RFC 9309 specifies, before its "
        f"first request to a site: it follows the group whose <code>User-agent</code> names "
        f"<code>{token}</code> (case-insensitive), else the <code>*</code> group, and the "
        "longest matching <code>Allow</code>/<code>Disallow</code> rule decides. Any RFC 9309 "
        f"parser, given the token <code>{token}</code> and a URL, gives the same answer "
        "(for example Google's open-source robots.txt library). A robots.txt that answers "
        "with a server error or cannot be fetched keeps the crawler out of the whole site. "
        "A robots.txt is kept at most 24 hours (by default), so a change is seen within a "
        "day.</p>"
        "<h2>How it treats your server</h2><ul>"
        f"<li>{rendering}</li>"
        "<li>It waits at least the <code>Crawl-delay</code> of its robots.txt group between "
        "two requests to your site.</li>"
        "<li>A <code>429</code> or <code>503</code> with <code>Retry-After</code> pauses its "
        "requests to your site until then; repeated server errors double its delay each time, "
        "and a success resets it.</li></ul>"
        f"<h2>Exemptions</h2>{exemptions}"
        "<h2>Protocols it honours</h2>"
        "<table><thead><tr><th>protocol</th><th>version</th><th>what the crawler does</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>\n"
    )
