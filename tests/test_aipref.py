"""AI preferences, CC signals and Cloudflare content signals: pure parsing."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.aipref import parse_usage, preference_signals
from scrapy_ccsignals.signals.ccsignals import exception_tokens
from scrapy_ccsignals.signals.content_signal import (
    content_signal_signals,
    header_signals,
    parse_content_signal,
)


def effects(text: str, purpose: str = "train-ai", legacy: bool = True) -> list[tuple[str, str]]:
    signals = preference_signals(text, purpose, "header", "u", legacy=legacy)
    return [(s.effect, s.value) for s in signals]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train-ai=n", [("deny", "train-ai=n")]),
        ("train-ai=y", [("allow", "train-ai=y")]),
        ("train-ai=y, search=n", [("allow", "train-ai=y")]),
        ("search=n", [("unknown", "silent")]),  # says nothing for train-ai: recorded as written
        ("train-ai", [("unknown", "train-ai=?")]),  # boolean true is not y/n
        ("train-ai=?1", [("unknown", "train-ai=?")]),
        ('train-ai="n"', [("unknown", "train-ai=?")]),  # a string, not a token
        ("train-ai=no", [("unknown", "train-ai=?")]),
        ("train-ai=N", [("unknown", "train-ai=?")]),  # a valid token, but not y/n
        ("Train-AI=n", [("unknown", "invalid")]),  # uppercase keys fail to parse
        ("train-ai=n, train-ai=y", [("allow", "train-ai=y")]),  # duplicates: last wins
        ("train-ai=y,,", [("unknown", "invalid")]),
        ("", [("unknown", "silent")]),
        ("train-ai=n;exceptions=cc-cr", [("conditional", "train-ai=n;exceptions=cc-cr")]),
        (
            'train-ai=n;exceptions="cc-cr cc-cr-ec"',
            [("conditional", "train-ai=n;exceptions=cc-cr cc-cr-ec")],
        ),
        ("train-ai=n;exceptions=unknown-token", [("deny", "train-ai=n")]),
        ("train-ai=y;exceptions=cc-cr", [("allow", "train-ai=y")]),
        # Legacy labels: the most specific level stated decides (r2 hierarchy).
        ("train-genai=n", [("deny", "train-genai=n")]),
        ("ai-train=n", [("deny", "ai-train=n")]),
        ("ai-use=n", [("deny", "ai-use=n")]),
        ("all=n", [("deny", "all=n")]),
        ("bots=n", [("deny", "bots=n")]),
        ("train-ai=y, bots=n", [("allow", "train-ai=y"), ("unknown", "bots=n (overridden)")]),
        ("bots=y, train-ai=n", [("deny", "train-ai=n"), ("unknown", "bots=y (overridden)")]),
        (
            "ai-use=n, train-genai=y",
            [("allow", "train-genai=y"), ("unknown", "ai-use=n (overridden)")],
        ),
        # Labels at one level are equals: any n there denies.
        ("train-genai=y, ai-train=n", [("allow", "train-genai=y"), ("deny", "ai-train=n")]),
        # A label that states neither y nor n does not decide: the next level does.
        ("train-ai=maybe, all=n", [("unknown", "train-ai=?"), ("deny", "all=n")]),
        ("ai-output=n", [("unknown", "silent")]),  # speaks for ai-input only
        ("foo=n", [("unknown", "silent")]),
    ],
)
def test_train_ai(text, expected):
    assert effects(text) == expected


def test_search_purpose_uses_search_label():
    assert effects("train-ai=n, search=y", "search") == [("allow", "search=y")]
    assert effects("search=n", "search") == [("deny", "search=n")]


# What each label says for each purpose (rulebook, "AI preferences", r2). "-" = no signal.
LABEL_TABLE = {
    "train-ai=n": {"train-ai": "deny", "ai-input": "-", "search": "-"},
    "search=n": {"train-ai": "-", "ai-input": "-", "search": "deny"},
    "train-genai=n": {"train-ai": "deny", "ai-input": "-", "search": "-"},
    "ai-train=n": {"train-ai": "deny", "ai-input": "-", "search": "-"},
    "ai-use=n": {"train-ai": "deny", "ai-input": "deny", "search": "-"},
    "ai-output=n": {"train-ai": "-", "ai-input": "deny", "search": "-"},
    "all=n": {"train-ai": "deny", "ai-input": "deny", "search": "deny"},
    "bots=n": {"train-ai": "deny", "ai-input": "deny", "search": "deny"},
    "bots=n, search=y": {"train-ai": "deny", "ai-input": "deny", "search": "allow"},
    "all=n, ai-use=y": {"train-ai": "allow", "ai-input": "allow", "search": "deny"},
    "ai-use=y, ai-output=n": {"train-ai": "allow", "ai-input": "deny", "search": "-"},
    "train-ai=y, search=y": {"train-ai": "allow", "ai-input": "-", "search": "allow"},
}


def verdict(text: str, purpose: str, legacy: bool = True) -> str:
    """The effect that decides (any deny first), or "-" when the statement says nothing
    for the purpose."""
    found = {e for e, _ in effects(text, purpose, legacy)}
    return next((e for e in ("deny", "conditional", "allow") if e in found), "-")


@pytest.mark.parametrize(
    ("text", "purpose"),
    [(t, p) for t in LABEL_TABLE for p in ("train-ai", "ai-input", "search")],
)
def test_label_table(text, purpose):
    assert verdict(text, purpose) == LABEL_TABLE[text][purpose]


@pytest.mark.parametrize(
    ("text", "purpose", "expected"),
    [
        ("train-ai=n", "train-ai", [("deny", "train-ai=n")]),
        ("search=y", "search", [("allow", "search=y")]),
        ("bots=n", "train-ai", [("unknown", "bots=n (legacy, off)")]),
        ("all=n", "search", [("unknown", "all=n (legacy, off)")]),
        ("ai-use=n", "ai-input", [("unknown", "ai-use=n (legacy, off)")]),
        (
            "train-genai=n;exceptions=cc-cr",
            "train-ai",
            [("unknown", "train-genai=n;exceptions=cc-cr (legacy, off)")],
        ),
        # Without legacy labels nothing overrides: train-ai=y is the only voice.
        (
            "train-ai=y, bots=n",
            "train-ai",
            [("allow", "train-ai=y"), ("unknown", "bots=n (legacy, off)")],
        ),
    ],
)
def test_legacy_off(text, purpose, expected):
    assert effects(text, purpose, legacy=False) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\x0btrain-ai=n",  # a leading control character: not an SF dictionary
        "\x1ftrain-ai=n",
        "\x00train-ai=n",
        "\x0ctrain-ai=n",
        "train-ai=n\x0b",
        "train-ai=n, caf\u00e9=y",  # non-ASCII key
    ],
)
def test_control_characters_fail_to_parse(text):
    assert parse_usage(text) is None
    assert effects(text) == [("unknown", "invalid")]


@pytest.mark.parametrize("text", [" train-ai=n", "\ttrain-ai=n ", "train-ai=n\t"])
def test_spaces_and_tabs_around_are_trimmed(text):
    assert effects(text) == [("deny", "train-ai=n")]


def test_conditional_at_a_less_specific_level_is_overridden():
    signals = preference_signals("train-ai=y, bots=n;exceptions=cc-cr", "train-ai", "h", "u")
    assert [(s.family, s.effect) for s in signals] == [
        ("aipref", "allow"),
        ("cc-signals", "unknown"),
    ]
    assert signals[1].conditions == ()


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
        ("ai-input=no", "train-ai", [("unknown", "silent")]),
        ("ai-input=no", "ai-input", [("deny", "ai-input=no")]),
        ("ai-input=Yes", "ai-input", [("allow", "ai-input=yes")]),
        ("ai-train=no", "ai-input", [("unknown", "silent")]),
        ("search=no", "ai-input", [("unknown", "silent")]),
        ("ai-train=no, ai-train=yes", "train-ai", [("allow", "ai-train=yes")]),  # last wins
        ("use=no, ai-train=no", "train-ai", [("deny", "ai-train=no"), ("unknown", "use=unknown")]),
        ("", "train-ai", [("unknown", "silent")]),
    ],
)
def test_content_signal(text, purpose, expected):
    signals = content_signal_signals(text, purpose, "robots.txt", "u", text)
    assert [(s.effect, s.value) for s in signals] == expected


def test_parse_content_signal_garbage():
    assert parse_content_signal("=,=,a") == {"a": "unknown"}


def test_content_signal_unknown_keys_kept():
    text = "search=yes, tdm=no, Foo=BAR"
    assert parse_content_signal(text) == {"search": "yes", "tdm": "no", "foo": "unknown"}
    (signal,) = content_signal_signals(text, "search", "robots.txt", "u", f"Content-Signal: {text}")
    assert "tdm=no" in signal.raw and "Foo=BAR" in signal.raw


@pytest.mark.parametrize(
    ("values", "purpose", "expected"),
    [
        (["ai-train=no, search=yes"], "train-ai", [("deny", "ai-train=no")]),
        (["ai-train=no, search=yes"], "search", [("allow", "search=yes")]),
        (["ai-input=no"], "ai-input", [("deny", "ai-input=no")]),
        (
            ["ai-train=yes", "ai-train=no"],
            "train-ai",
            [("allow", "ai-train=yes"), ("deny", "ai-train=no")],
        ),
        ([], "train-ai", []),
    ],
)
def test_content_signal_header(values, purpose, expected):
    signals = header_signals(values, purpose, "https://a/x")
    assert [(s.effect, s.value) for s in signals] == expected
    assert all(s.layer == "header" and s.source == "https://a/x" for s in signals)
    assert all(s.raw.startswith("Content-Signal: ") for s in signals)


def test_a_statement_pages_repeat_is_read_once_and_a_long_one_never_kept():
    """A site's template repeats its Content-Usage header and meta on every page: the
    reading is kept for the next page (bounded in entries), and a value too long to be a
    template's, which only a hostile server sends, is read each time and not kept."""
    from scrapy_ccsignals.signals import aipref

    aipref.kept_reading.cache_clear()
    first = preference_signals("train-ai=n;exceptions=cc-cr", "train-ai", "html", "u/1", "m")
    again = preference_signals("train-ai=n;exceptions=cc-cr", "train-ai", "header", "u/2", "h")
    assert [(s.family, s.effect, s.value, s.conditions) for s in first] == [
        ("cc-signals", "conditional", "train-ai=n;exceptions=cc-cr", ("cc-cr",))
    ]
    assert [(s.layer, s.source, s.raw) for s in first + again] == [
        ("html", "u/1", "m"),
        ("header", "u/2", "h"),
    ]
    info = aipref.kept_reading.cache_info()
    assert (info.hits, info.currsize, info.maxsize) == (1, 1, aipref.MAX_KEPT_READINGS)
    long = "train-ai=n, " + ", ".join(f"k{i}=y" for i in range(aipref.MAX_KEPT_VALUE))
    assert effects(long) == [("deny", "train-ai=n")]
    assert aipref.kept_reading.cache_info().currsize == 1
