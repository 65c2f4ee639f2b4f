"""The one list of corpus cases our documented rules answer differently on purpose."""

from __future__ import annotations

from tests.corpora import deviations

#: Expected deviations by corpus file; a new one must be added here, with its reason in
#: the data file.
EXPECTED = {
    "datadiligence_cases.json": 1,
    "google_robotstxt_cases.json": 4,
    "sf_dictionary_cases.json": 1,
}


def test_deviations_are_listed():
    found = deviations()
    assert {name: len(items) for name, items in found.items()} == EXPECTED
    assert all(": " in item for items in found.values() for item in items)
