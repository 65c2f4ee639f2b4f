"""CC signals (creativecommons/cc-signals, draft 0.1): conditions attached to an AI
preference ``n`` through its ``exceptions`` parameter, e.g. ``train-ai=n;exceptions=cc-cr``.

An ``n`` with exceptions means "denied unless the reuser meets one of these conditions".
Which conditions a crawl meets is the operator's choice (``CCSIGNALS_ACCEPT_CONDITIONS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: Known CC signal tokens and what each commits the reuser to.
CC_SIGNALS: dict[str, str] = {
    "cc-cr": "credit",
    "cc-cr-dc": "credit + direct contribution",
    "cc-cr-ec": "credit + ecosystem contribution",
    "cc-cr-op": "credit + open",
}
CC_SIGNAL_TOKENS: tuple[str, ...] = tuple(CC_SIGNALS)


def exception_tokens(value: Any) -> tuple[str, ...]:
    """The known CC signal tokens in an ``exceptions`` parameter value.

    The value may be a token, a string listing several tokens, or a sequence of them;
    unknown tokens are ignored, order is kept, duplicates dropped.
    """
    if value is None:
        return ()
    raw: Iterable[Any]
    if isinstance(value, (list, tuple)):
        raw = (v[0] if isinstance(v, tuple) else v for v in value)
    else:
        raw = [value]
    found: list[str] = []
    for item in raw:
        for part in re.split(r"[\s,]+", str(item)):
            if part in CC_SIGNALS and part not in found:
                found.append(part)
    return tuple(found)


def accepted(conditions: Iterable[str], accepted_by_operator: frozenset[str]) -> list[str]:
    """The conditions of a conditional signal that the crawl commits to, sorted."""
    return sorted(set(conditions) & accepted_by_operator)
