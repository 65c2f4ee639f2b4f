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


# --- RSL: cumulative conditions and the (r2) override ---------------------------------


def rsl(effect: str, conditions: tuple[str, ...] = ()) -> Signal:
    return Signal(
        "rsl",
        "robots.txt",
        "https://x/license.xml",
        effect,
        f"licence {effect}",
        conditions=conditions,
        all_required=bool(conditions),
    )


@pytest.mark.parametrize(
    ("accept", "decision", "conditions"),
    [
        (set(), "deny", ()),
        ({"rsl-license"}, "deny", ()),
        ({"attribution"}, "deny", ()),
        ({"rsl-license", "attribution"}, "allow", ("attribution", "rsl-license")),
        ({"rsl-license", "attribution", "cc-cr"}, "allow", ("attribution", "rsl-license")),
    ],
)
def test_rsl_conditions_are_all_required(accept, decision, conditions):
    result = decide(
        [rsl("conditional", ("rsl-license", "attribution"))], frozenset(accept), "allow"
    )
    assert (result.decision, result.conditions) == (decision, conditions)


def test_cc_conditions_stay_alternatives_beside_rsl():
    signals = [
        sig("conditional", "cc-signals", ("cc-cr", "cc-cr-op")),
        rsl("conditional", ("attribution",)),
    ]
    result = decide(signals, frozenset({"cc-cr-op", "attribution"}), "allow")
    assert result.decision == "allow"
    assert result.conditions == ("attribution", "cc-cr-op")


@pytest.mark.parametrize(
    ("signals", "accept", "decision", "conditions", "families"),
    [
        # An allowing licence sets aside the publisher's own opt-outs...
        ([sig("deny"), rsl("allow")], set(), "allow", (), ("rsl",)),
        ([sig("deny", "content-signal"), rsl("allow")], set(), "allow", (), ("rsl",)),
        (
            [sig("conditional", "cc-signals", ("cc-cr",)), rsl("allow")],
            set(),
            "allow",
            (),
            ("rsl",),
        ),
        (
            [sig("deny"), rsl("conditional", ("rsl-license",))],
            {"rsl-license"},
            "allow",
            ("rsl-license",),
            ("rsl",),
        ),
        (
            [sig("deny"), sig("allow", "tdmrep"), rsl("allow")],
            set(),
            "allow",
            (),
            ("tdmrep", "rsl"),
        ),
        # ...but not when its conditions are not accepted...
        ([sig("deny"), rsl("conditional", ("rsl-license",))], set(), "deny", (), ("aipref",)),
        (
            [sig("deny"), rsl("conditional", ("rsl-license", "attribution"))],
            {"attribution"},
            "deny",
            (),
            ("aipref",),
        ),
        # ...nor when another RSL document denies, nor when it says nothing...
        ([sig("deny"), rsl("allow"), rsl("deny")], set(), "deny", (), ("aipref", "rsl")),
        ([sig("deny"), rsl("unknown")], set(), "deny", (), ("aipref",)),
        # ...and never over TDMRep, noai, IPTC or C2PA.
        ([sig("deny", "tdmrep"), rsl("allow")], set(), "deny", (), ("tdmrep",)),
        ([sig("deny", "noai"), sig("deny"), rsl("allow")], set(), "deny", (), ("noai",)),
        ([sig("deny", "iptc"), rsl("allow")], set(), "deny", (), ("iptc",)),
        ([sig("deny", "c2pa"), rsl("allow")], set(), "deny", (), ("c2pa",)),
        ([sig("deny", "robots.txt"), rsl("allow")], set(), "deny", (), ("robots.txt",)),
    ],
)
def test_rsl_overrides_aipref_and_content_signal(signals, accept, decision, conditions, families):
    result = decide(signals, frozenset(accept), "deny")
    assert (result.decision, result.conditions, result.families) == (
        decision,
        conditions,
        families,
    )


def test_override_reasons_say_so():
    result = decide([sig("deny"), sig("deny", "content-signal"), rsl("allow")], frozenset(), "deny")
    assert result.reasons == (
        "allow by rsl robots.txt https://x/license.xml: licence allow",
        "deny by aipref header https://x/p: rule deny overridden by the RSL licence that allows "
        "the purpose",
        "deny by content-signal header https://x/p: rule deny overridden by the RSL licence that "
        "allows the purpose",
    )


def test_rsl_deny_is_a_deny():
    result = decide([rsl("deny"), sig("allow")], frozenset(), "allow")
    assert (result.decision, result.families) == ("deny", ("rsl",))


def test_all_required_in_signal_dict():
    assert rsl("conditional", ("rsl-license",)).as_dict()["all_required"] is True
    assert "all_required" not in sig("conditional", "cc-signals", ("cc-cr",)).as_dict()


@pytest.mark.parametrize("cls", ["Signal", "License"])
def test_signals_and_licences_are_frozen_values(cls):
    """Signals and licences are shared between pages and used as set members: built
    positionally or by keyword alike, equal and hashed by value, frozen, and copied
    with dataclasses.replace and pickle."""
    import dataclasses
    import pickle

    from scrapy_ccsignals.signals.license import License

    if cls == "Signal":
        made = Signal("aipref", "html", "https://x/p", "conditional", "r", "v", ("cc-cr",), True)
        same = Signal(
            family="aipref",
            layer="html",
            source="https://x/p",
            effect="conditional",
            raw="r",
            value="v",
            conditions=("cc-cr",),
            all_required=True,
        )
        changed = dataclasses.replace(made, effect="deny")
        assert (changed.effect, changed.conditions) == ("deny", ("cc-cr",))
        assert Signal("f", "l", "s", "e", "r") == Signal("f", "l", "s", "e", "r", "", (), False)
        field = "effect"
    else:
        made = License("https://l/", "CC-BY-4.0", "html <link rel=license>", "r", True)
        same = License(url="https://l/", id="CC-BY-4.0", source=made.source, raw="r", rsl=True)
        assert dataclasses.replace(made, id=None).id is None
        assert License("u", None, "s", "r") == License("u", None, "s", "r", False)
        field = "url"
    assert made == same and hash(made) == hash(same) and len({made, same}) == 1
    assert dataclasses.astuple(made) == dataclasses.astuple(same)
    assert pickle.loads(pickle.dumps(made)) == made
    assert repr(made) == repr(same) and repr(made).startswith(f"{cls}(")
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, field, "x")
