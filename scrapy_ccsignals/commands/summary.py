"""``scrapy ccsignals-summary AUDIT... -o summary.md``: the crawl's part of the EU AI Act
public summary of training content, and the crawler's public page."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from scrapy_ccsignals.commands.base import FileCommand
from scrapy_ccsignals.records.crawler_page import render_crawler_page
from scrapy_ccsignals.records.feeds import Progress
from scrapy_ccsignals.records.inputs import AUDIT
from scrapy_ccsignals.records.summary import Crawler, read_audit, render_summary

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


class Command(FileCommand):
    name = "ccsignals-summary"

    def syntax(self) -> str:
        return "[options] <audit.jsonl[.gz]|glob> [...]"

    def short_desc(self) -> str:
        return "Write the crawl's part of the EU AI Act training-content summary"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        self.add_crawl_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="Markdown file (default stdout)")
        parser.add_argument(
            "--crawler-page", metavar="FILE", help="also write a public HTML page about the crawler"
        )
        parser.add_argument("--user-agent", default="", help="the crawl's USER_AGENT")
        parser.add_argument("--token", default="", help="its robots.txt product token")
        parser.add_argument("--purpose", default="", help="what the crawl is for")
        parser.add_argument("--contact", default="", help="contact for site owners (page)")
        parser.add_argument("--data-use", default="", help="how the crawled data is used (page)")
        parser.add_argument(
            "--exemption",
            action="append",
            default=[],
            metavar="TEXT",
            help="an exemption from the crawler best practices, with its reason (page; repeat)",
        )
        parser.add_argument(
            "--client-ranges",
            default="",
            metavar="URL",
            help="URL of the crawler's IP ranges (page)",
        )
        parser.add_argument(
            "--rendered", action="store_true", help="the crawler renders pages (runs JavaScript)"
        )

    def main(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one audit log")
        paths = self.inputs(args, AUDIT)
        if paths is None:
            return
        selection = self.select(paths, opts)
        if selection is None:
            return
        summary, facts = read_audit(
            paths, Progress("ccsignals-summary", unit="lines"), selection=selection
        )
        token = opts.token
        if not token and opts.user_agent:
            from scrapy_ccsignals.config import product_token

            token = product_token(opts.user_agent)
        crawler = Crawler.from_summary(
            summary,
            user_agent=opts.user_agent,
            token=token,
            purpose=opts.purpose,
            contact=opts.contact,
            data_use=opts.data_use,
            exemptions=tuple(opts.exemption),
            client_ranges=opts.client_ranges,
            rendered=opts.rendered,
        )
        if opts.output:
            with open(opts.output, "w", encoding="utf-8") as out:
                render_summary(summary, facts, crawler, out)
            print(f"Summary written to {opts.output}", file=sys.stderr)
        else:
            render_summary(summary, facts, crawler, sys.stdout)
        if opts.crawler_page:
            Path(opts.crawler_page).write_text(render_crawler_page(crawler), encoding="utf-8")
            print(f"Crawler page written to {opts.crawler_page}", file=sys.stderr)
