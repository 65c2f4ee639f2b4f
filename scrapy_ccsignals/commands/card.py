"""``scrapy ccsignals-card ITEMS... --audit AUDIT... -o croissant.json``: a Croissant 1.1
description of the dataset with its Responsible-AI fields."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from scrapy_ccsignals import __version__
from scrapy_ccsignals.commands.base import FileCommand
from scrapy_ccsignals.records.card import build_card, read_dataset
from scrapy_ccsignals.records.feeds import Progress
from scrapy_ccsignals.records.inputs import AUDIT, ITEMS
from scrapy_ccsignals.records.summary import read_audit
from scrapy_ccsignals.records.words import counted

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from scrapy_ccsignals.records.report import Summary


def crawl_name(summary: Summary, items: list[str]) -> str:
    """The dataset's default name: the crawl's (its spider's) name, else the first feed's."""
    spiders = [s for s in summary.facts().get("spider", []) if s != "-"] if summary.crawls else []
    if spiders:
        return ", ".join(spiders)
    first = Path(items[0]).name
    return first.split(".", 1)[0] or first


class Command(FileCommand):
    name = "ccsignals-card"

    def syntax(self) -> str:
        return "[options] <items.jsonl> [...] --audit <audit.jsonl> [...] -o croissant.json"

    def short_desc(self) -> str:
        return "Write a Croissant 1.1 dataset card (with RAI fields) from items and audit logs"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        self.add_crawl_options(parser)
        parser.add_argument("--audit", nargs="+", default=[], metavar="AUDIT", required=True)
        parser.add_argument("-o", "--output", metavar="FILE", required=True)
        parser.add_argument(
            "--name", default="", help="dataset name (default: the crawl's spider name)"
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--url", default="", help="the dataset's web page")
        parser.add_argument(
            "--license", action="append", default=[], help="the dataset's licence URL (repeatable)"
        )
        parser.add_argument("--field", default="ccsignals", help="the provenance field")

    def main(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one item feed file")
        items = self.inputs(args, ITEMS)
        if items is None:
            return
        audit = self.inputs(opts.audit, AUDIT)
        if audit is None:
            return
        selection = self.select(audit, opts)
        if selection is None:
            return
        dataset = read_dataset(items, opts.field, Progress("ccsignals-card: items"))
        summary, _ = read_audit(
            audit, Progress("ccsignals-card: audit", unit="lines"), selection=selection
        )
        out = Path(opts.output)
        card = build_card(
            dataset,
            summary,
            name=opts.name or crawl_name(summary, items),
            description=opts.description,
            url=opts.url,
            license=opts.license,
            base_dir=os.path.dirname(os.path.abspath(out)),
            field_name=opts.field,
            plugin=__version__,
        )
        out.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(
            f"Croissant card for {counted(dataset.read.items, 'item')} written to {opts.output}",
            file=sys.stderr,
        )
