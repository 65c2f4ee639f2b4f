"""Spawning's datadiligence test cases (``tests/data/datadiligence_cases.json``): its
X-Robots-Tag values, per bot, through our noai reading, and its tdm-reservation header
values through the TDMRep value rule. Marked cases differ on purpose (see
``tests/test_corpora_deviations.py``)."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.noai import noai_signals, x_robots_directives
from scrapy_ccsignals.signals.tdmrep import TdmStatement, reservation_value, tdmrep_signals
from tests.corpora import load

DATA = load("datadiligence_cases.json")


def allowed(value: str, token: str, image: bool) -> bool:
    found = x_robots_directives(value, token)
    signals = noai_signals(found, "train-ai", image, "header", "u", value)
    return not any(s.effect == "deny" for s in signals)


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_x_robots_tag_case(case):
    ours = allowed(case["value"], case["token"], case["image"])
    if "deviation" in case:
        assert ours is not case["allowed"]
    else:
        assert ours is case["allowed"]


@pytest.mark.parametrize("case", DATA["tdm_reservation"], ids=lambda c: repr(c["value"]))
def test_tdm_reservation_header_case(case):
    statement = TdmStatement("header", "u", reservation_value(case["value"]), None, case["value"])
    signals = tdmrep_signals([statement], "train-ai")
    assert (not any(s.effect == "deny" for s in signals)) is case["allowed"]
