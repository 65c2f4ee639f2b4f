"""The use gate: every family's signals for one response, gathered layer by layer
(origin: robots.txt and tdmrep.json; response headers; content: the HTML page; the file's
own metadata), then combined and decided. No I/O: the response's facts
(:class:`~.facts.ResponseFacts`), the origin's policy and the RSL documents already fetched
come in; signals, licence and decision go out. Each layer is one small function; the rules
of each family live in its own module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy_ccsignals.gate.decision import Decision, decide
from scrapy_ccsignals.gate.facts import SIGNAL_HEADERS, ResponseFacts, is_html, scan_page
from scrapy_ccsignals.policy.origin import OriginPolicy
from scrapy_ccsignals.signals import htmlscan as html_meta
from scrapy_ccsignals.signals import rsl
from scrapy_ccsignals.signals.aipref import preference_signals
from scrapy_ccsignals.signals.assets import (
    asset_licenses,
    asset_signals,
    asset_tdm_statement,
)
from scrapy_ccsignals.signals.base import (
    DENY,
    LAYER_HEADER,
    LAYER_HTML,
    LAYER_ROBOTS,
    Signal,
)
from scrapy_ccsignals.signals.c2pa import c2pa_signals
from scrapy_ccsignals.signals.content_signal import header_signals
from scrapy_ccsignals.signals.license import (
    License,
    choose_license,
    jsonld_licenses,
    license_signals,
    link_header_licenses,
    make_license,
)
from scrapy_ccsignals.signals.noai import directives, noai_signals, x_robots_directives
from scrapy_ccsignals.signals.tdmrep import (
    TdmStatement,
    reservation_value,
    tdmrep_signals,
)

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config

__all__ = [
    "SIGNAL_HEADERS",
    "Evaluation",
    "ResponseFacts",
    "evaluate",
    "is_html",
    "rsl_urls",
    "scan_page",
]

_NONE: tuple[str, ...] = ()


#: Signals kept per family and layer of one response; past it, distinct ones only, and
#: one of each verdict first, so the decision is the one all of them give.
MAX_SIGNALS = 16


@dataclass(frozen=True, slots=True, init=False)
class Evaluation:
    signals: list[Signal]
    license: License | None
    decision: Decision
    #: further provenance fields this response has: ``rsl`` (the terms of each RSL licence
    #: that matched), ``asset`` (file metadata read), ``c2pa`` (manifest read)
    extra: dict[str, Any] = field(default_factory=dict)
    #: (family, layer) -> signals left out past :data:`MAX_SIGNALS`
    truncated: dict[tuple[str, str], int] = field(default_factory=dict)

    def __init__(
        self,
        signals: list[Signal],
        license: License | None,
        decision: Decision,
        extra: dict[str, Any] | None = None,
        truncated: dict[tuple[str, str], int] | None = None,
    ) -> None:
        # As Signal's (signals/base.py): the slots' setters, not object.__setattr__.
        _set_signals(self, signals)
        _set_license(self, license)
        _set_decision(self, decision)
        _set_extra(self, {} if extra is None else extra)
        _set_truncated(self, {} if truncated is None else truncated)


_set_signals, _set_license, _set_decision, _set_extra, _set_truncated = (
    Evaluation.__dict__[name].__set__
    for name in ("signals", "license", "decision", "extra", "truncated")
)


def _absolute(base: str, href: str) -> str:
    return href if href.startswith(_ABSOLUTE) else urljoin(base, href)


class _Gathered:
    """What the layers found so far, in layer order."""

    __slots__ = ("extra", "licenses", "signals", "tdm")

    def __init__(self) -> None:
        self.signals: list[Signal] = []
        self.licenses: list[License] = []
        self.tdm: list[TdmStatement] = []
        self.extra: dict[str, Any] = {}


def rsl_urls(facts: ResponseFacts, policy: OriginPolicy | None) -> list[str]:
    """The RSL licences this response points at (robots.txt ``License:``, ``Link``
    headers, ``<link rel="license" type="application/rsl+xml">``), which must be fetched
    before :func:`evaluate` can read them."""
    urls: list[str] = []
    if policy is not None:
        urls += policy.rsl_urls
    for value in facts.headers.get("link", _NONE):
        urls += rsl.rsl_link_urls(value, facts.url)
    if facts.page is not None:
        urls += [
            _absolute(facts.url, href)
            for _, href, kind, _ in facts.page.licenses
            if rsl.is_rsl_type(kind)
        ]
    return list(dict.fromkeys(urls))


def evaluate(
    cfg: Config,
    facts: ResponseFacts,
    policy: OriginPolicy | None,
    documents: Mapping[str, rsl.RslDocument] | None = None,
) -> Evaluation:
    """Signals, licence and decision for one response: each layer in turn, then the
    combine step. *documents* are the parsed RSL licences of :func:`rsl_urls`, by URL.
    Layers with nothing to read are skipped: most responses carry no signal at all."""
    found = _Gathered()
    if policy is not None:
        if not facts.access_checked:
            _access_layer(facts, policy, found)
        _origin_layer(cfg, facts, policy, found)
    if facts.headers:
        _header_layer(cfg, facts, found)
    if facts.page is not None:
        _content_layer(cfg, facts, facts.page, found)
    if facts.asset is not None or facts.c2pa is not None:
        _file_layer(cfg, facts, found)
    return _combine(cfg, facts, found, documents)


def _access_layer(facts: ResponseFacts, policy: OriginPolicy, found: _Gathered) -> None:
    """A response the access gate has not checked: the access gate checked the request's
    URL, and one that arrives under another URL (a handler that follows redirects itself,
    a middleware that answers for the download) is checked here, or its content would
    pass unchecked."""
    if policy.robots.can_fetch(facts.url, facts.path):
        return
    found.signals.append(
        Signal(
            "robots",
            LAYER_ROBOTS,
            policy.robots_url,
            DENY,
            f"robots.txt (group {policy.robots.group!r}, outcome {policy.robots.outcome}) "
            "disallows the response URL, which reached the downloader without the access gate",
        )
    )


def _origin_layer(
    cfg: Config, facts: ResponseFacts, policy: OriginPolicy, found: _Gathered
) -> None:
    """robots.txt: the usage lines of the matched group (Content-Usage, Content-Signal,
    Dis/AllowAITraining) as one path-scoped set, the longest path across families
    (draft-ietf-aipref-attach section 4.2; rulebook r3: :mod:`usage_lines`), and RSL
    ``License:`` lines; then tdmrep.json: the first matching entry (TDMRep section 3.2)."""
    path = facts.path
    # Made once per origin, when the policy was parsed; per page only the path is matched.
    if policy.robots.extensions or policy.robots.usage_lines_dropped:
        usage = policy.usage_lines(cfg.purpose, cfg.aipref_legacy, cfg.content_use)
        found.signals += usage.signals_for(path)
    if policy.licenses:
        found.licenses += policy.licenses
    statement = policy.tdmrep_for(path)
    if statement is not None:
        found.tdm.append(statement)


def _header_layer(cfg: Config, facts: ResponseFacts, found: _Gathered) -> None:
    """The signal headers: Content-Usage, Content-Signal, TDM-Reservation/TDM-Policy,
    X-Robots-Tag and licence ``Link`` headers."""
    url, headers, purpose = facts.url, facts.headers, cfg.purpose
    for value in headers.get("content-usage", _NONE):
        found.signals += preference_signals(
            value, purpose, LAYER_HEADER, url, f"Content-Usage: {value}", legacy=cfg.aipref_legacy
        )
    content_signal = headers.get("content-signal", _NONE)
    if content_signal:
        found.signals += header_signals(content_signal, purpose, url, cfg.content_use)
    reservations = headers.get("tdm-reservation", _NONE)
    policies = headers.get("tdm-policy", _NONE)
    if reservations or policies:
        value = reservations[-1] if reservations else ""
        raw = "; ".join(f"tdm-reservation: {v}" for v in reservations)
        raw += "".join(f"; tdm-policy: {v}" for v in policies)
        found.tdm.append(
            TdmStatement(
                LAYER_HEADER, url, reservation_value(value), policies[-1] if policies else None, raw
            )
        )
    for value in headers.get("x-robots-tag", _NONE):
        found.signals += noai_signals(
            x_robots_directives(value, cfg.token),
            purpose,
            facts.is_image,
            LAYER_HEADER,
            url,
            f"X-Robots-Tag: {value}",
            noarchive_is_noai=cfg.noarchive_is_noai,
        )
    for value in headers.get("link", _NONE):
        for href, kind in link_header_licenses(value):
            found.licenses.append(
                make_license(_absolute(url, href), "header Link", value, rsl=rsl.is_rsl_type(kind))
            )


def _content_layer(
    cfg: Config, facts: ResponseFacts, page: html_meta.HtmlMeta, found: _Gathered
) -> None:
    """The HTML page: ``<meta http-equiv>`` counts as the header; ``<meta name>``
    (TDMRep, robots and our token); then its licences."""
    url, purpose = facts.url, cfg.purpose
    for name, content, tag in page.http_equiv:
        if name == "content-usage":
            found.signals += preference_signals(
                content,
                purpose,
                LAYER_HTML,
                url,
                html_meta.decode_text(tag),
                legacy=cfg.aipref_legacy,
            )
    reservation: str | None = None
    tdm_policy: str | None = None
    raw: list[str] = []
    token = cfg.token.lower()
    for name, content, tag in page.names:
        if name == "tdm-reservation":
            reservation = content
            raw.append(html_meta.decode_text(tag))
        elif name == "tdm-policy":
            tdm_policy = content
            raw.append(html_meta.decode_text(tag))
        elif name in ("robots", token):
            found.signals += noai_signals(
                directives(content),
                purpose,
                facts.is_image,
                LAYER_HTML,
                url,
                html_meta.decode_text(tag),
                noarchive_is_noai=cfg.noarchive_is_noai,
            )
    if reservation is not None or tdm_policy is not None:
        found.tdm.append(
            TdmStatement(LAYER_HTML, url, reservation_value(reservation), tdm_policy, " ".join(raw))
        )
    _html_licences(url, page, found)


def _html_licences(url: str, page: html_meta.HtmlMeta, found: _Gathered) -> None:
    """The page's licence links (``<link>``, ``<a>``, ``<meta property>``) and JSON-LD
    licences (a licence a site's template repeats is kept: :func:`make_license`)."""
    for how, href, kind, text in page.licenses:
        found.licenses.append(
            make_license(_absolute(url, href), f"html {how}", text, rsl=rsl.is_rsl_type(kind))
        )
    for block in page.jsonld:
        for href in jsonld_licenses(block):
            found.licenses.append(make_license(_absolute(url, href), "html JSON-LD", href))


_ABSOLUTE = ("https://", "http://")


def _file_layer(cfg: Config, facts: ResponseFacts, found: _Gathered) -> None:
    """The file's own metadata (SIGNALS.md, Asset metadata): XMP/IPTC, PDF and EPUB
    TDMRep (the cascade's content-metadata layer), licences, C2PA manifests."""
    asset, c2pa = facts.asset, facts.c2pa
    if asset is not None and asset.status != "unsupported":
        found.extra["asset"] = asset.as_dict()
        found.signals += asset_signals(asset, cfg.purpose, facts.url)
        statement = asset_tdm_statement(asset, facts.url)
        if statement is not None:
            found.tdm.append(statement)
        found.licenses += asset_licenses(asset)
    if c2pa is not None:
        found.extra["c2pa"] = c2pa.as_dict()
        found.signals += c2pa_signals(c2pa, cfg.purpose, facts.url)


def _combine(
    cfg: Config,
    facts: ResponseFacts,
    found: _Gathered,
    documents: Mapping[str, rsl.RslDocument] | None,
) -> Evaluation:
    """TDMRep's cascade over its statements, the licence chosen (and the licence filter),
    the RSL licences' terms for the page, then the decision."""
    signals, licenses = found.signals, found.licenses
    if found.tdm:
        signals += tdmrep_signals(found.tdm, cfg.purpose)
    chosen = choose_license(licenses) if licenses else None
    if licenses or cfg.licenses is not None:
        signals += license_signals(licenses, chosen, cfg.licenses, facts.url)
    if documents:
        _rsl_terms(cfg, facts.url, licenses, documents, found)
    signals, truncated = cap_signals(signals)
    decision = decide(signals, cfg.accept_conditions, cfg.default)
    return Evaluation(signals, chosen, decision, found.extra, truncated)


def cap_signals(
    signals: list[Signal], limit: int = MAX_SIGNALS
) -> tuple[list[Signal], dict[tuple[str, str], int]]:
    """At most *limit* signals per family and layer (a hostile page can repeat a tag
    thousands of times). Past it, repeats go, and of the distinct signals one of each
    verdict (effect and conditions) is kept first, then the first others: the decision
    and its conditions are the ones all the signals give; only its reasons get shorter.
    Returns the signals kept, in order, and how many were left out per family and layer."""
    if len(signals) <= limit:
        return signals, {}  # the common case: no family and layer can be over
    counts = Counter((s.family, s.layer) for s in signals)
    over = {key for key, n in counts.items() if n > limit}
    if not over:
        return signals, {}
    keep: dict[tuple[str, str], set[Signal]] = {}
    for key in over:
        distinct = list(dict.fromkeys(s for s in signals if (s.family, s.layer) == key))
        verdicts: dict[tuple[Any, ...], Signal] = {}
        for signal in distinct:
            verdicts.setdefault((signal.effect, signal.conditions, signal.all_required), signal)
        kept = set(verdicts.values())
        for signal in distinct:
            if len(kept) >= limit:
                break
            kept.add(signal)
        keep[key] = kept
    out: list[Signal] = []
    seen: set[Signal] = set()
    for signal in signals:
        key = (signal.family, signal.layer)
        if key in over:
            if signal in seen or signal not in keep[key]:
                continue
            seen.add(signal)
        out.append(signal)
    return out, {key: counts[key] - len(keep[key]) for key in over}


def _rsl_terms(
    cfg: Config,
    url: str,
    licenses: list[License],
    documents: Mapping[str, rsl.RslDocument],
    found: _Gathered,
) -> None:
    """RSL licences (fetched by the caller): the first ``<content>`` matching the page."""
    terms = []
    for lic in licenses:
        doc = documents.get(lic.url) if lic.rsl else None
        if doc is None:
            continue
        matched = rsl.match_content(doc, url)
        layer = (
            LAYER_ROBOTS
            if lic.source.startswith("robots.txt")
            else (LAYER_HEADER if lic.source.startswith("header") else LAYER_HTML)
        )
        found.signals += rsl.rsl_signals(
            doc, matched, cfg.purpose, layer, doc.url, cfg.accept_conditions
        )
        if matched is not None:
            terms.append(rsl.terms_dict(doc, matched))
    if terms:
        found.extra["rsl"] = terms
