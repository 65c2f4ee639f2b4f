"""robots.txt usage lines as one path-scoped set (rulebook, robots.txt (r3)), the
AI-training rules (draft-canel-robots-ai-control-00) and Content-Signal ``use=`` levels:
pure parsing and selection, many small cases."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.signals.content_signal import content_signal_signals
from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import parse_robots
from scrapy_ccsignals.signals.usage_lines import usage_signals

ROBOTS = """\
Content-Signal: ai-train=no
User-agent: *
Allow: /
Content-Usage: /blog/ train-ai=y
DisallowAITraining: /blog/drafts/
AllowAITraining: /tie/
DisallowAITraining: /tie/
Content-Usage: /quiet/ search=y
DisallowAITraining: /*.pdf$
Sitemap: https://example.com/sitemap.xml
Content-Signal: /news/ search=no, use=immediate
"""


def decide(body: str, path: str, purpose: str, **kw) -> tuple[str, list[str]]:
    rules = parse_robots(body, "ExampleBot")
    signals = usage_signals(rules, url_path("https://example.com" + path), purpose, "r", **kw)
    effects = {s.effect for s in signals}
    effect = "deny" if "deny" in effects else ("allow" if "allow" in effects else "unknown")
    return effect, sorted({s.family for s in signals if s.effect != "unknown"})


@pytest.mark.parametrize(
    ("path", "purpose", "effect", "families"),
    [
        ("/", "train-ai", "deny", ["content-signal"]),
        ("/blog/a", "train-ai", "allow", ["aipref"]),  # opt-back-in beats the site-wide no
        ("/blog/drafts/a", "train-ai", "deny", ["ai-control"]),
        ("/tie/a", "train-ai", "deny", ["ai-control"]),  # equal lengths: restrictive
        ("/quiet/a", "train-ai", "deny", ["content-signal"]),  # silent line hides nothing
        ("/quiet/a", "search", "allow", ["aipref"]),
        ("/doc.pdf", "train-ai", "deny", ["ai-control"]),
        ("/doc.pdf?x=1", "train-ai", "deny", ["content-signal"]),  # $ anchors the pattern
        ("/news/a", "search", "deny", ["content-signal"]),  # after Sitemap: same group
        ("/news/a", "ai-input", "deny", ["content-signal"]),  # use=immediate < reference
        ("/blog/a", "ai-input", "unknown", []),  # ai-control speaks to train-ai only
        ("/", "search", "unknown", []),
    ],
)
def test_one_set(path, purpose, effect, families):
    assert decide(ROBOTS, path, purpose) == (effect, families)


def test_nothing_speaks_records_the_longest_lines():
    body = "User-agent: *\nContent-Usage: /a/ train-ai=maybe\nContent-Usage: train-ai=?\n"
    signals = usage_signals(parse_robots(body, "X"), "/a/b", "train-ai", "r")
    assert [(s.raw, s.effect) for s in signals] == [
        ("Content-Usage: /a/ train-ai=maybe", "unknown")
    ]


def test_lines_silent_for_the_purpose_are_recorded_as_written():
    """A matching line that says nothing for the purpose is listed (effect unknown, value
    ``silent``) beside the lines that decide, so provenance shows every statement."""
    body = (
        "Content-Signal: ai-input=no\nUser-agent: *\nContent-Usage: train-ai=n\n"
        "Content-Usage: /a/ search=n\nDisallowAITraining: /b/\nContent-Usage: /c/ search=y\n"
    )
    signals = usage_signals(parse_robots(body, "X"), "/a/b", "search", "r")
    assert [(s.family, s.raw, s.effect, s.value) for s in signals] == [
        ("aipref", "Content-Usage: /a/ search=n", "deny", "search=n"),
        ("content-signal", "Content-Signal: ai-input=no", "unknown", "silent"),
        ("aipref", "Content-Usage: train-ai=n", "unknown", "silent"),
    ]
    signals = usage_signals(parse_robots(body, "X"), "/b/1", "ai-input", "r")
    assert [(s.family, s.effect, s.value) for s in signals] == [
        ("content-signal", "deny", "ai-input=no"),
        ("aipref", "unknown", "silent"),
        ("ai-control", "unknown", "silent"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("User-agent: *\nDisallowAITraining: /\n", "deny"),
        ("User-agent: *\nDisallowAITraining:\n", "unknown"),  # empty: says nothing
        ("User-agent: *\nAllowAITraining: /\n", "allow"),
        ("User-agent: other\nDisallowAITraining: /\n", "unknown"),
        ("User-agent: examplebot\nAllow: /\nUser-agent: *\nDisallowAITraining: /\n", "unknown"),
        ("User-agent: *\nDISALLOWAITRAINING: /\n", "deny"),  # keys are case-insensitive
        ("User-agent: *\nNoAITraining: /\n", "unknown"),  # -01 forms define no names
    ],
)
def test_ai_control_lines(body, expected):
    assert decide(body, "/p", "train-ai")[0] == expected
    assert decide(body, "/p", "ai-input")[0] == "unknown"


@pytest.mark.parametrize(
    ("text", "purpose", "needed", "expected"),
    [
        ("search=yes,ai-train=no,use=reference", "train-ai", None, ["deny", "deny"]),
        ("search=yes,ai-train=no,use=reference", "ai-input", None, ["unknown"]),
        ("search=yes,ai-train=no,use=reference", "search", None, ["allow", "unknown"]),
        ("search=yes, use=immediate", "search", None, ["allow", "deny"]),
        ("search=yes, use=immediate", "search", "immediate", ["allow", "unknown"]),
        ("use=reference", "search", "full", ["deny"]),
        ("use=FULL", "train-ai", None, ["unknown"]),  # values are case-insensitive
        ("use=everything", "ai-input", "full", ["unknown"]),  # not a level: says nothing
        ("search=yes", "search", "full", ["allow"]),  # absent: says nothing
    ],
)
def test_content_signal_use(text, purpose, needed, expected):
    signals = content_signal_signals(text, purpose, "header", "u", text, needed)
    assert [s.effect for s in signals] == expected
    for signal in signals:
        if signal.value.startswith("use=") and signal.effect == "deny":
            level = signal.value[4:]
            assert f"use={level}" in signal.raw and "the crawl needs use=" in signal.raw
