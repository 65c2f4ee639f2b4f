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

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, SILENT, UNKNOWN, Signal
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


def parse_usage(text: str) -> Mapping[str, Preference] | None:
    """Parse a ``Content-Usage`` value; None when it is not a valid SF Dictionary."""
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


def _reading(pref: Preference) -> tuple[str, str, str, tuple[str, ...]]:
    """(family, effect, value, conditions) of the signal one stated label gives: allow,
    deny, conditional (CC signals) or unknown."""
    label = pref.label
    if pref.value == "y":
        return FAMILY, ALLOW, f"{label}=y", ()
    if pref.value == "n" and pref.exceptions:
        exceptions = pref.exceptions
        return CC_FAMILY, CONDITIONAL, f"{label}=n;exceptions={' '.join(exceptions)}", exceptions
    if pref.value == "n":
        return FAMILY, DENY, f"{label}=n", ()
    return FAMILY, UNKNOWN, f"{label}=?", ()


#: A statement's reading for one purpose, without its place: (family, effect, value,
#: conditions) of each signal it gives, in order.
Reading = tuple[tuple[str, str, str, tuple[str, ...]], ...]

#: Longest ``Content-Usage`` value (characters) whose reading is kept for the next page
#: that repeats it (a site's template sends the same header and meta on every page); a
#: longer one, which only a hostile server sends, is read each time and never kept.
MAX_KEPT_VALUE = 512
#: Readings kept, least recently used dropped first (at most ~1 MB with the cap above).
MAX_KEPT_READINGS = 1024


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
    read = kept_reading if len(text) <= MAX_KEPT_VALUE else read_statement
    reading = read(text, purpose, legacy)
    if len(reading) == 1:  # the common case: one label speaks for the purpose
        ((f, eff, val, cond),) = reading
        return [Signal(f, layer, source, eff, raw, val, cond)]
    return [Signal(f, layer, source, eff, raw, val, cond) for f, eff, val, cond in reading]


def read_statement(text: str, purpose: str, legacy: bool) -> Reading:
    """What the statement *text* says for *purpose* (:func:`preference_signals`), as
    (family, effect, value, conditions) of each signal: pure, so a reading serves every
    page that repeats the statement."""
    prefs = parse_usage(text)
    if prefs is None:
        return ((FAMILY, UNKNOWN, "invalid", ()),)
    signals: list[tuple[str, str, str, tuple[str, ...]]] = []
    decided = False
    for level in HIERARCHY[purpose]:
        stated = False
        for label in level:
            pref = prefs.get(label)
            if pref is None:
                continue
            family, effect, value, conditions = _reading(pref)
            if not legacy and label not in CURRENT_LABELS:
                signals.append((FAMILY, UNKNOWN, f"{value} (legacy, off)", ()))
                continue
            if decided and effect != UNKNOWN:
                signals.append((family, UNKNOWN, f"{value} (overridden)", ()))
            else:
                signals.append((family, effect, value, conditions))
            stated = stated or pref.value in ("y", "n")
        decided = decided or stated
    return tuple(signals) or ((FAMILY, UNKNOWN, SILENT, ()),)


#: :func:`read_statement` of the values short enough to keep (:data:`MAX_KEPT_VALUE`).
kept_reading = lru_cache(maxsize=MAX_KEPT_READINGS)(read_statement)
