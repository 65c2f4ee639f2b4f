"""``python -m example_project``: start the demo web, crawl it with scrapy-ccsignals, write
``output/items.jsonl``, ``output/audit.jsonl`` and ``output/report.html`` (Scrapy's log to
``output/crawl.log``, so the terminal shows one progress line), print the report summary
and the crawl's warnings, saying which the demo provokes on purpose, and stop the demo web
(also when the crawl fails or is interrupted)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from scrapy_ccsignals.records.report import summarise_file
from scrapy_ccsignals.records.report_html import render_html
from scrapy_ccsignals.records.report_text import render_text
from scrapy_ccsignals.testing.server import TestServer

from . import demoweb

PROJECT_DIR = Path(__file__).resolve().parent


#: Warnings the demo web provokes on purpose: (text in the log line, why it is expected).
INTENDED_WARNINGS = [
    ("robots.txt at", "wiki-mirror's robots.txt answers 503: the origin is disallowed (RFC 9309)"),
]


def _show_warnings(log: Path) -> None:
    """List the crawl's warnings, saying which ones the demo web provokes on purpose."""
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    found = [line for line in lines if "] WARNING: " in line or "] ERROR: " in line]
    if not found:
        return
    print(f"\nWarnings and errors in the crawl log ({len(found)}):")
    for line in found:
        message = line.split("] ", 1)[-1]
        why = next((w for text, w in INTENDED_WARNINGS if text in message), None)
        print(f"  {'intended' if why else 'UNEXPECTED'}: {message[:160]}")
        if why:
            print(f"            ({why})")


def _site_by_site(audit: Path, sites: dict[str, str], purpose: str) -> None:
    """One entry per demo site: what it signals, and what the crawl did about it, read from
    the audit log (pages kept or held back and by which family, requests robots.txt
    forbade, pauses the site asked for)."""
    kept: Counter[str] = Counter()
    held: Counter[str] = Counter()
    families: defaultdict[str, Counter[str]] = defaultdict(Counter)
    forbidden: Counter[str] = Counter()
    paused: defaultdict[str, list[str]] = defaultdict(list)
    for line in audit.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        origin, stage, action = entry.get("origin"), entry.get("stage"), entry.get("action")
        if stage == "response" and action == "fetched":
            if entry.get("decision") == "deny":
                held[origin] += 1
                families[origin].update(entry.get("families") or [])
            else:
                kept[origin] += 1
        elif stage == "request" and entry.get("decision") == "forbidden":
            forbidden[origin] += 1
        elif stage == "backoff" and action == "paused":
            paused[origin].append(f"paused {entry['delay']:g} s after HTTP {entry['status']}")
    print(f"\nSite by site ({purpose}):")
    for name, url in sites.items():
        outcome = [f"{kept[url]} kept"]
        if held[url]:
            outcome.append(f"{held[url]} held back ({', '.join(sorted(families[url]))})")
        if forbidden[url]:
            outcome.append(f"{forbidden[url]} not requested (robots.txt)")
        outcome += paused[url]
        print(f"  {name:<15} {demoweb.ABOUT[name]}\n  {'':<15} -> {'; '.join(outcome)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_project", description=__doc__)
    parser.add_argument("--output", default="output", help="output folder (default: ./output)")
    parser.add_argument(
        "--purpose",
        default="train-ai",
        choices=("train-ai", "ai-input", "search"),
        help="what the crawl is for (CCSIGNALS_PURPOSE; default: train-ai)",
    )
    parser.add_argument(
        "--accept",
        default="cc-cr",
        help="conditions the crawl commits to, comma-separated (CCSIGNALS_ACCEPT_CONDITIONS; "
        "default: cc-cr; e.g. cc-cr,rsl-license)",
    )
    args = parser.parse_args(argv)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    items, audit, report = output / "items.jsonl", output / "audit.jsonl", output / "report.html"
    log = output / "crawl.log"
    evidence = output / "audit.warc.gz"  # beside the audit log (CCSIGNALS_EVIDENCE_WARC)
    for old in (audit, evidence, log):
        old.unlink(missing_ok=True)

    server = TestServer().start()
    try:
        sites = demoweb.start(server)
        print("Demo web on loopback:")
        for name, url in sites.items():
            print(f"  {name:<13} {url}/")
        crawl = subprocess.run(
            [
                sys.executable, "-m", "scrapy.cmdline", "crawl", "commons",
                "-a", "urls=" + ",".join(url + "/" for url in sites.values()),
                "-O", str(items),
                "-s", f"CCSIGNALS_AUDIT_LOG={audit}",
                "-s", f"CCSIGNALS_PURPOSE={args.purpose}",
                "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={args.accept}",
                # The terminal keeps the progress line; Scrapy's log goes to a file.
                "-s", f"LOG_FILE={log}", "-s", "LOG_LEVEL=INFO",
                "-s", "COMMONS_PROGRESS=True",
            ],
            cwd=PROJECT_DIR,
        )  # fmt: skip
        if crawl.returncode != 0:
            print(f"The crawl failed (exit code {crawl.returncode}); see {log}", file=sys.stderr)
            return crawl.returncode
        _show_warnings(log)
    except KeyboardInterrupt:
        print("\nInterrupted; stopping the demo web.", file=sys.stderr)
        return 130
    finally:
        server.stop()

    summary = summarise_file(str(audit))
    labels = {url: name for name, url in sites.items()}
    print()
    render_text(summary, sys.stdout, labels=labels)
    _site_by_site(audit, sites, args.purpose)
    report.write_text(render_html(summary, labels=labels), encoding="utf-8")
    paperwork = _dataset_paperwork(output, items, audit, args.accept)
    if paperwork is None:
        return 1
    print()
    width = max(len(label) for label, _, _ in paperwork)
    for label, path, what in [
        ("Dataset", items, "the items, each with its provenance record"),
        ("Audit log", audit, "one JSON line per decision: what was fetched, used, held back, why"),
        ("Evidence", evidence, "every policy document fetched, as WARC records provenance names"),
        ("Report", report, "open in a browser: what the crawl did with each site and why"),
        ("Crawl log", log, "Scrapy's log of the crawl"),
        *paperwork,
    ]:
        print(f"{label + ':':<{width + 2}} {path}\n{'':<{width + 2}} {what}")
    return 0


def _dataset_paperwork(
    output: Path, items: Path, audit: Path, accept: str
) -> list[tuple[str, Path, str]] | None:
    """Run the dataset commands on the crawl's output, as a user would, one step a line."""
    credits, card = output / "credits.md", output / "croissant.json"
    replayed = output / "replay.jsonl"
    summary, page = output / "summary.md", output / "crawler.html"
    steps = [
        (
            "replay of every decision from the evidence",
            [
                "ccsignals-replay", str(items), "--evidence", str(audit.with_name("audit.warc.gz")),
                "--details", str(replayed), "-s", f"CCSIGNALS_ACCEPT_CONDITIONS={accept}",
            ],
        ),
        ("credits", ["ccsignals-credits", str(items), "-o", str(credits)]),
        (
            "Croissant card",
            [
                "ccsignals-card", str(items), "--audit", str(audit), "-o", str(card),
                "--name", "commons-demo",
                "--description", "Pages and files of the scrapy-ccsignals demo web",
                "--url", "https://example.org/datasets/commons-demo",
            ],
        ),
        (
            "EU training-content summary",
            [
                "ccsignals-summary", str(audit), "-o", str(summary),
                "--crawler-page", str(page), "--contact", "bots@example.org",
                "--data-use", "Pages and files kept are published as the commons-demo dataset "
                "for training language models; each item keeps its provenance record.",
            ],
        ),
    ]  # fmt: skip
    print()
    for n, (name, args) in enumerate(steps, 1):
        print(f"[{n}/{len(steps)}] {name} ...", end="", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "scrapy.cmdline", *args],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(
                f" failed (exit code {done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}",
                file=sys.stderr,
            )
            return None
        print(" done")
    return [
        (
            "Replay",
            replayed,
            "each item's decision made again offline from the evidence: all reproduced",
        ),
        (
            "Credits",
            credits,
            "what CC signals' Credit asks: collections, licences, a line per work",
        ),
        ("Croissant card", card, "the dataset's description (Croissant 1.1, with RAI fields)"),
        (
            "Summary",
            summary,
            "the crawl's part of the EU AI Act public summary of training content",
        ),
        (
            "Crawler page",
            page,
            "the public page describing the crawler: who it is, how to block it, what it honours",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
