"""W3C TDM Reservation Protocol (TDMRep, Community Group final report, 2024).

Sources in cascade order (section 3): ``/.well-known/tdmrep.json``, then the
``tdm-reservation``/``tdm-policy`` HTTP headers, then HTML ``<meta name="tdm-reservation">``.
A later source that says something overrides an earlier one; silence keeps the earlier
value. In tdmrep.json the **first** entry whose ``location`` matches wins (section 3.2).
Values: 1 reserved, 0 not reserved, anything else unset. A final 1 denies ``train-ai`` and
``ai-input`` (both are text and data mining); a final 0 allows them; ``search`` is not
decided by TDMRep (rulebook, "TDMRep", r2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_TDMREP, UNKNOWN, Signal
from scrapy_ccsignals.signals.pathmatch import compile_pattern, pattern_matches

FAMILY = "tdmrep"
WELL_KNOWN_PATH = "/.well-known/tdmrep.json"
#: The purposes TDMRep speaks for: text and data mining.
PURPOSES = frozenset({"train-ai", "ai-input"})


@dataclass(frozen=True, slots=True)
class TdmEntry:
    location: str
    reservation: int | None
    policy: str | None


class TdmRepError(ValueError):
    """The tdmrep.json body is not a TDMRep file; the origin does not use TDMRep."""


def reservation_value(value: object) -> int | None:
    """1 or 0 from a JSON value or a header/meta string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


#: Entries kept of a tdmrep.json: each page is matched against them in order, so past it the
#: rest is not read (a page none of the kept ones matches is read as an unreachable file).
MAX_TDMREP_ENTRIES = 1024


def parse_tdmrep_json(body: bytes) -> tuple[list[TdmEntry], int]:
    """The usable entries of a tdmrep.json body and the number of entries skipped.

    Raises :class:`TdmRepError` when the body is not a JSON array.
    """
    try:
        data = json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError) as exc:
        raise TdmRepError(f"invalid JSON: {exc}") from None
    if not isinstance(data, list):
        raise TdmRepError(f"expected a JSON array, got {type(data).__name__}")
    entries: list[TdmEntry] = []
    skipped = 0
    for item in data:
        location = item.get("location") if isinstance(item, dict) else None
        if not isinstance(location, str) or compile_pattern(location) is None:
            skipped += 1
            continue
        policy = item.get("tdm-policy")
        entries.append(
            TdmEntry(
                location=location,
                reservation=reservation_value(item.get("tdm-reservation")),
                policy=policy if isinstance(policy, str) and policy else None,
            )
        )
    return entries, skipped


def first_match(entries: list[TdmEntry], path: str) -> TdmEntry | None:
    """The first entry, in array order, whose location matches *path*."""
    for entry in entries:
        if pattern_matches(entry.location, path):
            return entry
    return None


@dataclass(frozen=True, slots=True)
class TdmStatement:
    """What one source said: its layer, URL, reservation and policy."""

    layer: str
    source: str
    reservation: int | None
    policy: str | None
    raw: str


#: Statements of tdmrep.json whose signal is kept (an origin's statements are made once,
#: when its policy is parsed, and each serves every page its location matches).
MAX_KEPT_STATEMENTS = 1024
#: Longest raw text (characters) of a statement whose signal is kept.
MAX_KEPT_RAW = 1024


def tdmrep_signals(statements: list[TdmStatement], purpose: str) -> list[Signal]:
    """Apply the cascade to *statements* (in cascade order) and describe each one.

    Only the final statement that carries a value has an effect; earlier ones are
    recorded as overridden.
    """
    if len(statements) == 1:
        (alone,) = statements
        # The common case, tdmrep.json alone: its statement names no page, so its signal
        # serves every page the entry matches.
        if alone.layer == LAYER_TDMREP and len(alone.raw) <= MAX_KEPT_RAW:
            return [_kept_alone(alone, purpose)]
    return _cascade(statements, purpose)


@lru_cache(maxsize=MAX_KEPT_STATEMENTS)
def _kept_alone(statement: TdmStatement, purpose: str) -> Signal:
    return _cascade([statement], purpose)[0]


def _cascade(statements: list[TdmStatement], purpose: str) -> list[Signal]:
    final = None
    for index, statement in enumerate(statements):
        if statement.reservation is not None:
            final = index
    signals = []
    for index, st in enumerate(statements):
        value = "unset" if st.reservation is None else f"tdm-reservation={st.reservation}"
        if st.policy:
            value += f"; tdm-policy={st.policy}"
        effect = UNKNOWN
        if index == final and purpose in PURPOSES:
            effect = DENY if st.reservation == 1 else ALLOW
        elif final is not None and index < final and st.reservation is not None:
            value += " (overridden)"
        signals.append(Signal(FAMILY, st.layer, st.source, effect, st.raw, value=value))
    return signals
