"""``scrapy ccsignals-credits ITEMS...``: the credits a dataset owes its sources."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from scrapy_ccsignals.commands.base import FileCommand
from scrapy_ccsignals.records.credits import FORMATS, write_credits
from scrapy_ccsignals.records.feeds import Progress
from scrapy_ccsignals.records.inputs import ITEMS
from scrapy_ccsignals.records.words import counted

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace


class Command(FileCommand):
    name = "ccsignals-credits"

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

    def main(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one item feed file")
        paths = self.inputs(args, ITEMS)
        if paths is None:
            return
        progress = Progress("ccsignals-credits")
        if opts.output:
            with open(opts.output, "w", encoding="utf-8", newline="") as out:
                credits = write_credits(paths, out, opts.format, opts.field, progress)
            print(
                f"Credits for {counted(credits.credited, 'work')} from "
                f"{counted(len(credits.collections), 'collection')} written to {opts.output}",
                file=sys.stderr,
            )
        else:
            write_credits(paths, sys.stdout, opts.format, opts.field, progress)
