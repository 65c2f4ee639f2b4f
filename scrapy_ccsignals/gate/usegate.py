"""The use gate: every family's signals for one response, gathered in layer order
(robots.txt, tdmrep.json, headers, HTML), then decided. No I/O: the origin's policy, the
response headers and the first bytes of the body come in; signals, licence and decision
go out. The rules of each family live in its own module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy_ccsignals.gate.decision import Decision, decide
from scrapy_ccsignals.policy.origin import OriginPolicy
from scrapy_ccsignals.signals import htmlscan as html_meta
from scrapy_ccsignals.signals import rsl
from scrapy_ccsignals.signals.aipref import preference_signals
from scrapy_ccsignals.signals.assets import (
    AssetMetadata,
    asset_licenses,
    asset_signals,
    asset_tdm_statement,
)
from scrapy_ccsignals.signals.base import (
    DENY,
    LAYER_HEADER,
    LAYER_HTML,
    LAYER_ROBOTS,
    LAYER_TDMREP,
    Signal,
)
from scrapy_ccsignals.signals.c2pa import C2paResult, c2pa_signals
from scrapy_ccsignals.signals.content_signal import content_signal_signals, header_signals
from scrapy_ccsignals.signals.license import (
    License,
    choose_license,
    jsonld_licenses,
    license_signals,
    link_header_licenses,
    make_license,
)
from scrapy_ccsignals.signals.noai import directives, noai_signals, x_robots_directives
from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.tdmrep import (
    TdmEntry,
    TdmStatement,
    first_match,
    reservation_value,
    tdmrep_signals,
)

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config

#: Response headers the use gate reads, lower-case name -> values in order.
SIGNAL_HEADERS = frozenset(
    {"content-usage", "content-signal", "tdm-reservation", "tdm-policy", "x-robots-tag", "link"}
)
_NONE: tuple[str, ...] = ()
#: preference_signals without legacy labels (CCSIGNALS_AIPREF_LEGACY false); one object, so
#: the robots.txt line cache below keys on it like on the function itself.
_strict_preference_signals = partial(preference_signals, legacy=False)


@dataclass(frozen=True, slots=True)
class Evaluation:
    signals: list[Signal]
    license: License | None
    decision: Decision
    #: further provenance fields this response has: ``rsl`` (the terms of each RSL licence
    #: that matched), ``asset`` (file metadata read), ``c2pa`` (manifest read)
    extra: dict[str, Any] = field(default_factory=dict)


def _absolute(base: str, href: str) -> str:
    return href if href.startswith(("https://", "http://")) else urljoin(base, href)


@lru_cache(maxsize=16)
def _meta_names(token: str) -> tuple[bytes, ...]:
    """The ``<meta name>`` values step 4 reads, as bytes for the extractor's pre-filter."""
    return (b"tdm-reservation", b"tdm-policy", b"robots", token.lower().encode("utf-8"))


@lru_cache(maxsize=4096)
def _robots_signals(
    family_signals: Callable[[str, str, str, str, str], list[Signal]],
    value: str,
    purpose: str,
    robots_url: str,
    raw: str,
) -> tuple[Signal, ...]:
    """The signals of one robots.txt line: the same for every page in its scope, so they
    are built once (signals are immutable)."""
    return tuple(family_signals(value, purpose, LAYER_ROBOTS, robots_url, raw))


@lru_cache(maxsize=4096)
def _tdmrep_statement(tdmrep_url: str, entry: TdmEntry) -> TdmStatement:
    """The statement of one tdmrep.json entry, its raw text as the entry's JSON."""
    raw = json.dumps(
        {
            "location": entry.location,
            "tdm-reservation": entry.reservation,
            "tdm-policy": entry.policy,
        }
    )
    return TdmStatement(LAYER_TDMREP, tdmrep_url, entry.reservation, entry.policy, raw)


def is_html(content_type: str) -> bool:
    return content_type.startswith(("text/html", "application/xhtml+xml"))


def _read_headers(
    cfg: Config,
    url: str,
    base: str,
    headers: Mapping[str, list[str]],
    is_image: bool,
    signals: list[Signal],
    licenses: list[License],
    tdm: list[TdmStatement],
) -> None:
    """Step 3 of :func:`evaluate`: the signal headers, appended to its lists."""
    purpose = cfg.purpose
    for value in headers.get("content-usage", _NONE):
        signals += preference_signals(
            value,
            purpose,
            LAYER_HEADER,
            url,
            f"Content-Usage: {value}",
            legacy=cfg.aipref_legacy,
        )
    content_signal = headers.get("content-signal", _NONE)
    if content_signal:
        signals += header_signals(content_signal, purpose, url)
    reservations = headers.get("tdm-reservation", _NONE)
    policies = headers.get("tdm-policy", _NONE)
    if reservations or policies:
        value = reservations[-1] if reservations else ""
        raw = "; ".join(f"tdm-reservation: {v}" for v in reservations)
        raw += "".join(f"; tdm-policy: {v}" for v in policies)
        tdm.append(
            TdmStatement(
                LAYER_HEADER, url, reservation_value(value), policies[-1] if policies else None, raw
            )
        )
    for value in headers.get("x-robots-tag", _NONE):
        found = x_robots_directives(value, cfg.token)
        signals += noai_signals(
            found,
            purpose,
            is_image,
            LAYER_HEADER,
            url,
            f"X-Robots-Tag: {value}",
            noarchive_is_noai=cfg.noarchive_is_noai,
        )
    for value in headers.get("link", _NONE):
        for href, kind in link_header_licenses(value):
            licenses.append(
                make_license(_absolute(base, href), "header Link", value, rsl=rsl.is_rsl_type(kind))
            )


def scan_page(cfg: Config, body: bytes) -> html_meta.HtmlMeta:
    """The page-level metadata :func:`evaluate` reads from an HTML body."""
    return html_meta.extract(body[: cfg.html_scan_bytes], _meta_names(cfg.token))


def rsl_urls(
    cfg: Config,
    url: str,
    headers: Mapping[str, list[str]],
    page: html_meta.HtmlMeta | None,
    policy: OriginPolicy | None,
) -> list[str]:
    """The RSL licences this response points at (robots.txt ``License:``, ``Link``
    headers, ``<link rel="license" type="application/rsl+xml">``), which must be fetched
    before :func:`evaluate` can read them."""
    urls: list[str] = []
    if policy is not None:
        urls += [_absolute(policy.robots_url, v) for v in policy.robots.licenses]
    for value in headers.get("link", _NONE):
        urls += rsl.rsl_link_urls(value, url)
    if page is not None:
        urls += [
            _absolute(url, href) for _, href, kind, _ in page.licenses if rsl.is_rsl_type(kind)
        ]
    return list(dict.fromkeys(urls))


def evaluate(
    cfg: Config,
    url: str,
    headers: Mapping[str, list[str]],
    content_type: str,
    body: bytes | None,
    policy: OriginPolicy | None,
    base_url: str | None = None,
    path: str | None = None,
    *,
    page: html_meta.HtmlMeta | None = None,
    rsl_docs: Mapping[str, rsl.RslDocument] | None = None,
    asset: AssetMetadata | None = None,
    c2pa: C2paResult | None = None,
    access_checked: bool = False,
) -> Evaluation:
    """Signals, licence and decision for one response. *headers* maps the lower-case
    names of :data:`SIGNAL_HEADERS` to their values; *body* is HTML or None (or *page*,
    its :func:`scan_page` already made); *path* is :func:`url_path` of *url* when the
    caller has it already; *rsl_docs* the parsed RSL licences of :func:`rsl_urls`;
    *asset* and *c2pa* what a non-HTML file says about itself; *access_checked* that the
    access gate already let *url* through. Sections with nothing to
    read are skipped: most responses carry no signal at all."""
    purpose = cfg.purpose
    path = url_path(url) if path is None else path
    signals: list[Signal] = []
    licenses: list[License] = []
    tdm: list[TdmStatement] = []
    extra: dict[str, Any] = {}
    if page is None and body:
        page = scan_page(cfg, body)
    base = base_url or url

    # 0. The access gate checked the request's URL; a response that arrives under another
    #    URL (a handler that follows redirects itself, a middleware that answers for the
    #    download) is checked here too, or its content would pass unchecked.
    if not access_checked and policy is not None and not policy.robots.can_fetch(url, path):
        signals.append(
            Signal(
                "robots",
                LAYER_ROBOTS,
                policy.robots_url,
                DENY,
                f"robots.txt (group {policy.robots.group!r}, outcome {policy.robots.outcome}) "
                "disallows the response URL, which reached the downloader without the access gate",
            )
        )

    # 1. robots.txt: Content-Usage and Content-Signal lines of the matched group,
    #    longest path scope (draft-ietf-aipref-attach section 4.2); RSL License lines.
    if policy is not None:
        robots_url = policy.robots_url
        if policy.robots.extensions:
            usage = preference_signals if cfg.aipref_legacy else _strict_preference_signals
            for line in policy.robots.scoped("content-usage", path):
                signals += _robots_signals(usage, line.value, purpose, robots_url, line.raw)
            for line in policy.robots.scoped("content-signal", path):
                signals += _robots_signals(
                    content_signal_signals, line.value, purpose, robots_url, line.raw
                )
        for value in policy.robots.licenses:
            licenses.append(
                make_license(_absolute(robots_url, value), "robots.txt License", value, rsl=True)
            )
        # 2. tdmrep.json: the first matching entry (TDMRep section 3.2).
        if policy.tdmrep is not None:
            entry = first_match(policy.tdmrep, path)
            if entry is not None:
                tdm.append(_tdmrep_statement(policy.tdmrep_url, entry))

    # 3. HTTP headers.
    is_image = content_type.startswith("image/")
    if headers:
        _read_headers(cfg, url, base, headers, is_image, signals, licenses, tdm)

    # 4. HTML: meta http-equiv counts as the header; meta names; licence links; JSON-LD.
    if page is not None:
        html_reservation: str | None = None
        html_policy: str | None = None
        html_raw: list[str] = []
        token = cfg.token.lower()
        for name, content, tag in page.http_equiv:
            if name == "content-usage":
                signals += preference_signals(
                    content,
                    purpose,
                    LAYER_HTML,
                    url,
                    html_meta.decode_text(tag),
                    legacy=cfg.aipref_legacy,
                )
        for name, content, tag in page.names:
            if name == "tdm-reservation":
                html_reservation = content
                html_raw.append(html_meta.decode_text(tag))
            elif name == "tdm-policy":
                html_policy = content
                html_raw.append(html_meta.decode_text(tag))
            elif name in ("robots", token):
                signals += noai_signals(
                    directives(content),
                    purpose,
                    is_image,
                    LAYER_HTML,
                    url,
                    html_meta.decode_text(tag),
                    noarchive_is_noai=cfg.noarchive_is_noai,
                )
        if html_reservation is not None or html_policy is not None:
            tdm.append(
                TdmStatement(
                    LAYER_HTML,
                    url,
                    reservation_value(html_reservation),
                    html_policy,
                    " ".join(html_raw),
                )
            )
        for how, href, kind, raw in page.licenses:
            licenses.append(
                make_license(_absolute(base, href), f"html {how}", raw, rsl=rsl.is_rsl_type(kind))
            )
        for block in page.jsonld:
            for href in jsonld_licenses(block):
                licenses.append(make_license(_absolute(base, href), "html JSON-LD", href))

    # 5. The file's own metadata (SIGNALS.md, Asset metadata): XMP/IPTC, PDF and EPUB
    #    TDMRep (the cascade's content-metadata layer), licences, C2PA manifests.
    if asset is not None and asset.status != "unsupported":
        extra["asset"] = asset.as_dict()
        signals += asset_signals(asset, purpose, url)
        statement = asset_tdm_statement(asset, url)
        if statement is not None:
            tdm.append(statement)
        licenses += asset_licenses(asset)
    if c2pa is not None:
        extra["c2pa"] = c2pa.as_dict()
        signals += c2pa_signals(c2pa, purpose, url)

    if tdm:
        signals += tdmrep_signals(tdm, purpose)
    chosen = choose_license(licenses) if licenses else None
    if licenses or cfg.licenses is not None:
        signals += license_signals(licenses, chosen, cfg.licenses, url)

    # 6. RSL licences (fetched by the caller): the first <content> matching the page.
    if rsl_docs:
        terms = []
        for lic in licenses:
            doc = rsl_docs.get(lic.url) if lic.rsl else None
            if doc is None:
                continue
            matched = rsl.match_content(doc, url)
            layer = (
                LAYER_ROBOTS
                if lic.source.startswith("robots.txt")
                else (LAYER_HEADER if lic.source.startswith("header") else LAYER_HTML)
            )
            signals += rsl.rsl_signals(doc, matched, purpose, layer, doc.url, cfg.accept_conditions)
            if matched is not None:
                terms.append(rsl.terms_dict(doc, matched))
        if terms:
            extra["rsl"] = terms
    return Evaluation(signals, chosen, decide(signals, cfg.accept_conditions, cfg.default), extra)
