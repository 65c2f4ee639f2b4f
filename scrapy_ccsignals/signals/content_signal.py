"""Cloudflare content signals (contentsignals.org): ``Content-Signal: search=yes, ai-train=no``.

Where: robots.txt (within the matched group, or before the first ``User-agent`` line, with
an optional leading path scope; see :mod:`robots`) and the ``Content-Signal`` HTTP
response header. Keys and purposes: ``ai-train`` -> ``train-ai``, ``ai-input`` ->
``ai-input``, ``search`` -> ``search``. Keys are case-insensitive, and so are the values
``yes`` / ``no``; anything else is unknown. A key given twice: the last one counts (as in
an RFC 9651 dictionary). Other keys (``use=``...) are kept in the signal's raw text and in
:func:`parse_content_signal`'s result, never applied.
"""

from __future__ import annotations

from collections.abc import Iterable

from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_HEADER, UNKNOWN, Signal

FAMILY = "content-signal"
HEADER = "content-signal"

#: The key that speaks for each purpose.
PURPOSE_KEYS = {"train-ai": "ai-train", "ai-input": "ai-input", "search": "search"}


def parse_content_signal(text: str) -> dict[str, str]:
    """``{key: "yes"|"no"|"unknown"}`` from a Content-Signal value; keys lower-cased,
    unknown keys kept."""
    values: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not key:
            continue
        value = value.strip().lower() if sep else ""
        values[key] = value if value in ("yes", "no") else "unknown"
    return values


def content_signal_signals(
    text: str, purpose: str, layer: str, source: str, raw: str
) -> list[Signal]:
    """The signal a Content-Signal statement gives for *purpose*, if it names it.

    Every purpose has its key (:data:`PURPOSE_KEYS`); a statement that does not name it
    gives no signal."""
    key = PURPOSE_KEYS[purpose]
    value = parse_content_signal(text).get(key)
    if value is None:
        return []
    effect = {"yes": ALLOW, "no": DENY}.get(value, UNKNOWN)
    return [Signal(FAMILY, layer, source, effect, raw, value=f"{key}={value}")]


def header_signals(values: Iterable[str], purpose: str, url: str) -> list[Signal]:
    """The signals of a response's ``Content-Signal`` header lines (each line one
    statement, as with ``Content-Usage``), layer ``header``, source *url*."""
    signals: list[Signal] = []
    for value in values:
        signals += content_signal_signals(
            value, purpose, LAYER_HEADER, url, f"Content-Signal: {value}"
        )
    return signals
