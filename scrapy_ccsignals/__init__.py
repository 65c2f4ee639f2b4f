"""scrapy-ccsignals: honour robots.txt, TDMRep, AI preferences, CC signals, noai and
licence metadata in Scrapy crawls, and record what was honoured."""

from __future__ import annotations

__version__ = "0.1.0"

from scrapy_ccsignals.addon import Addon

__all__ = ["Addon", "__version__"]
