"""The plugin's Scrapy extension: the state its components share within one crawler
(configuration, policy fetcher, audit log, stats and once-per-origin warnings).

The add-on registers it in ``EXTENSIONS``; Scrapy builds extensions before middlewares, and
both middlewares get the same object with ``crawler.get_extension()``
(:meth:`CCSignalsExtension.of`). It raises ``NotConfigured`` when ``CCSIGNALS_ENABLED`` is
false, and then so do the middlewares.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from scrapy_ccsignals import __version__
from scrapy_ccsignals.checked import CheckedItems
from scrapy_ccsignals.config import Config, ConfigError, names_crawler_page, unknown_settings
from scrapy_ccsignals.gate.exclusion import Exclusions
from scrapy_ccsignals.gate.filemeta import read_file_metadata
from scrapy_ccsignals.policy.backoff import OriginBackoff
from scrapy_ccsignals.policy.documents import RslDocuments
from scrapy_ccsignals.policy.fetcher import PolicyFetcher
from scrapy_ccsignals.policy.origin import origin_of
from scrapy_ccsignals.policy.store import open_store
from scrapy_ccsignals.records.audit import AuditLog, fill_template, new_crawl_id
from scrapy_ccsignals.records.report import summary_from_stats
from scrapy_ccsignals.records.warc import EvidenceArchive, path_beside
from scrapy_ccsignals.scrapy_compat import stats_incrementer
from scrapy_ccsignals.signals.c2pa import c2pa_installed

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from scrapy_ccsignals.policy.hold import RequestHold
    from scrapy_ccsignals.policy.origin import PolicyRecord
    from scrapy_ccsignals.signals.assets import AssetMetadata
    from scrapy_ccsignals.signals.c2pa import C2paResult

logger = logging.getLogger(__name__)

#: Threads reading file metadata (XMP, EPUB, C2PA) off the reactor thread.
FILE_THREADS = 2


class _DropTraceback(logging.Filter):
    """Drops the one log record that would print *exc*'s traceback again (asyncio's "Task
    exception was never retrieved", Scrapy's "Error running spider"): the error was already
    logged as one line naming the setting."""

    def __init__(self, exc: BaseException):
        super().__init__()
        self.exc = exc

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[1] is self.exc)


def config_error(exc: ConfigError) -> ConfigError:
    """Log a bad setting as one ERROR line and keep its traceback off the console; the
    exception still propagates, so the crawl does not start and ``scrapy crawl`` exits 1."""
    if not getattr(exc, "ccsignals_logged", False):
        exc.ccsignals_logged = True  # type: ignore[attr-defined]
        logger.error("scrapy-ccsignals: %s", exc)
        drop = _DropTraceback(exc)
        for name in ("asyncio", "scrapy.crawler", "scrapy.utils.log", "twisted"):
            logging.getLogger(name).addFilter(drop)
        for handler in logging.getLogger().handlers:
            handler.addFilter(drop)
    return exc


class CCSignalsExtension:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CCSignalsExtension:
        try:
            return cls(crawler)
        except ConfigError as exc:
            raise config_error(exc) from exc.__cause__

    @classmethod
    def of(cls, crawler: Crawler) -> CCSignalsExtension:
        """The crawler's instance; ``NotConfigured`` when the plugin is off (the setting is
        false, or the extension was removed from ``EXTENSIONS``)."""
        extension = crawler.get_extension(cls)
        if extension is not None:
            return extension
        if not crawler.settings.getbool("CCSIGNALS_ENABLED", True):
            raise NotConfigured("CCSIGNALS_ENABLED is False")
        # A middleware without its extension would let everything through: refuse to start
        # rather than fail open.
        raise config_error(
            ConfigError(
                "scrapy-ccsignals middlewares are enabled but its extension is not: add "
                '"scrapy_ccsignals.extension.CCSignalsExtension": 0 to EXTENSIONS, or use the '
                'add-on (ADDONS = {"scrapy_ccsignals.Addon": 100})'
            )
        )

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.cfg = Config.from_settings(crawler.settings)
        unknown = unknown_settings(crawler.settings)
        if unknown:
            logger.warning(
                "scrapy-ccsignals: unknown setting(s) %s: ignored; the known ones are listed "
                "in the documentation's settings reference",
                ", ".join(unknown),
            )
        self.version = __version__
        self.audit = AuditLog(None)
        self._inc: Any = None  # the stats collector's inc_value, once there is one
        self.debug_enabled = True  # settled at spider_opened, once logging is configured
        #: (origin, kind) already warned about, most recent last; bounded like the policy
        #: cache, so a broad crawl's state stays bounded (an origin forgotten here can be
        #: warned about once more).
        self._warned: OrderedDict[tuple[str, str], None] = OrderedDict()
        #: the items between the spider middleware and the first pipeline (checked.py)
        self.checked_items = CheckedItems()
        if not self.cfg.enabled:
            raise NotConfigured("CCSIGNALS_ENABLED is False")
        try:
            self.store = open_store(self.cfg.policy_store)
        except (ValueError, ImportError, OSError) as exc:
            raise ConfigError(f"CCSIGNALS_POLICY_STORE {self.cfg.policy_store!r}: {exc}") from exc
        except Exception as exc:  # e.g. redis.ConnectionError
            raise ConfigError(
                f"CCSIGNALS_POLICY_STORE {self.cfg.policy_store!r} cannot be opened: {exc!r}"
            ) from exc
        self.exclusions = self._load_exclusions()
        self.fetcher = PolicyFetcher(self, self.store)
        self.rsl = RslDocuments(self.fetcher)
        self.backoff = OriginBackoff(self, self.fetcher.crawl_delay.floor)
        #: the downloader middleware's request hold (None without that middleware): the
        #: spider middleware tells it which requests may have to wait for robots.txt
        self.hold: RequestHold | None = None
        self._c2pa_available: bool | None = None
        self._pool: ThreadPool | None = None
        #: the id every audit line of this crawl starts with (CCSIGNALS_CRAWL_ID, or new)
        self.crawl_id = self.cfg.crawl_id or new_crawl_id()
        if self.cfg.audit_log:
            # Opened now, not at spider_opened: a log that cannot be written stops the crawl
            # before it starts, instead of a crawl with no audit trail.
            template, name = self.cfg.audit_log, crawler.spidercls.name or "spider"
            start = datetime.now(timezone.utc)
            path = fill_template(template, name, start)
            try:
                self.audit = AuditLog(
                    path,
                    crawl=self.crawl_id,
                    next_path=lambda batch_id: fill_template(template, name, start, batch_id),
                    rotate_lines=self.cfg.audit_log_rotate_lines,
                    rotate_bytes=self.cfg.audit_log_rotate_bytes,
                )
            except OSError as exc:
                self.store.close()
                raise ConfigError(
                    f"CCSIGNALS_AUDIT_LOG {self.cfg.audit_log!r}: cannot open {str(path)!r} "
                    f"({exc.strerror or exc})"
                ) from None
        self.evidence = self._open_evidence(crawler.spidercls.name or "spider")
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    def _open_evidence(self, spider_name: str) -> EvidenceArchive:
        """The WARC evidence archive (``CCSIGNALS_EVIDENCE_WARC``): beside the audit log by
        default, opened now so a path that cannot be written stops the crawl at once."""
        cfg = self.cfg
        if cfg.evidence_warc == "auto":
            path = path_beside(self.audit.path) if self.audit.path is not None else None
        elif cfg.evidence_warc:
            path = fill_template(cfg.evidence_warc, spider_name, datetime.now(timezone.utc))
        else:
            path = None
        if path is None:
            return EvidenceArchive(None)
        info = {
            "operator": cfg.user_agent,
            "robots": f"obeyed for the token {cfg.token}",
            "description": f"policy documents{'' if cfg.evidence_responses == 'none' else ' and responses'} "
            f"of a scrapy-ccsignals crawl (spider {spider_name}, purpose {cfg.purpose})",
            "software": f"scrapy-ccsignals {self.version} (warcio)",
            "audit-log": self.audit.path.name if self.audit.path is not None else "",
            "isPartOf": self.crawl_id,
        }
        try:
            return EvidenceArchive(path, info, remember=max(cfg.policy_cache_size, 1024))
        except OSError as exc:
            self.audit.close()
            self.store.close()
            raise ConfigError(
                f"CCSIGNALS_EVIDENCE_WARC: cannot open {str(path)!r} ({exc.strerror or exc})"
            ) from None

    def _load_exclusions(self) -> Exclusions:
        """The operator's exclusion lists (``CCSIGNALS_EXCLUDE``), read once at start-up:
        a list that cannot be read stops the crawl before any request is sent."""
        try:
            exclusions = Exclusions(self.cfg.exclude)
        except OSError as exc:
            self.store.close()
            raise ConfigError(
                f"CCSIGNALS_EXCLUDE: cannot read {exc.filename!r} ({exc.strerror or exc})"
            ) from None
        for lst in exclusions.lists:
            logger.info(
                "scrapy-ccsignals: exclusion list %r (%s): %d hosts, %d URL prefixes",
                lst.label,
                lst.path,
                lst.hosts,
                lst.prefixes,
            )
            if lst.skipped:
                logger.warning(
                    "scrapy-ccsignals: exclusion list %r (%s): %d line(s) are neither a host "
                    "nor an http(s) URL prefix and were skipped, e.g. %r",
                    lst.label,
                    lst.path,
                    lst.skipped,
                    lst.first_skipped,
                )
        return exclusions

    async def read_file_metadata(
        self, url: str, body: bytes, content_type: str
    ) -> tuple[AssetMetadata | None, C2paResult | None]:
        """A non-HTML file's own rights metadata, read in a thread from the first
        ``CCSIGNALS_ASSET_SCAN_BYTES`` bytes (the slice is a copy the thread owns)."""
        head = body[: self.cfg.asset_scan_bytes]
        c2pa = self._c2pa_available
        if c2pa is None:
            c2pa = self._c2pa_available = c2pa_installed()
            if not c2pa:
                logger.info(
                    "scrapy-ccsignals: C2PA manifests are not read (install the extra: "
                    "pip install 'scrapy-ccsignals[c2pa]')",
                    extra={"spider": self.crawler.spider},
                )
        from twisted.internet import reactor  # the installed one, read when needed

        asset, manifest = await maybe_deferred_to_future(
            deferToThreadPool(
                reactor, self._file_pool(), read_file_metadata, head, content_type, c2pa
            )
        )
        if asset is not None:
            self.inc("ccsignals/asset/scanned")
            self.inc(f"ccsignals/asset/{asset.kind or 'other'}/{asset.status}")
            if asset.status == "malformed":
                self.warn_once(
                    origin_of(url) or url,
                    "asset",
                    "File metadata of %s (%s) is malformed (%s); it gives no signal",
                    url,
                    asset.kind,
                    asset.detail,
                )
        if manifest is not None:
            self.inc(f"ccsignals/c2pa/{manifest.status}")
        elif not c2pa:
            self.inc("ccsignals/c2pa/not_read")
        return asset, manifest

    def _file_pool(self) -> ThreadPool:
        """The plugin's own two threads for file metadata: parsing a 1 MiB file on the
        reactor's shared pool could hold up Scrapy's DNS lookups, which use it too."""
        if self._pool is None:
            self._pool = ThreadPool(minthreads=0, maxthreads=FILE_THREADS, name="ccsignals-files")
            self._pool.start()
        return self._pool

    def inc(self, key: str, count: int = 1) -> None:
        """Count *key* in the crawler's stats, at once: extensions read them live (e.g. a
        progress line, or their own ``spider_closed`` handlers)."""
        inc = self._inc
        if inc is None:
            stats = self.crawler.stats  # read lazily, not in __init__
            if stats is None:
                return
            # Bound once, without Scrapy's spider-argument deprecation shim (an attribute
            # lookup hook and an argument check on every call): see scrapy_compat.
            inc = self._inc = stats_incrementer(stats)
        inc(key, count)

    def _debug_logged(self) -> bool:
        """Whether a DEBUG record of ours would be emitted by any handler. Scrapy filters
        levels in the root handler, so ``isEnabledFor`` alone says yes at every level
        and each per-response debug call would build a record only to drop it."""
        if not logger.isEnabledFor(logging.DEBUG):
            return False
        handlers = logging.getLogger().handlers + logger.handlers
        return any(handler.level <= logging.DEBUG for handler in handlers)

    def warn_once(self, origin: str, kind: str, msg: str, *args: Any) -> None:
        """A WARNING naming the URL, once per origin and kind; counted either way."""
        self.inc(f"ccsignals/warnings/{kind}")
        key = (origin, kind)
        warned = self._warned
        if key in warned:
            return
        warned[key] = None
        if len(warned) > self.cfg.policy_cache_size:
            warned.popitem(last=False)
        logger.warning(msg, *args, extra={"spider": self.crawler.spider})

    def audit_policy(self, origin: str, record: PolicyRecord) -> None:
        self.audit.event(
            url=record.url,
            origin=origin,
            stage="policy",
            action=_policy_action(record),
            decision=None,
            reasons=[f"{record.kind} {record.outcome}"]
            + ([record.detail] if record.detail else []),
            policy=record.as_dict(),
        )

    def _spider_opened(self, spider: Spider) -> None:
        self.debug_enabled = self._debug_logged()
        skipped = sum(lst.skipped for lst in self.exclusions.lists)
        if skipped:
            self.inc("ccsignals/exclude/skipped_lines", skipped)
        if self.audit.enabled:
            self._audit_crawl(spider, "started", self.crawl_facts(spider))
        summary = self.cfg.summary()
        summary["audit_log"] = str(self.audit.path) if self.audit.enabled else None
        summary["crawl"] = self.crawl_id
        logger.info(
            "scrapy-ccsignals %s enabled: %s", self.version, summary, extra={"spider": spider}
        )
        if not names_crawler_page(self.cfg.user_agent):
            # The crawler best-practices draft: a crawler MUST be identifiable by its user
            # agent, "usually by including a URL that hosts the crawler's description".
            self.warn_once(
                "*",
                "user_agent",
                "USER_AGENT %r has no +https:// URL of a page describing the crawler; site "
                "owners cannot tell who crawls them or how to block it (write that page with "
                "scrapy ccsignals-summary --crawler-page)",
                self.cfg.user_agent,
            )

    def crawl_facts(self, spider: Spider) -> dict[str, Any]:
        """What the crawl's report header says about it (docs/audit-log.md)."""
        cfg = self.cfg
        return {
            "spider": spider.name,
            "token": cfg.token,
            "user_agent": cfg.user_agent,
            "purpose": cfg.purpose,
            "mode": cfg.mode,
            "default": cfg.default,
            "accept_conditions": sorted(cfg.accept_conditions),
            "licenses": sorted(cfg.licenses) if cfg.licenses is not None else None,
            "plugin": self.version,
            "scrapy": scrapy.__version__,
            "exclusion_lists": [lst.as_dict() for lst in self.exclusions.lists],
            "evidence_warc": str(self.evidence.path) if self.evidence.path else None,
        }

    def _audit_crawl(self, spider: Spider, action: str, extra: dict[str, Any]) -> None:
        """A ``crawl`` line: no URL or origin, the crawl's facts or its final counts."""
        self.audit.write(
            {"url": None, "origin": None, "stage": "crawl", "action": action, "decision": None,
             "reasons": [], "signals": [], **extra}
        )  # fmt: skip

    def _spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        archived = self.evidence.enabled
        try:
            self.evidence.close()  # every record written: the counts below are final
        except Exception:
            logger.exception("Cannot close the ccsignals evidence archive %s", self.evidence.path)
        if stats is not None and archived:
            stats.set_value("ccsignals/evidence/records", self.evidence.records)
            if self.evidence.failed:
                stats.set_value("ccsignals/evidence/failed", self.evidence.failed)
        if self.audit.enabled:
            counts = stats.get_stats() if stats is not None else {}
            self._audit_crawl(
                spider,
                "finished",
                {
                    "spider": spider.name,
                    "reason": reason,
                    "stats": {k: v for k, v in counts.items() if k.startswith("ccsignals/")},
                },
            )
        if stats is not None:
            logger.info(
                "scrapy-ccsignals summary:\n%s",
                summary_from_stats(stats.get_stats()),
                extra={"spider": spider},
            )
        self.audit.close()
        self.store.close()
        if self._pool is not None:
            self._pool.stop()
            self._pool = None


def _policy_action(record: PolicyRecord) -> str:
    """The audit action of a policy file: refused (never sent: a URL a response named that
    the page may not make the crawler fetch), error (no answer), cached or fetched."""
    if record.outcome == "refused":
        return "refused"
    if record.status is None:
        return "error"
    return "cached" if record.cached else "fetched"
