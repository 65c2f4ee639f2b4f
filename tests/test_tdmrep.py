"""TDMRep: tdmrep.json parsing, first-match, values and the cascade."""

from __future__ import annotations

import json

import pytest

from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.tdmrep import (
    TdmRepError,
    TdmStatement,
    first_match,
    parse_tdmrep_json,
    reservation_value,
    tdmrep_signals,
)

FILE = json.dumps(
    [
        {"location": "/news/*", "tdm-reservation": 1, "tdm-policy": "https://x/policy.json"},
        {"location": "/news/open/*", "tdm-reservation": 0},
        {"location": "/*.pdf$", "tdm-reservation": 1},
        {"location": "/", "tdm-reservation": 0},
    ]
).encode()


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/news/a", "/news/*"),
        ("/news/open/a", "/news/*"),  # first match in array order, not the longest
        ("/doc.pdf", "/*.pdf$"),
        ("/doc.pdf?x=1", "/"),
        ("/other", "/"),
    ],
)
def test_first_match(path, location):
    entries, skipped = parse_tdmrep_json(FILE)
    assert skipped == 0
    entry = first_match(entries, path)
    assert entry is not None and entry.location == location


def test_no_match():
    entries, _ = parse_tdmrep_json(b'[{"location": "/a/*", "tdm-reservation": 1}]')
    assert first_match(entries, "/b") is None


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"location": "/"}', b"42", b'"x"', b"", b"\xff\xfe"],
)
def test_not_tdmrep(body):
    with pytest.raises(TdmRepError):
        parse_tdmrep_json(body)


def test_wrong_entry_types_skipped():
    body = json.dumps(
        [
            "x",
            {"location": 5, "tdm-reservation": 1},
            {"location": "no-slash", "tdm-reservation": 1},
            {"tdm-reservation": 1},
            {"location": "/", "tdm-reservation": "1", "tdm-policy": 7},
            {"location": "/b", "tdm-reservation": True},
        ]
    ).encode()
    entries, skipped = parse_tdmrep_json(body)
    assert skipped == 4
    assert [(e.location, e.reservation, e.policy) for e in entries] == [
        ("/", 1, None),
        ("/b", None, None),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (0, 0),
        ("1", 1),
        (" 0 ", 0),
        (2, None),
        (True, None),
        ("yes", None),
        (None, None),
        (1.0, None),
    ],
)
def test_reservation_value(value, expected):
    assert reservation_value(value) == expected


def st(layer, value, policy=None):
    return TdmStatement(layer, f"https://x/{layer}", value, policy, f"{layer}={value}")


@pytest.mark.parametrize(
    ("statements", "effects"),
    [
        ([st("tdmrep.json", 1)], ["deny"]),
        ([st("tdmrep.json", 1), st("header", 0)], ["unknown", "allow"]),  # header 0 beats file 1
        ([st("tdmrep.json", 0), st("header", None), st("html", 1)], ["unknown", "unknown", "deny"]),
        ([st("tdmrep.json", 1), st("header", None)], ["deny", "unknown"]),  # silence keeps
        ([st("header", None)], ["unknown"]),
        ([], []),
    ],
)
def test_cascade(statements, effects):
    assert [s.effect for s in tdmrep_signals(statements, "train-ai")] == effects


def test_cascade_records_policy_and_override():
    signals = tdmrep_signals([st("tdmrep.json", 1, "https://p"), st("header", 0)], "train-ai")
    assert signals[0].value == "tdm-reservation=1; tdm-policy=https://p (overridden)"


@pytest.mark.parametrize(
    ("value", "purpose", "effect"),
    [
        (1, "train-ai", "deny"),
        (1, "ai-input", "deny"),  # r2: inference-time use is text and data mining too
        (1, "search", "unknown"),
        (0, "train-ai", "allow"),
        (0, "ai-input", "allow"),
        (0, "search", "unknown"),
        (None, "train-ai", "unknown"),
        (None, "ai-input", "unknown"),
    ],
)
def test_purposes(value, purpose, effect):
    assert [s.effect for s in tdmrep_signals([st("header", value)], purpose)] == [effect]


@pytest.mark.parametrize(
    ("location", "path", "matches"),
    [
        ("/a/", "/a%2Fb/", False),  # %2F is not "/" (RFC 9309 2.2.2)
        ("/a%2Fb", "/a%2fb/c", True),
        ("/caf\u00e9/*", "/caf%C3%A9/x", True),
        ("/%7Euser/", "/~user/x", True),
    ],
)
def test_locations_match_percent_encoded(location, path, matches):
    entries, _ = parse_tdmrep_json(
        json.dumps([{"location": location, "tdm-reservation": 1}]).encode()
    )
    assert (first_match(entries, url_path("https://h" + path)) is not None) is matches


def test_the_signal_of_tdmrep_json_alone_is_made_once_per_statement():
    """An origin's tdmrep.json statements are made once, and each serves every page its
    location matches: the signal of one alone (the common case, no header or meta) is
    kept and shared; with a header or meta statement, or a raw text too long to keep,
    the cascade runs as always."""
    from scrapy_ccsignals.signals import tdmrep

    origin = TdmStatement("tdmrep.json", "https://x/.well-known/tdmrep.json", 1, None, "{}")
    first = tdmrep_signals([origin], "train-ai")
    assert tdmrep_signals([origin], "train-ai")[0] is first[0]
    assert [(s.layer, s.effect, s.value) for s in first] == [
        ("tdmrep.json", "deny", "tdm-reservation=1")
    ]
    assert tdmrep_signals([origin], "search")[0].effect == "unknown"
    header = TdmStatement("header", "https://x/p", 0, None, "tdm-reservation: 0")
    assert [s.value for s in tdmrep_signals([origin, header], "train-ai")] == [
        "tdm-reservation=1 (overridden)",
        "tdm-reservation=0",
    ]
    assert tdmrep._kept_alone.cache_info().maxsize == tdmrep.MAX_KEPT_STATEMENTS
    before = tdmrep._kept_alone.cache_info().currsize
    long = TdmStatement("tdmrep.json", origin.source, 1, None, "x" * (tdmrep.MAX_KEPT_RAW + 1))
    assert tdmrep_signals([long], "train-ai")[0].effect == "deny"
    assert tdmrep_signals([header], "train-ai")[0].effect == "allow"
    assert tdmrep._kept_alone.cache_info().currsize == before
