"""Cloudflare content signals: ``Content-Signal: search=yes, ai-train=no`` in robots.txt.

``ai-train`` speaks for ``train-ai`` and ``search`` for ``search``; only ``yes`` and ``no``
mean anything (contentsignals.org). Other keys (``ai-input``) are recorded, not applied.
"""

from __future__ import annotations

from scrapy_ccsignals.signals.base import ALLOW, DENY, UNKNOWN, Signal

FAMILY = "content-signal"

PURPOSE_KEYS = {"train-ai": "ai-train", "search": "search"}


def parse_content_signal(text: str) -> dict[str, str]:
    """``{key: "yes"|"no"|"unknown"}`` from a Content-Signal value; keys lower-cased."""
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
    """The signal a Content-Signal statement gives for *purpose*, if it names it."""
    key = PURPOSE_KEYS[purpose]
    value = parse_content_signal(text).get(key)
    if value is None:
        return []
    effect = {"yes": ALLOW, "no": DENY}.get(value, UNKNOWN)
    return [Signal(FAMILY, layer, source, effect, raw, value=f"{key}={value}")]
