"""Real robots.txt deployments with AI usage lines (``tests/data/robots_usage_deployments.json``:
Content-Usage, Content-Signal with ``use=``, DisallowAITraining, Cloudflare's managed
block; each case names its repository, path, commit and licence) through the robots.txt
parser and the one-set selection of usage lines, for the decisions stated per purpose."""

from __future__ import annotations

import pytest
import pytest_twisted

from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import parse_robots
from scrapy_ccsignals.signals.usage_lines import usage_signals
from tests.corpora import load
from tests.crawling import page, run_crawl, text

DATA = load("robots_usage_deployments.json")
PURPOSES = ("train-ai", "ai-input", "search")
CHECKS = [(case, check) for case in DATA["cases"] for check in case["checks"]]


def test_every_case_names_its_source():
    for case in DATA["cases"]:
        assert {"repo", "path", "commit", "url", "licence"} <= set(case["source"]), case["name"]


@pytest.mark.parametrize(
    ("case", "check"),
    CHECKS,
    ids=[f"{case['name']}-{check['agent']}{check['path']}" for case, check in CHECKS],
)
def test_deployment(case, check):
    rules = parse_robots(case["body"], check["agent"])
    url = "https://example.com" + check["path"]
    path = url_path(url)
    assert rules.can_fetch(url, path) is check["crawl"]
    for purpose in PURPOSES:
        if check[purpose] is None:
            continue  # not fetched: usage lines do not apply
        signals = usage_signals(rules, path, purpose, "https://example.com/robots.txt")
        effects = {s.effect for s in signals}
        effect = "deny" if "deny" in effects else ("allow" if "allow" in effects else "unknown")
        assert effect == check[purpose], purpose


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest_twisted.ensureDeferred
async def test_deployments_through_a_crawl(server, purpose):
    """The same files served to a real crawl (tag mode, token ExampleBot): a path the file
    disallows is not fetched; the others carry the decision the usage lines give (unknown:
    CCSIGNALS_DEFAULT, allow)."""
    expected: dict[str, str | None] = {}
    for case in DATA["cases"]:
        checks = [c for c in case["checks"] if c["agent"] == "ExampleBot"]
        routes = {"/robots.txt": text(case["body"])}
        routes.update({c["path"]: {"body": page(c["path"])} for c in checks})
        origin = server.add_origin(routes)
        for c in checks:
            expected[origin + c["path"]] = (
                None if not c["crawl"] else ("deny" if c[purpose] == "deny" else "allow")
            )
    _, items = await run_crawl(
        list(expected),
        {
            "CCSIGNALS_PURPOSE": purpose,
            "CCSIGNALS_MODE": "tag",
            "CCSIGNALS_USER_AGENT": "ExampleBot",
        },
        follow=False,
    )
    got = {i["url"]: i["ccsignals"]["decision"] for i in items}
    assert got == {url: d for url, d in expected.items() if d is not None}
