"""AI preferences, CC signals and Cloudflare content signals: pure parsing."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.aipref import parse_usage, preference_signals
from scrapy_ccsignals.signals.ccsignals import exception_tokens
from scrapy_ccsignals.signals.content_signal import content_signal_signals, parse_content_signal


def effects(text: str, purpose: str = "train-ai") -> list[tuple[str, str]]:
    return [(s.effect, s.value) for s in preference_signals(text, purpose, "header", "u")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train-ai=n", [("deny", "train-ai=n")]),
        ("train-ai=y", [("allow", "train-ai=y")]),
        ("train-ai=y, search=n", [("allow", "train-ai=y")]),
        ("search=n", []),
        ("train-ai", [("unknown", "train-ai=?")]),  # boolean true is not y/n
        ("train-ai=?1", [("unknown", "train-ai=?")]),
        ('train-ai="n"', [("unknown", "train-ai=?")]),  # a string, not a token
        ("train-ai=no", [("unknown", "train-ai=?")]),
        ("train-ai=N", [("unknown", "train-ai=?")]),  # a valid token, but not y/n
        ("Train-AI=n", [("unknown", "invalid")]),  # uppercase keys fail to parse
        ("train-ai=n, train-ai=y", [("allow", "train-ai=y")]),  # duplicates: last wins
        ("train-ai=y,,", [("unknown", "invalid")]),
        ("", []),
        ("train-ai=n;exceptions=cc-cr", [("conditional", "train-ai=n;exceptions=cc-cr")]),
        (
            'train-ai=n;exceptions="cc-cr cc-cr-ec"',
            [("conditional", "train-ai=n;exceptions=cc-cr cc-cr-ec")],
        ),
        ("train-ai=n;exceptions=unknown-token", [("deny", "train-ai=n")]),
        ("train-ai=y;exceptions=cc-cr", [("allow", "train-ai=y")]),
        # Legacy labels, most restrictively.
        ("train-genai=n", [("deny", "train-genai=n")]),
        ("ai-train=n", [("deny", "ai-train=n")]),
        ("ai-use=n", [("deny", "ai-use=n")]),
        ("all=n", [("deny", "all=n")]),
        ("bots=n", [("deny", "bots=n")]),
        ("train-ai=y, bots=n", [("allow", "train-ai=y"), ("deny", "bots=n")]),
        ("foo=n", []),
    ],
)
def test_train_ai(text, expected):
    assert effects(text) == expected


def test_search_purpose_uses_search_label():
    assert effects("train-ai=n, search=y", "search") == [("allow", "search=y")]
    assert effects("search=n", "search") == [("deny", "search=n")]
    assert effects("bots=n", "search") == []


def test_parse_usage_keeps_exceptions_only_on_n():
    prefs = parse_usage("train-ai=n;exceptions=cc-cr, search=y;exceptions=cc-cr")
    assert prefs is not None
    assert prefs["train-ai"].exceptions == ("cc-cr",)
    assert prefs["search"].exceptions == ()


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        (None, ()),
        ("cc-cr", ("cc-cr",)),
        ("cc-cr, cc-cr-op cc-cr", ("cc-cr", "cc-cr-op")),
        ("cc-by", ()),
        ([("cc-cr-dc", {}), ("cc-cr-ec", {})], ("cc-cr-dc", "cc-cr-ec")),
    ],
)
def test_exception_tokens(value, tokens):
    assert exception_tokens(value) == tokens


@pytest.mark.parametrize(
    ("text", "purpose", "expected"),
    [
        ("search=yes, ai-train=no", "train-ai", [("deny", "ai-train=no")]),
        ("search=yes, ai-train=no", "search", [("allow", "search=yes")]),
        ("ai-train=yes", "train-ai", [("allow", "ai-train=yes")]),
        ("AI-Train = NO", "train-ai", [("deny", "ai-train=no")]),
        ("ai-train=maybe", "train-ai", [("unknown", "ai-train=unknown")]),
        ("ai-input=no", "train-ai", []),
        ("", "train-ai", []),
    ],
)
def test_content_signal(text, purpose, expected):
    signals = content_signal_signals(text, purpose, "robots.txt", "u", text)
    assert [(s.effect, s.value) for s in signals] == expected


def test_parse_content_signal_garbage():
    assert parse_content_signal("=,=,a") == {"a": "unknown"}
