"""What the commands that only read files (report, credits, card, summary) share: no
project, no crawler, no log, and one line naming a missing input file (exit code 2)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from scrapy.commands import ScrapyCommand


class FileCommand(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}
    #: the command's name in error lines, e.g. "ccsignals-credits"
    name = "ccsignals"

    def inputs_missing(self, paths: Iterable[str]) -> bool:
        """True (and exit code 2, one line on stderr) when an input file does not exist;
        ``-`` is standard input."""
        for path in paths:
            if path != "-" and not Path(path).is_file():
                print(f"{self.name}: no such file: {path}", file=sys.stderr)
                self.exitcode = 2
                return True
        return False
