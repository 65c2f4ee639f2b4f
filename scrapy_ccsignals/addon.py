"""The add-on: ``ADDONS = {"scrapy_ccsignals.Addon": 100}`` turns the plugin on.

It registers the plugin's extension and inserts its middlewares without overriding entries
the user already has. Only when the plugin will really run (``CCSIGNALS_ENABLED`` true and
its downloader middleware not set to None) does it switch off Scrapy's
``RobotsTxtMiddleware``, which ours replaces (robots.txt must not be fetched twice); else
the crawl is exactly as it would be without the add-on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.misc import load_object

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: Where RobotsTxtMiddleware sits: requests are checked before any other middleware.
DOWNLOADER_MIDDLEWARE_PRIORITY = 100
#: Close to the engine, so the middleware sees items after other spider middlewares.
SPIDER_MIDDLEWARE_PRIORITY = 100
#: First of all pipelines, so that the user's see every item with its record.
PIPELINE_PRIORITY = 0
#: Extensions have no order that matters here; 0 is the usual "no preference".
EXTENSION_PRIORITY = 0


class Addon:
    def update_settings(self, settings: BaseSettings) -> None:
        from scrapy_ccsignals.downloadermiddleware import CCSignalsDownloaderMiddleware
        from scrapy_ccsignals.extension import CCSignalsExtension
        from scrapy_ccsignals.pipeline import CCSignalsPipeline
        from scrapy_ccsignals.spidermiddleware import CCSignalsSpiderMiddleware

        settings.setdefault_in_component_priority_dict(
            "EXTENSIONS", CCSignalsExtension, EXTENSION_PRIORITY
        )
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", CCSignalsDownloaderMiddleware, DOWNLOADER_MIDDLEWARE_PRIORITY
        )
        settings.setdefault_in_component_priority_dict(
            "SPIDER_MIDDLEWARES", CCSignalsSpiderMiddleware, SPIDER_MIDDLEWARE_PRIORITY
        )
        settings.setdefault_in_component_priority_dict(
            "ITEM_PIPELINES", CCSignalsPipeline, PIPELINE_PRIORITY
        )
        # Off must mean "as if the add-on were not there" (SIGNALS.md, Two gates, r2): Scrapy's
        # own robots.txt middleware is only replaced when ours will really run.
        try:
            enabled = settings.getbool("CCSIGNALS_ENABLED", True)
        except ValueError:
            from scrapy_ccsignals.config import BOOLEAN, ConfigError
            from scrapy_ccsignals.extension import config_error

            raise config_error(
                ConfigError(
                    f"CCSIGNALS_ENABLED {BOOLEAN}; got {settings.get('CCSIGNALS_ENABLED')!r}"
                )
            ) from None
        if not enabled:
            return
        if (
            _component_priority(settings, "DOWNLOADER_MIDDLEWARES", CCSignalsDownloaderMiddleware)
            is None
        ):
            return
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", RobotsTxtMiddleware, None)
        settings.set("ROBOTSTXT_OBEY", False, priority="addon")


def _component_priority(settings: BaseSettings, name: str, cls: type) -> int | None:
    """The priority *cls* has in the component dict *name* (with its ``_BASE``), or None
    when it is absent or set to None. Entries may be classes or import paths."""
    for key, priority in settings.getwithbase(name).items():
        component = load_object(key) if isinstance(key, str) else key
        if component is cls:
            return None if priority is None else int(priority)
    return None
