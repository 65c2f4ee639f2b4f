"""Summarise an audit log: streamed line by line, so a multi-gigabyte log costs memory in
proportion to its number of origins, not its size.

Renders the summary as a text table, JSON, or one self-contained HTML page (inline CSS
and SVG charts, no network resources).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any


@dataclass
class Tally:
    """Counts for one origin, or for the whole log."""

    requests: int = 0
    fetched: int = 0
    forbidden: int = 0
    ignored: int = 0  # dropped by another middleware (e.g. OffsiteMiddleware)
    errors: int = 0
    allowed: int = 0
    denied: int = 0
    allowed_with_conditions: int = 0
    items_dropped: int = 0
    items_tagged: int = 0
    forbidden_by: Counter[str] = field(default_factory=Counter)
    denied_by_family: Counter[str] = field(default_factory=Counter)
    conditions: Counter[str] = field(default_factory=Counter)
    licenses: Counter[str] = field(default_factory=Counter)
    policies: Counter[str] = field(default_factory=Counter)

    def add(self, line: dict[str, Any]) -> None:
        stage, action = line.get("stage"), line.get("action")
        if stage == "policy":
            policy = line.get("policy") or {}
            self.policies[f"{policy.get('kind', '?')} {policy.get('outcome', '?')}"] += 1
        elif stage == "request" and action == "dropped" and line.get("decision") == "forbidden":
            self.requests += 1
            self.forbidden += 1
            reasons = line.get("reasons") or ["?"]
            self.forbidden_by[str(reasons[0]).split(":", 1)[0]] += 1
        elif stage == "request" and action == "dropped":
            self.requests += 1
            self.ignored += 1
        elif stage == "request" and action == "error":
            self.requests += 1
            self.errors += 1
        elif stage == "response":
            self.requests += 1
            self.fetched += 1
            decision = line.get("decision")
            if decision == "deny":
                self.denied += 1
                for family in line.get("families") or ["?"]:
                    self.denied_by_family[family] += 1
            elif decision == "allow":
                self.allowed += 1
                if line.get("conditions"):
                    self.allowed_with_conditions += 1
                    for condition in line["conditions"]:
                        self.conditions[condition] += 1
            lic = line.get("license") or {}
            self.licenses[lic.get("id") or lic.get("url") or "none"] += 1
        elif stage == "item":
            if action == "dropped":
                self.items_dropped += 1
            elif action == "tagged":
                self.items_tagged += 1

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key, value in data.items():
            if isinstance(value, Counter):
                data[key] = dict(value.most_common())
        return data


@dataclass
class Summary:
    lines: int = 0
    bad_lines: int = 0
    overall: Tally = field(default_factory=Tally)
    origins: dict[str, Tally] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "bad_lines": self.bad_lines,
            "overall": self.overall.as_dict(),
            "origins": {o: t.as_dict() for o, t in sorted(self.origins.items())},
        }


def summarise(lines: Iterable[str | bytes]) -> Summary:
    """Fold audit log lines into a :class:`Summary`; unreadable lines are counted."""
    summary = Summary()
    for raw in lines:
        if not raw.strip():
            continue
        summary.lines += 1
        try:
            line = json.loads(raw)
        except ValueError:
            summary.bad_lines += 1
            continue
        if not isinstance(line, dict):
            summary.bad_lines += 1
            continue
        summary.overall.add(line)
        origin = line.get("origin") or "?"
        tally = summary.origins.get(origin)
        if tally is None:
            tally = summary.origins[origin] = Tally()
        tally.add(line)
    return summary


def summarise_file(path: str) -> Summary:
    with open(path, "rb") as handle:  # iterating a file streams it line by line
        return summarise(handle)


_COLUMNS = [
    ("requests", "requests"),
    ("fetched", "fetched"),
    ("forbidden", "forbidden (robots.txt)"),
    ("ignored", "ignored (other)"),
    ("errors", "errors"),
    ("allowed", "allowed"),
    ("allowed_with_conditions", "with conditions"),
    ("denied", "denied"),
    ("items_dropped", "items dropped"),
    ("items_tagged", "items tagged"),
]


def _counter_line(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "-"


def _label(origin: str, labels: dict[str, str] | None) -> str:
    return f"{labels[origin]} ({origin})" if labels and origin in labels else origin


def render_text(
    summary: Summary, out: IO[str], top: int = 20, labels: dict[str, str] | None = None
) -> None:
    """The summary as a text table; *labels* names origins (e.g. the example's sites)."""
    overall = summary.overall
    out.write(f"Audit log: {summary.lines} lines ({summary.bad_lines} unreadable)\n\n")
    headers = ["origin"] + [label for _, label in _COLUMNS]
    rows = [["ALL"] + [str(getattr(overall, key)) for key, _ in _COLUMNS]]
    ranked = sorted(summary.origins.items(), key=lambda kv: (-kv[1].requests, kv[0]))
    for origin, tally in ranked[:top]:
        rows.append([_label(origin, labels)] + [str(getattr(tally, key)) for key, _ in _COLUMNS])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        out.write(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            + "\n"
        )
    if len(ranked) > top:
        out.write(f"... and {len(ranked) - top} more origins\n")
    out.write("\n")
    out.write(f"Forbidden by robots.txt: {_counter_line(overall.forbidden_by)}\n")
    out.write(f"Denied per family:       {_counter_line(overall.denied_by_family)}\n")
    out.write(f"Conditions accepted:     {_counter_line(overall.conditions)}\n")
    out.write(f"Licences:                {_counter_line(overall.licenses)}\n")
    out.write(f"Policy files:            {_counter_line(overall.policies)}\n")


def _bar_chart(title: str, counter: Counter[str], top: int = 10) -> str:
    items = counter.most_common(top)
    if not items:
        return f'<figure><figcaption>{html.escape(title)}</figcaption><p class="empty">none</p></figure>'
    peak = max(v for _, v in items) or 1
    bar_h, gap, label_w, chart_w = 22, 6, 260, 360
    height = len(items) * (bar_h + gap)
    parts = [
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg class="chart" width="{label_w + chart_w + 80}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">'
    ]
    for i, (label, value) in enumerate(items):
        y = i * (bar_h + gap)
        width = max(1, round(chart_w * value / peak))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{html.escape(label[:40])}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{width}" height="{bar_h}">'
            f"<title>{html.escape(label)}: {value}</title></rect>"
            f'<text x="{label_w + width + 6}" y="{y + 16}">{value}</text>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def _table(rows: list[tuple[str, Tally]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in _COLUMNS)
    body = []
    for name, tally in rows:
        cells = "".join(f"<td>{getattr(tally, key)}</td>" for key, _ in _COLUMNS)
        body.append(f"<tr><th scope=row>{html.escape(name)}</th>{cells}</tr>")
    return f"<table><thead><tr><th>origin</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd}
td{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#f3f3f3}
.charts{display:flex;flex-wrap:wrap;gap:2rem}figure{margin:0}figcaption{font-weight:600;margin:.5rem 0}
.bar{fill:#3b6ea5}svg text{font-size:12px;fill:#1d1d1f}.empty{color:#777}
"""

_RENDER_CHECK = """
<script>
// Lets a headless browser confirm the charts have laid out (counted into a data attribute).
document.addEventListener('DOMContentLoaded', function () {
  var bars = Array.prototype.filter.call(document.querySelectorAll('rect.bar'),
    function (r) { return r.getBBox().width > 0; });
  document.body.setAttribute('data-rendered-bars', String(bars.length));
});
</script>
"""


def render_html(
    summary: Summary, source: str, top: int = 20, labels: dict[str, str] | None = None
) -> str:
    overall = summary.overall
    denials = Counter(
        {_label(o, labels): t.denied + t.forbidden for o, t in summary.origins.items()}
    )
    denials = +denials  # drop zero counts
    ranked = sorted(summary.origins.items(), key=lambda kv: (-kv[1].requests, kv[0]))
    decisions = Counter(
        {"allowed": overall.allowed - overall.allowed_with_conditions,
         "allowed with conditions": overall.allowed_with_conditions,
         "denied (use)": overall.denied, "forbidden (robots.txt)": overall.forbidden,
         "errors": overall.errors}
    )  # fmt: skip
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>scrapy-ccsignals crawl report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>scrapy-ccsignals crawl report</h1>"
        f"<p>Audit log <code>{html.escape(source)}</code>: {summary.lines} lines, "
        f"{summary.bad_lines} unreadable, {len(summary.origins)} origins.</p>"
        "<h2>Overall</h2>"
        + _table([("ALL", overall)])
        + "<h2>Charts</h2><div class=charts>"
        + _bar_chart("Decisions", +decisions)
        + _bar_chart("Denials per family", overall.denied_by_family)
        + _bar_chart("Forbidden by robots.txt", overall.forbidden_by)
        + _bar_chart("Licences", overall.licenses)
        + _bar_chart("Top origins by denials", denials)
        + "</div>"
        + f"<h2>Origins (top {min(top, len(ranked))} of {len(ranked)} by requests)</h2>"
        + _table([(_label(o, labels), t) for o, t in ranked[:top]])
        + _RENDER_CHECK
        + "</body></html>"
    )


def summary_from_stats(stats: dict[str, Any]) -> str:
    """The report's headline counts, from a crawl's ``ccsignals/...`` stats, for the
    end-of-crawl INFO block."""

    def get(key: str) -> int:
        return int(stats.get(key, 0))

    def group(prefix: str) -> str:
        found = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        return ", ".join(f"{k} {v}" for k, v in sorted(found.items(), key=lambda kv: -kv[1])) or "-"

    allowed, denied = get("ccsignals/responses/allow"), get("ccsignals/responses/deny")
    return "\n".join(
        [
            f"  requests forbidden by robots.txt: {get('ccsignals/forbidden/robots.txt')} "
            f"(disallowed {get('ccsignals/forbidden/robots.txt/disallowed')}, "
            f"unreachable {get('ccsignals/forbidden/robots.txt/unreachable')})",
            f"  responses checked: {allowed + denied} (allowed {allowed}, with conditions "
            f"{get('ccsignals/responses/allow_conditional')}, denied {denied})",
            f"  denied per family: {group('ccsignals/deny/')}",
            f"  items: passed {get('ccsignals/items/passed')}, dropped {get('ccsignals/items/dropped')}, "
            f"tagged {get('ccsignals/items/tagged_deny')}, without provenance field "
            f"{get('ccsignals/items/field_missing')}",
            f"  licences: {group('ccsignals/licenses/')}",
            f"  robots.txt: {group('ccsignals/robots/')}",
            f"  tdmrep.json: {group('ccsignals/tdmrep/')}",
            f"  policies: fetched {get('ccsignals/policy/fetched')}, from store "
            f"{get('ccsignals/policy/store_hit')}",
        ]
    )
