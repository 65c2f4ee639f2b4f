"""``scrapy ccsignals-recheck ITEMS...``: re-decide a crawled dataset against its origins'
current policy files, after sites changed their minds (issue 18, part 3).

Two passes over the feed files, streaming: the first collects the origins and the RSL
licences the pages named (memory per origin, not per item); then one real Scrapy crawl
fetches each origin's robots.txt and tdmrep.json and each RSL licence through the plugin's
own fetcher (politeness, byte caps, timeouts, ``dont_cache``, the audit log) and, with
``--refetch-pages``, the pages themselves; the second pass re-decides every item
(``gate/recheck.py``) and writes it to the kept or the withdrawn file.

The re-check fetches the policy files afresh even when the policy store holds a copy younger
than ``CCSIGNALS_POLICY_MAX_AGE`` (finding out what sites say *now* is its purpose), and writes
what it fetched back to the store. Exit code 0: nothing withdrawn; 1: something withdrawn;
2: error (a bad input file or setting), as one line on stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import DeferredList

from scrapy_ccsignals.commands.base import EXPECTED, reader_may_leave
from scrapy_ccsignals.config import Config, ConfigError
from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.gate.recheck import Fresh, Outcome, recheck_record, refetched_outcome
from scrapy_ccsignals.gate.usegate import ResponseFacts, rsl_urls
from scrapy_ccsignals.policy.origin import origin_of
from scrapy_ccsignals.records.audit import AuditLog, utc_now
from scrapy_ccsignals.records.feeds import Progress
from scrapy_ccsignals.records.inputs import (
    AUDIT,
    ITEMS,
    STDIN,
    InputError,
    expand_paths,
    sniff_kind,
)
from scrapy_ccsignals.records.recheck import (
    POLICY_KINDS,
    FeedError,
    OriginChanges,
    PageRecords,
    Survey,
    policy_change,
    provenance_of,
    read_feeds,
    render_changes,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

    from scrapy_ccsignals.policy.store import PolicyStore, StoredPolicy

#: Request meta key: the URL an item named, for a re-fetched page (kept across redirects).
PAGE_META = "ccsignals_recheck_url"


class _FreshStore:
    """The policy store as the re-check uses it: never answers from a stored copy, so every
    file is fetched as it is now, but writes what it fetched through (and takes the store's
    lock, so the workers of a running distributed crawl are not raced)."""

    def __init__(self, inner: PolicyStore):
        self.inner = inner

    def get(self, origin: str) -> StoredPolicy | None:
        return None

    def put(self, origin: str, policy: StoredPolicy, ttl: float) -> None:
        self.inner.put(origin, policy, ttl)

    def acquire(self, origin: str, timeout: float) -> bool:
        return self.inner.acquire(origin, timeout)

    def release(self, origin: str) -> None:
        self.inner.release(origin)

    def close(self) -> None:
        self.inner.close()


class _RecheckSpider(scrapy.Spider):
    """Fetches the policies of the dataset's origins (from ``start()``, through the plugin's
    fetcher, several origins at a time), then, with ``pages``, requests every item's page."""

    name = "ccsignals-recheck"
    custom_settings = {"ADDONS": {"scrapy_ccsignals.Addon": 100}, "CCSIGNALS_MODE": "tag"}
    origins: list[str] = []
    page_rsl: list[str] = []
    fresh: Fresh
    pages: PageRecords | None = None
    feeds: list[Path] = []
    field_name = "ccsignals"

    async def start(self) -> AsyncIterator[Any]:
        runtime = CCSignalsExtension.of(self.crawler)
        runtime.fetcher.store = _FreshStore(runtime.fetcher.store)  # type: ignore[assignment]
        concurrency = max(1, self.crawler.settings.getint("CONCURRENT_REQUESTS", 16) // 2)
        await self._each(runtime, self.origins, self._origin, concurrency)
        await self._each(runtime, self.page_rsl, self._rsl, concurrency)
        if self.pages is None:
            return
        for item in read_feeds(self.feeds):
            record = provenance_of(item, self.field_name)
            url = record.get("url") if record else None
            if not isinstance(url, str) or origin_of(url) is None:
                continue
            if self.pages.first_request(url):
                yield scrapy.Request(
                    url,
                    callback=self._page,
                    errback=self._failed,
                    dont_filter=True,
                    meta={PAGE_META: url, "handle_httpstatus_all": True, "dont_cache": True},
                )

    async def _each(self, runtime: Any, keys: list[str], job: Any, concurrency: int) -> None:
        pending = iter(keys)

        async def worker() -> None:
            for key in pending:
                try:
                    await job(runtime, key)
                except Exception:
                    self.logger.exception("ccsignals-recheck: fetching %s failed", key)

        await maybe_deferred_to_future(
            DeferredList(
                [deferred_from_coro(worker()) for _ in range(min(concurrency, len(keys)))],
                consumeErrors=True,
            )
        )

    async def _origin(self, runtime: CCSignalsExtension, origin: str) -> None:
        policy = await runtime.fetcher.complete_policy(origin, scrapy.Request(f"{origin}/"))
        self.fresh.policies[origin] = policy
        for url in rsl_urls(ResponseFacts.of_url(f"{origin}/"), policy):
            await self._rsl(runtime, url)

    async def _rsl(self, runtime: CCSignalsExtension, url: str) -> None:
        if url in self.fresh.rsl_records:
            return
        document = await runtime.rsl.get(url)
        self.fresh.rsl_docs[url] = document.doc
        self.fresh.rsl_records[url] = document.record.as_dict()

    def _page(self, response: Response) -> None:
        assert self.pages is not None
        self.pages.put(
            response.meta[PAGE_META],
            {"status": response.status, "record": response.meta.get("ccsignals")},
        )

    def _failed(self, failure: Failure) -> None:
        assert self.pages is not None
        request = getattr(failure, "request", None)
        if request is not None:
            self.pages.put(request.meta[PAGE_META], {"error": repr(failure.value)[:300]})


class Command(ScrapyCommand):
    requires_project = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[options] <items file> [<items file>...]"

    def short_desc(self) -> str:
        return "Re-decide a crawled dataset against its origins' current policy files"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="write kept items (JSON lines)")
        parser.add_argument(
            "--withdrawn", metavar="FILE", help="write withdrawn items with their reasons"
        )
        parser.add_argument(
            "--refetch-pages",
            action="store_true",
            help="fetch the pages again and decide from their current headers and metadata",
        )
        parser.add_argument("--audit", metavar="FILE", help="the re-check's audit log")

    def run(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one items file")
        try:
            paths = expand_paths(args)
        except InputError as exc:
            self._fail(f"{exc.path}: cannot open (no such file)")
            return
        for path in paths:
            if path == STDIN:
                self._fail("- (standard input) cannot be re-checked: it is read twice")
                return
            if sniff_kind(path) == AUDIT:
                self._fail(f"{path} is an audit log; expected {EXPECTED[ITEMS]}")
                return
        try:
            with reader_may_leave():
                self.exitcode = self._run([Path(a) for a in paths], opts)
        except (FeedError, ConfigError) as exc:
            self._fail(str(exc))

    def _fail(self, line: str) -> None:
        print(f"ccsignals-recheck: {line}", file=sys.stderr)
        self.exitcode = 2

    def _run(self, paths: list[Path], opts: Namespace) -> int:
        assert self.settings is not None and self.crawler_process is not None
        for path in (opts.output, opts.withdrawn, opts.audit):
            if path and not Path(path).resolve().parent.is_dir():
                raise ConfigError(f"{path}: its folder does not exist")
        cfg = Config.from_settings(self.settings)
        if not cfg.enabled:
            raise ConfigError("scrapy-ccsignals is disabled (CCSIGNALS_ENABLED is False)")
        survey = self._survey(paths, cfg.item_field)
        purpose = self._purpose(survey, cfg)
        if purpose != cfg.purpose:
            self.settings.set("CCSIGNALS_PURPOSE", purpose, priority="cmdline")
            cfg = Config.from_settings(self.settings)

        fresh = Fresh()
        with tempfile.TemporaryDirectory(prefix="ccsignals-recheck-") as tmp:
            pages = PageRecords(Path(tmp) / "pages.db") if opts.refetch_pages else None
            try:
                crawler = self.crawler_process.create_crawler(_RecheckSpider)
                # The crawl writes no feed: a project's FEEDS must not be overwritten.
                crawler.settings.set("FEEDS", {}, priority=100)
                if opts.audit:
                    crawler.settings.set("CCSIGNALS_AUDIT_LOG", opts.audit, priority="cmdline")
                else:  # a project's crawl log is not the re-check's
                    crawler.settings.set("CCSIGNALS_AUDIT_LOG", None, priority="spider")
                self.crawler_process.crawl(
                    crawler,
                    origins=sorted(survey.origins),
                    page_rsl=sorted(survey.rsl_urls),
                    fresh=fresh,
                    pages=pages,
                    feeds=paths,
                    field_name=cfg.item_field,
                )
                self.crawler_process.start()
                if survey.origins and not fresh.policies:
                    raise ConfigError("the re-check crawl did not run (see the error above)")
                extension = crawler.get_extension(CCSignalsExtension)
                audit_path = extension.audit.path if extension is not None else None
                crawl_id = extension.crawl_id if extension is not None else None
                return self._second_pass(
                    paths, cfg, survey, fresh, pages, opts, audit_path, crawl_id
                )
            finally:
                if pages is not None:
                    pages.close()

    def _survey(self, paths: list[Path], field_name: str) -> Survey:
        survey = Survey()
        progress = Progress("ccsignals-recheck: read")
        for item in read_feeds(paths, progress):
            record = provenance_of(item, field_name)
            url = record.get("url") if record else None
            survey.add(record, origin_of(url) if isinstance(url, str) else None)
        progress.done()
        return survey

    def _purpose(self, survey: Survey, cfg: Config) -> str:
        """The purpose the dataset was decided for: the stored signals' effects mean
        something for that purpose only."""
        if len(survey.purposes) > 1:
            raise ConfigError(
                f"the items were decided for several purposes ({', '.join(sorted(survey.purposes))});"
                " re-check each purpose's items apart"
            )
        purpose = next(iter(survey.purposes), cfg.purpose)
        assert self.settings is not None
        explicit = self.settings.getpriority("CCSIGNALS_PURPOSE") or 0
        if purpose != cfg.purpose and explicit >= 40:  # given with -s on the command line
            raise ConfigError(
                f"the items were decided for purpose {purpose!r}, not CCSIGNALS_PURPOSE="
                f"{cfg.purpose!r}"
            )
        return purpose

    def _second_pass(
        self,
        paths: list[Path],
        cfg: Config,
        survey: Survey,
        fresh: Fresh,
        pages: PageRecords | None,
        opts: Namespace,
        audit_path: Path | None,
        crawl_id: str | None = None,
    ) -> int:
        now = utc_now()
        changes: dict[str, OriginChanges] = {}
        total = OriginChanges()
        # The re-check's lines continue its crawl's log, under the same crawl id.
        audit = AuditLog(audit_path, crawl=crawl_id) if audit_path is not None else None
        kept_out = _open(opts.output)
        withdrawn_out = _open(opts.withdrawn)
        progress = Progress("ccsignals-recheck: re-checked")
        try:
            for item, origin, old, outcome in self._outcomes(
                paths, cfg, fresh, pages, now, progress
            ):
                entry = changes.setdefault(origin or "(no provenance)", OriginChanges())
                for tally in (entry, total):
                    tally.add(old, outcome.decision, outcome.reasons)
                if outcome.record is not None:
                    item[cfg.item_field] = outcome.record
                    recheck = outcome.record.get("recheck") or {}
                    if recheck.get("note"):
                        entry.note(recheck["note"])
                out = kept_out if outcome.kept else withdrawn_out
                if out is not None:
                    out.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
                if audit is not None and (not outcome.kept or old != outcome.decision):
                    audit.event(
                        url=str((outcome.record or {}).get("url") or ""),
                        origin=origin,
                        stage="recheck",
                        action="kept" if outcome.kept else "withdrawn",
                        decision=outcome.decision,
                        reasons=list(outcome.reasons),
                        previous=old,
                    )
        finally:
            progress.done()
            for handle in (kept_out, withdrawn_out):
                if handle is not None:
                    handle.close()
            if audit is not None:
                audit.close()
        policy_lines = {
            origin: [
                policy_change(
                    kind,
                    info.hashes.get(kind, set()),
                    _fresh_record(fresh, origin, kind),
                )
                for kind in POLICY_KINDS
            ]
            for origin, info in survey.origins.items()
        }
        print(render_changes(changes, policy_lines, total))
        return 1 if total.withdrawn else 0

    def _outcomes(
        self,
        paths: list[Path],
        cfg: Config,
        fresh: Fresh,
        pages: PageRecords | None,
        now: str,
        progress: Progress,
    ) -> Iterator[tuple[dict[str, Any], str | None, str | None, Outcome]]:
        for item in read_feeds(paths, progress):
            record = provenance_of(item, cfg.item_field)
            url = record.get("url") if record else None
            origin = origin_of(url) if isinstance(url, str) else None
            old = record.get("decision") if record else None
            outcome = recheck_record(cfg, record, origin, fresh, now)
            if pages is not None and outcome.decision != "forbidden" and isinstance(url, str):
                outcome = _with_page(outcome, record, pages.get(url), fresh, origin, now)
            yield item, origin, old, outcome


def _with_page(
    stored: Outcome,
    record: dict[str, Any] | None,
    page: dict[str, Any] | None,
    fresh: Fresh,
    origin: str | None,
    now: str,
) -> Outcome:
    """The refetched page's record when it came back with a 2xx answer; else the re-check
    from stored page signals, with a note saying why."""
    if page is not None and isinstance(page.get("record"), dict):
        status = page.get("status")
        if isinstance(status, int) and 200 <= status < 300:
            policy = fresh.policies.get(origin) if origin else None
            return refetched_outcome(record, page["record"], policy, now)
        note = f"page answered HTTP {status}: stored page signals used"
    elif page is not None:
        note = f"page could not be fetched again ({page.get('error')}): stored page signals used"
    else:
        note = "page not fetched again: stored page signals used"
    if stored.record is not None:
        stored.record["recheck"]["note"] = note
    return stored


def _fresh_record(fresh: Fresh, origin: str, kind: str) -> dict[str, Any] | None:
    policy = fresh.policies.get(origin)
    if policy is None:
        return None
    record = policy.robots_record if kind == "robots.txt" else policy.tdmrep_record
    return record.as_dict()


def _open(path: str | None) -> Any:
    if not path:
        return None
    try:
        return Path(path).open("w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from None
