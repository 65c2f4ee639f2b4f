"""Every Creative Commons entry of the SPDX licence list (``tests/data/spdx_cc_licenses.json``):
each of its ``seeAlso`` URLs, in every form a page writes a CC URL, normalises to that id;
and our id set is exactly the list's."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.license import SPDX_CC_IDS, canonical_license_id, normalise_cc
from tests.corpora import load

LICENSES = load("spdx_cc_licenses.json")["licenses"]
URLS = [
    (entry["licenseId"], url)
    for entry in LICENSES
    for url in entry["seeAlso"]
    if url not in entry.get("not_licence_urls", ())
]


def forms(url: str) -> list[str]:
    """The ways pages write a CC URL: as listed, its canonical base, http, www., deed,
    localized legal code, no trailing slash, query and fragment."""
    base = url.removesuffix("legalcode")
    return [
        url,
        base,
        base.replace("https://", "http://"),
        base.replace("https://", "http://www."),
        base + "deed.de",
        base + "legalcode.fr",
        base.rstrip("/"),
        base + "?ref=x#top",
    ]


@pytest.mark.parametrize(("spdx", "url"), URLS, ids=[u for _, u in URLS])
def test_see_also_normalises_to_the_id(spdx, url):
    for form in forms(url):
        result = normalise_cc(form)
        assert result is not None, form
        assert result[1] == spdx, form
        assert result[0].startswith("https://creativecommons.org/") and result[0].endswith("/")
        assert canonical_license_id(spdx.lower()) == spdx


def test_our_ids_are_the_lists():
    assert {entry["licenseId"] for entry in LICENSES} == SPDX_CC_IDS
