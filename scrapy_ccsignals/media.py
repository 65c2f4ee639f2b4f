"""Files and images from Scrapy's media pipelines (``FilesPipeline``, ``ImagesPipeline`` and
subclasses) carry their own provenance record (issue 26: every path into the dataset goes
through both gates).

The pipelines download with ``engine.download_async`` (callback ``NO_CALLBACK``), through
the downloader middleware: the access gate checks the URL and the use gate decides the file
like a page; in ``enforce`` the middleware refuses a denied file (``DeniedFile``), so the
pipeline records a failed download and stores nothing. What is left is putting each stored
file's record on its result (``{"url", "path", "checksum", "status"}``): the pipeline builds
that result in ``media_downloaded(response, request, ...)``, the only place where the
response (whose meta holds the record) meets it. So, when the spider opens, that method of
each media pipeline instance is wrapped; a subclass's own ``media_downloaded`` is wrapped the
same way. A result the pipeline gives without downloading (``uptodate``: the file store
already has a fresh copy) gets an ``unchecked`` record, as items no response covers do.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.pipelines.media import MediaPipeline
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from scrapy_ccsignals.checked import ItemRecord
from scrapy_ccsignals.gate.provenance import copy_record, unchecked_record
from scrapy_ccsignals.scrapy_compat import item_pipelines

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from scrapy_ccsignals.extension import CCSignalsExtension

logger = logging.getLogger(__name__)

UPTODATE = "not checked: not downloaded, the file store already has it (status uptodate)"


class MediaRecords:
    def __init__(self, crawler: Crawler, runtime: CCSignalsExtension, meta_key: str):
        self.crawler = crawler
        self.runtime = runtime
        self.meta_key = meta_key
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    def _spider_opened(self) -> None:
        for pipeline in item_pipelines(self.crawler.engine):
            if isinstance(pipeline, MediaPipeline):
                self._wrap(pipeline)

    def _wrap(self, pipeline: MediaPipeline) -> None:
        downloaded = pipeline.media_downloaded
        to_download = pipeline.media_to_download
        field = self.runtime.cfg.item_field

        async def media_downloaded(
            response: Response, request: Request, info: Any, *, item: Any = None
        ) -> Any:
            result = await _resolved(downloaded(response, request, info, item=item))
            if isinstance(result, dict):
                # After a redirect the record is on the last request's meta.
                meta = (response.request or request).meta
                record = meta.get(self.meta_key)
                result[field] = (
                    ItemRecord(copy_record(record))
                    if isinstance(record, dict)
                    else self._unchecked(result, "not checked: no decision for this download")
                )
            return result

        async def media_to_download(request: Request, info: Any, *, item: Any = None) -> Any:
            result = await _resolved(to_download(request, info, item=item))
            if isinstance(result, dict) and field not in result:
                result[field] = self._unchecked(result, UPTODATE)
            return result

        pipeline.media_downloaded = media_downloaded  # type: ignore[method-assign]
        pipeline.media_to_download = media_to_download  # type: ignore[method-assign,assignment]

    def _unchecked(self, result: dict[str, Any], reason: str) -> ItemRecord:
        self.runtime.inc("ccsignals/files/unchecked")
        record = unchecked_record(
            self.runtime.cfg, self.runtime.version, reason, self.runtime.crawl_id
        )
        record["url"] = result.get("url")
        return ItemRecord(record)


async def _resolved(value: Any) -> Any:
    """The value of what a pipeline method returned: a plain value, a Deferred or an
    awaitable (the media pipeline accepts all three)."""
    if isinstance(value, Deferred):
        return await maybe_deferred_to_future(value)
    if inspect.isawaitable(value):
        return await value
    return value
