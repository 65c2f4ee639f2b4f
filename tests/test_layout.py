"""The package's layers import downward only (docs/development.md, "Layout"): ``signals`` is pure (no
Scrapy, nothing of ours outside it); ``policy``, ``gate`` and ``records`` never import the
top-level runtime (add-on, config, extension, middlewares, commands); ``scrapy_compat`` is a
leaf any Scrapy-facing layer may use (it imports nothing of ours). Imports under
``if TYPE_CHECKING:`` are type hints, not dependencies, and are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scrapy_ccsignals"
TOP = {"addon", "config", "extension", "downloadermiddleware", "spidermiddleware", "commands"}
#: layer -> the layers of ours it may import at run time
ALLOWED = {
    "signals": {"signals"},
    "records": {"signals", "records"},
    "policy": {"signals", "records", "policy", "scrapy_compat"},
    "gate": {"signals", "records", "policy", "gate"},
}


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time (not under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "scrapy_ccsignals":
                names.update(f"scrapy_ccsignals.{alias.name}" for alias in node.names)
    return names


LAYERED = sorted(p for layer in ALLOWED for p in (PACKAGE / layer).glob("*.py"))


@pytest.mark.parametrize("path", LAYERED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_go_downward(path):
    layer = path.parent.name
    ours = {n.split(".")[1] for n in runtime_imports(path) if n.startswith("scrapy_ccsignals.")}
    assert ours <= ALLOWED[layer], f"{layer}/{path.name} imports {sorted(ours - ALLOWED[layer])}"
    assert not ours & TOP


@pytest.mark.parametrize("path", sorted((PACKAGE / "signals").glob("*.py")), ids=lambda p: p.name)
def test_signals_do_not_import_scrapy_or_twisted(path):
    third_party = {n.split(".")[0] for n in runtime_imports(path)}
    assert not third_party & {"scrapy", "twisted"}, f"signals/{path.name}: {third_party}"


def test_the_check_sees_type_checking_imports_as_hints(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import scrapy\nimport json\n"
    )
    assert runtime_imports(sample) == {"typing", "json"}


#: The top-level runtime, bottom up: a module imports only modules of lower tiers (the
#: package's ``__version__`` aside), so no two of them import each other.
TOP_TIERS = [
    {"scrapy_compat", "checked", "config", "meta"},
    {"extension", "items", "media"},
    {"downloadermiddleware", "pipeline", "spidermiddleware"},
    {"addon"},
    {"__init__"},
]
TIER = {name: tier for tier, names in enumerate(TOP_TIERS) for name in names}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_top_level_modules_import_downward(path):
    assert path.stem in TIER, f"{path.name}: add it to a tier of TOP_TIERS"
    ours = {n.split(".")[1] for n in runtime_imports(path) if n.startswith("scrapy_ccsignals.")}
    top = {name for name in ours if name in TIER or (PACKAGE / f"{name}.py").exists()}
    upward = {name for name in top if TIER.get(name, len(TOP_TIERS)) >= TIER[path.stem]}
    assert not upward, f"{path.name} imports {sorted(upward)} (same tier or above)"


def test_scrapy_compat_is_a_leaf():
    imported = runtime_imports(PACKAGE / "scrapy_compat.py")
    assert not [n for n in imported if n.startswith("scrapy_ccsignals")]
