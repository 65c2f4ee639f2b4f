"""The one record every signal family produces: what was seen, where, and what it means.

``effect`` is the signal's meaning for the crawl's purpose: ``allow``, ``deny``,
``conditional`` (denied unless the crawl meets one of ``conditions``) or ``unknown``.
A statement that says nothing for the crawl's purpose is still recorded as written, with
effect ``unknown`` and value :data:`SILENT` (:func:`silent`), so that its raw text can be
read again for another purpose (``ccsignals-replay --purpose``).
A conditional with ``all_required`` is denied unless the crawl meets *every* condition: an RSL
licence's obligations are cumulative (SIGNALS.md, RSL), CC signals' are alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOW = "allow"
DENY = "deny"
CONDITIONAL = "conditional"
UNKNOWN = "unknown"

#: Layers, from the widest scope to the narrowest.
LAYER_ROBOTS = "robots.txt"
LAYER_TDMREP = "tdmrep.json"
LAYER_HEADER = "header"
LAYER_HTML = "html"
#: Metadata embedded in the fetched file itself (XMP/IPTC, EPUB package document, C2PA
#: manifest), SIGNALS.md "Asset metadata".
LAYER_FILE = "file"


#: The value of a statement recorded for the crawl's purpose although it says nothing for it.
SILENT = "silent"


@dataclass(frozen=True, slots=True, init=False)
class Signal:
    family: str
    layer: str
    source: str
    effect: str
    raw: str
    value: str = ""
    conditions: tuple[str, ...] = ()
    all_required: bool = False

    def __init__(
        self,
        family: str,
        layer: str,
        source: str,
        effect: str,
        raw: str,
        value: str = "",
        conditions: tuple[str, ...] = (),
        all_required: bool = False,
    ) -> None:
        # The generated __init__ of a frozen dataclass sets each field with
        # object.__setattr__, ~3 x a plain attribute store, and a response makes a signal
        # per statement it reads. So the new instance is an _Unfrozen (same slots) while
        # its fields are stored, then a Signal again: ~0.7 x the slots' own setters. Still
        # frozen: assignment to a Signal raises.
        if type(self) is not Signal:  # a subclass (none in this package) has its own slots
            values = (family, layer, source, effect, raw, value, conditions, all_required)
            for name, field_value in zip(_FIELDS, values, strict=True):
                _object_setattr(self, name, field_value)
            return
        _object_setattr(self, "__class__", _Unfrozen)
        unfrozen: Any = self
        unfrozen.family = family
        unfrozen.layer = layer
        unfrozen.source = source
        unfrozen.effect = effect
        unfrozen.raw = raw
        unfrozen.value = value
        unfrozen.conditions = conditions
        unfrozen.all_required = all_required
        unfrozen.__class__ = Signal

    def describe(self) -> str:
        """One line naming family, layer, source and rule text, for decision reasons."""
        return f"{self.family} {self.layer} {self.source}: {self.raw}"

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "family": self.family,
            "layer": self.layer,
            "source": self.source,
            "value": self.value or self.effect,
            "effect": self.effect,
            "raw": self.raw,
        }
        if self.conditions:
            data["conditions"] = list(self.conditions)
            if self.all_required:
                data["all_required"] = True
        return data


class _Unfrozen:
    """A :class:`Signal` while its fields are stored (its slots, no frozen ``__setattr__``)."""

    __slots__ = Signal.__slots__


_FIELDS: tuple[str, ...] = Signal.__slots__
_object_setattr = object.__setattr__


def silent(family: str, layer: str, source: str, raw: str) -> Signal:
    """The record of a statement that says nothing for the crawl's purpose."""
    return Signal(family, layer, source, UNKNOWN, raw, SILENT)
