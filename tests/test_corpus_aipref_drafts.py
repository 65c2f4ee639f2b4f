"""The AI-preferences drafts' own examples (``tests/data/aipref_draft_examples.json``):
their Content-Usage values through the aipref parser, and the attach draft's robots.txt
examples through the robots.txt parser, for the outcomes the drafts' prose states."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.aipref import preference_signals
from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import parse_robots
from tests.corpora import load

DATA = load("aipref_draft_examples.json")


def effect(value: str, purpose: str) -> str:
    decided = [
        s.effect for s in preference_signals(value, purpose, "header", "u") if s.effect != "unknown"
    ]
    return decided[0] if decided else "unknown"


@pytest.mark.parametrize("case", DATA["values"], ids=[c["name"] for c in DATA["values"]])
def test_vocab_example(case):
    for purpose, expected in case["expected"].items():
        assert effect(case["value"], purpose) == expected, purpose


CHECKS = [(r["body"], c) for r in DATA["robots"] for c in r["checks"]]


@pytest.mark.parametrize(
    ("body", "check"), CHECKS, ids=[f"{c['agent']}{c['path']}" for _, c in CHECKS]
)
def test_attach_robots_example(body, check):
    rules = parse_robots(body, check["agent"])
    url = "https://example.com" + check["path"]
    path = url_path(url)
    assert rules.can_fetch(url, path) is check["crawl"]
    if check["train-ai"] is None:
        return
    lines = rules.scoped("content-usage", path)
    effects = {effect(line.value, "train-ai") for line in lines}
    assert effects == {check["train-ai"]}
