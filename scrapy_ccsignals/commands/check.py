"""``scrapy ccsignals-check URL``: fetch one URL the way the plugin would and explain it.

Exit code 0 when the content may be used for the purpose, 1 when it is denied (or robots.txt
forbids fetching it), 2 on errors.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from w3lib.url import is_url

from scrapy_ccsignals.downloadermiddleware import ForbiddenByRobots
from scrapy_ccsignals.extension import CCSignalsExtension
from scrapy_ccsignals.policy.origin import origin_of

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
        self.result["record"] = response.meta.get("ccsignals")

    def failed(self, failure: Failure) -> None:
        self.result["error"] = failure.value


def _policy_lines(record: dict[str, Any] | None, crawler: Any, url: str) -> list[str]:
    lines = []
    policies = record["policies"] if record else []
    if not policies and crawler is not None:
        origin = origin_of(url)
        policy = CCSignalsExtension.of(crawler).fetcher.cached(origin) if origin else None
        if policy is not None:
            policies = [policy.robots_record.as_dict(), policy.tdmrep_record.as_dict()]
    for p in policies:
        detail = f" ({p['detail']})" if p.get("detail") else ""
        lines.append(f"  {p['kind']:<12} {p['url']}  status {p['status']}  {p['outcome']}{detail}")
    return lines


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

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1 or not is_url(args[0]):
            raise UsageError("give one http(s) URL")
        url = args[0]
        result: dict[str, Any] = {}
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(_CheckSpider)
        self.crawler_process.crawl(crawler, url=url, result=result)
        self.crawler_process.start()
        record = result.get("record")
        error = result.get("error")
        if opts.json:
            json.dump(record or {"url": url, "error": repr(error)}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            self._print(url, record, error, crawler)
        if record is not None:
            self.exitcode = 0 if record["decision"] == "allow" else 1
        elif isinstance(error, ForbiddenByRobots):
            self.exitcode = 1
        else:
            self.exitcode = 2

    def _print(self, url: str, record: dict[str, Any] | None, error: Any, crawler: Any) -> None:
        out = [f"URL: {url}", "Policy files:", *_policy_lines(record, crawler, url)]
        if record is None:
            out.append(f"Not fetched: {error}")
            if isinstance(error, ForbiddenByRobots):
                out.append("Decision: FORBIDDEN (access gate)")
            print("\n".join(out))
            return
        out.append(f"Response: {record['status']} {record['content_type'] or '-'}")
        out.append("Signals:")
        for s in record["signals"] or []:
            out.append(
                f"  [{s['family']}] {s['layer']:<11} {s['effect']:<11} {s['value']}  <- {s['raw']}"
            )
        if not record["signals"]:
            out.append("  none")
        lic = record["license"]
        out.append(
            f"Licence: {lic['id'] or lic['url']} ({lic['source']})"
            if lic
            else "Licence: none found"
        )
        decision = record["decision"].upper()
        conditions = (
            f" with conditions {', '.join(record['conditions'])}" if record["conditions"] else ""
        )
        out.append(f"Decision: {decision} for {record['purpose']}{conditions}")
        out.extend(f"  - {reason}" for reason in record["reasons"])
        print("\n".join(out))
