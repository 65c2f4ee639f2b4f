"""JSON-LD scripts are read by msgspec, and by ``json.loads`` where msgspec refuses: the page
facts get the data (or nothing, for broken JSON-LD) that ``json.loads`` gave before."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.signals.htmlscan import extract, read_json

_JSON_BYTES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
).map(lambda value: json.dumps(value).encode())


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        _JSON_BYTES,
        st.tuples(_JSON_BYTES, st.integers(0, 40), st.binary(max_size=3)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]  # a few bytes spliced in
        ),
        st.binary(max_size=30),
    )
)
@example(b'["\\ud800", NaN, 1e400]')
@example(b'{"a": 1, "a": 2}')
@example(b"\xef\xbb\xbf{}")
@example(b'["caf\xe9"]')
def test_json_ld_is_read_as_json_loads_reads_it(raw):
    """JSON-LD is read by msgspec, and by json.loads where msgspec refuses: the data, or
    the refusal, is json.loads' on the text with undecodable bytes replaced."""

    def outcome(read):
        try:
            return ("data", read())
        except (ValueError, RecursionError):
            return ("broken", None)

    got = outcome(lambda: read_json(raw))
    expected = outcome(lambda: json.loads(raw.decode("utf-8", "replace")))
    assert repr(got) == repr(expected)  # repr: NaN equal to NaN, -0.0 told from 0.0


def test_the_scan_reads_json_ld_with_it():
    page = (
        b'<script type="application/ld+json">{"license": "https://creativecommons.org/'
        b'licenses/by/4.0/", "n": NaN}</script><script type="application/ld+json">{"x": '
        b"\xff}</script>"
    )
    meta = extract(page)
    assert [block["license"] for block in meta.jsonld[:1]] == [
        "https://creativecommons.org/licenses/by/4.0/"
    ]
    assert len(meta.jsonld) == 1  # invalid JSON: says nothing
