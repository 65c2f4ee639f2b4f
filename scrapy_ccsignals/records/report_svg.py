"""Inline SVG for the HTML report: outcome patterns, the flow diagram, bar rows and the
timeline. No scripts and no network resources.

One colour per outcome on the whole page, from the Okabe-Ito palette (safe for the
common colour-vision deficiencies), each with its own hatching so that the outcomes stay
apart in greyscale too, and every mark is labelled with its name and count in text.
"""

from __future__ import annotations

import html
from collections import Counter

#: outcome -> (colour, hatching, label, ink for text on it)
STYLE: dict[str, tuple[str, str, str]] = {
    "allowed": ("#0072B2", "", "allowed"),
    "conditional": ("#56B4E9", "stripes", "allowed with conditions"),
    "denied": ("#D55E00", "hatch", "denied"),
    "forbidden": ("#CC79A7", "cross", "forbidden by robots.txt"),
    "error": ("#E69F00", "dots", "error"),
    "ignored": ("#999999", "horizontal", "ignored (other middleware)"),
    "unchecked": ("#F0E442", "vertical", "fetched, not checked"),
    "neutral": ("#d9d9d9", "", "all"),  # totals: light and plain, unlike any outcome
    "licence": ("#3d3d3d", "", "licence"),
}

_HATCH = {
    "": "",
    "stripes": '<path d="M0 8L8 0" stroke="#fff" stroke-width="2"/>',
    "hatch": '<path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="#000" stroke-width="1.3"/>',
    "cross": '<path d="M0 0L8 8M8 0L0 8" stroke="#000" stroke-width="1"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="#000"/>',
    "horizontal": '<path d="M0 4H8" stroke="#000" stroke-width="1"/>',
    "vertical": '<path d="M4 0V8" stroke="#000" stroke-width="1"/>',
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fill(outcome: str) -> str:
    return f"url(#p-{outcome})"


def patterns() -> str:
    """The shared ``<defs>``: one pattern per outcome, referenced as ``url(#p-NAME)``."""
    defs = "".join(
        f'<pattern id="p-{name}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{colour}"/>{_HATCH[hatch]}</pattern>'
        for name, (colour, hatch, _) in STYLE.items()
    )
    return f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>{defs}</defs></svg>'


def swatch(outcome: str) -> str:
    return (
        f'<svg class="sw" width="14" height="14" aria-hidden="true"><rect width="14" height="14" '
        f'fill="{fill(outcome)}" stroke="#000" stroke-width="1"/></svg>'
    )


def badge(outcome: str) -> str:
    return f'<span class="badge">{swatch(outcome)}{esc(STYLE[outcome][2])}</span>'


def bar_rows(counter: Counter[str], outcome: str, key: str, top: int = 12) -> str:
    """A bar chart as table rows, so long labels wrap: label, bar, count."""
    items = counter.most_common(top)
    if not items:
        return '<p class="empty">none</p>'
    peak = max(v for _, v in items) or 1
    rows = []
    for name, value in items:
        width = max(0.5, 100 * value / peak)
        rows.append(
            f'<tr><th scope="row" title="{esc(name)}">{esc(name)}</th>'
            f'<td class="barcell"><svg class="bar" width="100%" height="16" role="img" '
            f'aria-label="{esc(name)}: {value}"><rect class="barrect" data-chart="{esc(key)}" '
            f'data-label="{esc(name)}" data-count="{value}" width="{width:.1f}%" height="16" '
            f'fill="{fill(outcome)}" stroke="#000" stroke-width="1"><title>{esc(name)}: {value}'
            f"</title></rect></svg></td><td class=num>{value}</td></tr>"
        )
    rest = sum(counter.values()) - sum(v for _, v in items)
    more = (
        f'<p class="note">and {rest} more in {len(counter) - len(items)} other rows</p>'
        if rest
        else ""
    )
    return f'<table class="bars">{"".join(rows)}</table>{more}'


def _column(
    x: float, top: float, height: float, parts: list[tuple[str, str, int]], total: int
) -> list[tuple[str, str, int, float, float]]:
    """Stack *parts* (key, outcome, count) in a column; returns (key, outcome, n, y0, y1)."""
    shown = [p for p in parts if p[2] > 0]
    gap = 6.0
    usable = height - gap * max(0, len(shown) - 1)
    out = []
    y = top
    for key, outcome, n in shown:
        h = max(3.0, usable * n / (total or 1))
        out.append((key, outcome, n, y, y + h))
        y += h + gap
    return out


def _band(x0: float, a0: float, a1: float, x1: float, b0: float, b1: float, outcome: str) -> str:
    mid = (x0 + x1) / 2
    return (
        f'<path class="band" d="M{x0:.1f} {a0:.1f}C{mid:.1f} {a0:.1f} {mid:.1f} {b0:.1f} '
        f"{x1:.1f} {b0:.1f}L{x1:.1f} {b1:.1f}C{mid:.1f} {b1:.1f} {mid:.1f} {a1:.1f} "
        f'{x0:.1f} {a1:.1f}Z" fill="{fill(outcome)}" opacity="0.35"/>'
    )


def _nodes(
    x: float, column: list[tuple[str, str, int, float, float]], names: dict[str, str]
) -> str:
    parts = []
    last = -100.0
    for key, outcome, n, y0, y1 in column:
        label_y = max((y0 + y1) / 2 + 4, last + 15)
        last = label_y
        name = names.get(key, STYLE.get(key, ("", "", key))[2])
        parts.append(
            f'<rect class="seg" data-key="{esc(key)}" data-count="{n}" x="{x}" y="{y0:.1f}" '
            f'width="18" height="{y1 - y0:.1f}" fill="{fill(outcome)}" stroke="#000">'
            f"<title>{esc(name)}: {n}</title></rect>"
            f'<text class="halo" x="{x + 24}" y="{label_y:.1f}">{esc(name)} <tspan '
            f'font-weight="700">{n}</tspan></text>'
        )
    return "".join(parts)


def flow(
    requests: list[tuple[str, str, int]],
    responses: list[tuple[str, str, int]],
    items: list[tuple[str, str, int]],
    names: dict[str, str],
) -> str:
    """Requests -> outcomes of the request -> decisions on the fetched responses, and the
    items beside them. Each part is (key, outcome colour, count)."""
    height, top = 230.0, 30.0
    total = sum(n for _, _, n in requests)
    xs = (10.0, 250.0, 510.0, 790.0)
    col_a = _column(xs[0], top, height, [("requests", "neutral", total)], total)
    col_b = _column(xs[1], top, height, requests, total)
    fetched = next((c for c in col_b if c[0] == "fetched"), None)
    fetched_n = sum(n for _, _, n in responses)
    col_c = _column(xs[2], top, height, responses, fetched_n)
    items_n = sum(n for _, _, n in items)
    col_d = _column(xs[3], top, height, items, items_n)
    bands = []
    y = top
    for _key, outcome, n, y0, y1 in col_b:  # requests -> their outcomes
        h = height * n / (total or 1)
        bands.append(_band(xs[0] + 18, y, y + h, xs[1], y0, y1, outcome))
        y += h
    if fetched is not None:
        y = fetched[3]
        span = fetched[4] - fetched[3]
        for _key, outcome, n, y0, y1 in col_c:  # fetched -> decisions
            h = span * n / (fetched_n or 1)
            bands.append(_band(xs[1] + 18, y, y + h, xs[2], y0, y1, outcome))
            y += h
    heads = [
        (xs[0], "Requests"),
        (xs[1], "Request outcome"),
        (xs[2], "Decision on the response"),
        (xs[3], "Items"),
    ]
    head = "".join(f'<text class="head" x="{x}" y="16">{esc(t)}</text>' for x, t in heads)
    body = (
        "".join(bands)
        + _nodes(xs[0], col_a, names)
        + _nodes(xs[1], col_b, names)
        + _nodes(xs[2], col_c, names)
        + (
            _nodes(xs[3], col_d, names)
            if col_d
            else f'<text x="{xs[3]}" y="{top + 14}">none</text>'
        )
    )
    return (
        f'<svg class="flow" viewBox="0 0 1000 {height + top + 20:.0f}" width="100%" role="img" '
        f'aria-labelledby="flow-title"><title id="flow-title">Flow of the crawl</title>'
        f"{head}{body}</svg>"
    )


def timeline(buckets: list[tuple[str, Counter[str]]], outcomes: tuple[str, ...]) -> str:
    """Stacked columns, one per time bucket, in outcome order."""
    if not buckets:
        return '<p class="empty">no timed lines</p>'
    peak = max(sum(c.values()) for _, c in buckets) or 1
    width, height, left = 900.0, 160.0, 40.0
    step = width / len(buckets)
    bar = max(1.0, min(28.0, step * 0.8))
    parts = [
        f'<text x="{left - 6}" y="14" text-anchor="end">{peak}</text>'
        f'<text x="{left - 6}" y="{height + 4}" text-anchor="end">0</text>'
        f'<line x1="{left}" y1="{height}" x2="{left + width}" y2="{height}" stroke="#000"/>'
    ]
    for i, (bucket, counts) in enumerate(buckets):
        x = left + i * step
        y = height
        for outcome in outcomes:
            n = counts.get(outcome, 0)
            if not n:
                continue
            h = (height - 10) * n / peak
            y -= h
            parts.append(
                f'<rect class="tick" data-key="{outcome}" data-count="{n}" x="{x:.1f}" '
                f'y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{fill(outcome)}">'
                f"<title>{esc(bucket)} {esc(STYLE[outcome][2])}: {n}</title></rect>"
            )
    first, last = buckets[0][0], buckets[-1][0]
    parts.append(f'<text x="{left}" y="{height + 18}">{esc(first)}</text>')
    if last != first:
        parts.append(
            f'<text x="{left + width}" y="{height + 18}" text-anchor="end">{esc(last)}</text>'
        )
    return (
        f'<svg class="timeline" viewBox="0 0 {left + width + 10:.0f} {height + 26:.0f}" '
        f'width="100%" role="img" aria-label="Decisions over time">{"".join(parts)}</svg>'
    )
