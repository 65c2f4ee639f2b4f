"""How long a fetched policy file is used before it is fetched again: the one place that
says it, for robots.txt, tdmrep.json and RSL documents alike.

A file that was read (or that the server says is absent) is kept for
``CCSIGNALS_POLICY_MAX_AGE``; one that could not be fetched - a network error, or a status
that means the server could not answer - only for ``CCSIGNALS_POLICY_ERROR_MAX_AGE`` (never
longer than the max age), so an outage does not decide for a day (RFC 9309 section 2.4;
SIGNALS.md r2 caching). Past the redirect limit robots.txt counts as unavailable (RFC 9309
2.3.1.2), a definite answer, kept for the full max age; tdmrep.json that cannot be read
(unreachable, or over its byte cap) is tried again after the error max age (SIGNALS.md r3).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy_ccsignals.policy.download import OVER_CAP, TOO_MANY_REDIRECTS
from scrapy_ccsignals.signals import robots

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.policy.store import RawFile

#: The kinds of policy file whose non-2xx answers all count as failures (an RSL document
#: that is not there cannot be read, whatever the status says).
STRICT_KINDS = frozenset({"rsl"})


def unreachable(raw: RawFile) -> bool:
    """Whether *raw* failed the way robots.txt's "unreachable" does: no response, a 5xx
    or a 429 (RFC 9309 2.3.1.3-4)."""
    return raw.status is None or robots.outcome_for_status(raw.status) == robots.UNREACHABLE


def tdmrep_unreachable(raw: RawFile) -> bool:
    """Whether tdmrep.json could not be read (SIGNALS.md r3): unreachable as robots.txt is
    (redirect loops included), or longer than its byte cap."""
    return unreachable(raw) or raw.error.startswith(OVER_CAP)


def failed(raw: RawFile, kind: str) -> bool:
    """Whether *raw* is kept only for the error max age."""
    if kind in STRICT_KINDS:
        return raw.status is None or not 200 <= raw.status < 300
    if kind == "tdmrep.json":
        return tdmrep_unreachable(raw)
    return unreachable(raw) and not raw.error.startswith(TOO_MANY_REDIRECTS)


def error_max_age(cfg: Config) -> float:
    """Seconds a failed fetch's outcome is used: never longer than a good file's."""
    return min(cfg.policy_error_max_age, cfg.policy_max_age)


def max_age(cfg: Config, raw: RawFile, kind: str = "robots.txt") -> float:
    """Seconds *raw* (a file of *kind*) is used from when it was fetched."""
    if failed(raw, kind):
        return error_max_age(cfg)
    return cfg.policy_max_age


def age_left(cfg: Config, raw: RawFile, fetched_at: float, kind: str = "robots.txt") -> float:
    """Seconds *raw*, fetched at Unix time *fetched_at*, is still to be used."""
    return max_age(cfg, raw, kind) - (time.time() - fetched_at)
