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
(their signals are all unknown). Matching lines that say nothing at all for the purpose
(``Content-Usage: search=n`` in a train-ai crawl) are recorded after them as written
(effect unknown, value ``silent``): provenance lists every statement that covers the page.

At most :data:`~.robots.MAX_USAGE_LINES` lines are read per file; past them, every page of
the origin is denied (family ``robots``): the unread lines may say anything.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from scrapy_ccsignals.signals.ai_control import ai_control_signals
from scrapy_ccsignals.signals.aipref import preference_signals
from scrapy_ccsignals.signals.base import DENY, LAYER_ROBOTS, SILENT, UNKNOWN, Signal
from scrapy_ccsignals.signals.content_signal import content_signal_signals
from scrapy_ccsignals.signals.pathmatch import PathPattern, normalise, prepare_pattern
from scrapy_ccsignals.signals.robots import MAX_USAGE_LINES, RobotsRules, ScopedLine

#: The family of the denial an origin gets when its usage lines are past the cap.
CAPPED_FAMILY = "robots"
#: What a line says for the purpose: nothing (a :data:`~.base.SILENT` record), only unknown
#: values, or something.
_SILENT, _UNKNOWN, _SPEAKS = 0, 1, 2


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


def capped_signal(rules: RobotsRules, source: str) -> Signal:
    """The denial of an origin whose usage lines were not all read (:data:`MAX_USAGE_LINES`):
    the lines past the cap may say anything for the purpose, so nothing is allowed."""
    total = len(rules.extensions) + rules.usage_lines_dropped
    return Signal(
        CAPPED_FAMILY,
        LAYER_ROBOTS,
        source,
        DENY,
        f"{total} usage lines, more than {MAX_USAGE_LINES}: the rest not read (conservative)",
        value="usage lines over the cap",
    )


class UsageLines:
    """The usage lines of one robots.txt for one purpose, made ready once per origin (each
    line's pattern compiled and its signals read when the policy is parsed); per page only
    the path is matched."""

    __slots__ = ("_capped", "_lines")

    def __init__(
        self,
        rules: RobotsRules,
        purpose: str,
        source: str,
        *,
        legacy: bool = True,
        content_use: str | None = None,
    ):
        lines: list[tuple[PathPattern, tuple[Signal, ...], int]] = []
        for line in rules.extensions:
            signals = line_signals(line, purpose, source, legacy, content_use)
            if not signals:
                continue  # says nothing for any purpose (an empty DisallowAITraining)
            if signals[0].value == SILENT:
                kind = _SILENT  # nothing for this purpose: recorded, never chosen
            else:
                kind = _SPEAKS if any(s.effect != UNKNOWN for s in signals) else _UNKNOWN
            lines.append((prepare_pattern(line.path), signals, kind))
        self._lines = tuple(lines)
        self._capped = capped_signal(rules, source) if rules.usage_lines_dropped else None

    def signals_for(self, path: str) -> list[Signal]:
        """The signals of the lines that decide *path* (the module docstring), path in
        comparison form; with the lines past the cap unread, also the denial that says so."""
        best_speaking, speaking = -1, []
        best_any, silent = -1, []
        unspoken: list[Signal] = []
        for pattern, signals, kind in self._lines:
            if not pattern.matches(path):
                continue
            if kind == _SILENT:
                unspoken += signals
                continue
            length = pattern.length
            if kind == _SPEAKS:
                if length > best_speaking:
                    best_speaking, speaking = length, list(signals)
                elif length == best_speaking:
                    speaking += signals
            elif not speaking:
                if length > best_any:
                    best_any, silent = length, list(signals)
                elif length == best_any:
                    silent += signals
        found = speaking or silent
        if unspoken:
            found += unspoken
        if self._capped is not None:
            found.append(self._capped)
        return found


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
    ``CCSIGNALS_CONTENT_USE`` (None: the purpose's default). For one page: a crawl prepares
    an origin's :class:`UsageLines` once."""
    lines = UsageLines(rules, purpose, source, legacy=legacy, content_use=content_use)
    return lines.signals_for(normalise(path))
