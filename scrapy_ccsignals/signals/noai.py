"""``noai`` / ``noimageai`` directives (DeviantArt and Spawning convention), and ``noarchive``.

Found in ``X-Robots-Tag`` headers and in ``<meta name="robots">`` or ``<meta name="<token>">``.
Directives are case-insensitive and comma-separated. An X-Robots-Tag value follows
Google's syntax: a ``name:`` prefix on an element opens a scope for that bot which runs to
the next ``name:`` prefix; elements before any prefix apply to every bot; valued
directives (``max-snippet:``, ``unavailable_after:``...) are not scopes. So
``googlebot: noindex, mybot: noai`` gives ``mybot`` noai.

Meaning (rulebook, "noai"): ``noai`` denies ``train-ai`` and ``ai-input``; ``noimageai``
the same for image responses; ``noarchive`` is Bing's (and Amazon's) documented opt-out
from generative-AI training, so while ``noarchive_is_noai`` is true
(``CCSIGNALS_NOARCHIVE_IS_NOAI``) it denies ``train-ai`` and nothing else, with its own
value so reports can tell it from ``noai``. ``noindex`` is not an AI preference, but it is
a search one (r3): ``noindex`` and ``none`` (which means ``noindex, nofollow``), in the same
places and scopes, deny the ``search`` purpose (family ``noindex``) and nothing else. RFC
9309 leaves indexing to these tags; Google, Bing and the crawler best-practices draft
honour them.
"""

from __future__ import annotations

import re

from scrapy_ccsignals.signals.base import DENY, UNKNOWN, Signal

FAMILY = "noai"
NOINDEX_FAMILY = "noindex"
#: Directives that keep a page out of a search index (``none`` = ``noindex, nofollow``).
NOINDEX = ("noindex", "none")
AI_DIRECTIVES = ("noai", "noimageai")
NOARCHIVE = "noarchive"

#: Purposes each directive denies (noimageai only on image responses).
DENIES: dict[str, frozenset[str]] = {
    "noai": frozenset({"train-ai", "ai-input"}),
    "noimageai": frozenset({"train-ai", "ai-input"}),
    NOARCHIVE: frozenset({"train-ai"}),
}

# X-Robots-Tag directives that carry their own "name: value" and are not a bot scope.
_VALUED_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
_SCOPE_RE = re.compile(r"^\s*([A-Za-z0-9_.*-]+)\s*:(.*)$", re.DOTALL)


def directives(text: str) -> set[str]:
    """The lower-cased directives of a comma-separated list."""
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def x_robots_directives(value: str, token: str) -> set[str]:
    """Directives of one X-Robots-Tag value that apply to *token*: those before any scope
    prefix, and those in the scopes naming *token* (case-insensitive)."""
    wanted = token.lower()
    found: set[str] = set()
    scope: str | None = None  # None: every bot
    for element in value.split(","):
        match = _SCOPE_RE.match(element)
        if match and match.group(1).lower() not in _VALUED_DIRECTIVES:
            scope = match.group(1).lower()
            element = match.group(2)
        element = element.strip().lower()
        if element and (scope is None or scope == wanted):
            found.add(element)
    return found


def noai_signals(
    found: set[str],
    purpose: str,
    is_image: bool,
    layer: str,
    source: str,
    raw: str,
    noarchive_is_noai: bool = True,
) -> list[Signal]:
    """The signals a set of directives from one place gives for *purpose*: deny where the
    directive covers it, unknown (recorded as written) where it does not; ``noindex`` /
    ``none`` deny ``search`` only."""
    signals = []
    for directive in (*AI_DIRECTIVES, NOARCHIVE):
        if directive not in found or (directive == NOARCHIVE and not noarchive_is_noai):
            continue
        applies = purpose in DENIES[directive] and (directive != "noimageai" or is_image)
        signals.append(Signal(FAMILY, layer, source, DENY if applies else UNKNOWN, raw, directive))
    for directive in NOINDEX:
        if directive in found:
            effect = DENY if purpose == "search" else UNKNOWN
            signals.append(Signal(NOINDEX_FAMILY, layer, source, effect, raw, directive))
    return signals
