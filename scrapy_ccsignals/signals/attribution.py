"""Attribution of a work from its HTML: what CC signals' Credit needs (SIGNALS.md,
"Attribution (r2)" and "CC signals": cite the dataset, the collection and the work).

Fields, each absent unless the page states it (never guessed), most specific source first:

- ``title``: ccREL/RDFa ``dct:title``, JSON-LD ``headline``/``name`` of the page's main
  work, ``og:title``, Dublin Core ``dc:title`` meta, then ``<title>``;
- ``creator``: ccREL ``cc:attributionName``, JSON-LD ``author``/``creator`` (a name, or
  the ``name`` of a Person/Organization, several joined with ", "), ``<meta name=author>``,
  ``dc:creator``;
- ``site_name``: ``og:site_name``, JSON-LD ``publisher`` name, then a JSON-LD ``WebSite``
  name;
- ``attribution_url``: ccREL ``cc:attributionURL``, then ``<link rel=canonical>``;
- ``copyright``: JSON-LD ``copyrightNotice``, then ``copyrightHolder`` name, then
  ``dc:rights``.

Read from the page facts of :func:`~scrapy_ccsignals.signals.htmlscan.extract` (one pass
over the page for every family and for attribution; its HTML scanning rule applies: tags
inside comments, CDATA and ``<script>`` / ``<style>`` bodies are not read, except JSON-LD
scripts, which are read as data). The candidates are read here, when an item needs them.
An element's text (``<title>``, an RDFa property without ``content``) is read up to 4 KB
ahead, and only while it could still win its field; the page's look-ahead is bounded as a
whole (:data:`LOOKAHEAD_BUDGET`), so a page of 256 KB of ``<div property="dc:title">``
costs no more than one that states its title once. Pure: bytes in, a ``dict[str, str]``
out; ``bench/attribution.py`` measures it against ``extruct``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from scrapy_ccsignals.signals import htmlscan
from scrapy_ccsignals.signals.htmlscan import HtmlMeta, attrs, decode_text, extract

FIELDS = ("title", "creator", "site_name", "attribution_url", "copyright")
MAX_BYTES = 262144  # as CCSIGNALS_HTML_SCAN_BYTES
MAX_CHARS = 1000  # per field: a hostile page cannot make every item of a dataset huge
_TEXT_MAX = 4096  # bytes of an element's text read for a property
#: bytes of element text read ahead over the whole page (16 elements' worth): the scan
#: stays linear whatever the page repeats.
LOOKAHEAD_BUDGET = 16 * _TEXT_MAX
_TAG_STRIP_RE = re.compile(rb"<[^>]*(?:>|\Z)")
_SPACE_RE = re.compile(r"[\s\x00-\x1f\x7f]+")
_END_RE: dict[bytes, re.Pattern[bytes]] = {}
# Metadata names, normalised: "DC.Title", "dcterms:title", "DCTERMS.title" -> "dc:title".
_DC_PREFIX_RE = re.compile(r"^(?:dcterms|dct|dc)[.:]")
_RDFA_WORDS = re.compile(rb"cc:attribution|d(?:c|ct|cterms):(?:title|creator|rights)", re.I)
# JSON-LD types that are not the work itself (the title comes from the work).
_NOT_WORK = frozenset(
    {"website", "organization", "person", "breadcrumblist", "listitem", "searchaction",
     "imageobject", "sitenavigationelement", "corporation", "newsmediaorganization"}
)  # fmt: skip


def _end_tag(name: bytes) -> re.Pattern[bytes]:
    pattern = _END_RE.get(name)
    if pattern is None:
        pattern = _END_RE[name] = re.compile(rb"</" + name + rb"\s*>", re.IGNORECASE)
    return pattern


def clean(value: Any) -> str:
    """A text value as one line: whitespace and control characters collapsed, capped."""
    if not isinstance(value, str):
        return ""
    return _SPACE_RE.sub(" ", value).strip()[:MAX_CHARS]


class _Found:
    """Candidates per field, each with a rank (lower wins; the first seen wins a tie)."""

    def __init__(self, body: bytes) -> None:
        self.best: dict[str, tuple[int, str]] = {}
        self.body = body
        self.budget = LOOKAHEAD_BUDGET

    def add(self, key: str, rank: int, value: Any) -> None:
        if self.wins(key, rank):  # cleaned only when it could win
            text = clean(value)
            if text:
                self.best[key] = (rank, text)

    def put(self, adds: _Adds) -> None:
        """Candidates already cleaned (and non-empty), in document order."""
        for key, rank, text in adds:
            if self.wins(key, rank):
                self.best[key] = (rank, text)

    def wins(self, key: str, rank: int) -> bool:
        held = self.best.get(key)
        return held is None or rank < held[0]

    def close(self, tag: bytes, start: int) -> tuple[int, bool] | None:
        """Where the text of the element whose content starts at *start* ends (its end
        tag, within 4 KB) and whether the end tag was found; None once the page's
        look-ahead budget is spent."""
        if self.budget <= 0:
            return None
        self.budget -= _TEXT_MAX
        close = _end_tag(tag).search(self.body, start, start + _TEXT_MAX)
        return (close.start(), True) if close else (start + _TEXT_MAX, False)


def _name(value: Any) -> str:
    """A JSON-LD person/organisation reference as a name: a string, a node's ``name``, or
    a list of those joined with ", "."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, list):
            name = next((n for n in name if isinstance(n, str)), "")
        return name if isinstance(name, str) else ""
    if isinstance(value, list):
        return ", ".join(n for n in (_name(v) for v in value[:20]) if n)
    return ""


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.rsplit("/", 1)[-1].lower() for k in kinds if isinstance(k, str)}


def _nodes(data: Any) -> list[dict[str, Any]]:
    """The JSON-LD nodes of a block: a node, a list of nodes, or an ``@graph``."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack and len(found) < 200:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item[:200]
        elif isinstance(item, dict):
            if "@graph" in item:
                stack[:0] = [item["@graph"]]
            found.append(item)
    return found


def _jsonld(data: Any, found: _Found) -> None:
    nodes = _nodes(data)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"@id"}:
            return by_id.get(value["@id"], value)
        if isinstance(value, list):
            return [resolve(v) for v in value[:20]]
        return value

    for node in nodes:
        kinds = _types(node)
        if "website" in kinds:
            found.add("site_name", 12, node.get("name"))
        if kinds & _NOT_WORK:
            continue
        for key, field, rank, named in _JSONLD_FIELDS:
            # a name is resolved only when present and able to win its field
            value = node.get(key)
            if value is not None and found.wins(field, rank):
                found.add(field, rank, _name(resolve(value)) if named else value)


#: JSON-LD property of the work -> field, rank, and whether it names a person/organisation
_JSONLD_FIELDS = (
    ("headline", "title", 2, False),
    ("name", "title", 3, False),
    ("author", "creator", 2, True),
    ("creator", "creator", 3, True),
    ("publisher", "site_name", 11, True),
    ("copyrightNotice", "copyright", 1, False),
    ("copyrightHolder", "copyright", 2, True),
)


#: ``<meta>`` name or property -> (field, rank): the lower the rank, the more specific the
#: source (SIGNALS.md, Attribution r2).
_META_FIELDS = {
    "og:title": ("title", 4),
    "dc:title": ("title", 5),
    "og:site_name": ("site_name", 10),
    "author": ("creator", 4),
    "dc:creator": ("creator", 5),
    "dc:rights": ("copyright", 3),
    "cc:attributionname": ("creator", 1),
}


#: what one tag offers attribution, (field, rank, cleaned non-empty text) in order
_Adds = tuple[tuple[str, int, str], ...]


def _adds(candidates: list[tuple[str, int, Any]]) -> _Adds:
    return tuple((key, rank, text) for key, rank, value in candidates if (text := clean(value)))


def _meta(raw: bytes) -> _Adds:
    """What a ``<meta>`` offers (its attributes *raw*): a pure function of its bytes."""
    found = attrs(raw)
    content = found.get("content", "")
    adds: list[tuple[str, int, Any]] = []
    for key in ("property", "name"):
        value = found.get(key, "").lower()
        if not value:
            continue
        name = _DC_PREFIX_RE.sub("dc:", value) if value.startswith("dc") else value
        if name in _META_FIELDS:
            field, rank = _META_FIELDS[name]
            adds.append((field, rank, content))
        elif name == "cc:attributionurl":
            url = found.get("resource") or found.get("href") or content
            adds.append(("attribution_url", 1, url))
    return _adds(adds)


def _link(raw: bytes) -> _Adds:
    """What a ``<link>`` offers: the canonical URL, a ccREL attribution URL."""
    link = attrs(raw)
    rels = set(link.get("rel", "").lower().split())
    adds: list[tuple[str, int, Any]] = []
    if "canonical" in rels:
        adds.append(("attribution_url", 2, link.get("href")))
    if "cc:attributionurl" in rels:
        adds.append(("attribution_url", 1, link.get("href")))
    return _adds(adds)


#: what a ``<meta>`` / ``<link>`` offers, by its attribute bytes: a site's pages repeat
#: their template's tags (author, og:site_name), read once; bounded as the page scan's
#: tag cache (:data:`~scrapy_ccsignals.signals.htmlscan.CACHED_TAGS` entries of at most
#: :data:`~scrapy_ccsignals.signals.htmlscan.CACHED_TAG_BYTES`, emptied when full).
_META_ADDS: dict[bytes, _Adds] = {}
_LINK_ADDS: dict[bytes, _Adds] = {}


def _remembered(cache: dict[bytes, _Adds], read: Any, raw: bytes) -> _Adds:
    adds = cache.get(raw)
    if adds is None:
        adds = read(raw)
        htmlscan.remember(cache, raw, adds)
    return adds


#: RDFa property -> (field, rank)
_RDFA_FIELDS = {
    "dc:title": ("title", 1),
    "cc:attributionname": ("creator", 1),
    "dc:creator": ("creator", 5),
    "dc:rights": ("copyright", 3),
}


def _rdfa(tag: bytes, attrs: dict[str, str], end: int, found: _Found) -> None:
    """ccREL on any element, as CC's licence chooser writes it:
    ``<a property="dct:title" rel="cc:attributionURL" href="...">Title</a> by
    <a rel="cc:attributionURL dct:creator" property="cc:attributionName" href="...">Name</a>``.
    A property's value is its ``content`` attribute, else the element's text (read only
    when it could still win its field)."""
    props = {_DC_PREFIX_RE.sub("dc:", p) for p in attrs.get("property", "").lower().split()}
    rels = set(attrs.get("rel", "").lower().split())
    if "cc:attributionurl" in rels | props:
        found.add("attribution_url", 1, attrs.get("href") or attrs.get("resource"))
    wanted = [_RDFA_FIELDS[p] for p in props if p in _RDFA_FIELDS]
    if not any(found.wins(key, rank) for key, rank in wanted):
        return
    text = attrs.get("content")
    if text is None:
        close = found.close(tag, end)
        if close is None:
            return
        inner = found.body[end : close[0]]
        text = decode_text(_TAG_STRIP_RE.sub(b" ", inner))
    for key, rank in wanted:
        found.add(key, rank, text)


#: A root-relative path that ``urljoin`` returns unchanged after the base's origin: no
#: ``//`` start (a network path), no dot segment, no params, query or fragment to re-split.
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9_~%/.+,=!$&*@:-]*")
_ORIGIN_END = re.compile(r"[/?#]")
#: what ``urlsplit`` removes from or checks in a base (tabs and newlines, an IPv6 bracket)
_SPECIAL_BASE = re.compile(r"[\t\r\n\[\]]")


def resolve_url(base: str, href: str) -> str:
    """``urljoin(base, href)``, without its parse of both URLs for the usual canonical link
    (a plain root-relative path on an http(s) page): ``urljoin`` is most of what an item's
    attribution costs. Raises ``ValueError`` where ``urljoin`` does."""
    if (
        base.startswith(("http://", "https://"))
        and _PLAIN_PATH.fullmatch(href)
        and "/." not in href
        and base.isascii()  # a non-ASCII host is checked by urlsplit (NFKC)
        and not _SPECIAL_BASE.search(base)
    ):
        start = base.index("//") + 2
        end = _ORIGIN_END.search(base, start)
        return (base[: end.start()] if end else base) + href
    return urljoin(base, href)


def page_attribution(page: HtmlMeta, body: bytes, url: str | None = None) -> dict[str, str]:
    """The attribution fields the page facts of *body* (:func:`htmlscan.extract` of the
    same bytes) state; URLs are resolved against *url* when given. Never raises."""
    found = _Found(body)
    for candidate in page.attribution:
        kind = candidate[0]
        if kind == "jsonld":
            _jsonld(candidate[1], found)
        elif kind == "meta":
            found.put(_remembered(_META_ADDS, _meta, candidate[1]))
        elif kind == "title":
            start = candidate[1]
            close = found.close(b"title", start) if found.wins("title", 9) else None
            if close is not None and close[1]:
                found.add("title", 9, decode_text(body[start : close[0]]))
        elif kind == "link":
            found.put(_remembered(_LINK_ADDS, _link, candidate[1]))
        elif _RDFA_WORDS.search(candidate[1]):
            _rdfa(kind, attrs(candidate[1]), candidate[2], found)
    result = {key: found.best[key][1] for key in FIELDS if key in found.best}
    if "attribution_url" in result and url:
        try:
            joined = resolve_url(url, result["attribution_url"])
        except ValueError:
            joined = result["attribution_url"]  # kept as the page wrote it
        result["attribution_url"] = joined
    return result


def extract_attribution(
    body: bytes, url: str | None = None, max_bytes: int = MAX_BYTES
) -> dict[str, str]:
    """The attribution fields the first *max_bytes* of an HTML *body* state; URLs are
    resolved against *url* when given. Never raises on bad input."""
    body = body[:max_bytes]
    return page_attribution(extract(body), body, url)
