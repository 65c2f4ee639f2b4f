"""Cloudflare content signals (contentsignals.org): ``Content-Signal: search=yes, ai-train=no``.

Where: robots.txt (within the matched group, or before the first ``User-agent`` line, with
an optional leading path scope; see :mod:`robots`) and the ``Content-Signal`` HTTP
response header. Keys and purposes: ``ai-train`` -> ``train-ai``, ``ai-input`` ->
``ai-input``, ``search`` -> ``search``. Keys are case-insensitive, and so are the values
``yes`` / ``no``; anything else is unknown. A key given twice: the last one counts (as in
an RFC 9651 dictionary). Other keys are kept in the signal's raw text and in
:func:`parse_content_signal`'s result, never applied.

``use=`` (Cloudflare, July 2026; its managed robots.txt writes
``search=yes,ai-train=no,use=reference``) is the most the site lets an AI system do with
the content: ``immediate`` (interact, store and reuse nothing) < ``reference`` (index,
excerpt, link back) < ``full`` (summarise, reproduce). The crawl needs a level
(``CCSIGNALS_CONTENT_USE``, by default :data:`DEFAULT_USE` of its purpose); a site level
below it denies, whatever the purpose's own key says; equal or above, or a value not in
the list, decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_HEADER, UNKNOWN, Signal, silent

FAMILY = "content-signal"
HEADER = "content-signal"

#: The key that speaks for each purpose.
PURPOSE_KEYS = {"train-ai": "ai-train", "ai-input": "ai-input", "search": "search"}
USE_KEY = "use"
#: ``use=`` levels, least first.
USE_LEVELS = ("immediate", "reference", "full")
#: The level a crawl needs when ``CCSIGNALS_CONTENT_USE`` is not set: training reproduces
#: what it learns from (full); retrieval and search index, excerpt and link back.
DEFAULT_USE = {"train-ai": "full", "ai-input": "reference", "search": "reference"}


def parse_content_signal(text: str) -> dict[str, str]:
    """``{key: "yes"|"no"|"unknown"}`` from a Content-Signal value; keys lower-cased,
    unknown keys kept. ``use`` maps to its level (:data:`USE_LEVELS`) or ``unknown``."""
    values: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not key:
            continue
        value = value.strip().lower() if sep else ""
        allowed = USE_LEVELS if key == USE_KEY else ("yes", "no")
        values[key] = value if value in allowed else "unknown"
    return values


def content_signal_signals(
    text: str, purpose: str, layer: str, source: str, raw: str, needed: str | None = None
) -> list[Signal]:
    """The signals a Content-Signal statement gives for *purpose*: its key's, if it names
    it, and its ``use=`` level's against the *needed* one (default by purpose); a
    statement with neither gives one :func:`~.base.silent` record of itself."""
    values = parse_content_signal(text)
    signals = []
    key = PURPOSE_KEYS[purpose]
    value = values.get(key)
    if value is not None:
        effect = {"yes": ALLOW, "no": DENY}.get(value, UNKNOWN)
        signals.append(Signal(FAMILY, layer, source, effect, raw, value=f"{key}={value}"))
    level = values.get(USE_KEY)
    if level is not None:
        needed = needed or DEFAULT_USE[purpose]
        if level in USE_LEVELS and USE_LEVELS.index(level) < USE_LEVELS.index(needed):
            why = f"{raw}{USE_NOTE}{level}; the crawl needs use={needed})"
            signals.append(Signal(FAMILY, layer, source, DENY, why, value=f"use={level}"))
        else:
            signals.append(Signal(FAMILY, layer, source, UNKNOWN, raw, value=f"use={level}"))
    return signals or [silent(FAMILY, layer, source, raw)]


#: What a ``use=`` denial adds to the statement's raw text (the reason names both levels).
USE_NOTE = " (the site allows use="


def written(raw: str) -> str:
    """The statement as written, from a signal's raw text (a ``use=`` denial's note cut)."""
    return raw.rpartition(USE_NOTE)[0] if USE_NOTE in raw else raw


def header_signals(
    values: Iterable[str], purpose: str, url: str, needed: str | None = None
) -> list[Signal]:
    """The signals of a response's ``Content-Signal`` header lines (each line one
    statement, as with ``Content-Usage``), layer ``header``, source *url*."""
    signals: list[Signal] = []
    for value in values:
        signals += content_signal_signals(
            value, purpose, LAYER_HEADER, url, f"Content-Signal: {value}", needed
        )
    return signals
