"""AI preferences (IETF draft-ietf-aipref-vocab and draft-ietf-aipref-attach).

One place for the rules: the ``Content-Usage`` value is an RFC 9651 Structured Fields
Dictionary (parsed with ``http-sf``); labels are case-sensitive; ``y``/``n`` tokens only,
anything else is unknown; a dictionary that fails to parse is entirely unknown; duplicate
keys, last wins (RFC 9651 section 4.2.2). Legacy labels still deployed are honoured for
``train-ai``, most restrictively. CC signals ride on an ``n`` as ``exceptions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import http_sf

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal
from scrapy_ccsignals.signals.ccsignals import exception_tokens

FAMILY = "aipref"
CC_FAMILY = "cc-signals"

#: Labels that speak for each purpose. Legacy ones come from older aipref drafts,
#: CC signals examples and RSL.
PURPOSE_LABELS: dict[str, tuple[str, ...]] = {
    "train-ai": ("train-ai", "train-genai", "ai-train", "ai-use", "all", "bots"),
    "search": ("search",),
}


@dataclass(frozen=True, slots=True)
class Preference:
    label: str
    value: str  # "y", "n" or "unknown"
    exceptions: tuple[str, ...] = ()


@lru_cache(maxsize=4096)  # one robots.txt rule is evaluated for every page of its origin
def parse_usage(text: str) -> Mapping[str, Preference] | None:
    """Parse a ``Content-Usage`` value; None when it is not a valid SF Dictionary.

    The result is cached and shared: treat it as read-only."""
    try:
        parsed = http_sf.parse(text.strip().encode("utf-8", "replace"), tltype="dictionary")
    except Exception:  # http_sf raises StructuredFieldError, and ValueError on odd input
        return None
    prefs: dict[str, Preference] = {}
    for label, member in parsed.items():  # type: ignore[union-attr]
        item, params = member if isinstance(member, tuple) else (member, {})
        value = str(item) if isinstance(item, http_sf.Token) and str(item) in ("y", "n") else ""
        exceptions = exception_tokens(params.get("exceptions")) if value == "n" else ()
        prefs[label] = Preference(label, value or "unknown", exceptions)
    return prefs


def preference_signals(
    text: str, purpose: str, layer: str, source: str, raw: str | None = None
) -> list[Signal]:
    """The signals one ``Content-Usage`` statement gives for *purpose*."""
    raw = text if raw is None else raw
    prefs = parse_usage(text)
    if prefs is None:
        return [Signal(FAMILY, layer, source, UNKNOWN, raw, value="invalid")]
    signals = []
    for label in PURPOSE_LABELS[purpose]:
        pref = prefs.get(label)
        if pref is None:
            continue
        if pref.value == "y":
            signals.append(Signal(FAMILY, layer, source, ALLOW, raw, value=f"{label}=y"))
        elif pref.value == "n" and pref.exceptions:
            signals.append(
                Signal(
                    CC_FAMILY,
                    layer,
                    source,
                    CONDITIONAL,
                    raw,
                    value=f"{label}=n;exceptions={' '.join(pref.exceptions)}",
                    conditions=pref.exceptions,
                )
            )
        elif pref.value == "n":
            signals.append(Signal(FAMILY, layer, source, DENY, raw, value=f"{label}=n"))
        else:
            signals.append(Signal(FAMILY, layer, source, UNKNOWN, raw, value=f"{label}=?"))
    return signals
