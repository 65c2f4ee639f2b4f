"""``scrapy ccsignals-check URL``: fetch one URL the way the plugin would and explain it.

Exit code 0 when the content may be used for the purpose, 1 when it is denied (or robots.txt
forbids fetching it), 2 on errors (a bad setting, the plugin disabled, an origin that cannot
be reached, a failed download). The formatting lives in ``records/explain.py``. A check writes no audit
log unless ``--audit FILE`` is given: run inside a project, the project's crawl log stays the
dataset's own account.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from w3lib.url import is_url

from scrapy_ccsignals.commands.base import reader_may_leave
from scrapy_ccsignals.config import Config, ConfigError
from scrapy_ccsignals.downloadermiddleware import ATTRIBUTION_PENDING, ForbiddenByRobots
from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.gate.provenance import add_page_attribution
from scrapy_ccsignals.policy.origin import origin_of
from scrapy_ccsignals.policy.store import open_store
from scrapy_ccsignals.records.explain import (
    error_record,
    exit_code,
    explain_text,
    forbidden_record,
)
from scrapy_ccsignals.signals.robots import UNREACHABLE

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from collections.abc import AsyncIterator

    from twisted.python.failure import Failure


class _CheckSpider(scrapy.Spider):
    name = "ccsignals-check"
    custom_settings = {"ADDONS": {"scrapy_ccsignals.Addon": 100}, "CCSIGNALS_MODE": "tag"}
    url = ""
    result: dict[str, Any] = {}

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.url,
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={"handle_httpstatus_all": True},
        )

    def parse(self, response: scrapy.http.Response) -> None:
        record = response.meta.get("ccsignals")
        page = response.meta.pop(ATTRIBUTION_PENDING, None)
        if record is not None and page is not None:
            scan = self.settings.getint("CCSIGNALS_HTML_SCAN_BYTES", 262144)
            add_page_attribution(record, page, response.body, response.url, scan)
        self.result["record"] = record

    def failed(self, failure: Failure) -> None:
        self.result["error"] = failure.value


class Command(ScrapyCommand):
    requires_project = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[options] <url>"

    def short_desc(self) -> str:
        return "Explain what scrapy-ccsignals decides for one URL"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--json", action="store_true", help="print the provenance record as JSON"
        )
        parser.add_argument(
            "--audit", metavar="FILE", help="write the check's audit log to FILE (default: none)"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1 or not is_url(args[0]):
            raise UsageError("give one http(s) URL")
        url = args[0]
        assert self.settings is not None
        try:
            cfg = Config.from_settings(self.settings)
        except ConfigError as exc:
            self._fail(f"scrapy-ccsignals: {exc}")
            return
        if not cfg.enabled:
            self._fail(
                "scrapy-ccsignals is disabled (CCSIGNALS_ENABLED is False): nothing to check"
            )
            return
        try:  # the one setting checked where it is used: say so before any crawl starts
            open_store(cfg.policy_store).close()
        except Exception as exc:
            self._fail(f"scrapy-ccsignals: CCSIGNALS_POLICY_STORE {cfg.policy_store!r}: {exc}")
            return
        result: dict[str, Any] = {}
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(_CheckSpider)
        # A check is not part of the project's dataset: its crawl log (CCSIGNALS_AUDIT_LOG)
        # is the dataset's account, read by the summary and the card. Like the re-check,
        # the check writes an audit log only where --audit says.
        crawler.settings.set("CCSIGNALS_AUDIT_LOG", opts.audit or None, priority="cmdline")
        self.crawler_process.crawl(crawler, url=url, result=result)
        self.crawler_process.start()
        agent = {"user_agent": cfg.user_agent, "token": cfg.token}
        record = result.get("record") or self._failed_record(
            url, result.get("error"), crawler, agent
        )
        with reader_may_leave():
            if opts.json:
                json.dump(record, sys.stdout, indent=2)
                sys.stdout.write("\n")
            else:
                print(explain_text(record, cfg.purpose))
        self.exitcode = exit_code(record)

    def _fail(self, line: str) -> None:
        print(line, file=sys.stderr)
        self.exitcode = 2

    def _failed_record(
        self, url: str, error: Any, crawler: Any, agent: dict[str, str]
    ) -> dict[str, Any]:
        origin = origin_of(url)
        try:
            extension = crawler.get_extension(CCSignalsExtension)
        except RuntimeError:  # the crawl never started (Crawler.extensions is not set)
            extension = None
        policy = extension.fetcher.cached(origin) if extension is not None and origin else None
        policies = (
            [policy.robots_record.as_dict(), policy.tdmrep_record.as_dict()] if policy else []
        )
        if isinstance(error, ForbiddenByRobots):
            if error.policy.get("status") is None and error.policy.get("outcome") == UNREACHABLE:
                # The origin could not be reached at all: an error, not a publisher's "no".
                detail = str(error.policy.get("detail") or "unreachable")
                kind, _, message = detail.partition(": ")
                if not message:  # no "Type: message" form: the detail is the message
                    kind, message = "Unreachable", detail
                return error_record(url, kind, message, agent, policies)
            return forbidden_record(url, error.reason, error.policy, agent)
        if error is None:
            return error_record(
                url, "NoResult", "the crawl ended without a response", agent, policies
            )
        return error_record(url, type(error).__name__, str(error), agent, policies)
