"""The TDMRep report's own examples (``tests/data/tdmrep_spec_examples.json``): its
tdmrep.json files through :func:`parse_tdmrep_json` and :func:`first_match`, its HTML head
through the page scanner, and what each means for every purpose (1/0 decide train-ai and
ai-input, never search)."""

from __future__ import annotations

import json

import pytest

from scrapy_ccsignals.signals.htmlscan import extract
from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.tdmrep import (
    TdmStatement,
    first_match,
    parse_tdmrep_json,
    reservation_value,
    tdmrep_signals,
)
from tests.corpora import load

DATA = load("tdmrep_spec_examples.json")
CHECKS = [(f["name"], f["tdmrep_json"], check) for f in DATA["files"] for check in f["checks"]]
EFFECTS = {1: "deny", 0: "allow", None: "unknown"}


@pytest.mark.parametrize(("name", "body", "check"), CHECKS, ids=[c[2]["path"] for c in CHECKS])
def test_tdmrep_json_example(name, body, check):
    entries, skipped = parse_tdmrep_json(json.dumps(body).encode())
    assert skipped == 0
    entry = first_match(entries, url_path("https://provider.com" + check["path"]))
    reservation = entry.reservation if entry else None
    policy = entry.policy if entry else None
    assert (reservation, policy) == (check["reservation"], check["policy"])
    statement = TdmStatement("tdmrep.json", "https://provider.com/", reservation, policy, name)
    for purpose in ("train-ai", "ai-input"):
        (signal,) = tdmrep_signals([statement], purpose)
        assert signal.effect == EFFECTS[reservation]
    (signal,) = tdmrep_signals([statement], "search")
    assert signal.effect == "unknown"


@pytest.mark.parametrize("example", DATA["html"], ids=lambda e: e["name"])
def test_html_example(example):
    meta = extract(example["body"].encode())
    names = {name: content for name, content, _ in meta.names}
    assert reservation_value(names["tdm-reservation"]) == example["reservation"]
    assert names["tdm-policy"] == example["policy"]
