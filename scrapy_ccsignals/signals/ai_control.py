"""``DisallowAITraining`` / ``AllowAITraining`` robots.txt rules (draft-canel-robots-ai-control-00,
Microsoft; deployed beside ``Content-Usage: ai=n``).

Within the matched group, each line names a path pattern matched like ``Allow`` /
``Disallow`` (RFC 9309 section 2.2.2, longest match): ``DisallowAITraining: /`` asks that
the content under it not be used to train AI models, ``AllowAITraining`` allows it. They
speak to the ``train-ai`` purpose only (family ``ai-control``); for other purposes they
say nothing. An empty value names no path and says nothing (as an empty ``Disallow``).
The other ``AI*`` / ``noAI*`` forms of the draft's -01 revision define no names and are
ignored. Which line decides a page, among all the group's usage lines, is
:mod:`~scrapy_ccsignals.signals.usage_lines`' job.
"""

from __future__ import annotations

from scrapy_ccsignals.signals.base import ALLOW, DENY, Signal, silent

FAMILY = "ai-control"
#: robots.txt key (lower-case) -> the line's value as a preference.
KEYS = {"disallowaitraining": "n", "allowaitraining": "y"}
_NAMES = {"n": "DisallowAITraining", "y": "AllowAITraining"}


def ai_control_signals(value: str, purpose: str, layer: str, source: str, raw: str) -> list[Signal]:
    """The signal of one line for *purpose* (*value* is ``n`` or ``y``, from :data:`KEYS`):
    train-ai only; for other purposes a :func:`~.base.silent` record of the line."""
    if value not in _NAMES:
        return []
    if purpose != "train-ai":
        return [silent(FAMILY, layer, source, raw)]
    return [Signal(FAMILY, layer, source, DENY if value == "n" else ALLOW, raw, _NAMES[value])]
