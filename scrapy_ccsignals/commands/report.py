"""``scrapy ccsignals-report AUDIT.jsonl``: summarise a crawl's audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapy_ccsignals.records.report import render_html, render_text, summarise_file

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options] <audit.jsonl>"

    def short_desc(self) -> str:
        return "Summarise a scrapy-ccsignals audit log"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--html", metavar="FILE", help="also write a self-contained HTML report"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--top", type=int, default=20, help="origins to list (default 20)")

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one audit log path")
        path = args[0]
        if not Path(path).is_file():
            print(f"ccsignals-report: no such file: {path}", file=sys.stderr)
            self.exitcode = 2
            return
        summary = summarise_file(path)
        if opts.json:
            json.dump(summary.as_dict(), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            render_text(summary, sys.stdout, top=opts.top)
        if opts.html:
            Path(opts.html).write_text(render_html(summary, path, top=opts.top), encoding="utf-8")
            if not opts.json:
                print(f"\nHTML report written to {opts.html}")
