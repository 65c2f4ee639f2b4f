"""Exclusion lists (``CCSIGNALS_EXCLUDE``, issue 29 item 5): parsing and matching of the
pure part, then real crawls where an excluded host is never contacted."""

from __future__ import annotations

import io
import json

import pytest
import pytest_twisted
from scrapy import Request
from scrapy.settings import Settings

from scrapy_ccsignals.config import Config, ConfigError
from scrapy_ccsignals.gate.exclusion import Exclusions, normalise_host, parse_entry
from scrapy_ccsignals.records.report_text import render_text
from scrapy_ccsignals.records.summary import Crawler, read_audit, render_summary
from tests.crawling import PagesSpider, page, run_crawl, stats, text


def lists(tmp_path, **files: str) -> Exclusions:
    paths = []
    for label, body in files.items():
        path = tmp_path / f"{label}.txt"
        path.write_text(body, encoding="utf-8")
        paths.append((label, str(path)))
    return Exclusions(paths)


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("", None),
        ("   ", None),
        ("# a comment", None),
        ("example.com", ("example.com", None)),
        ("Example.COM.", ("example.com", None)),
        ("*.example.com", ("example.com", None)),
        (".example.com", ("example.com", None)),
        ("example.com   # persistent infringer", ("example.com", None)),
        ("bücher.example", ("xn--bcher-kva.example", None)),
        ("127.0.0.2", ("127.0.0.2", None)),
        ("https://example.com/user/42/", ("example.com", "/user/42/")),
        ("http://EXAMPLE.com:8080/a%7Eb?x=1", ("example.com", "/a~b?x=1")),
        ("example.com/files/", ("example.com", "/files/")),
        ("https://example.com", ("example.com", "/")),
    ],
)
def test_parse_entry(line, entry):
    assert parse_entry(line) == entry


@pytest.mark.parametrize(
    "line", ["not a host!", "ftp://example.com/", "two words", "http:///nohost", "a..b"]
)
def test_parse_entry_refuses(line):
    with pytest.raises(ValueError):
        parse_entry(line)


def test_hosts_match_themselves_and_subdomains_only(tmp_path):
    ex = lists(tmp_path, infringers="# list\nbad.example\n\nworse.example.org # why\n")
    hit = ex.match_url("https://bad.example/page")
    assert hit is not None and (hit.label, hit.entry) == ("infringers", "bad.example")
    assert hit.reason == "excluded by list 'infringers' (entry 'bad.example')"
    assert ex.match_url("http://a.b.bad.example:8080/x").entry == "bad.example"
    assert ex.match_url("http://BAD.EXAMPLE./").entry == "bad.example"
    assert ex.match_url("http://notbad.example/") is None
    assert ex.match_url("http://bad.example.net/") is None
    assert ex.match_url("http://example/") is None
    assert ex.match_url("http://www.worse.example.org/").entry == "worse.example.org"
    assert ex.lists[0].hosts == 2 and ex.lists[0].skipped == 0


def test_a_listed_parent_domain_covers_everything_below(tmp_path):
    ex = lists(tmp_path, tld="test\n")
    assert ex.match_url("http://x.y.test/").entry == "test"


def test_ip_addresses_match_only_themselves(tmp_path):
    ex = lists(tmp_path, ips="127.0.0.2\n::1\n0.0.2\n")
    assert ex.match_url("http://127.0.0.2:8000/").entry == "127.0.0.2"
    assert ex.match_url("http://[::1]:8000/").entry == "::1"
    assert ex.match_url("http://127.0.0.3/") is None
    # "0.0.2" is not an IPv4 address: a host name ending in 0.0.2 is not its child.
    assert ex.lists[0].skipped == 1


def test_url_prefixes_match_by_host_and_path_whatever_the_scheme(tmp_path):
    ex = lists(
        tmp_path,
        urls="https://site.example/user/42/\nsite.example/files/big\nhttp://other.example/a%7e\n",
    )
    assert ex.match_url("https://site.example/user/42/page").entry == "site.example/user/42/"
    assert ex.match_url("http://site.example:81/user/42/").entry == "site.example/user/42/"
    assert ex.match_url("https://site.example/user/4") is None
    assert ex.match_url("https://site.example/user/420/") is None
    assert ex.match_url("https://site.example/files/bigger").entry == "site.example/files/big"
    assert ex.match_url("https://sub.site.example/user/42/") is None
    # Compared in the RFC 9309 form: %7E is ~.
    assert ex.match_url("http://other.example/a~b").entry == "other.example/a~"
    assert ex.lists[0].prefixes == 3


def test_each_list_keeps_its_label_and_the_first_list_wins(tmp_path):
    ex = lists(tmp_path, first="a.example\n", second="a.example\nb.example\n")
    assert ex.match_url("http://a.example/").label == "first"
    assert ex.match_url("http://b.example/").label == "second"
    assert [lst.entries for lst in ex.lists] == [1, 2]
    assert ex.entries == 3


def test_lines_that_are_not_entries_are_counted_not_fatal(tmp_path):
    ex = lists(tmp_path, junk="good.example\nnot a host\n\x01bad\nftp://x/\n")
    junk = ex.lists[0]
    assert (junk.hosts, junk.skipped, junk.first_skipped) == (1, 3, "not a host")
    assert len(junk.sha256) == 64


def test_empty_lists_match_nothing(tmp_path):
    ex = lists(tmp_path, empty="# nothing yet\n")
    assert not ex
    assert ex.match_url("http://a.example/") is None
    assert ex.match_url("not a url") is None


def test_normalise_host():
    assert normalise_host("[::1]") == "::1"
    assert normalise_host("ÉCOLE.example") == "xn--cole-9oa.example"
    assert normalise_host("") is None
    assert normalise_host("a b") is None


def test_a_million_entries_load_and_match(tmp_path):
    """The size the issue names; how long it takes is measured in bench/memory.py, not
    asserted here (no timed tests)."""
    path = tmp_path / "big.txt"
    with path.open("w") as out:
        for i in range(1_000_000):
            out.write(f"site-{i}.example\n" if i % 10 else f"https://p{i}.example/x/{i}/\n")
    ex = Exclusions([("big", str(path))])
    assert ex.lists[0].hosts == 900_000 and ex.lists[0].prefixes == 100_000
    assert ex.match_url("http://www.site-999999.example/").entry == "site-999999.example"
    assert ex.match_url("http://p999990.example/x/999990/y").entry == "p999990.example/x/999990/"
    assert ex.match_url("http://p999990.example/x/99999/") is None
    assert ex.match_url("http://site-1000000.example/") is None
    misses = sum(ex.match_url(f"http://nosuch-{i}.example/") is not None for i in range(10_000))
    assert misses == 0


# --- real crawls --------------------------------------------------------------------------

CRAWL_SETTINGS = {"LOG_LEVEL": "INFO"}


def _web(server):
    """A site on 127.0.0.1 linking to an excluded host (127.0.0.2, whose robots.txt would
    allow everything), to a listed URL prefix of its own, and redirecting to the excluded
    host."""
    excluded = server.add_origin(
        {"/robots.txt": text("User-agent: *\nAllow: /\n"), "/*": {"body": page("excluded")}},
        host="127.0.0.2",
    )
    site = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/": {
                "body": page(
                    "home",
                    f'<a href="{excluded}/a">x</a> <a href="/ok">ok</a> '
                    '<a href="/pirated/1">p</a> <a href="/hop">hop</a>',
                )
            },
            "/ok": {"body": page("ok")},
            "/pirated/*": {"body": page("pirated")},
            "/hop": {"status": 302, "headers": {"Location": f"{excluded}/redirected"}},
        }
    )
    return site, excluded


@pytest_twisted.ensureDeferred
async def test_an_excluded_host_is_never_contacted(server, tmp_path):
    site, excluded = _web(server)
    hosts = tmp_path / "infringers.txt"
    hosts.write_text("# persistent infringers\n127.0.0.2\n")
    prefixes = tmp_path / "urls.txt"
    prefixes.write_text(f"{site}/pirated/\n")
    audit = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [f"{site}/", f"{excluded}/start"],
        {
            **CRAWL_SETTINGS,
            "CCSIGNALS_EXCLUDE": {"infringers": str(hosts), "urls": str(prefixes)},
            "CCSIGNALS_AUDIT_LOG": str(audit),
        },
    )
    # Not even its robots.txt: the server saw nothing.
    assert server.paths(excluded) == []
    paths = server.paths(site)
    assert "/ok" in paths and "/hop" in paths
    assert not [p for p in paths if p.startswith("/pirated/")]
    assert sorted(item["url"] for item in items) == [f"{site}/", f"{site}/ok"]
    s = stats(crawler)
    assert s["ccsignals/forbidden/excluded"] == 4
    assert s["ccsignals/forbidden/excluded/infringers"] == 3
    assert s["ccsignals/forbidden/excluded/urls"] == 1
    assert "ccsignals/forbidden/robots.txt" not in s
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    dropped = {ln["url"]: ln for ln in lines if ln.get("families") == ["excluded"]}
    assert set(dropped) == {
        f"{excluded}/start",
        f"{excluded}/a",
        f"{excluded}/redirected",
        f"{site}/pirated/1",
    }
    line = dropped[f"{excluded}/a"]
    assert (line["stage"], line["action"], line["decision"]) == ("request", "dropped", "forbidden")
    assert line["reasons"] == ["excluded by list 'infringers' (entry '127.0.0.2')"]
    assert line["exclusion"] == {"list": "infringers", "entry": "127.0.0.2"}
    assert dropped[f"{site}/pirated/1"]["reasons"] == [
        "excluded by list 'urls' (entry '127.0.0.1/pirated/')"
    ]
    started = next(ln for ln in lines if ln["stage"] == "crawl" and ln["action"] == "started")
    assert [(x["label"], x["entries"]) for x in started["exclusion_lists"]] == [
        ("infringers", 1),
        ("urls", 1),
    ]

    # In the report and in the EU summary's section 3.1, as a measure of its own.
    summary, facts = read_audit([str(audit)])
    assert (summary.overall.forbidden, summary.overall.excluded) == (4, 4)
    assert summary.overall.forbidden_by["excluded by list 'infringers' (entry '127.0.0.2')"] == 3
    out = io.StringIO()
    render_summary(summary, facts, Crawler.from_summary(summary), out)
    md = out.getvalue()
    section = md[md.index("## 3.1") :]
    rows = {
        row.split("|")[1].strip(): row.split("|")[3:5]
        for row in section.splitlines()
        if row.startswith("| ")
    }
    assert [c.strip() for c in rows["exclusion lists"]] == ["4", "0"]
    assert [c.strip() for c in rows["robots.txt"]] == ["0", "0"]
    assert "infringers (1 host, 0 URL prefix(es), file SHA-256" in section
    assert "because the site is on an exclusion list: 4" in md
    text_report = io.StringIO()
    render_text(summary, text_report)
    assert "excluded by list 'infringers' (entry '127.0.0.2')" in text_report.getvalue()


@pytest_twisted.ensureDeferred
async def test_opting_out_per_request_does_not_lift_an_exclusion(server, tmp_path):
    _, excluded = _web(server)
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("127.0.0.2\n")

    class OptOut(PagesSpider):
        name = "optout"

        async def start(self):
            for url in self.start_urls:
                yield Request(url, meta={"dont_obey_ccsignals": True})

    crawler, items = await run_crawl(
        [f"{excluded}/x"],
        {**CRAWL_SETTINGS, "CCSIGNALS_EXCLUDE": [f"hosts={hosts}"]},
        spider_cls=OptOut,
    )
    assert server.paths(excluded) == [] and items == []
    assert stats(crawler)["ccsignals/forbidden/excluded/hosts"] == 1


@pytest_twisted.ensureDeferred
async def test_an_unreadable_list_stops_the_crawl(server, tmp_path, caplog):
    site, _ = _web(server)
    with pytest.raises(ConfigError, match="CCSIGNALS_EXCLUDE"):
        await run_crawl([f"{site}/"], {"CCSIGNALS_EXCLUDE": {"x": str(tmp_path / "missing")}})
    assert server.paths(site) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, ()),
        ({"a": "/l/a.txt"}, (("a", "/l/a.txt"),)),
        (["/l/infringers.txt", "b=/l/b"], (("infringers", "/l/infringers.txt"), ("b", "/l/b"))),
        ("x=/l/x.txt, /l/y.list", (("x", "/l/x.txt"), ("y", "/l/y.list"))),
    ],
)
def test_setting_forms(value, expected):
    cfg = Config.from_settings(Settings({"USER_AGENT": "Bot/1", "CCSIGNALS_EXCLUDE": value}))
    assert cfg.exclude == expected


@pytest.mark.parametrize("value", [5, [""], {"": "/a"}, {"a": 3}, ["a=/x", "a=/y"]])
def test_bad_setting(value):
    with pytest.raises(ConfigError, match="CCSIGNALS_EXCLUDE"):
        Config.from_settings(Settings({"USER_AGENT": "Bot/1", "CCSIGNALS_EXCLUDE": value}))
