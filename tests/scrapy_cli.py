"""Run the real ``scrapy`` command line on this tree's commands in a subprocess.

Scrapy finds add-on commands through the ``scrapy.commands`` entry points of installed
distributions. The tree under test may not be the one installed (a worktree beside an
editable install of another), so this writes a minimal ``.dist-info`` whose
``entry_points.txt`` is generated from this tree's ``pyproject.toml`` and puts it, and the
tree, first on ``PYTHONPATH``: the subprocess resolves ``scrapy ccsignals-...`` exactly as
an installed copy of this tree would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def declared_commands() -> dict[str, str]:
    """The ``scrapy.commands`` entry points this tree's ``pyproject.toml`` declares."""
    text = (ROOT / "pyproject.toml").read_text()
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # 3.10: the section is simple ``name = "target"`` lines
        section = text.split('[project.entry-points."scrapy.commands"]', 1)[1].split("\n[", 1)[0]
        return dict(re.findall(r'^([\w-]+)\s*=\s*"([^"]+)"', section, re.M))
    return tomllib.loads(text)["project"]["entry-points"]["scrapy.commands"]


def _entry_points_dir(base: Path) -> Path:
    commands = declared_commands()
    dist = base / "scrapy_ccsignals_under_test-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: scrapy-ccsignals-under-test\nVersion: 0.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[scrapy.commands]\n" + "".join(f"{name} = {target}\n" for name, target in commands.items())
    )
    return base


def run_scrapy(
    args: list[str], cwd: Path, timeout: float = 600, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGS...`` from *cwd* (a temporary folder, outside any Scrapy project), with
    *stdin* as its standard input (else none)."""
    eps = _entry_points_dir(cwd / ".entry-points")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(eps), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        input=stdin if stdin is not None else b"",
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )
