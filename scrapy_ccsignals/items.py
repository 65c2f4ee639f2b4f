"""Putting the provenance record on items, shared by the spider middleware (items of a
response) and the pipeline (items no response covers: yielded from errbacks, which Scrapy
does not pass through spider middlewares)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from scrapy_ccsignals.checked import ItemRecord
from scrapy_ccsignals.gate.provenance import own_copy, unchecked_record
from scrapy_ccsignals.meta import OPT_OUT
from scrapy_ccsignals.policy.origin import origin_of

if TYPE_CHECKING:
    from scrapy.http import Response

    from scrapy_ccsignals.extension import CCSignalsExtension

logger = logging.getLogger(__name__)


class ItemProvenance:
    def __init__(self, runtime: CCSignalsExtension):
        self.runtime = runtime
        self.cfg = runtime.cfg
        self._warned_classes: set[type] = set()
        #: the items the spider middleware gave a record, until the pipeline sees them: a
        #: record found on any other item is not ours (copied, or the spider's)
        self.checked = runtime.checked_items

    def unchecked(self, item: Any, response: Response | None) -> Any:
        """An item no decision covers passes with a record saying so (docs/provenance.md:
        provenance is per response); None (dropped) when the crawl enforces
        and its default for what no signal covers is deny."""
        if response is None:
            reason = "not checked: no response (item yielded from an errback or start())"
        elif response.meta.get(OPT_OUT):
            reason = f"not checked: request meta {OPT_OUT}"
        else:
            reason = "not checked: the response was not seen by the downloader middleware"
        self.runtime.inc("ccsignals/items/unchecked")
        record = unchecked_record(self.cfg, self.runtime.version, reason, self.runtime.crawl_id)
        if response is not None:
            record["url"] = response.url
        drop = self.cfg.mode == "enforce" and self.cfg.default == "deny"
        self.runtime.audit.event(
            url=record["url"] or "",
            origin=origin_of(record["url"]) if record["url"] else None,
            stage="item",
            action="dropped" if drop else "unchecked",
            decision="deny" if drop else None,
            reasons=[reason + ("; CCSIGNALS_DEFAULT=deny" if drop else "")],
        )
        if drop:
            self.runtime.inc("ccsignals/items/dropped")
            return None
        self.attach(item, record)
        return item

    def attach(self, item: Any, record: dict[str, Any]) -> None:
        """Put its own copy of *record* on *item*, as the record is now."""
        field = self.cfg.item_field
        if isinstance(item, dict):  # the common case, without building an adapter
            item[field] = own = own_copy(record, ItemRecord)
            self.checked.add(item, own)
            return
        adapter = ItemAdapter(item)
        if field not in adapter.field_names():
            self.runtime.inc("ccsignals/items/field_missing")
            cls = type(item)
            if cls not in self._warned_classes:
                self._warned_classes.add(cls)
                logger.warning(
                    "Item class %s has no %r field, so its items carry no provenance; "
                    "declare the field (see the documentation, 'Provenance') or set "
                    "CCSIGNALS_ITEM_FIELD",
                    f"{cls.__module__}.{cls.__qualname__}",
                    field,
                    extra={"spider": self.runtime.crawler.spider},
                )
            self.checked.add(item, None)
            return
        adapter[field] = own = own_copy(record, ItemRecord)
        self.checked.add(item, own)
