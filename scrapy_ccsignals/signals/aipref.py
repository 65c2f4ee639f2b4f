"""AI preferences (IETF draft-ietf-aipref-vocab and draft-ietf-aipref-attach).

One place for the rules: the ``Content-Usage`` value is an RFC 9651 Structured Fields
Dictionary (parsed with ``http-sf``); labels are case-sensitive; ``y``/``n`` tokens only,
anything else is unknown; a dictionary that fails to parse (uppercase keys, a leading
control character) is entirely unknown; duplicate keys, last wins (RFC 9651 section
4.2.2). CC signals ride on an ``n`` as ``exceptions``.

Current labels: ``train-ai`` speaks for purpose ``train-ai`` and ``search`` for ``search``;
none speaks for ``ai-input``. Legacy labels (older drafts, CC signals examples, RSL
templates) are honoured while ``legacy`` is true, as the hierarchy of the drafts that
defined them (:data:`HIERARCHY`): within one statement, the most specific level that
states ``y`` or ``n`` for the purpose decides, so ``bots=n, search=y`` allows search and
denies train-ai. Labels at a less specific level are recorded as overridden; with
``legacy`` false, legacy labels are recorded as unknown (strict -07 and later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import http_sf

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal, silent
from scrapy_ccsignals.signals.ccsignals import exception_tokens

FAMILY = "aipref"
CC_FAMILY = "cc-signals"

#: For each purpose, its labels from the most specific level to the least; labels at one
#: level are equals (any ``n`` there denies). Rulebook, "AI preferences", (r2) and (r3):
#: the -00/-01 vocabulary's ``tdm`` (text and data mining: every use but search, which
#: -01 says TDM preferences do not restrict), ``ai`` (AI training), ``genai`` (generative
#: AI training) and ``inference`` (AI inference) take their place among the later labels.
HIERARCHY: dict[str, tuple[tuple[str, ...], ...]] = {
    "train-ai": (
        ("train-ai",),
        ("train-genai", "ai-train", "genai"),
        ("ai",),
        ("ai-use",),
        ("all", "bots", "tdm"),
    ),
    "ai-input": (("ai-use", "ai-output", "inference"), ("all", "bots", "tdm")),
    "search": (("search",), ("all", "bots")),
}
#: The labels of the current vocabulary (draft-ietf-aipref-vocab -07 and later).
CURRENT_LABELS = frozenset({"train-ai", "search"})


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
        # An HTTP field value loses surrounding spaces and tabs only (RFC 9110 5.5): any
        # other control character stays and makes the dictionary fail to parse.
        parsed = http_sf.parse(text.strip(" \t").encode("utf-8", "replace"), tltype="dictionary")
    except Exception:  # http_sf raises StructuredFieldError, and ValueError on odd input
        return None
    prefs: dict[str, Preference] = {}
    for label, member in parsed.items():  # type: ignore[union-attr]
        item, params = member if isinstance(member, tuple) else (member, {})
        value = str(item) if isinstance(item, http_sf.Token) and str(item) in ("y", "n") else ""
        exceptions = exception_tokens(params.get("exceptions")) if value == "n" else ()
        prefs[label] = Preference(label, value or "unknown", exceptions)
    return prefs


def _signal(pref: Preference, layer: str, source: str, raw: str) -> Signal:
    """The signal one stated label gives: allow, deny, conditional (CC signals) or unknown."""
    label = pref.label
    if pref.value == "y":
        return Signal(FAMILY, layer, source, ALLOW, raw, value=f"{label}=y")
    if pref.value == "n" and pref.exceptions:
        return Signal(
            CC_FAMILY,
            layer,
            source,
            CONDITIONAL,
            raw,
            value=f"{label}=n;exceptions={' '.join(pref.exceptions)}",
            conditions=pref.exceptions,
        )
    if pref.value == "n":
        return Signal(FAMILY, layer, source, DENY, raw, value=f"{label}=n")
    return Signal(FAMILY, layer, source, UNKNOWN, raw, value=f"{label}=?")


def preference_signals(
    text: str,
    purpose: str,
    layer: str,
    source: str,
    raw: str | None = None,
    legacy: bool = True,
) -> list[Signal]:
    """The signals one ``Content-Usage`` statement gives for *purpose*.

    The labels of the purpose's most specific stated level (``y`` or ``n``) carry their
    effect; labels present at other levels, and labels with any other value, are recorded
    with effect unknown. *legacy* false: only :data:`CURRENT_LABELS` count. A statement
    with no label for the purpose gives one :func:`~.base.silent` record of itself."""
    raw = text if raw is None else raw
    prefs = parse_usage(text)
    if prefs is None:
        return [Signal(FAMILY, layer, source, UNKNOWN, raw, value="invalid")]
    signals: list[Signal] = []
    decided = False
    for level in HIERARCHY[purpose]:
        stated = False
        for label in level:
            pref = prefs.get(label)
            if pref is None:
                continue
            if not legacy and label not in CURRENT_LABELS:
                value = _signal(pref, layer, source, raw).value
                signals.append(
                    Signal(FAMILY, layer, source, UNKNOWN, raw, value=f"{value} (legacy, off)")
                )
                continue
            signal = _signal(pref, layer, source, raw)
            if decided and signal.effect != UNKNOWN:
                signal = Signal(
                    signal.family, layer, source, UNKNOWN, raw, value=f"{signal.value} (overridden)"
                )
            signals.append(signal)
            stated = stated or pref.value in ("y", "n")
        decided = decided or stated
    return signals or [silent(FAMILY, layer, source, raw)]
