"""``scrapy ccsignals-report AUDIT.jsonl [AUDIT2.jsonl.gz 'audit/*.jsonl' ...|-]``:
summarise audit logs, merged (one per worker of a distributed crawl, rotated parts, plain or
gzip; ``-`` reads standard input), for the latest crawl they hold unless told otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from scrapy_ccsignals.commands.base import FileCommand
from scrapy_ccsignals.records.inputs import AUDIT
from scrapy_ccsignals.records.report import normalise_origin, summarise_files
from scrapy_ccsignals.records.report_html import render_html
from scrapy_ccsignals.records.report_text import render_text

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


class Command(FileCommand):
    name = "ccsignals-report"

    def syntax(self) -> str:
        return "[options] <audit.jsonl[.gz]|glob> [...]   (- reads standard input)"

    def short_desc(self) -> str:
        return "Summarise scrapy-ccsignals audit logs"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        self.add_crawl_options(parser)
        parser.add_argument(
            "--html", metavar="FILE", help="also write a self-contained HTML report"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--top", type=int, default=20, help="origins to list (default 20)")
        parser.add_argument(
            "--origin", metavar="URL", help="report on one origin only (for its owner)"
        )
        parser.add_argument(
            "--urls",
            type=int,
            metavar="N",
            help="held-back URLs listed per origin and outcome (default 25; 1000 with --origin)",
        )

    def main(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give one or more audit log paths (- for standard input)")
        if args.count("-") > 1:
            raise UsageError("- (standard input) can be given once")
        if opts.origin:
            try:
                normalise_origin(opts.origin)
            except ValueError as exc:
                raise UsageError(f"--origin: {exc}") from None
        paths = self.inputs(args, AUDIT)
        if paths is None:
            return
        selection = self.select(paths, opts)
        if selection is None:
            return
        urls = opts.urls if opts.urls is not None else (1000 if opts.origin else 25)
        summary = summarise_files(
            paths, origin=opts.origin, urls_per_outcome=max(0, urls), selection=selection
        )
        summary.sources = [(self.shown(path), n) for path, n in summary.sources]
        if opts.json:
            json.dump(summary.as_dict(), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            render_text(summary, sys.stdout, top=opts.top)
        if opts.html:
            Path(opts.html).write_text(render_html(summary, top=opts.top), encoding="utf-8")
            if not opts.json:
                print(f"\nHTML report written to {opts.html}")
