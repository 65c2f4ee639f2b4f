"""Combining the families' signals into one decision for the purpose (SIGNALS.md,
"Combining"). A pure function: signals, accepted conditions and default in, decision out.

1. any ``deny`` -> deny;
2. else any ``conditional`` whose conditions the operator did not accept -> deny;
3. else any ``allow`` or accepted ``conditional`` -> allow, listing accepted conditions;
4. else (nothing but unknown) -> ``CCSIGNALS_DEFAULT``.

A conditional's conditions are met when the operator accepts one of them (CC signals'
alternatives) or, with ``all_required`` (an RSL licence), every one of them.

(r2) Before the rules: when the ``rsl`` family allows the purpose (every RSL signal that
says something is an allow or a conditional whose conditions are met), the denials of the
publisher's preference statements for the same page (``aipref``, its ``cc-signals``
exceptions, ``content-signal`` and (r3) robots.txt's ``DisallowAITraining``, family
``ai-control``) are set aside: a licence is the publisher's way out of its
own opt-out. robots.txt, TDMRep, noai, IPTC and C2PA are never set aside. The reasons say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal
from scrapy_ccsignals.signals.ccsignals import accepted


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    decision: str  # "allow" or "deny"
    conditions: tuple[str, ...]
    reasons: tuple[str, ...]
    families: tuple[str, ...]  # families that decided (for stats), "default" for rule 4

    def __init__(
        self,
        decision: str,
        conditions: tuple[str, ...],
        reasons: tuple[str, ...],
        families: tuple[str, ...],
    ) -> None:
        # As Signal's (signals/base.py): the slots' setters, not object.__setattr__.
        _set_decision(self, decision)
        _set_conditions(self, conditions)
        _set_reasons(self, reasons)
        _set_families(self, families)


_set_decision, _set_conditions, _set_reasons, _set_families = (
    Decision.__dict__[name].__set__ for name in ("decision", "conditions", "reasons", "families")
)

#: Families whose denials an allowing RSL licence overrides (SIGNALS.md, Combining (r2);
#: (r3) also the AI-training rules of robots.txt, ``ai-control``).
RSL_OVERRIDES = frozenset({"aipref", "cc-signals", "content-signal", "ai-control"})
RSL_FAMILY = "rsl"


def met_conditions(signal: Signal, accept: frozenset[str]) -> list[str]:
    """The conditions of *signal* the crawl commits to, sorted; empty when not met."""
    if signal.all_required:
        return sorted(signal.conditions) if set(signal.conditions) <= accept else []
    return accepted(signal.conditions, accept)


def _rsl_overridden(signals: list[Signal], accept: frozenset[str]) -> list[Signal]:
    """The aipref / content-signal denials an allowing RSL family sets aside."""
    rsl = [s for s in signals if s.family == RSL_FAMILY and s.effect != UNKNOWN]
    if not rsl or not all(
        s.effect == ALLOW or (s.effect == CONDITIONAL and met_conditions(s, accept)) for s in rsl
    ):
        return []
    return [
        s
        for s in signals
        if s.family in RSL_OVERRIDES
        and (s.effect == DENY or (s.effect == CONDITIONAL and not met_conditions(s, accept)))
    ]


def decide(signals: Iterable[Signal], accept: frozenset[str], default: str) -> Decision:
    # One pass sorts the signals by effect (a response has a handful; every response is
    # decided), then the rules in order. The RSL override, rare, is a second look.
    if not isinstance(signals, list):
        signals = list(signals)
    denies: list[Signal] = []
    conditionals: list[Signal] = []
    allows: list[Signal] = []  # allow and conditional, in order
    rsl = False
    for s in signals:
        effect = s.effect
        if effect == DENY:
            denies.append(s)
        elif effect == CONDITIONAL:
            conditionals.append(s)
            allows.append(s)
        elif effect == ALLOW:
            allows.append(s)
        if s.family == RSL_FAMILY:
            rsl = True
    overridden: list[Signal] = []
    if rsl:
        overridden = _rsl_overridden(signals, accept)
        if overridden:
            denies = [s for s in denies if s not in overridden]
            conditionals = [s for s in conditionals if s not in overridden]
            allows = [s for s in allows if s not in overridden]
    if denies:
        return Decision(
            DENY,
            (),
            tuple([f"deny by {s.describe()}" for s in denies]),
            _families(denies),
        )
    unmet = [s for s in conditionals if not met_conditions(s, accept)] if conditionals else None
    if unmet:
        return Decision(
            DENY,
            (),
            tuple(
                [
                    f"deny by {s.describe()} (conditions {', '.join(s.conditions)} not accepted)"
                    for s in unmet
                ]
            ),
            _families(unmet),
        )
    if not allows:
        return _by_default(default)
    conditions = sorted({c for s in conditionals for c in met_conditions(s, accept)})
    reasons = [f"allow by {s.describe()}" for s in allows]
    if overridden:
        reasons += [
            f"{s.effect} by {s.describe()} overridden by the RSL licence that allows the purpose"
            for s in overridden
        ]
    return Decision(ALLOW, tuple(conditions), tuple(reasons), _families(allows))


def _families(signals: list[Signal]) -> tuple[str, ...]:
    """The families of *signals*, each once, in order."""
    if len(signals) == 1:
        return (signals[0].family,)
    return tuple(dict.fromkeys([s.family for s in signals]))


@lru_cache(maxsize=4)
def _by_default(default: str) -> Decision:
    """Rule 4's decision (immutable, so one instance serves every response)."""
    return Decision(
        default, (), (f"no signal for the purpose; CCSIGNALS_DEFAULT={default}",), ("default",)
    )
