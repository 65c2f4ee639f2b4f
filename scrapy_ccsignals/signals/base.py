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
        # object.__setattr__; the slots' own setters do the same at ~2/3 of the cost, and
        # a response makes a signal per statement it reads. Still frozen: assignment raises.
        _set_family(self, family)
        _set_layer(self, layer)
        _set_source(self, source)
        _set_effect(self, effect)
        _set_raw(self, raw)
        _set_value(self, value)
        _set_conditions(self, conditions)
        _set_all_required(self, all_required)

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


_set_family, _set_layer, _set_source, _set_effect, _set_raw, _set_value = (
    Signal.__dict__[name].__set__
    for name in ("family", "layer", "source", "effect", "raw", "value")
)
_set_conditions = Signal.__dict__["conditions"].__set__
_set_all_required = Signal.__dict__["all_required"].__set__


def silent(family: str, layer: str, source: str, raw: str) -> Signal:
    """The record of a statement that says nothing for the crawl's purpose."""
    return Signal(family, layer, source, UNKNOWN, raw, SILENT)
