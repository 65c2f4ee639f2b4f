"""httpwg/structured-field-tests dictionary cases (``tests/data/sf_dictionary_cases.json``)
through the AI-preferences parser: a value that must fail to parse means every label is
unknown; a valid one gives exactly the expected keys, and ``y``/``n`` tokens where the
corpus has them."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.aipref import parse_usage
from tests.corpora import load

CASES = load("sf_dictionary_cases.json")["cases"]


def _token(value):
    if isinstance(value, dict) and value.get("__type") == "token":
        return value["value"]
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['file']}:{c['name']}")
def test_dictionary_case(case):
    text = ", ".join(case["raw"])
    prefs = parse_usage(text)
    if "deviation" in case:
        assert case.get("must_fail") and prefs is not None
        return
    if case.get("must_fail"):
        assert prefs is None
        return
    if prefs is None:
        assert case.get("can_fail")
        return
    assert list(prefs) == [key for key, _ in case["expected"]]
    for key, (value, _params) in case["expected"]:
        token = _token(value)
        assert prefs[key].value == (token if token in ("y", "n") else "unknown")


def test_the_corpus_has_failures_and_successes():
    assert sum(bool(c.get("must_fail")) for c in CASES) > 100
    assert sum(not c.get("must_fail") for c in CASES) > 100
