"""RSL (Really Simple Licensing 1.0, rslstandard.org/rsl): licence documents, the ``<content>``
entry that covers a page, and what its terms mean for the crawl's purpose (SIGNALS.md, RSL).

An RSL document comes from a server, so it is parsed as hostile XML with ``defusedxml``: a
DTD (and with it every entity declaration: billion laughs, quadratic blow-up, external
entities, external DTDs) is refused before anything is expanded or fetched, and the element
count and depth are capped while parsing, so a huge tree stops early. Anything refused or
malformed raises :class:`RslError`; the caller records it and the document has no effect.

Vocabulary (RSL 1.0, ``<permits>``/``<prohibits>`` and the usage vocabulary): usage tokens
``all``, ``ai-all`` (``ai-train``, ``ai-input``, ``ai-index``), ``ai-train``, ``ai-input``,
``ai-index``, ``search``; the guide's templates spell training ``train-ai``, read as
``ai-train``. User tokens ``commercial``, ``non-commercial``, ``education``, ``government``,
``personal``; geo tokens are ISO 3166-1 codes (and ``EU``). Payment types ``purchase``,
``subscription``, ``training``, ``crawl``, ``use``, ``contribution``, ``attribution``,
``free`` (the default). Tokens are space-separated; commas are read as separators too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal
from scrapy_ccsignals.signals.license import RSL_TYPE, License, link_header_licenses
from scrapy_ccsignals.signals.pathmatch import PathPattern, prepare_pattern, url_path_of_parts

FAMILY = "rsl"
NAMESPACE = "https://rslstandard.org/rsl"
#: Conditions an RSL licence can impose; accepted with ``CCSIGNALS_ACCEPT_CONDITIONS``.
CONDITION_LICENSE = "rsl-license"
CONDITION_ATTRIBUTION = "attribution"
RSL_CONDITIONS: tuple[str, ...] = (CONDITION_LICENSE, CONDITION_ATTRIBUTION)

MAX_BYTES = 512 * 1024
MAX_ELEMENTS = 10_000
MAX_DEPTH = 16
#: ``<content>`` elements of one document: each page is matched against them in order, so a
#: document with more is refused as hostile (real ones have a handful).
MAX_RSL_CONTENTS = 1024

#: purpose -> the usage tokens that cover it (RSL 1.0 usage vocabulary; ``train-ai`` is the
#: guide's spelling of ``ai-train``).
PURPOSE_TOKENS: dict[str, frozenset[str]] = {
    "train-ai": frozenset({"all", "ai-all", "ai-train", "train-ai"}),
    "ai-input": frozenset({"all", "ai-all", "ai-input"}),
    "search": frozenset({"all", "search"}),
}
USAGE_TOKENS = frozenset(
    {"all", "ai-all", "ai-train", "train-ai", "ai-input", "ai-index", "search"}
)
#: Payment types that need no licence from a server: the rest must be obtained first.
_NO_LICENSE_PAYMENTS = frozenset({"free", "attribution"})
_TERM_TYPES = ("usage", "user", "geo")


class RslError(ValueError):
    """The body is not a usable RSL document (malformed, hostile, too large, wrong root)."""


@dataclass(frozen=True, slots=True)
class Payment:
    type: str  # lower-case; "free" when the attribute is absent
    standard: str | None = None  # URL of a standard licence / rate card
    custom: str | None = None  # URL where a custom licence is negotiated
    amount: str | None = None
    currency: str | None = None

    def as_dict(self) -> dict[str, str]:
        data = {"type": self.type}
        for key in ("standard", "custom", "amount", "currency"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class Copyright:
    holder: str
    type: str | None = None  # "person" or "organization"
    contact_email: str | None = None
    contact_url: str | None = None


@dataclass(frozen=True, slots=True)
class RslLicense:
    """One ``<license>``: permits and prohibits as ``(type, tokens)`` pairs in file order."""

    permits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    prohibits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    payments: tuple[Payment, ...] = ()
    legal: tuple[tuple[str, str], ...] = ()

    def permitted(self, kind: str) -> frozenset[str] | None:
        """Tokens of every ``<permits type=kind>``; None when there is no such element."""
        found = [tokens for t, tokens in self.permits if t == kind]
        return frozenset(tok for tokens in found for tok in tokens) if found else None

    def prohibited(self, kind: str) -> frozenset[str]:
        return frozenset(tok for t, tokens in self.prohibits if t == kind for tok in tokens)

    def conditions(self, server: str | None) -> tuple[str, ...]:
        """What must be done before use, all of it: a licence from the server (a ``server``
        attribute, or a payment other than free/attribution) and/or attribution."""
        types = {p.type for p in self.payments}
        found = []
        if server or types - _NO_LICENSE_PAYMENTS:
            found.append(CONDITION_LICENSE)
        if CONDITION_ATTRIBUTION in types:
            found.append(CONDITION_ATTRIBUTION)
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Content:
    url: str  # full URL or RFC 9309 path pattern, as written
    licenses: tuple[RslLicense, ...] = ()
    server: str | None = None
    encrypted: bool = False
    lastmod: str | None = None
    copyright: Copyright | None = None
    terms: str | None = None
    #: the origin a full ``url`` names (None: a path pattern, any origin) and its path
    #: pattern, made once when the document is parsed (a document serves many pages);
    #: None when ``url`` is a URL that cannot be read (it covers nothing)
    scope: tuple[_Origin | None, PathPattern] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope", _scope(self.url))


_Origin = tuple[str, str, int | None]


def _scope(pattern: str) -> tuple[_Origin | None, PathPattern] | None:
    if "://" not in pattern:
        return None, prepare_pattern(pattern)
    try:
        target = urlsplit(pattern)
        origin = _origin(target.scheme, target.hostname, target.port)
    except ValueError:
        return None
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    return origin, prepare_pattern(path)


@dataclass(frozen=True, slots=True)
class RslDocument:
    url: str
    contents: tuple[Content, ...]
    skipped: int = 0  # <content> elements without a url attribute


# --- parsing ---------------------------------------------------------------------------


def _local(tag: str) -> str | None:
    """The local name of an element in the RSL namespace or no namespace; None otherwise."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return local if ns.rstrip("/") == NAMESPACE else None
    return tag


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _text(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _resolve(base: str, text: str) -> str:
    """An absolute URL for a path (``/terms``) against the document; anything else as
    written (deployed files say ``api.rslcollective.org``, which is no relative path)."""
    return urljoin(base, text) if text.startswith("/") and not text.startswith("//") else text


def _url(base: str, element: Element | None) -> str | None:
    text = _text(element)
    return _resolve(base, text) if text else None


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.replace(",", " ").lower().split()))


def _bounded_tree(body: bytes, max_elements: int, max_depth: int) -> Element:
    """Parse *body*, refusing DTDs and entities, stopping as soon as a cap is passed."""
    count = depth = 0
    root: Element | None = None
    events = iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=True)
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            count += 1
            depth += 1
            root = element if root is None else root
            if count > max_elements:
                raise RslError(f"more than {max_elements} elements")
            if depth > max_depth:
                raise RslError(f"nested deeper than {max_depth} elements")
    except DefusedXmlException as exc:
        raise RslError(f"refused XML: {type(exc).__name__}") from None
    except (ParseError, RecursionError) as exc:
        raise RslError(f"malformed XML: {exc}") from None
    if root is None:
        raise RslError("empty document")
    return root


def _payment(element: Element, base: str) -> Payment:
    amount = next(_children(element, "amount"), None)
    return Payment(
        (element.get("type") or "free").strip().lower(),
        _url(base, next(_children(element, "standard"), None)),
        _url(base, next(_children(element, "custom"), None)),
        _text(amount) or None,
        amount.get("currency") if amount is not None else None,
    )


def _license(element: Element, base: str) -> RslLicense:
    permits: list[tuple[str, tuple[str, ...]]] = []
    prohibits: list[tuple[str, tuple[str, ...]]] = []
    for child in element:
        name = _local(child.tag)
        kind = (child.get("type") or "").strip().lower()
        if name in ("permits", "prohibits") and kind in _TERM_TYPES:
            tokens = _tokens(child.text or "")
            if kind == "geo":
                tokens = tuple(t.upper() for t in tokens)
            (permits if name == "permits" else prohibits).append((kind, tokens))
    payments = tuple(_payment(p, base) for p in _children(element, "payment"))
    legal = tuple(
        ((e.get("type") or "").strip().lower(), _text(e)) for e in _children(element, "legal")
    )
    return RslLicense(tuple(permits), tuple(prohibits), payments, legal)


def _content(element: Element, base: str) -> Content:
    server = (element.get("server") or "").strip()
    holder = next(_children(element, "copyright"), None)
    copyright = None
    if holder is not None:
        copyright = Copyright(
            _text(holder),
            holder.get("type"),
            holder.get("contactEmail"),
            holder.get("contactUrl"),
        )
    return Content(
        url=(element.get("url") or "").strip(),
        licenses=tuple(_license(lic, base) for lic in _children(element, "license")),
        server=_resolve(base, server) if server else None,
        encrypted=(element.get("encrypted") or "").strip().lower() == "true",
        lastmod=element.get("lastmod"),
        copyright=copyright,
        terms=_url(base, next(_children(element, "terms"), None)),
    )


def parse_rsl(
    body: bytes,
    base_url: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_elements: int = MAX_ELEMENTS,
    max_depth: int = MAX_DEPTH,
) -> RslDocument:
    """The RSL document in *body*, fetched from *base_url* (relative URLs resolve against it).

    Raises :class:`RslError` for a body over *max_bytes*, XML with a DTD or entity
    declarations, more than *max_elements* elements (or :data:`MAX_RSL_CONTENTS`
    ``<content>`` elements) or deeper than *max_depth*, malformed
    XML, a root other than ``<rsl>`` (RSL namespace or none), or no ``<content url>``.
    """
    if len(body) > max_bytes:
        raise RslError(f"larger than {max_bytes} bytes")
    root = _bounded_tree(body, max_elements, max_depth)
    if _local(root.tag) != "rsl":
        raise RslError(f"root element is {root.tag!r}, not <rsl>")
    elements = list(_children(root, "content"))
    if len(elements) > MAX_RSL_CONTENTS:
        raise RslError(f"more than {MAX_RSL_CONTENTS} <content> elements")
    contents = tuple(_content(e, base_url) for e in elements if (e.get("url") or "").strip())
    if not contents:
        raise RslError("no <content> element with a url")
    return RslDocument(base_url, contents, len(elements) - len(contents))


# --- matching --------------------------------------------------------------------------


def _origin(scheme: str, host: str | None, port: int | None) -> _Origin:
    scheme = scheme.lower()
    return scheme, (host or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def match_content(doc: RslDocument, page_url: str) -> Content | None:
    """The first ``<content>`` whose ``url`` covers *page_url* (RSL 1.0 ``<content>``).

    A path (``/news/*``, ``*.pdf$``) is an RFC 9309 pattern on the page's path and query,
    whatever host serves the page (a shared licence such as a collective's applies to the
    site that points at it). A full URL must name the page's origin; its path is matched
    the same way, so ``https://example.com/`` covers the whole site.
    """
    try:
        parts = urlsplit(page_url)
        origin = _origin(parts.scheme, parts.hostname, parts.port)
    except ValueError:
        return None
    path = url_path_of_parts(parts)
    for content in doc.contents:
        scope = content.scope
        if scope is None or (scope[0] is not None and scope[0] != origin):
            continue
        if scope[1].matches(path):
            return content
    return None


# --- meaning for the purpose -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    effect: str
    conditions: tuple[str, ...]
    why: str


def _read(lic: RslLicense, content: Content, purpose: str) -> _Reading:
    wanted = PURPOSE_TOKENS.get(purpose, frozenset())
    hit = sorted(lic.prohibited("usage") & wanted)
    if hit:
        return _Reading(DENY, (), f"prohibits usage {' '.join(hit)}")
    permitted = lic.permitted("usage")
    if permitted is not None:
        hit = sorted(permitted & wanted)
        if not hit:
            listed = " ".join(sorted(permitted)) or "nothing"
            return _Reading(DENY, (), f"permits usage {listed} only, not {purpose}")
        why = f"permits usage {' '.join(hit)}"
    else:
        why = f"no usage restriction for {purpose}"
    conditions = lic.conditions(content.server)
    if conditions:
        return _Reading(CONDITIONAL, conditions, why)
    return _Reading(ALLOW, (), why)


def _rank(reading: _Reading, accept: frozenset[str]) -> tuple[int, int]:
    if reading.effect == ALLOW:
        return (0, 0)
    if reading.effect == CONDITIONAL:
        met = set(reading.conditions) <= accept
        return (1 if met else 2, len(reading.conditions))
    return (3, 0)


def _describe(lic: RslLicense) -> str:
    parts = [
        f"{verb} {kind}={' '.join(tokens) or '-'}"
        for verb, terms in (("permits", lic.permits), ("prohibits", lic.prohibits))
        for kind, tokens in terms
    ]
    for p in lic.payments:
        extra = f" {p.amount} {p.currency or ''}".rstrip() if p.amount else ""
        link = p.standard or p.custom
        parts.append(f"payment {p.type}{extra}" + (f" ({link})" if link else ""))
    return "; ".join(parts) or "no terms"


def user_note(lic: RslLicense) -> str:
    """A note when the licence limits who may use it in a way a commercial crawl should know:
    a user permit list without ``commercial``, or ``commercial`` prohibited (recorded, not
    applied: the plugin does not know who the crawl's end users are)."""
    permitted = lic.permitted("user")
    if permitted is not None and "commercial" not in permitted:
        return f"users: {' '.join(sorted(permitted)) or 'none'} only, not commercial"
    if "commercial" in lic.prohibited("user"):
        return "users: commercial prohibited"
    return ""


def rsl_signals(
    doc: RslDocument,
    content: Content | None,
    purpose: str,
    layer: str,
    source: str,
    accept: Iterable[str] = (),
) -> list[Signal]:
    """The RSL family's signal for *purpose* from the matched *content* (SIGNALS.md, RSL).

    Prohibited -> deny; a usage permit list without the purpose -> deny (it is exhaustive);
    otherwise allow, or conditional (all conditions required) when a licence must be
    obtained (``server``, or a payment other than free/attribution: ``rsl-license``) or
    attribution given (``attribution``). Several ``<license>`` elements are alternative
    offers: the one that asks least wins (free; then one whose conditions are all in
    *accept*; then the fewest conditions). No matching content -> one unknown signal.
    *layer* is where the licence was found, *source* the licence document's URL.
    """
    if content is None:
        return [Signal(FAMILY, layer, source, UNKNOWN, f"{doc.url}: no <content> matches")]
    head = f"{doc.url} <content url={content.url}" + (
        f" server={content.server}>" if content.server else ">"
    )
    if not content.licenses:
        return [Signal(FAMILY, layer, source, UNKNOWN, f"{head}: no <license>", value="none")]
    accepted = frozenset(accept)
    readings = [(_read(lic, content, purpose), lic) for lic in content.licenses]
    reading, lic = min(readings, key=lambda pair: _rank(pair[0], accepted))
    raw = f"{head} {_describe(lic)}: {reading.why}"
    note = user_note(lic)
    if note:
        raw += f" ({note})"
    if content.terms:
        raw += f"; terms {content.terms}"
    value = reading.effect if not reading.conditions else "+".join(reading.conditions)
    return [
        Signal(
            FAMILY,
            layer,
            source,
            reading.effect,
            raw,
            value=value,
            conditions=reading.conditions,
            all_required=bool(reading.conditions),
        )
    ]


def terms_dict(doc: RslDocument, content: Content) -> dict[str, object]:
    """The matched terms for provenance: licence URL, content URL and each licence's terms."""
    data: dict[str, object] = {"license_url": doc.url, "content_url": content.url}
    if content.server:
        data["server"] = content.server
    if content.encrypted:
        data["encrypted"] = True
    if content.copyright is not None:
        holder = {"holder": content.copyright.holder}
        for key in ("type", "contact_email", "contact_url"):
            value = getattr(content.copyright, key)
            if value:
                holder[key] = value
        data["copyright"] = holder
    if content.terms:
        data["terms"] = content.terms
    data["licenses"] = [
        {
            "permits": {kind: sorted(lic.permitted(kind) or ()) for kind, _ in lic.permits},
            "prohibits": {kind: sorted(lic.prohibited(kind)) for kind, _ in lic.prohibits},
            "payment": [p.as_dict() for p in lic.payments] or [{"type": "free"}],
        }
        for lic in content.licenses
    ]
    return data


# --- discovery -------------------------------------------------------------------------


def is_rsl_type(media_type: str | None) -> bool:
    """True for ``application/rsl+xml``, parameters and case aside."""
    if not media_type:
        return False  # most licence links carry no type
    return media_type.split(";")[0].strip().lower() == RSL_TYPE


def rsl_link_urls(link_header: str, base_url: str) -> list[str]:
    """Absolute URLs of ``Link: <url>; rel="license"; type="application/rsl+xml"`` entries."""
    return list(
        dict.fromkeys(
            urljoin(base_url, href)
            for href, kind in link_header_licenses(link_header)
            if is_rsl_type(kind) and href
        )
    )


def rsl_license_urls(found: Iterable[License]) -> list[str]:
    """The RSL documents among licences already gathered (robots.txt ``License:`` lines,
    ``Link`` headers, ``<link rel="license" type="application/rsl+xml">``), in order, once."""
    return list(dict.fromkeys(lic.url for lic in found if lic.rsl))
