"""Sphinx configuration: MyST Markdown pages, no network (no intersphinx)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = "scrapy-ccsignals"
author = "scrapy-ccsignals contributors"
copyright = "scrapy-ccsignals contributors"
# The one version, read from the package without importing it (no Scrapy needed to build).
release = re.search(
    r'^__version__ = "([^"]+)"',
    (ROOT / "scrapy_ccsignals" / "__init__.py").read_text(encoding="utf-8"),
    re.MULTILINE,
).group(1)  # type: ignore[union-attr]
version = release

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Headings up to level 3 get anchors that links can name: [text](settings.md#ccsignals-mode).
myst_heading_anchors = 3
myst_enable_extensions = ["deflist", "colon_fence"]

html_theme = "furo"
html_title = f"scrapy-ccsignals {release}"
html_static_path: list[str] = []
