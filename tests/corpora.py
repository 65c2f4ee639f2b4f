"""Loading the public test corpora stored under ``tests/data/`` (each file's ``source``
names where it came from, the commit and the licence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def load(name: str) -> dict[str, Any]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert {"url", "licence"} <= set(data["source"]), f"{name}: source must name url and licence"
    return data


def deviations() -> dict[str, list[str]]:
    """Every corpus case our documented rules answer differently on purpose, by file:
    the one place that lists them (``test_corpora_deviations`` prints nothing else)."""
    found: dict[str, list[str]] = {}
    for path in sorted(DATA.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("cases", "licenses"):
            for case in data.get(key, []):
                if "deviation" in case:
                    label = case.get("name") or case.get("test") or case.get("licenseId")
                    found.setdefault(path.name, []).append(f"{label}: {case['deviation']}")
    return found
