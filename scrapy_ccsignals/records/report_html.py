"""The audit-log summary as one self-contained HTML page (inline CSS, SVG and plain
JavaScript; no network resources), for a crawl operator, and with ``--origin`` for the
owner of one site.

Sections: crawl facts; legend; flow of the crawl; totals; denials per family and layer,
robots.txt reasons, errors, licences; decisions over time; one row per origin, expandable
to its policy files and held-back URLs; a URL explorer (filter by origin, outcome and
family, text search). Every number in a chart is also in a table beside it, from the same
:class:`~scrapy_ccsignals.records.report.Tally` field. The URL lists are bounded by
``Summary.urls_per_outcome`` per origin and outcome, with the count of the rest.
"""

from __future__ import annotations

from collections import Counter

from scrapy_ccsignals.records.report import HELD_BACK, OUTCOMES, Summary, Tally, printable
from scrapy_ccsignals.records.report_assets import CSS, SCRIPT
from scrapy_ccsignals.records.report_svg import (
    STYLE,
    badge,
    bar_rows,
    esc,
    flow,
    patterns,
    swatch,
    timeline,
)
from scrapy_ccsignals.records.report_text import label, ranked
from scrapy_ccsignals.records.words import counted

MEANING = {
    "allowed": "fetched; no signal reserves the purpose, or one allows it",
    "conditional": "fetched and allowed because the crawl accepts the site's conditions "
    "(CC signals); its items carry them",
    "denied": "fetched, but a signal reserves the purpose: its items were dropped or tagged",
    "forbidden": "never requested: robots.txt disallows it for the crawler's token, "
    "robots.txt was unreachable, or the site is on one of the operator's exclusion lists",
    "error": "requested; the download failed",
    "ignored": "dropped before download by another Scrapy middleware (e.g. off-site)",
    "unchecked": "fetched with dont_obey_ccsignals: not evaluated",
}
_REQUEST_PARTS = ("forbidden", "error", "ignored")
_RESPONSE_PARTS = ("allowed", "conditional", "denied", "unchecked")
_FAMILY_OF = {"forbidden": "robots.txt", "error": "(download error)", "ignored": "(other)"}


def _t(text: object) -> str:
    """Log text for HTML: control characters shown, then escaped."""
    return esc(printable(str(text)))


def _header(summary: Summary) -> str:
    facts = summary.facts() if summary.crawls else {}

    def fact(name: str, key: str) -> str:
        values = facts.get(key)
        shown = ", ".join(values) if values else "not recorded"
        return f"<dt>{esc(name)}</dt><dd>{_t(shown)}</dd>"

    logs = "".join(
        f"<li><code>{_t(s)}</code> ({counted(n, 'line')})</li>" for s, n in summary.sources
    )
    period = f"{esc(summary.first_time)} to {esc(summary.last_time)}" if summary.first_time else "-"
    missing = (
        ""
        if summary.crawls
        else '<p class="note">These logs have no <code>crawl</code> start line (older '
        "versions of scrapy-ccsignals wrote none), so the crawl's settings are not known.</p>"
    )
    return (
        '<section id="facts"><h2>The crawl</h2><dl class="facts">'
        + fact("Spider", "spider")
        + fact("Robots.txt token", "token")
        + fact("User agent", "user_agent")
        + fact("Purpose", "purpose")
        + fact("Mode", "mode")
        + fact("Without signals", "default")
        + fact("Accepted conditions", "accept_conditions")
        + fact("Licences required", "licenses")
        + fact("Plugin version", "plugin")
        + f"<dt>Period</dt><dd>{period}</dd>"
        + f"<dt>Audit logs</dt><dd><ul>{logs}</ul>{counted(summary.lines, 'line')}, "
        f"{summary.bad_lines:,} unreadable, {counted(len(summary.origins), 'origin')}</dd>"
        + "</dl>"
        + missing
        + "</section>"
    )


def _legend() -> str:
    rows = "".join(f"<li>{badge(o)}: {esc(MEANING[o])}</li>" for o in OUTCOMES)
    return f'<section id="legend"><h2>What the colours mean</h2><ul class="legend">{rows}</ul></section>'


def _counts_table(tally: Tally, summary: Summary) -> str:
    """The totals the flow diagram draws, in the same order and with the same keys."""
    kept = summary.items_kept
    rows = [("requests", "neutral", tally.requests, "requests")]
    rows += [(o, o, tally.count(o), STYLE[o][2]) for o in _REQUEST_PARTS]
    rows.append(("fetched", "neutral", tally.fetched, "fetched"))
    rows += [(o, o, tally.count(o), STYLE[o][2]) for o in _RESPONSE_PARTS]
    body = "".join(
        f'<tr><th scope="row">{swatch(colour)} {esc(name)}</th>'
        f'<td class="num" data-key="{key}">{n}</td></tr>'
        for key, colour, n, name in rows
    )
    items = (
        f'<tr><th scope="row">{swatch("allowed")} items kept</th><td class="num" '
        f'data-key="items_kept">{"?" if kept is None else kept}</td></tr>'
        f'<tr><th scope="row">{swatch("denied")} items dropped</th><td class="num" '
        f'data-key="items_dropped">{tally.items_dropped}</td></tr>'
        f'<tr><th scope="row">{swatch("denied")} items tagged</th><td class="num" '
        f'data-key="items_tagged">{tally.items_tagged}</td></tr>'
    )
    return f'<table class="totals">{body}{items}</table>'


def _flow(tally: Tally, summary: Summary) -> str:
    kept = summary.items_kept or 0
    names = {"requests": "requests", "fetched": "fetched", "kept": "kept",
             "dropped": "dropped", "tagged": "tagged (kept, marked denied)"}  # fmt: skip
    diagram = flow(
        [(o, o, tally.count(o)) for o in _REQUEST_PARTS] + [("fetched", "neutral", tally.fetched)],
        [(o, o, tally.count(o)) for o in _RESPONSE_PARTS],
        [("kept", "allowed", kept), ("dropped", "denied", tally.items_dropped),
         ("tagged", "denied", tally.items_tagged)],
        names,
    )  # fmt: skip
    note = ""
    if summary.origin_filter:
        note = '<p class="note">Items kept are counted for the whole crawl, not per origin.</p>'
    elif summary.items_kept is None:
        note = '<p class="note">Items kept are not known: no <code>crawl</code> end line.</p>'

    return (
        '<section id="flow"><h2>Flow of the crawl</h2><div class="flowbox"><div>'
        f"{diagram}{note}</div>{_counts_table(tally, summary)}</div></section>"
    )


def _charts(tally: Tally) -> str:
    charts = [
        ("Denials per family", tally.denied_by_family, "denied", "family"),
        ("Denials per family and layer", tally.denied_by_layer, "denied", "layer"),
        (
            "Forbidden by robots.txt or an exclusion list, why",
            tally.forbidden_by,
            "forbidden",
            "forbidden",
        ),
        ("Download errors", tally.errors_by, "error", "errors"),
        ("Conditions accepted", tally.conditions, "conditional", "conditions"),
        ("Licences of fetched pages", tally.licenses, "licence", "licences"),
    ]
    return (
        '<section id="why"><h2>Why</h2><div class="charts">'
        + "".join(
            f'<figure data-chart="{key}"><figcaption>{esc(title)}</figcaption>'
            f"{bar_rows(Counter({printable(k): v for k, v in counter.items()}), outcome, key)}"
            "</figure>"
            for title, counter, outcome, key in charts
        )
        + "</div></section>"
    )


def _timeline(summary: Summary) -> str:
    width = summary.time_width
    for candidate in (19, 16, 13, 10):  # coarsen until the bars are readable
        if candidate > width:
            continue
        buckets = {b[:candidate] for b, _ in summary.timeline}
        width = candidate
        if len(buckets) <= 120:
            break
    grouped: dict[str, Counter[str]] = {}
    for (bucket, outcome), n in summary.timeline.items():
        grouped.setdefault(bucket[:width], Counter())[outcome] += n
    unit = {19: "second", 16: "minute", 13: "hour", 10: "day"}[width]
    svg = timeline(sorted(grouped.items()), OUTCOMES)
    return f'<section id="time"><h2>Decisions over time (per {unit}, UTC)</h2>{svg}</section>'


def _policy_cell(tally: Tally, kind: str) -> str:
    record = tally.policy_files.get(kind)
    if record is None:
        return "<td>-</td>"
    status = record.get("status")
    text = f"{record.get('outcome')}" + (f" ({status})" if status is not None else "")
    cached = " from store" if record.get("cached") else ""
    return f'<td title="{_t(record.get("url") or "")}">{_t(text)}{cached}</td>'


def _held_back_list(summary: Summary, origin: str, tally: Tally, limit: int) -> str:
    parts = []
    for outcome in HELD_BACK:
        total = tally.count(outcome)
        if not total:
            continue
        samples = summary.samples.get(origin, {}).get(outcome, [])[:limit]
        items = "".join(
            f"<li><code>{_t(s.url)}</code><br><span class=why>{_t('; '.join(s.reasons) or '-')}"
            "</span></li>"
            for s in samples
        )
        rest = total - len(samples)
        more = f'<li class="note">and {rest} more</li>' if rest else ""
        parts.append(f"<h4>{badge(outcome)} {total}</h4><ul class=urls>{items}{more}</ul>")
    return "".join(parts) or "<p>Nothing held back.</p>"


def _origins(summary: Summary, top: int, labels: dict[str, str] | None) -> str:
    origins = ranked(summary)
    shown = origins if summary.origin_filter else origins[:top]
    head = "".join(f"<th>{swatch(o)} {esc(STYLE[o][2])}</th>" for o in OUTCOMES)
    rows = []
    for i, (origin, t) in enumerate(shown):
        licences = ", ".join(f"{k} {v}" for k, v in t.licenses.most_common(3)) or "-"
        rsl = ", ".join(t.rsl) or "-"
        cells = "".join(f'<td class="num" data-key="{o}">{t.count(o)}</td>' for o in OUTCOMES)
        detail = (
            "<div class=detail><div><h4>Policy files</h4><ul>"
            + "".join(
                f"<li>{esc(kind)}: <code>{_t(r.get('url'))}</code> {_t(r.get('outcome'))} "
                f"(status {_t(r.get('status'))}, fetched {_t(r.get('fetched_at'))}"
                f"{', from the store' if r.get('cached') else ''}"
                f"{', ' + _t(r.get('detail')) if r.get('detail') else ''})</li>"
                for kind, r in sorted(t.policy_files.items())
            )
            + "</ul><h4>Denials per family and layer</h4><p>"
            + _t(", ".join(f"{k} {v}" for k, v in t.denied_by_layer.most_common()) or "-")
            + "</p><h4>Licences</h4><p>"
            + _t(", ".join(f"{k} {v}" for k, v in t.licenses.most_common()) or "-")
            + f'</p><button type="button" class="explore" data-origin="{_t(origin)}">'
            "Show its URLs in the URL explorer</button></div><div>"
            + _held_back_list(summary, origin, t, 10)
            + "</div></div>"
        )
        rows.append(
            f'<tr class="origin" data-origin="{_t(origin)}"><th scope="row">'
            f'<button type="button" class="toggle" aria-expanded="false" '
            f'aria-controls="o{i}">+</button> {_t(label(origin, labels))}</th>'
            f"<td class=num>{t.requests}</td>"
            + _policy_cell(t, "robots.txt")
            + _policy_cell(t, "tdmrep.json")
            + f"<td>{_t(rsl)}</td>{cells}<td>{_t(licences)}</td></tr>"
            f'<tr class="more" id="o{i}"><td colspan="{6 + len(OUTCOMES)}">{detail}</td></tr>'
        )
    title = (
        f"Origins (top {len(shown)} of {len(origins)} by requests)"
        if len(shown) < len(origins)
        else f"Origins ({len(origins)})"
    )
    return (
        f'<section id="origins"><h2>{esc(title)}</h2><p class="note">Click + for an '
        "origin's policy files and held-back URLs.</p><div class=scroll>"
        f'<table class="origins"><thead><tr><th>origin</th><th>requests</th><th>robots.txt</th>'
        f"<th>tdmrep.json</th><th>RSL</th>{head}<th>licences</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _explorer(summary: Summary, labels: dict[str, str] | None) -> str:
    rows: list[str] = []
    families: set[str] = set()
    listed = held = 0
    origin_names = []
    for origin, t in ranked(summary):
        held += sum(t.count(o) for o in HELD_BACK)
        per_outcome = summary.samples.get(origin)
        if not per_outcome:
            continue
        origin_names.append(origin)
        for outcome in HELD_BACK:
            samples = per_outcome.get(outcome, [])
            for s in samples:
                fams = s.families or [_FAMILY_OF.get(outcome, "?")]
                families.update(fams)
                rows.append(
                    f'<tr data-origin="{_t(origin)}" data-outcome="{outcome}" '
                    f'data-family="{_t(" ".join(fams))}"><td>{badge(outcome)}</td>'
                    f"<td><code>{_t(s.url)}</code></td><td>{_t(' '.join(fams))}</td>"
                    f"<td class=why>{_t('; '.join(s.reasons) or '-')}</td></tr>"
                )
            listed += len(samples)
            rest = t.count(outcome) - len(samples)
            if samples and rest > 0:
                rows.append(
                    f'<tr class="rest" data-origin="{_t(origin)}" data-outcome="{outcome}" '
                    f'data-family=""><td>{badge(outcome)}</td><td colspan=3 class=note>and {rest} '
                    f"more {esc(STYLE[outcome][2])} URLs of {_t(origin)} not listed "
                    "(<code>--origin</code> with <code>--urls N</code> lists more)</td></tr>"
                )
    unsampled = held - listed
    options = "".join(
        f'<option value="{_t(o)}">{_t(label(o, labels))}</option>' for o in origin_names
    )
    outcomes = "".join(f'<option value="{o}">{esc(STYLE[o][2])}</option>' for o in HELD_BACK)
    family_options = "".join(f'<option value="{_t(f)}">{_t(f)}</option>' for f in sorted(families))
    return (
        '<section id="explorer"><h2>Held-back URLs</h2>'
        f'<p class="note">{listed} of {held} forbidden, denied, failed and ignored URLs listed '
        f"(the first {summary.urls_per_outcome} per origin and outcome)"
        f"{'; ' + str(unsampled) + ' not listed' if unsampled else ''}.</p>"
        '<form class="filters" onsubmit="return false">'
        '<label>Origin <select id="f-origin"><option value="">all</option>'
        f"{options}</select></label>"
        '<label>Outcome <select id="f-outcome"><option value="">all</option>'
        f"{outcomes}</select></label>"
        '<label>Family <select id="f-family"><option value="">all</option>'
        f"{family_options}</select></label>"
        '<label>Search <input id="f-text" type="search" placeholder="URL or reason"></label>'
        '<output id="f-count"></output></form>'
        '<div class=scroll><table id="urls"><thead><tr><th>outcome</th><th>URL</th>'
        "<th>family</th><th>reason</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def render_html(summary: Summary, top: int = 20, labels: dict[str, str] | None = None) -> str:
    """The whole page; *labels* names origins (e.g. the example's sites)."""
    tally = summary.overall
    if summary.origin_filter:
        title = f"What a crawl did on {printable(summary.origin_filter)}"
        intro = (
            "<p>This page lists every request the crawl below made to this site, what it "
            "did with each page, and which signal decided it. Requests forbidden by "
            "robots.txt were never sent; denied pages were fetched and their content "
            "held back from the dataset.</p>"
        )
    else:
        title, intro = "scrapy-ccsignals crawl report", ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"{patterns()}<h1>{esc(title)}</h1>{intro}"
        + _header(summary)
        + _legend()
        + _flow(tally, summary)
        + _charts(tally)
        + _timeline(summary)
        + _origins(summary, top, labels)
        + _explorer(summary, labels)
        + f"<script>{SCRIPT}</script></body></html>"
    )
