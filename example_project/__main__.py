"""``python -m example_project``: start the demo web, crawl it with scrapy-ccsignals, write
``output/items.jsonl``, ``output/audit.jsonl`` and ``output/report.html``, print the report
summary, and stop the demo web (also when the crawl fails or is interrupted)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from scrapy_ccsignals.records.report import summarise_file
from scrapy_ccsignals.records.report_html import render_html
from scrapy_ccsignals.records.report_text import render_text
from scrapy_ccsignals.testing.server import TestServer

from . import demoweb

PROJECT_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_project", description=__doc__)
    parser.add_argument("--output", default="output", help="output folder (default: ./output)")
    args = parser.parse_args(argv)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    items, audit, report = output / "items.jsonl", output / "audit.jsonl", output / "report.html"
    audit.unlink(missing_ok=True)

    server = TestServer().start()
    try:
        sites = demoweb.start(server)
        print("Demo web on 127.0.0.1:")
        for name, url in sites.items():
            print(f"  {name:<13} {url}/")
        crawl = subprocess.run(
            [
                sys.executable, "-m", "scrapy.cmdline", "crawl", "commons",
                "-a", "urls=" + ",".join(url + "/" for url in sites.values()),
                "-O", str(items),
                "-s", f"CCSIGNALS_AUDIT_LOG={audit}",
            ],
            cwd=PROJECT_DIR,
        )  # fmt: skip
        if crawl.returncode != 0:
            print(f"The crawl failed (exit code {crawl.returncode}).", file=sys.stderr)
            return crawl.returncode
    except KeyboardInterrupt:
        print("\nInterrupted; stopping the demo web.", file=sys.stderr)
        return 130
    finally:
        server.stop()

    summary = summarise_file(str(audit))
    labels = {url: name for name, url in sites.items()}
    print()
    render_text(summary, sys.stdout, labels=labels)
    report.write_text(render_html(summary, labels=labels), encoding="utf-8")
    print(f"\nDataset:   {items}\nAudit log: {audit}\nReport:    {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
