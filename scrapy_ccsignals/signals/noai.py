"""``noai`` / ``noimageai`` directives (DeviantArt and Spawning convention).

Found in ``X-Robots-Tag`` headers (global, or scoped as ``<token>: noai``) and in
``<meta name="robots">`` or ``<meta name="<token>">``. Directives are case-insensitive and
comma-separated. ``noai`` denies ``train-ai``; ``noimageai`` denies it for image responses.
Other directives (``noindex``...) are not AI preferences and are ignored.
"""

from __future__ import annotations

import re

from scrapy_ccsignals.signals.base import DENY, UNKNOWN, Signal

FAMILY = "noai"
AI_DIRECTIVES = ("noai", "noimageai")

# X-Robots-Tag directives that carry their own "name: value" and are not a bot scope.
_VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
_SCOPE_RE = re.compile(r"^\s*([A-Za-z0-9_.*-]+)\s*:\s*(.*)$", re.DOTALL)


def directives(text: str) -> set[str]:
    """The lower-cased directives of a comma-separated list."""
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def x_robots_directives(value: str, token: str) -> set[str]:
    """Directives of one X-Robots-Tag value that apply to *token* (or to every bot)."""
    match = _SCOPE_RE.match(value)
    if match and match.group(1).lower() not in _VALUED_DIRECTIVES:
        if match.group(1).lower() != token.lower():
            return set()
        value = match.group(2)
    return directives(value)


def noai_signals(
    found: set[str], purpose: str, is_image: bool, layer: str, source: str, raw: str
) -> list[Signal]:
    """The signals a set of directives from one place gives."""
    signals = []
    for directive in AI_DIRECTIVES:
        if directive not in found:
            continue
        applies = purpose == "train-ai" and (directive == "noai" or is_image)
        signals.append(Signal(FAMILY, layer, source, DENY if applies else UNKNOWN, raw, directive))
    return signals
