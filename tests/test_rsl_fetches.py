"""The plugin's own fetches of URLs a response named (RSL documents, issue 26 item 2) obey
their origin's robots.txt, the crawl's scope and the internal-address rule; a refused
document is recorded (``outcome: refused``), counted, warned about, and has no effect."""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from tests.crawling import PagesSpider, page, run_crawl, stats, text

ALLOW_ALL = "User-agent: *\nAllow: /\n"
PERMIT_TRAIN = (
    '<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
    '<permits type="usage">ai-train</permits><payment type="free"/></license></content></rsl>'
)
RSL = {"body": PERMIT_TRAIN, "headers": {"Content-Type": "application/rsl+xml"}}


def audit_lines(path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rsl_link(href: str) -> str:
    return f'<link rel="license" type="application/rsl+xml" href="{href}">'


def rsl_records(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in item["ccsignals"]["policies"] if p["kind"] == "rsl"]


class LoopbackOnlySpider(PagesSpider):
    """Scope: host 127.0.0.1 only (other 127.0.0.x addresses are other sites)."""

    name = "loopback-only-rsl"
    allowed_domains = ["127.0.0.1"]


# --- RSL documents: robots.txt, scope and internal addresses (#26.2) ----------------------


@pytest_twisted.ensureDeferred
async def test_rsl_document_disallowed_by_its_robots_txt_is_refused(server, tmp_path):
    """The page names a licence on another site whose robots.txt disallows it for our
    token: only that robots.txt is fetched; the document is refused, recorded, counted,
    warned about, and has no effect on the decision."""
    lic = server.add_origin(
        {"/robots.txt": text("User-agent: *\nDisallow: /private/\n"), "/private/l.xml": RSL},
        host="127.0.0.2",
    )
    home = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/p": {
                "body": page("p", head=rsl_link(f"{lic}/private/l.xml")),
                "headers": {"Content-Usage": "train-ai=n"},
            },
        }
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [f"{home}/p"], {"CCSIGNALS_MODE": "tag", "CCSIGNALS_AUDIT_LOG": str(log)}, follow=False
    )
    assert server.paths(lic) == ["/robots.txt"]
    (record,) = rsl_records(items[0])
    assert record["outcome"] == "refused"
    assert "robots.txt" in record["detail"]
    assert items[0]["ccsignals"]["decision"] == "deny"  # the licence's permit had no effect
    s = stats(crawler)
    assert s["ccsignals/rsl/refused"] == 1
    assert s["ccsignals/warnings/rsl_refused"] == 1
    assert any(x.get("policy", {}).get("outcome") == "refused" for x in audit_lines(log))


@pytest_twisted.ensureDeferred
async def test_rsl_document_of_the_page_origin_obeys_its_robots_txt(server):
    home = server.add_origin(
        {
            "/robots.txt": text("License: /l.xml\nUser-agent: *\nDisallow: /l.xml\n"),
            "/l.xml": RSL,
            "/p": {"body": page("p")},
        }
    )
    _crawler, items = await run_crawl([f"{home}/p"], {"CCSIGNALS_MODE": "tag"}, follow=False)
    assert "/l.xml" not in server.paths(home)
    (record,) = rsl_records(items[0])
    assert record["outcome"] == "refused"


@pytest.mark.parametrize("widened", [False, True])
@pytest_twisted.ensureDeferred
async def test_rsl_document_outside_the_crawl_scope_is_refused(server, widened):
    """allowed_domains is 127.0.0.1: a licence on 127.0.0.2 is outside the crawl's scope,
    unless CCSIGNALS_RSL_HOSTS names its host."""
    lic = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/l.xml": RSL}, host="127.0.0.2")
    home = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=rsl_link(f"{lic}/l.xml"))}}
    )
    settings: dict[str, Any] = {"CCSIGNALS_MODE": "tag"}
    if widened:
        settings["CCSIGNALS_RSL_HOSTS"] = ["127.0.0.2"]
    crawler, items = await run_crawl(
        [f"{home}/p"], settings, follow=False, spider_cls=LoopbackOnlySpider
    )
    (record,) = rsl_records(items[0])
    if widened:
        assert record["outcome"] == "parsed"
        assert server.paths(lic) == ["/robots.txt", "/l.xml"]
    else:
        assert record["outcome"] == "refused"
        assert "scope" in record["detail"]
        assert server.paths(lic) == []
        assert stats(crawler)["ccsignals/rsl/refused"] == 1


@implementer(IResolverSimple)
class MapResolver:
    """A resolver like a custom DNS_RESOLVER: names in *names* resolve to the given
    loopback address, anything else as before."""

    def __init__(self, names: dict[str, str], fallback: Any):
        self.names = names
        self.fallback = fallback

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        if name in self.names:
            return defer.succeed(self.names[name])
        return self.fallback.getHostByName(name, timeout)


@pytest.fixture
def resolver():
    """Install a name -> address map on the reactor for one test (Scrapy's
    ``TWISTED_DNS_RESOLVER`` does this under CrawlerProcess), then restore the old one."""
    from twisted.internet import reactor

    old = reactor.resolver  # type: ignore[attr-defined]
    mapped = MapResolver({}, old)
    reactor.installResolver(mapped)  # type: ignore[attr-defined]
    yield mapped.names
    reactor.installResolver(old)  # type: ignore[attr-defined]


@pytest.mark.parametrize("named", [False, True])
@pytest_twisted.ensureDeferred
async def test_rsl_document_on_an_internal_address_is_refused(server, resolver, named):
    """CCSIGNALS_INTERNAL_NETWORKS says which addresses are internal (here 127.0.0.2 only,
    so the page's own origin, 127.0.0.1, is not): a licence whose host is, or resolves to,
    an internal address is refused before anything is sent there (not even robots.txt).
    The name looks public; what counts is the address it resolves to."""
    lic = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/l.xml": RSL}, host="127.0.0.2")
    port = lic.rsplit(":", 1)[1]
    url = f"{lic}/l.xml"
    if named:
        resolver["licences.example.org"] = "127.0.0.2"
        url = f"http://licences.example.org:{port}/l.xml"
    home = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=rsl_link(url))}}
    )
    settings = {"CCSIGNALS_MODE": "tag", "CCSIGNALS_INTERNAL_NETWORKS": ["127.0.0.2/32"]}
    crawler, items = await run_crawl([f"{home}/p"], settings, follow=False)
    (record,) = rsl_records(items[0])
    assert record["outcome"] == "refused"
    assert "127.0.0.2" in record["detail"] and "internal" in record["detail"]
    assert server.paths(lic) == []
    assert stats(crawler)["ccsignals/rsl/refused"] == 1


@pytest_twisted.ensureDeferred
async def test_rsl_document_on_an_internal_address_allowed_for_an_internal_page(server):
    """The page's own origin is internal (default networks: all of 127.0.0.0/8): an
    intranet crawl may read licences on other internal hosts."""
    lic = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/l.xml": RSL}, host="127.0.0.2")
    home = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=rsl_link(f"{lic}/l.xml"))}}
    )
    _crawler, items = await run_crawl([f"{home}/p"], {"CCSIGNALS_MODE": "tag"}, follow=False)
    (record,) = rsl_records(items[0])
    assert record["outcome"] == "parsed"


# --- a document kept for one page, reused for another (hostile #2) ------------------------


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest_twisted.ensureDeferred
async def test_kept_rsl_document_is_refused_for_a_page_its_redirect_may_not_reach(
    server, tmp_path, store
):
    """A licence URL that redirects to an internal address: a page on an internal origin
    may make the crawler follow it (and does), a page on another origin may not. The
    document kept for the first page (in memory, or in the policy store) is refused for the
    second: its redirect hops are checked for every page that uses it, not only for the page
    that fetched it, and it is not fetched again."""
    target = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/l.xml": RSL}, host="127.0.0.2")
    named = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/l.xml": {"status": 302, "headers": {"Location": f"{target}/l.xml"}},
        }
    )
    outside = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=rsl_link(f"{named}/l.xml"))}}
    )
    inside = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            "/p": {
                "body": page(
                    "p", body=f'<a href="{outside}/p">on</a>', head=rsl_link(f"{named}/l.xml")
                )
            },
        },
        host="127.0.0.2",
    )
    settings: dict[str, Any] = {
        "CCSIGNALS_MODE": "tag",
        "CCSIGNALS_INTERNAL_NETWORKS": ["127.0.0.2/32"],
    }
    if store == "sqlite":
        settings["CCSIGNALS_POLICY_STORE"] = f"sqlite:///{tmp_path / 'store.db'}"
        # The first crawl fetches the document for the internal page and stores it.
        _crawler, items = await run_crawl([f"{inside}/p"], settings, follow=False)
        assert [r["outcome"] for r in rsl_records(items[0])] == ["parsed"]
        starts = [f"{outside}/p"]
    else:
        starts = [f"{inside}/p"]
    crawler, items = await run_crawl(starts, settings, follow=True)
    by_page = {item["url"]: rsl_records(item) for item in items}
    if store == "memory":
        assert [r["outcome"] for r in by_page[f"{inside}/p"]] == ["parsed"]
    (record,) = by_page[f"{outside}/p"]
    assert record["outcome"] == "refused"
    assert "127.0.0.2" in record["detail"] and "internal" in record["detail"]
    assert server.paths(target).count("/l.xml") == 1  # fetched once, for the internal page
    assert stats(crawler)["ccsignals/rsl/refused"] == 1


@pytest_twisted.ensureDeferred
async def test_page_waiting_on_a_fetch_refused_for_another_page_fetches_for_itself(server):
    """Two pages name the same licence, which redirects to an internal address: the fetch
    for the first page (not internal) is refused at the redirect while the second page (on
    an internal origin, which may follow it) waits for it. The second page does not inherit
    the first one's refusal: it fetches the document for itself."""
    target = server.add_origin({"/robots.txt": text(ALLOW_ALL), "/l.xml": RSL}, host="127.0.0.2")
    named = server.add_origin(
        {
            "/robots.txt": text(ALLOW_ALL),
            # Slow, so the first page's fetch is still in flight when the second page asks.
            "/l.xml": {"status": 302, "headers": {"Location": f"{target}/l.xml"}, "delay": 1.0},
        }
    )
    head = rsl_link(f"{named}/l.xml")
    outside = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=head)}}
    )
    inside = server.add_origin(
        {"/robots.txt": text(ALLOW_ALL), "/p": {"body": page("p", head=head), "delay": 0.4}},
        host="127.0.0.2",
    )
    settings = {"CCSIGNALS_MODE": "tag", "CCSIGNALS_INTERNAL_NETWORKS": ["127.0.0.2/32"]}
    crawler, items = await run_crawl([f"{outside}/p", f"{inside}/p"], settings, follow=False)
    by_page = {item["url"]: rsl_records(item) for item in items}
    (refused,) = by_page[f"{outside}/p"]
    assert refused["outcome"] == "refused" and "internal" in refused["detail"]
    (parsed,) = by_page[f"{inside}/p"]
    assert parsed["outcome"] == "parsed", parsed
    assert server.paths(target).count("/l.xml") == 1
    assert stats(crawler)["ccsignals/rsl/refused"] == 1
