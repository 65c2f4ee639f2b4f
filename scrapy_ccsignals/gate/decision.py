"""Combining the families' signals into one decision for the purpose (SIGNALS.md,
"Combining"). A pure function: signals, accepted conditions and default in, decision out.

1. any ``deny`` -> deny;
2. else any ``conditional`` whose conditions the operator did not accept -> deny;
3. else any ``allow`` or accepted ``conditional`` -> allow, listing accepted conditions;
4. else (nothing but unknown) -> ``CCSIGNALS_DEFAULT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, Signal
from scrapy_ccsignals.signals.ccsignals import accepted


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # "allow" or "deny"
    conditions: tuple[str, ...]
    reasons: tuple[str, ...]
    families: tuple[str, ...]  # families that decided (for stats), "default" for rule 4


def decide(signals: Iterable[Signal], accept: frozenset[str], default: str) -> Decision:
    signals = list(signals)
    denies = [s for s in signals if s.effect == DENY]
    if denies:
        return Decision(
            DENY,
            (),
            tuple(f"deny by {s.describe()}" for s in denies),
            tuple(dict.fromkeys(s.family for s in denies)),
        )
    conditionals = [s for s in signals if s.effect == CONDITIONAL]
    unmet = [s for s in conditionals if not accepted(s.conditions, accept)]
    if unmet:
        return Decision(
            DENY,
            (),
            tuple(
                f"deny by {s.describe()} (conditions {', '.join(s.conditions)} not accepted)"
                for s in unmet
            ),
            tuple(dict.fromkeys(s.family for s in unmet)),
        )
    allows = [s for s in signals if s.effect in (ALLOW, CONDITIONAL)]
    if not allows:
        return _by_default(default)
    conditions = sorted({c for s in conditionals for c in accepted(s.conditions, accept)})
    return Decision(
        ALLOW,
        tuple(conditions),
        tuple(f"allow by {s.describe()}" for s in allows),
        tuple(dict.fromkeys(s.family for s in allows)),
    )


@lru_cache(maxsize=4)
def _by_default(default: str) -> Decision:
    """Rule 4's decision (immutable, so one instance serves every response)."""
    return Decision(
        default, (), (f"no signal for the purpose; CCSIGNALS_DEFAULT={default}",), ("default",)
    )
