"""JSON Schemas (draft 2020-12) of what the plugin writes, shipped with the package so a
dataset's users can check its files: ``provenance.schema.json`` (the record on every item)
and ``audit-line.schema.json`` (one line of the audit log). The tests validate real crawl
output against them; docs/schemas.md publishes them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

NAMES = ("provenance", "audit-line")


def load(name: str) -> dict[str, Any]:
    """The schema *name* (one of :data:`NAMES`) as a dict."""
    if name not in NAMES:
        raise ValueError(f"no schema {name!r}; known: {', '.join(NAMES)}")
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
