"""robots.txt usage lines of every family as one path-scoped set (rulebook, robots.txt (r3)).

For the crawl's purpose, the matched group's ``Content-Usage`` (:mod:`aipref`),
``Content-Signal`` (:mod:`content_signal`) and ``DisallowAITraining`` /
``AllowAITraining`` (:mod:`ai_control`) lines, with the ``Content-Signal`` lines before the
first ``User-agent``, are statements scoped by path (no path: ``/``, length 1). Of those
whose path matches the page, the ones that **say something for the purpose** (a signal
other than unknown) take part, and the longest path wins across families; equal lengths
all count, so the decision combines them restrictively (any deny wins). A longer line
silent about the purpose does not hide a shorter one that speaks: so a site-wide
``Content-Signal: ai-train=no`` with ``Content-Usage: /blog/ train-ai=y`` allows train-ai
under ``/blog/`` only. When no matching line speaks, the longest ones are still recorded
(their signals are all unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

from scrapy_ccsignals.signals.ai_control import ai_control_signals
from scrapy_ccsignals.signals.aipref import preference_signals
from scrapy_ccsignals.signals.base import LAYER_ROBOTS, UNKNOWN, Signal
from scrapy_ccsignals.signals.content_signal import content_signal_signals
from scrapy_ccsignals.signals.pathmatch import match_length, pattern_matches
from scrapy_ccsignals.signals.robots import RobotsRules, ScopedLine


@lru_cache(maxsize=4096)  # a line's signals are the same for every page in its scope
def line_signals(
    line: ScopedLine, purpose: str, source: str, legacy: bool, content_use: str | None
) -> tuple[Signal, ...]:
    """The signals one usage line gives for *purpose* (signals are immutable)."""
    family: Callable[..., list[Signal]]
    if line.key == "content-usage":
        family = partial(preference_signals, legacy=legacy)
    elif line.key == "content-signal":
        family = partial(content_signal_signals, needed=content_use)
    else:
        family = ai_control_signals
    return tuple(family(line.value, purpose, LAYER_ROBOTS, source, line.raw))


def usage_signals(
    rules: RobotsRules,
    path: str,
    purpose: str,
    source: str,
    *,
    legacy: bool = True,
    content_use: str | None = None,
) -> list[Signal]:
    """The signals of the usage lines that decide *path* for *purpose* (module docstring).
    *source* is the robots.txt URL; *legacy* is ``CCSIGNALS_AIPREF_LEGACY``; *content_use*
    ``CCSIGNALS_CONTENT_USE`` (None: the purpose's default)."""
    best_speaking, speaking = -1, []
    best_any, silent = -1, []
    for line in rules.extensions:
        if not pattern_matches(line.path, path):
            continue
        signals = line_signals(line, purpose, source, legacy, content_use)
        if not signals:
            continue
        length = match_length(line.path)
        if any(s.effect != UNKNOWN for s in signals):
            if length > best_speaking:
                best_speaking, speaking = length, list(signals)
            elif length == best_speaking:
                speaking += signals
        elif not speaking:
            if length > best_any:
                best_any, silent = length, list(signals)
            elif length == best_any:
                silent += signals
    return speaking or silent
