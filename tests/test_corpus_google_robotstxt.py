"""google/robotstxt's own unit-test cases (``tests/data/google_robotstxt_cases.json``) run
through :func:`parse_robots` and ``can_fetch``. Cases marked ``deviation`` are where our
documented rule (RFC 9309 as the rulebook reads it) differs on purpose: they must give
the opposite answer, so a change of behaviour there is noticed too."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import parse_robots
from tests.corpora import load

CASES = load("google_robotstxt_cases.json")["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['test']}:{c['line']}")
def test_google_robotstxt_case(case):
    rules = parse_robots(case["robotstxt"], case["user_agent"])
    allowed = rules.can_fetch(case["url"], url_path(case["url"]))
    expected = case["allowed"] != ("deviation" in case)
    assert allowed is expected


def test_the_corpus_is_complete():
    assert len(CASES) == 142
    assert sum("deviation" in c for c in CASES) == 4
