"""The audit-log summary as text for a terminal: crawl facts, a table per origin and
overall, and one line per breakdown. Every string that came from a server or a log goes
through :func:`~scrapy_ccsignals.records.report.printable` (issue 14 item 11)."""

from __future__ import annotations

from collections import Counter
from typing import IO

from scrapy_ccsignals.records.report import Summary, Tally, printable
from scrapy_ccsignals.records.words import counted

#: (Tally attribute, column header); allowed + with conditions + denied + unchecked = fetched,
#: fetched + forbidden + ignored + errors = requests.
COLUMNS = [
    ("requests", "requests"),
    ("forbidden", "forbidden"),
    ("errors", "errors"),
    ("ignored", "ignored (other)"),
    ("fetched", "fetched"),
    ("allowed", "allowed"),
    ("allowed_with_conditions", "with conditions"),
    ("denied", "denied"),
    ("unchecked", "unchecked"),
    ("items_dropped", "items dropped"),
    ("items_tagged", "items tagged"),
]


def counter_line(counter: Counter[str]) -> str:
    return printable(", ".join(f"{k} {v}" for k, v in counter.most_common()) or "-")


def label(origin: str, labels: dict[str, str] | None) -> str:
    return f"{labels[origin]} ({origin})" if labels and origin in labels else origin


def ranked(summary: Summary) -> list[tuple[str, Tally]]:
    """Origins, most requests first."""
    return sorted(summary.origins.items(), key=lambda kv: (-kv[1].requests, kv[0]))


def header_lines(summary: Summary) -> list[str]:
    """Where the numbers come from: logs, crawls, period."""
    logs = ", ".join(f"{printable(s)} ({counted(n, 'line')})" for s, n in summary.sources) or "-"
    total = f"; {counted(summary.lines, 'line')} in all" if len(summary.sources) > 1 else ""
    lines = [f"Audit log(s): {logs}{total} ({summary.bad_lines:,} unreadable)"]
    if summary.crawls_in_logs:
        held = counted(summary.crawls_in_logs, "crawl")
        chosen = "all" if summary.selected is None else printable(", ".join(summary.selected))
        lines.append(f"Crawl id: {chosen} (the logs hold {held})")
    if summary.origin_filter:
        lines.append(f"Origin: {printable(summary.origin_filter)}")
    if summary.crawls:
        facts = summary.facts()
        lines.append(
            f"Crawl: spider {printable(', '.join(facts['spider']))}, token "
            f"{printable(', '.join(facts['token']))}, purpose {', '.join(facts['purpose'])}, "
            f"mode {', '.join(facts['mode'])}, accepted conditions "
            f"{', '.join(facts['accept_conditions'])}, plugin {', '.join(facts['plugin'])}"
        )
        lines.append(f"User agent: {printable(' | '.join(facts['user_agent']))}")
    if summary.first_time:
        lines.append(f"Period: {summary.first_time} to {summary.last_time}")
    return lines


def render_text(
    summary: Summary, out: IO[str], top: int = 20, labels: dict[str, str] | None = None
) -> None:
    """The summary as a text table; *labels* names origins (e.g. the example's sites)."""
    overall = summary.overall
    for line in header_lines(summary):
        out.write(line + "\n")
    out.write("\n")
    headers = ["origin"] + [name for _, name in COLUMNS]
    rows = [["ALL"] + [str(getattr(overall, key)) for key, _ in COLUMNS]]
    origins = ranked(summary)
    for origin, tally in origins[:top]:
        rows.append(
            [printable(label(origin, labels))] + [str(getattr(tally, key)) for key, _ in COLUMNS]
        )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        out.write(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )
    if len(origins) > top:
        out.write(f"... and {len(origins) - top} more origins\n")
    out.write("\n")
    kept = summary.items_kept
    out.write(
        f"Items:                   kept {'?' if kept is None else kept}, "
        f"dropped {overall.items_dropped}, tagged {overall.items_tagged}\n"
    )
    out.write(f"Forbidden, why:          {counter_line(overall.forbidden_by)}\n")
    out.write(f"Errors:                  {counter_line(overall.errors_by)}\n")
    out.write(f"Denied per family:       {counter_line(overall.denied_by_family)}\n")
    out.write(f"Denied per layer:        {counter_line(overall.denied_by_layer)}\n")
    out.write(f"Conditions accepted:     {counter_line(overall.conditions)}\n")
    out.write(f"Licences:                {counter_line(overall.licenses)}\n")
    out.write(f"Policy files:            {counter_line(overall.policies)}\n")
    if summary.origin_filter:
        for origin, per_outcome in summary.samples.items():
            for outcome, samples in per_outcome.items():
                total = summary.origins[origin].count(outcome)
                out.write(f"\n{outcome} ({total}):\n")
                for sample in samples:
                    why = "; ".join(sample.reasons) or "-"
                    out.write(f"  {printable(sample.url)}\n      {printable(why)}\n")
                if total > len(samples):
                    out.write(f"  ... and {total - len(samples)} more\n")
