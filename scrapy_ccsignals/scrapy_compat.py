"""The few places where the plugin relies on Scrapy internals, kept together so a Scrapy
upgrade that changes them fails one test (``tests/test_scrapy_compat.py``), not a crawl.
One line per internal: what it is used for, and why no public API serves.

- ``Downloader.slots``, ``Downloader.per_slot_settings``: robots.txt ``Crawl-delay`` is
  learnt during the crawl, and a slot's delay can only be set at start
  (``DOWNLOAD_SLOTS`` is read once); Scrapy itself never applies ``Crawl-delay``.
- ``Slot.download_delay()`` overridden (a :class:`_FlooredSlot`): jitter and AutoThrottle
  may shorten a slot's gap below any delay it was given, and no setting makes a delay a
  floor (SIGNALS.md r2: a floor, not a mean).
- ``Slot.lastseen``: a site that backs the crawler off (429/503 with Retry-After, repeated
  5xx) pauses its slot; Scrapy has no call to pause one slot.
- ``ExecutionEngine._slot.nextcall``: the one way to make the engine look at its queues
  (and at whether the spider is idle) now, rather than at its next 5 s heartbeat, after the
  plugin kept the spider open (``DontCloseSpider``) for a policy fetch that has just ended.
- ``ExecutionEngine._slot.scheduler``, only before Scrapy 2.19 (``engine.scheduler`` from
  then on): whether requests wait in the scheduler, so that new origins' policy fetches
  start only when the downloader could take their pages (``engine.needs_backout()`` does
  not say whether the scheduler holds requests).
- ``scrapy.utils.decorators._warn_spider_arg``: ``StatsCollector`` wraps ``inc_value`` and
  friends, per instance, in a check for a deprecated ``spider`` argument that costs more
  than the increment, with no switch to turn it off; the plugin, which never passes one,
  calls the method under it.
- ``StatsCollector._stats``: that hook (``StatsCollector.__getattribute__``) also runs for
  every attribute ``inc_value`` itself reads, and raises and catches an ``AttributeError``
  for its ``self._stats``, several times the cost of the increment; for a collector that
  keeps Scrapy's own ``inc_value`` and hook, the plugin adds its counts to that dict, read
  from the instance on each call (``set_stats`` replaces it). ``get_stats()`` is public but
  goes through the same hook.
- ``Downloader.middleware.middlewares``: the enabled ``OffsiteMiddleware`` instance, whose
  public ``should_follow`` says whether a URL is within the crawl's scope (a URL a response
  named is fetched by the plugin only if Scrapy would follow it); no public API hands out
  a crawler's middleware instances.
- ``dict.items(Headers)``: ``Headers`` is a ``dict`` of normalised bytes keys to lists of
  bytes values; its public ``items()``/``getlist()`` normalise and copy per call, and one
  pass over the dict is cheaper than a ``getlist()`` per header name.
- ``request.meta["cache_timestamp"]``: when Scrapy's HTTP cache stored the response it
  serves (both of Scrapy's storages set it; undocumented, and no public API says when a
  cached response was fetched). The provenance of a cached response says when it was.

- ``ExecutionEngine.scraper.itemproc.middlewares``: the item pipelines the crawl built, so
  that the media pipelines among them (``FilesPipeline``, ``ImagesPipeline`` and subclasses)
  get each stored file's provenance record; Scrapy gives no public list of pipeline
  instances.

``Downloader._delay`` (``DOWNLOAD_DELAY``) was used too; the setting serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Slot
from scrapy.statscollectors import StatsCollector

if TYPE_CHECKING:
    from scrapy.core.downloader import Downloader
    from scrapy.http import Headers, Request, Response


def raw_header_items(headers: Headers) -> Iterator[tuple[bytes, list[bytes]]]:
    """``(name, values)`` pairs of a Scrapy ``Headers`` without its per-key normalisation."""
    return iter(dict.items(headers))


class _FlooredSlot(Slot):
    """A download slot whose gap never goes under ``floor`` (set on subclasses)."""

    __slots__ = ()
    floor = 0.0

    def download_delay(self) -> float:
        return max(self.floor, Slot.download_delay(self))


@lru_cache(maxsize=256)
def _floored_class(floor: float) -> type[_FlooredSlot]:
    # One class per floor value: Slot has __slots__, so the floor cannot live on the
    # instance; a subclass with empty __slots__ keeps the layout __class__ assignment needs.
    return type(f"FlooredSlot_{floor:g}", (_FlooredSlot,), {"__slots__": (), "floor": floor})


def floor_slot_delay(downloader: Downloader, key: str, floor: float) -> None:
    """Make the gap between two downloads of slot *key* at least *floor* seconds, for the
    slot if it exists and for the slot Scrapy creates later under that key."""
    slot_settings: dict[str, Any] = downloader.per_slot_settings.setdefault(key, {})
    default = downloader.settings.getfloat("DOWNLOAD_DELAY")  # what Scrapy's _delay holds
    slot_settings["delay"] = max(float(slot_settings.get("delay", default)), floor)
    slot = downloader.slots.get(key)
    if slot is not None:
        floor_slot(slot, floor)


def floor_slot(slot: Slot, floor: float) -> None:
    current = slot.floor if isinstance(slot, _FlooredSlot) else 0.0
    if floor > current:
        slot.__class__ = _floored_class(floor)
    slot.delay = max(slot.delay, floor)


def set_slot_floor(slot: Slot, floor: float) -> None:
    """Make the slot's floor exactly *floor*, lower or higher (0: none), for a back-off
    that ends; ``slot.delay`` is left as it is."""
    slot.__class__ = _floored_class(floor) if floor > 0 else Slot


def pause_slot(slot: Slot, until: float) -> None:
    """No download from a floored slot before monotonic time *until*: the downloader waits
    ``download_delay()`` (at least the floor) after ``lastseen``, so ``lastseen`` is moved
    to *until* minus the floor. The slot's delayed call re-reads it when it fires."""
    floor = slot.floor if isinstance(slot, _FlooredSlot) else 0.0
    if floor > 0:
        slot.lastseen = max(slot.lastseen, until - floor)


def slot_of(downloader: Downloader, request: Any) -> Slot | None:
    """The slot a request that reached the downloader was queued in."""
    key = request.meta.get(downloader.DOWNLOAD_SLOT)
    return downloader.slots.get(key) if key is not None else None


def wake_engine(engine: Any) -> None:
    """Have the engine look at its scheduler and idleness on the next reactor turn."""
    slot = getattr(engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


def scheduler_has_pending(engine: Any) -> bool:
    """Whether the engine's scheduler holds requests not yet handed to the downloader."""
    if hasattr(type(engine), "scheduler"):  # Scrapy 2.19+: public
        scheduler = engine.scheduler
    else:
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
    return scheduler is not None and bool(scheduler.has_pending_requests())


def item_pipelines(engine: Any) -> tuple[Any, ...]:
    """The item pipeline instances of a running crawl, in order (empty when unknown)."""
    scraper = getattr(engine, "scraper", None)
    return tuple(getattr(getattr(scraper, "itemproc", None), "middlewares", ()))


def offsite_middleware(engine: Any) -> Any:
    """The crawl's enabled ``OffsiteMiddleware`` (or subclass) instance, or None."""
    from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware

    manager = getattr(getattr(engine, "downloader", None), "middleware", None)
    for middleware in getattr(manager, "middlewares", ()):
        if isinstance(middleware, OffsiteMiddleware):
            return middleware
    return None


def offsite_follows(crawler: Any, request: Any) -> bool:
    """Whether the crawl's ``OffsiteMiddleware`` lets *request* on, as its own check does
    (``dont_filter``, meta ``allow_offsite``, then ``should_follow``); True without one."""
    offsite = offsite_middleware(crawler.engine)
    if offsite is None or crawler.spider is None:
        return True
    return bool(
        request.dont_filter
        or request.meta.get("allow_offsite")
        or offsite.should_follow(request, crawler.spider)
    )


def stats_incrementer(stats: Any) -> Callable[[str, int], None]:
    """What counts *key* by *count* in the collector *stats*, as its ``inc_value(key,
    count)`` does: for a collector with Scrapy's own ``inc_value`` and attribute hook (the
    default ``MemoryStatsCollector``), straight into its stats dict (see the module's
    docstring); for any other, its own ``inc_value`` (:func:`stats_method`)."""
    cls = type(stats)
    if cls.inc_value is StatsCollector.inc_value and cls.__getattribute__ is (
        StatsCollector.__getattribute__
    ):
        attrs = object.__getattribute__(stats, "__dict__")
        if isinstance(attrs.get("_stats"), dict):

            def inc(key: str, count: int = 1) -> None:
                counts = attrs["_stats"]
                counts[key] = counts.get(key, 0) + count

            return inc
    return stats_method(stats, "inc_value")


def stats_method(stats: Any, name: str) -> Callable[..., Any]:
    """The stats collector's bound method *name* without Scrapy's spider-argument shim
    (one level, and only that shim: a collector's own wrappers are kept)."""
    method = getattr(stats, name)
    code = getattr(method, "__code__", None)
    if getattr(code, "co_qualname", "").startswith("_warn_spider_arg."):
        inner = getattr(method, "__wrapped__", None)
        if callable(inner):
            return inner
    return method


def cached_at(request: Request, response: Response) -> float | None:
    """When the response Scrapy's HTTP cache served was fetched, as a Unix time: the cache
    entry's time (``cache_timestamp``, which Scrapy's storages set on the request), else
    the response's ``Date`` header when it is a date not in the future, else None."""
    stamp = request.meta.get("cache_timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    date = response.headers.get(b"Date")
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date.decode("latin-1")).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when <= time.time() else None
