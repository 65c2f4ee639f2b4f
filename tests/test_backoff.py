"""Issue #27 item 11: the crawler backs off when a site asks. A 429 or 503 with Retry-After
pauses that site's requests until then (capped by CCSIGNALS_MAX_RETRY_AFTER), consecutive
5xx/429 double its delay and a success resets it, never below Crawl-delay; other sites keep
going. Real crawls against the loopback server, which logs when each request arrived; the
sites under test live on loopback addresses of their own (Scrapy's download slots are per
host)."""

from __future__ import annotations

import json
import logging
import time
from email.utils import formatdate

import pytest
import pytest_twisted

from scrapy_ccsignals.policy.backoff import retry_after_seconds
from tests.crawling import page, run_crawl, stats, text

ALLOW = "User-agent: *\nAllow: /\n"
#: Lower bounds of measured gaps allow for the server's clock and rounding, never more.
SLACK = 0.95
RETRYING = {"RETRY_ENABLED": True, "RETRY_TIMES": 3, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}

NOW = 1_000_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),  # IMF-fixdate
        ("Sunday, 09-Sep-01 01:46:30 GMT", 0.0),  # RFC 850, 10 s ago: no wait
        ("Sun Sep  9 01:47:10 2001", 30.0),  # asctime
        (formatdate(NOW - 3600, usegmt=True), 0.0),  # in the past
        ("9" * 40, float("inf")),  # more than any cap
    ],
)
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize("value", ["", "soon", "-5", "1.5", "2 minutes", "\x00" * 3, "Sun, 99"])
def test_retry_after_values_that_mean_nothing(value):
    assert retry_after_seconds(value, NOW) is None


def busy_site(
    server, host: str, first: dict, robots: str = ALLOW, extra: dict | None = None
) -> str:
    """A site whose /busy page answers *first* once, then 200."""
    return server.add_origin(
        {
            "/robots.txt": text(robots),
            "/busy": {"sequence": [first, {"body": page("ok")}]},
            "/a/*": {"body": page("a")},
            **(extra or {}),
        },
        host=host,
    )


def times_after(server, origin: str, path: str) -> tuple[float, list[float]]:
    """When *path* was first asked for, and when every later request to the origin came."""
    log = server.log(origin)
    first = next(i for i, e in enumerate(log) if e["path"] == path)
    return log[first]["time"], [e["time"] for e in log[first + 1 :]]


def audit_lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "settings",
    [{}, {"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0}],
    ids=["plain", "autothrottle"],
)
@pytest_twisted.ensureDeferred
async def test_retry_after_pauses_the_site_and_others_keep_going(server, tmp_path, settings):
    # /slow is in flight when /busy answers 429; the links it gives are found during the
    # pause, and wait for its end like the retry of /busy and the site's tdmrep.json.
    links = "<a href='/a/1'>1</a><a href='/a/2'>2</a>"
    busy = busy_site(
        server,
        "127.0.0.2",
        {"status": 429, "headers": {"Retry-After": "2"}, "body": "slow down"},
        extra={"/slow": {"body": page("slow", links), "delay": 0.3}},
    )
    other = server.add_origin(
        {"/robots.txt": text(ALLOW), "/b/*": {"body": page("b"), "delay": 0.4}}, host="127.0.0.3"
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        # The other site's 12 pages, one at a time, take ~4.8 s: they cover the 2 s pause
        # even when a loaded machine starts them late.
        [f"{busy}/busy", f"{busy}/slow"] + [f"{other}/b/{i}" for i in range(12)],
        {**RETRYING, **settings, "CCSIGNALS_AUDIT_LOG": str(log)},
    )
    asked = next(e["time"] for e in server.log(busy) if e["path"] == "/busy")
    later = {e["path"]: e["time"] - asked for e in server.log(busy) if e["time"] > asked}
    later.pop("/slow", None)  # sent with /busy
    assert set(later) == {"/busy", "/a/1", "/a/2", "/.well-known/tdmrep.json"}
    assert min(later.values()) >= 2 * SLACK, later
    # The other site was not paused with it.
    other_times = [e["time"] for e in server.log(other) if e["path"].startswith("/b/")]
    assert any(asked < t < asked + 2 * SLACK for t in other_times), other_times
    assert len(items) == 16  # the retry of /busy got its page
    counts = stats(crawler)
    assert counts["ccsignals/backoff/status/429"] == 1
    assert counts["ccsignals/backoff/retry_after"] == 1
    assert counts["ccsignals/backoff/paused"] == 1
    assert counts["ccsignals/backoff/reset"] == 1
    (paused, reset) = [x for x in audit_lines(log) if x["stage"] == "backoff"]
    assert paused["action"] == "paused"
    assert paused["url"] == f"{busy}/busy" and paused["origin"] == busy
    assert paused["status"] == 429 and paused["delay"] == 2.0 and paused["errors"] == 1
    assert "Retry-After: 2" in paused["reasons"][0]
    assert reset["action"] == "reset" and reset["errors"] == 1


@pytest_twisted.ensureDeferred
async def test_retry_after_date_is_capped(server):
    far = formatdate(time.time() + 3600, usegmt=True)
    busy = busy_site(
        server, "127.0.0.4", {"status": 503, "headers": {"Retry-After": far}, "body": "later"}
    )
    crawler, items = await run_crawl(
        [f"{busy}/busy"], {**RETRYING, "CCSIGNALS_MAX_RETRY_AFTER": 1.5}, follow=False
    )
    asked, later = times_after(server, busy, "/busy")
    assert later and min(later) - asked >= 1.5 * SLACK
    assert len(items) == 1
    counts = stats(crawler)
    assert counts["ccsignals/backoff/retry_after_capped"] == 1
    assert counts["ccsignals/backoff/status/503"] == 1


@pytest_twisted.ensureDeferred
async def test_consecutive_errors_double_the_delay_and_success_resets_it(server, tmp_path):
    origin = server.add_origin(
        {
            "/robots.txt": text(ALLOW),
            "/flaky": {
                "sequence": [
                    {"status": 500, "body": "oops"},
                    {"status": 502, "body": "oops"},
                    {"body": page("ok", "<a href='/again'>again</a>")},
                ]
            },
            "/again": {"sequence": [{"status": 503, "body": "busy"}, {"body": page("again")}]},
        },
        host="127.0.0.5",
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [f"{origin}/flaky"], {**RETRYING, "CCSIGNALS_AUDIT_LOG": str(log)}
    )
    flaky = [e["time"] for e in server.log(origin) if e["path"] == "/flaky"]
    assert len(flaky) == 3
    assert flaky[1] - flaky[0] >= 1.0 * SLACK
    assert flaky[2] - flaky[1] >= 2.0 * SLACK
    assert len(items) == 2
    lines = [x for x in audit_lines(log) if x["stage"] == "backoff"]
    # The success after two errors ends the streak: the next error starts from 1 s again.
    assert [(x["action"], x.get("delay"), x.get("errors")) for x in lines] == [
        ("paused", 1.0, 1),
        ("paused", 2.0, 2),
        ("reset", None, 2),
        ("paused", 1.0, 1),
        ("reset", None, 1),
    ]
    counts = stats(crawler)
    assert counts["ccsignals/backoff/paused"] == 3
    assert counts["ccsignals/backoff/reset"] == 2
    assert counts["ccsignals/backoff/delay_max"] == 2.0


@pytest.mark.parametrize(
    ("cap", "delay"), [(None, 1.5), (0.2, 0.75)], ids=["doubled", "cap-below-crawl-delay"]
)
@pytest_twisted.ensureDeferred
async def test_backoff_is_never_below_crawl_delay(server, tmp_path, cap, delay):
    busy = busy_site(
        server,
        "127.0.0.6",
        {"status": 503, "headers": {"Retry-After": "0"}, "body": "busy"},
        robots="User-agent: *\nCrawl-delay: 0.75\nAllow: /\n",
    )
    log = tmp_path / "audit.jsonl"
    settings = {**RETRYING, "CCSIGNALS_AUDIT_LOG": str(log)}
    if cap is not None:
        settings["CCSIGNALS_MAX_RETRY_AFTER"] = cap
    await run_crawl([f"{busy}/busy"], settings, follow=False)
    asked, later = times_after(server, busy, "/busy")
    assert later and min(later) - asked >= delay * SLACK
    (paused,) = [x for x in audit_lines(log) if x["action"] == "paused"]
    assert paused["delay"] == delay


@pytest_twisted.ensureDeferred
async def test_unreadable_retry_after_warns_and_still_backs_off(server, caplog):
    busy = busy_site(
        server, "127.0.0.7", {"status": 429, "headers": {"Retry-After": "soon"}, "body": "x"}
    )
    with caplog.at_level(logging.WARNING):
        crawler, _ = await run_crawl([f"{busy}/busy"], RETRYING, follow=False)
    asked, later = times_after(server, busy, "/busy")
    assert later and min(later) - asked >= 1.0 * SLACK
    assert stats(crawler)["ccsignals/backoff/retry_after_invalid"] == 1
    warnings = [r.getMessage() for r in caplog.records if "Retry-After" in r.getMessage()]
    assert len(warnings) == 1 and f"{busy}/busy" in warnings[0]


@pytest.mark.parametrize(("cap", "kept"), [(0, 1), (100, 3)], ids=["over", "pausing"])
def test_streaks_of_many_sites_stay_bounded(monkeypatch, cap, kept):
    """A broad crawl meets many sites that fail once and are never asked again: past
    MAX_STREAKS, the streaks whose pause is over are forgotten; those pausing are kept."""
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler

    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.policy import backoff
    from scrapy_ccsignals.records.audit import AuditLog

    monkeypatch.setattr(backoff, "MAX_STREAKS", 2)
    crawler = get_crawler(settings_dict={"CCSIGNALS_MAX_RETRY_AFTER": cap})

    class Host:
        audit = AuditLog(None)

        def __init__(self):
            self.crawler = crawler
            self.cfg = Config.from_settings(crawler.settings)

        def inc(self, key, count=1):
            pass

        def warn_once(self, *args):
            pass

    gate = backoff.OriginBackoff(Host(), lambda key: 0.0)
    # No engine outside a crawl: the slots themselves are not under test here.
    monkeypatch.setattr(gate, "_apply", lambda key: None)
    for n in range(3):
        url = f"http://site{n}.test/"
        request = Request(url, meta={"download_slot": f"site{n}.test"})
        response = Response(url, status=503, headers={"Retry-After": "50"}, request=request)
        gate._response_downloaded(response, request)
    assert len(gate._streaks) == kept


@pytest.mark.parametrize("status", [429, 503])
@pytest_twisted.ensureDeferred
async def test_policy_files_do_not_pause_the_host(server, status):
    """robots.txt answering 429/503 makes its origin unreachable (RFC 9309 2.3.1.4: disallow
    all, fetched again later); it does not pause the host, whose other origins (here, ports
    of the same loopback address) go on."""
    down = server.add_origin(
        {
            "/robots.txt": {"status": status, "headers": {"Retry-After": "3600"}},
            "/p": {"body": page("p")},
        }
    )
    up = server.add_origin({"/robots.txt": text(ALLOW), "/q": {"body": page("q")}})
    crawler, items = await run_crawl(
        [f"{down}/p", f"{up}/q"], {**RETRYING, "CCSIGNALS_MAX_RETRY_AFTER": 3}, follow=False
    )
    assert [i["url"] for i in items] == [f"{up}/q"]
    counts = stats(crawler)
    assert counts[f"ccsignals/robots/status/{status}"] == 1
    assert "ccsignals/backoff/paused" not in counts
