"""``scrapy ccsignals-credits ITEMS...``: the credits a dataset owes its sources."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapy_ccsignals.records.credits import FORMATS, write_credits
from scrapy_ccsignals.records.feeds import Progress

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options] <items.jsonl> [<items.csv> ...]"

    def short_desc(self) -> str:
        return "Write the credits (collections, licences, attribution lines) of a dataset"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", choices=FORMATS, default="md", help="default: md")
        parser.add_argument("-o", "--output", metavar="FILE", help="write here (default stdout)")
        parser.add_argument(
            "--field", default="ccsignals", help="the items' provenance field (default ccsignals)"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one item feed file")
        missing = [path for path in args if not Path(path).is_file()]
        if missing:
            print(f"ccsignals-credits: no such file: {missing[0]}", file=sys.stderr)
            self.exitcode = 2
            return
        progress = Progress("ccsignals-credits")
        if opts.output:
            with open(opts.output, "w", encoding="utf-8", newline="") as out:
                credits = write_credits(args, out, opts.format, opts.field, progress)
            print(
                f"Credits for {credits.credited:,} works from {len(credits.collections):,} "
                f"collections written to {opts.output}",
                file=sys.stderr,
            )
        else:
            write_credits(args, sys.stdout, opts.format, opts.field, progress)
