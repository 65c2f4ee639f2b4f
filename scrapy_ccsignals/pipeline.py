"""Item pipeline: the first stage items reach, so that an item no response covers (yielded
from an errback: Scrapy does not pass those through spider middlewares) still carries a
record, marked ``unchecked``, and is counted, before any pipeline of the user's sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.items import ItemProvenance

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CCSignalsPipeline:
    def __init__(self, crawler: Crawler):
        self.runtime = CCSignalsExtension.of(crawler)
        self.items = ItemProvenance(self.runtime)
        self.field = self.items.cfg.item_field

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CCSignalsPipeline:
        return cls(crawler)

    def close_spider(self) -> None:
        """Requests still waiting for their origin's robots.txt go into a ``JOBDIR`` queue
        (:meth:`~scrapy_ccsignals.policy.hold.RequestHold.save_for_resume`). Here because
        Scrapy closes the item pipelines before the scheduler writes its queue, and no
        signal comes between."""
        hold = self.runtime.hold
        if hold is not None:
            hold.save_for_resume()

    def process_item(self, item: Any) -> Any:
        checked = self.items.checked
        if checked.take(item, self.field):  # the spider middleware put the record there
            return item
        if self.items.unchecked(item, None) is None:
            raise DropItem("not checked, and CCSIGNALS_DEFAULT is deny (enforce mode)")
        checked.take(item, self.field)
        return item
