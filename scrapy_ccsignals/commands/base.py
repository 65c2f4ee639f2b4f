"""What the commands that only read files (report, credits, card, summary) share: no
project, no crawler, no log; inputs given as paths or globs, plain or gzip; one line naming
an input that is missing or of the wrong kind (exit code 2); the choice of crawl in audit
logs that hold several (``--crawl ID``, ``--all-crawls``, else the latest, said on stderr)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from scrapy_ccsignals.records.crawls import CrawlError, Selection, select_crawls
from scrapy_ccsignals.records.inputs import (
    AUDIT,
    ITEMS,
    STDIN,
    InputError,
    expand_paths,
    sniff_kind,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace
    from collections.abc import Iterable, Iterator

#: What each kind of input is, for the line that says which one a command expected.
EXPECTED = {
    AUDIT: "an audit log (the JSON lines CCSIGNALS_AUDIT_LOG writes, e.g. "
    "audit/<spider>-<time>.jsonl)",
    ITEMS: "an items feed (the items a crawl exported, e.g. with -O items.jsonl)",
}
WHAT = {AUDIT: "an audit log", ITEMS: "an items feed"}


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Standard output to a reader that may stop early (``| head``): what it did not read
    is dropped quietly, instead of a ``BrokenPipeError`` traceback at exit."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's advice: point stdout at devnull so the flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class FileCommand(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}
    #: the command's name in error lines, e.g. "ccsignals-credits"
    name = "ccsignals"

    def __init__(self) -> None:
        super().__init__()
        self._spool: tempfile._TemporaryFileWrapper[bytes] | None = None

    def run(self, args: list[str], opts: Namespace) -> None:
        try:
            with reader_may_leave():
                self.main(args, opts)
        finally:
            if self._spool is not None:
                self._spool.close()

    def main(self, args: list[str], opts: Namespace) -> None:
        """The command itself; its standard output may go to a reader that stops early."""
        raise NotImplementedError

    def fail(self, message: str) -> None:
        """One line on stderr, exit code 2."""
        print(f"{self.name}: {message}", file=sys.stderr)
        self.exitcode = 2

    def inputs_missing(self, paths: Iterable[str]) -> bool:
        """True (and exit code 2, one line on stderr) when an input file does not exist;
        ``-`` is standard input."""
        try:
            expand_paths(paths)
        except InputError as exc:
            self.fail(str(exc))
            return True
        return False

    def inputs(self, patterns: list[str], kind: str) -> list[str] | None:
        """The files *patterns* name (globs expanded, ``-`` spooled so it can be read more
        than once), each checked to be of *kind*; None (exit code 2, one line) when one is
        missing or of the other kind."""
        try:
            paths = expand_paths(patterns)
        except InputError as exc:
            self.fail(str(exc))
            return None
        if STDIN in paths:
            paths[paths.index(STDIN)] = self._spooled_stdin()
        for path in paths:
            found = sniff_kind(path)
            if found in WHAT and found != kind:
                shown = "standard input" if self._is_spool(path) else path
                self.fail(f"{shown} is {WHAT[found]}; expected {EXPECTED[kind]}")
                return None
        return paths

    def shown(self, path: str) -> str:
        """A path as the user gave it (``-`` for spooled standard input)."""
        return STDIN if self._is_spool(path) else path

    def _is_spool(self, path: str) -> bool:
        return self._spool is not None and path == self._spool.name

    def _spooled_stdin(self) -> str:
        self._spool = tempfile.NamedTemporaryFile(prefix="ccsignals-stdin-")  # noqa: SIM115
        shutil.copyfileobj(sys.stdin.buffer, self._spool)
        self._spool.flush()
        return self._spool.name

    @staticmethod
    def add_crawl_options(parser: ArgumentParser) -> None:
        parser.add_argument(
            "--crawl",
            metavar="ID",
            help="the crawl to report on, by its id (default: the latest in the logs)",
        )
        parser.add_argument(
            "--all-crawls",
            action="store_true",
            help="report on every crawl in the logs together",
        )

    def select(self, paths: list[str], opts: Namespace) -> Selection | None:
        """The crawls to report on; says on stderr how many the logs hold and which one is
        used. None (exit code 2) for an unknown ``--crawl``."""
        if opts.crawl and opts.all_crawls:
            self.fail("give --crawl ID or --all-crawls, not both")
            return None
        try:
            selection = select_crawls(paths, opts.crawl, opts.all_crawls)
        except CrawlError as exc:
            self.fail(str(exc))
            return None
        print(f"{self.name}: {selection.notice()}", file=sys.stderr)
        return selection
