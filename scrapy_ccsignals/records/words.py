"""Counts in words, for the commands' output: ``1 request``, ``2 requests``."""

from __future__ import annotations

#: Nouns whose plural is not the singular plus ``s``.
_PLURALS = {"entry": "entries", "is": "are", "was": "were"}


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """*count* (with thousands separators) and *noun*, singular or plural."""
    if count == 1:
        return f"1 {noun}"
    if plural is None:
        head, _, last = noun.rpartition(" ")
        plural = (f"{head} " if head else "") + _PLURALS.get(last, last + "s")
    return f"{count:,} {plural}"
