"""IPTC / PLUS ``plus:DataMining``: the photo-metadata data-mining prohibition.

IPTC Photo Metadata Standard 2023.1, "Data Mining" (XMP ``plus:DataMining``, PLUS LDF
namespace ``http://ns.useplus.org/ldf/xmp/1.0/``), values from the PLUS controlled
vocabulary ``http://ns.useplus.org/ldf/vocab/DMI-...``. What each value means for a purpose
is SIGNALS.md "Asset metadata (r2)":

- ``DMI-PROHIBITED-AIMLTRAINING``, ``-GENAIMLTRAINING`` deny ``train-ai``;
- ``DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING`` denies ``train-ai`` and ``ai-input`` (and,
  by its name, allows ``search``);
- ``DMI-PROHIBITED`` denies every purpose;
- ``-SEECONSTRAINT`` / ``-SEEEMBEDDEDRIGHTSEXPR`` deny ``train-ai`` and ``ai-input``, with
  the constraint text (``plus:OtherConstraints``, the embedded or linked rights
  expression) as the reason;
- ``DMI-ALLOWED`` allows; ``DMI-UNSPECIFIED`` and anything unrecognised say nothing.
"""

from __future__ import annotations

from scrapy_ccsignals.signals.base import ALLOW, DENY, UNKNOWN, Signal

FAMILY = "iptc"
PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
VOCAB = "http://ns.useplus.org/ldf/vocab/"

_AI = frozenset({"train-ai", "ai-input"})
#: value -> the purposes it denies (None: every purpose)
DENIES: dict[str, frozenset[str] | None] = {
    "DMI-PROHIBITED": None,
    "DMI-PROHIBITED-AIMLTRAINING": frozenset({"train-ai"}),
    "DMI-PROHIBITED-GENAIMLTRAINING": frozenset({"train-ai"}),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": _AI,
    "DMI-PROHIBITED-SEECONSTRAINT": _AI,
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": _AI,
}
SEE_CONSTRAINT = frozenset({"DMI-PROHIBITED-SEECONSTRAINT", "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR"})
KNOWN = frozenset({*DENIES, "DMI-ALLOWED", "DMI-UNSPECIFIED"})
MAX_REASON = 300


def data_mining_code(value: str) -> str:
    """``DMI-...`` from a full vocabulary URI, a ``plus:``-prefixed or a bare value; ""
    when it is not one of the vocabulary's values."""
    code = value.strip().rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    code = code.removeprefix("plus:").upper()
    return code if code in KNOWN else ""


def effect_for(code: str, purpose: str) -> str:
    """What one DataMining value means for *purpose*."""
    if code == "DMI-ALLOWED":
        return ALLOW
    if code in DENIES:
        denied = DENIES[code]
        if denied is None or purpose in denied:
            return DENY
        if code == "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING" and purpose == "search":
            return ALLOW
    return UNKNOWN


def iptc_signals(
    values: tuple[str, ...], purpose: str, layer: str, source: str, constraint: str = ""
) -> list[Signal]:
    """One signal per ``plus:DataMining`` value (a file normally has one)."""
    signals = []
    for value in values:
        code = data_mining_code(value)
        raw = f"plus:DataMining {value}"
        if code in SEE_CONSTRAINT:
            reason = constraint[:MAX_REASON] or "no constraint text in the file"
            raw += f" ({reason})"
        signals.append(
            Signal(FAMILY, layer, source, effect_for(code, purpose), raw, code or "unrecognised")
        )
    return signals
