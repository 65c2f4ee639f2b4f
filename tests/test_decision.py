"""The combining rules of SIGNALS.md, row by row."""

from __future__ import annotations

import pytest

from scrapy_ccsignals.gate.decision import decide
from scrapy_ccsignals.signals.base import Signal


def sig(effect: str, family: str = "aipref", conditions: tuple[str, ...] = ()) -> Signal:
    return Signal(family, "header", "https://x/p", effect, f"rule {effect}", conditions=conditions)


@pytest.mark.parametrize(
    ("signals", "accept", "default", "decision", "conditions", "families"),
    [
        # Any deny -> deny, whatever else says allow.
        ([sig("deny"), sig("allow")], set(), "allow", "deny", (), ("aipref",)),
        ([sig("allow", "tdmrep"), sig("deny", "noai")], set(), "allow", "deny", (), ("noai",)),
        (
            [sig("deny"), sig("conditional", conditions=("cc-cr",))],
            {"cc-cr"},
            "allow",
            "deny",
            (),
            ("aipref",),
        ),
        # Conditional not accepted -> deny.
        (
            [sig("conditional", "cc-signals", ("cc-cr",))],
            set(),
            "allow",
            "deny",
            (),
            ("cc-signals",),
        ),
        (
            [sig("conditional", "cc-signals", ("cc-cr-ec",))],
            {"cc-cr"},
            "allow",
            "deny",
            (),
            ("cc-signals",),
        ),
        (
            [sig("allow"), sig("conditional", "cc-signals", ("cc-cr",))],
            set(),
            "allow",
            "deny",
            (),
            ("cc-signals",),
        ),
        # Conditional accepted -> allow with the conditions listed.
        (
            [sig("conditional", "cc-signals", ("cc-cr",))],
            {"cc-cr"},
            "deny",
            "allow",
            ("cc-cr",),
            ("cc-signals",),
        ),
        (
            [sig("conditional", "cc-signals", ("cc-cr", "cc-cr-op"))],
            {"cc-cr-op"},
            "allow",
            "allow",
            ("cc-cr-op",),
            ("cc-signals",),
        ),
        # Allow -> allow.
        ([sig("allow"), sig("unknown")], set(), "deny", "allow", (), ("aipref",)),
        # Nothing but unknown -> default.
        ([sig("unknown")], set(), "allow", "allow", (), ("default",)),
        ([], set(), "allow", "allow", (), ("default",)),
        ([sig("unknown")], set(), "deny", "deny", (), ("default",)),
        ([], set(), "deny", "deny", (), ("default",)),
    ],
)
def test_combining(signals, accept, default, decision, conditions, families):
    result = decide(signals, frozenset(accept), default)
    assert result.decision == decision
    assert result.conditions == conditions
    assert result.families == families
    assert result.reasons


def test_deny_reasons_name_family_layer_source_rule():
    result = decide([sig("deny", "noai")], frozenset(), "allow")
    assert result.reasons == ("deny by noai header https://x/p: rule deny",)
