"""``scrapy ccsignals-replay ITEMS... --evidence WARC... [--purpose P] [--accept C]``:
re-decide every item of a crawled dataset offline, from its provenance and the evidence
archive (no network).

Without ``--purpose`` and ``--accept`` it checks that each recorded decision is reproduced
(exit 0; mismatches and undecidable items listed, exit 1). With either, it answers "which of
these items may be used for P (committing to C)": the kept items' ids go to ``-o`` and a
per-origin table to stdout (and ``--origins`` as CSV). Items are read one at a time; memory
grows with origins and the archive's index, not with items.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy.exceptions import UsageError

from scrapy_ccsignals.commands.base import FileCommand
from scrapy_ccsignals.config import PURPOSES, Config, ConfigError
from scrapy_ccsignals.gate.replay import Replayed, Replayer, replay_items
from scrapy_ccsignals.policy.parse import PolicyParser
from scrapy_ccsignals.records.feeds import FeedStats, Progress
from scrapy_ccsignals.records.inputs import ITEMS, STDIN, InputError, expand_paths
from scrapy_ccsignals.records.report import printable
from scrapy_ccsignals.records.warc import EvidenceError, EvidenceReader

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
    from scrapy_ccsignals.policy.store import StoredPolicy

#: Mismatched or undecidable items listed on stdout (all of them go to ``--details``).
MAX_LISTED = 50
MAX_ORIGINS_SHOWN = 20
COLUMNS = ("items", "allow", "deny", "forbidden", "undecidable")


class _QuietHost:
    """What the crawl's policy parser reports to (stats, warnings, the audit log): nothing,
    offline."""

    crawler: Any = None
    evidence: Any = None

    def __init__(self, cfg: Config):
        self.cfg = cfg

    def inc(self, key: str, count: int = 1) -> None:
        pass

    def warn_once(self, origin: str, kind: str, msg: str, *args: Any) -> None:
        pass

    def audit_policy(self, origin: str, record: PolicyRecord) -> None:
        pass


def build_policy(cfg: Config, origin: str, stored: StoredPolicy) -> OriginPolicy:
    """The origin's policy from its archived files, by the crawl's own parser."""
    return PolicyParser(_QuietHost(cfg)).stored_policy(origin, stored, cached=True)


class Command(FileCommand):
    name = "ccsignals-replay"
    requires_project = False

    def syntax(self) -> str:
        return "[options] <items file> [...] --evidence <archive.warc.gz> [...]"

    def short_desc(self) -> str:
        return "Re-decide crawled items offline from their provenance and the WARC evidence"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--evidence",
            metavar="WARC",
            nargs="+",
            action="extend",
            default=[],
            help="the crawl's evidence archive(s) (CCSIGNALS_EVIDENCE_WARC)",
        )
        parser.add_argument(
            "--purpose", choices=PURPOSES, help="decide for this purpose instead of the crawl's"
        )
        parser.add_argument(
            "--accept",
            metavar="CONDITIONS",
            help="conditions to commit to, comma-separated (instead of CCSIGNALS_ACCEPT_CONDITIONS)",
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="the kept items' ids (JSON lines)"
        )
        parser.add_argument("--origins", metavar="FILE", help="the per-origin table as CSV")
        parser.add_argument(
            "--details", metavar="FILE", help="every item's replay, one JSON line each"
        )
        parser.add_argument(
            "--field", default=None, help="the provenance field (CCSIGNALS_ITEM_FIELD)"
        )

    def main(self, args: list[str], opts: Namespace) -> None:
        if not args:
            raise UsageError("give at least one items file")
        if not opts.evidence:
            raise UsageError("give the evidence archive(s) with --evidence")
        if STDIN in opts.evidence:
            # Records are read back by their offset: the archive must be a file.
            self.fail("--evidence cannot be standard input (-): give the WARC file's path")
            return
        try:
            evidence_paths = expand_paths(opts.evidence)
        except InputError as exc:
            self.fail(str(exc))
            return
        paths = self.inputs(args, ITEMS)
        if paths is None:
            return
        try:
            evidence = EvidenceReader(evidence_paths)
        except EvidenceError as exc:
            self.fail(str(exc))
            return
        try:
            self.exitcode = self._run(paths, opts, evidence)
        except ConfigError as exc:
            self.fail(str(exc))
        finally:
            evidence.close()

    def _config(self, opts: Namespace) -> Config:
        assert self.settings is not None
        if opts.purpose:
            self.settings.set("CCSIGNALS_PURPOSE", opts.purpose, priority="cmdline")
        if opts.accept is not None:
            accept = [c for c in re.split(r"[,\s]+", opts.accept) if c]
            self.settings.set("CCSIGNALS_ACCEPT_CONDITIONS", accept, priority="cmdline")
        if not self.settings.get("USER_AGENT"):
            self.settings.set("USER_AGENT", "ccsignals-replay", priority="cmdline")
        return Config.from_settings(self.settings)

    def _run(self, paths: list[str], opts: Namespace, evidence: EvidenceReader) -> int:
        base = self._config(opts)
        question = bool(opts.purpose or opts.accept is not None)
        field_name = opts.field or base.item_field
        replayers: dict[tuple[str, str], Replayer] = {}

        def replayer(record: dict[str, Any] | None) -> Replayer:
            # The crawl's token picked its robots.txt group; the crawl's purpose is what the
            # recorded decision answered (unless a question names another).
            agent = (record or {}).get("agent") or {}
            token = str(agent.get("token") or base.token)
            purpose = (
                base.purpose if question else str((record or {}).get("purpose") or base.purpose)
            )
            if purpose not in PURPOSES:
                purpose = base.purpose
            key = (token, purpose)
            found = replayers.get(key)
            if found is None:
                # From the settings again, not a copy of *base*: some settings take their
                # default from the purpose (CCSIGNALS_CONTENT_USE).
                assert self.settings is not None
                settings = self.settings.copy()
                settings.set("CCSIGNALS_PURPOSE", purpose, priority="cmdline")
                settings.set("CCSIGNALS_USER_AGENT", token, priority="cmdline")
                cfg = Config.from_settings(settings)
                found = replayers[key] = Replayer(cfg, evidence, build_policy)
            return found

        kept_out = _open(opts.output)
        details_out = _open(opts.details)

        def write(
            index: int, path: str, url: Any, record: Any, replayed: Replayed, status: str
        ) -> None:
            if kept_out is not None and replayed.kept:
                kept_out.write(
                    json.dumps(
                        {
                            "item": index,
                            "file": self.shown(path),
                            "url": url,
                            "sha256": (record or {}).get("sha256"),
                            "conditions": list(replayed.conditions),
                        }
                    )
                    + "\n"
                )
            if details_out is not None:
                details_out.write(
                    json.dumps(
                        {
                            "item": index,
                            "url": url,
                            "status": status,
                            "recorded": (record or {}).get("decision"),
                            "decision": replayed.decision,
                            "conditions": list(replayed.conditions),
                            "reasons": list(replayed.reasons),
                            "basis": replayed.basis,
                        }
                    )
                    + "\n"
                )

        try:
            run = replay_items(
                paths, field_name, replayer, question, write, Progress(f"{self.name}: replayed")
            )
        finally:
            for handle in (kept_out, details_out):
                if handle is not None:
                    handle.close()
        totals, per_origin = run.totals, run.per_origin
        listed = [_line(*entry) for entry in run.listed]
        stats = run.feed
        if opts.origins:
            _write_origins(opts.origins, per_origin)
        self._print(totals, per_origin, listed, question, base, stats, len(evidence))
        if question:
            return 0
        return 0 if totals["status reproduced"] == totals["items"] else 1

    def _print(
        self,
        totals: Counter[str],
        per_origin: dict[str, Counter[str]],
        listed: list[str],
        question: bool,
        cfg: Config,
        stats: FeedStats,
        records: int,
    ) -> None:
        out = sys.stdout
        out.write(f"Evidence: {records:,} response records\n")
        if question:
            accept = ", ".join(sorted(cfg.accept_conditions)) or "none"
            out.write(
                f"Question: which items may be used for {cfg.purpose} (accepting {accept})\n"
                f"Items: {totals['items']:,}; may be used {totals['allow']:,}; denied "
                f"{totals['deny']:,}; forbidden {totals['forbidden']:,}; undecidable "
                f"{totals['undecidable']:,}\n"
            )
        else:
            out.write(
                f"Items: {totals['items']:,}; decision reproduced {totals['status reproduced']:,}; "
                f"mismatched {totals['status mismatch']:,}; undecidable "
                f"{totals['undecidable']:,}\n"
            )
        if stats.bad:
            out.write(f"Entries that are not items: {stats.bad:,}\n")
        if listed:
            out.write("Not reproduced:\n" if not question else "Undecidable:\n")
            out.write("\n".join(listed) + "\n")
        _render_table(out, per_origin)


def _line(index: int, url: Any, record: Any, replayed: Replayed, status: str) -> str:
    recorded = (record or {}).get("decision")
    why = "; ".join(replayed.reasons)[:300]
    return printable(
        f"  item {index} {url}: {status}; recorded {recorded}, replayed "
        f"{replayed.decision or '-'} ({why})"
    )


def _render_table(out: IO[str], per_origin: dict[str, Counter[str]]) -> None:
    rows = sorted(per_origin.items(), key=lambda kv: (-kv[1]["items"], kv[0]))
    headers = ["origin", *COLUMNS]
    table = [headers] + [
        [printable(origin)] + [str(c[k]) for k in COLUMNS] for origin, c in rows[:MAX_ORIGINS_SHOWN]
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    out.write("\n")
    for row in table:
        out.write(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )
    if len(rows) > MAX_ORIGINS_SHOWN:
        out.write(f"... and {len(rows) - MAX_ORIGINS_SHOWN:,} more origins\n")


def _write_origins(path: str, per_origin: dict[str, Counter[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["origin", *COLUMNS])
        for origin, counts in sorted(per_origin.items()):
            writer.writerow([origin, *(counts[k] for k in COLUMNS)])


def _open(path: str | None) -> IO[str] | None:
    if not path:
        return None
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"{path}: its folder does not exist")
    return open(path, "w", encoding="utf-8")
