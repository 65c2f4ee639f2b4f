"""bench/profdiff.py, which locates where two crawls' CPU differs (bench/README.md,
"Session 7"): per-page call counts of each function, from two real cProfile files."""

from __future__ import annotations

import cProfile
from pathlib import Path

from bench.profdiff import load


def shared() -> int:
    return 1


def extra() -> int:
    return 2


def _profile(path: Path, extra_calls: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(100):
        shared()
    for _ in range(extra_calls):
        extra()
    profiler.disable()
    profiler.dump_stats(str(path))


def test_calls_per_page_by_function(tmp_path: Path) -> None:
    a, b = tmp_path / "a.prof", tmp_path / "b.prof"
    _profile(a, 0)
    _profile(b, 50)
    per_page_a, pages = load(f"{a}:10")
    per_page_b, _ = load(f"{b}:10")
    assert pages == 10
    name_shared = next(n for n in per_page_a if n.endswith("(shared)"))
    name_extra = next(n for n in per_page_b if n.endswith("(extra)"))
    assert per_page_a[name_shared][0] == per_page_b[name_shared][0] == 10.0
    assert per_page_b[name_extra][0] == 5.0
    assert name_extra not in per_page_a
