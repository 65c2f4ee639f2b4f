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

One byte-regex pass over the first ``max_bytes`` of the body, like ``htmlscan``, and the
HTML scanning rule of SIGNALS.md (r2): tags inside comments, CDATA and ``<script>`` /
``<style>`` bodies are not read, except JSON-LD scripts, which are read as data. An
unterminated comment hides the rest of the page, as it does in a browser. Pure: bytes in,
a ``dict[str, str]`` out; ``bench/attribution.py`` measures it against ``extruct``.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from typing import Any
from urllib.parse import urljoin

from scrapy_ccsignals.signals.htmlscan import decode_text

FIELDS = ("title", "creator", "site_name", "attribution_url", "copyright")
MAX_BYTES = 262144  # as CCSIGNALS_HTML_SCAN_BYTES
MAX_CHARS = 1000  # per field: a hostile page cannot make every item of a dataset huge
_JSONLD_MAX = 65536
_TEXT_MAX = 4096  # bytes of an element's text read for an RDFa property

# One alternation, anchored on "<": comments and CDATA are skipped whole; script/style are
# matched by their start tag and their body skipped by hand; the other tags are read. The
# second form also reads any element that may carry ccREL/Dublin Core RDFa; it is used only
# when such a term occurs in the page at all (most pages have none, and their many <a>/<p>
# tags then cost nothing).
_SCAN = (
    rb"<(?:!--.*?(?:-->|\Z)|!\[CDATA\[.*?(?:\]\]>|\Z)"
    rb"|(title|meta|link|script|style)\b([^>]*)(?:>|\Z)"
)
_SCAN_RE = re.compile(_SCAN + rb")", re.IGNORECASE | re.DOTALL)
_SCAN_RDFA_RE = re.compile(
    _SCAN + rb"|(a|span|div|p|small|footer|cite)\b([^>]*)(?:>|\Z))", re.IGNORECASE | re.DOTALL
)
_ATTR_RE = re.compile(
    rb"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""", re.DOTALL
)
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


def _has_rdfa_terms(body: bytes) -> bool:
    """Whether the page names a ccREL or Dublin Core term anywhere (substring search: a
    case-insensitive regex without a literal prefix would cost a millisecond on 50 KB)."""
    low = body.lower()
    return any(term in low for term in (b"cc:attribution", b"dc:", b"dct:", b"dcterms:"))


def _end_tag(name: bytes) -> re.Pattern[bytes]:
    pattern = _END_RE.get(name)
    if pattern is None:
        pattern = _END_RE[name] = re.compile(rb"</" + name + rb"\s*>", re.IGNORECASE)
    return pattern


def _attrs(raw: bytes) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).decode("ascii", "replace").lower()
        if name not in attrs:  # HTML: the first occurrence of an attribute wins
            attrs[name] = decode_text(match.group(2) or match.group(3) or match.group(4) or b"")
    return attrs


def clean(value: Any) -> str:
    """A text value as one line: whitespace and control characters collapsed, capped."""
    if not isinstance(value, str):
        return ""
    return _SPACE_RE.sub(" ", value).strip()[:MAX_CHARS]


class _Found:
    """Candidates per field, each with a rank (lower wins; the first seen wins a tie)."""

    def __init__(self) -> None:
        self.best: dict[str, tuple[int, str]] = {}

    def add(self, key: str, rank: int, value: Any) -> None:
        text = clean(value)
        if text and (key not in self.best or rank < self.best[key][0]):
            self.best[key] = (rank, text)


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
        found.add("title", 2, node.get("headline"))
        found.add("title", 3, node.get("name"))
        found.add("creator", 2, _name(resolve(node.get("author"))))
        found.add("creator", 3, _name(resolve(node.get("creator"))))
        found.add("site_name", 11, _name(resolve(node.get("publisher"))))
        found.add("copyright", 1, node.get("copyrightNotice"))
        found.add("copyright", 2, _name(resolve(node.get("copyrightHolder"))))


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


def _meta(attrs: dict[str, str], found: _Found) -> None:
    content = attrs.get("content", "")
    for key in ("property", "name"):
        raw = attrs.get(key, "").lower()
        if not raw:
            continue
        name = _DC_PREFIX_RE.sub("dc:", raw)
        if name in _META_FIELDS:
            field, rank = _META_FIELDS[name]
            found.add(field, rank, content)
        elif name == "cc:attributionurl":
            found.add("attribution_url", 1, attrs.get("resource") or attrs.get("href") or content)


def _rdfa(tag: bytes, attrs: dict[str, str], body: bytes, end: int, found: _Found) -> None:
    """ccREL on any element, as CC's licence chooser writes it:
    ``<a property="dct:title" rel="cc:attributionURL" href="...">Title</a> by
    <a rel="cc:attributionURL dct:creator" property="cc:attributionName" href="...">Name</a>``.
    A property's value is its ``content`` attribute, else the element's text."""
    props = {_DC_PREFIX_RE.sub("dc:", p) for p in attrs.get("property", "").lower().split()}
    rels = set(attrs.get("rel", "").lower().split())
    if "cc:attributionurl" in rels | props:
        found.add("attribution_url", 1, attrs.get("href") or attrs.get("resource"))
    wanted = props & {"dc:title", "cc:attributionname", "dc:creator", "dc:rights"}
    if not wanted:
        return
    text = attrs.get("content")
    if text is None:
        close = _end_tag(tag).search(body, end, end + _TEXT_MAX)
        inner = body[end : close.start() if close else end + _TEXT_MAX]
        text = decode_text(_TAG_STRIP_RE.sub(b" ", inner))
    for prop in wanted:
        key, rank = {
            "dc:title": ("title", 1),
            "cc:attributionname": ("creator", 1),
            "dc:creator": ("creator", 5),
            "dc:rights": ("copyright", 3),
        }[prop]
        found.add(key, rank, text)


def extract_attribution(
    body: bytes, url: str | None = None, max_bytes: int = MAX_BYTES
) -> dict[str, str]:
    """The attribution fields the first *max_bytes* of an HTML *body* state; URLs are
    resolved against *url* when given. Never raises on bad input."""
    body = body[:max_bytes]
    found = _Found()
    scan = _SCAN_RDFA_RE if _has_rdfa_terms(body) else _SCAN_RE
    pos = 0
    while True:
        match = scan.search(body, pos)
        if match is None:
            break
        pos = match.end()
        tag, raw = match.group(1, 2)
        if tag is None:
            tag, raw = match.group(3, 4) if scan is _SCAN_RDFA_RE else (None, None)
            if tag is None:
                continue  # a comment or CDATA section: nothing in it is a signal
        tag = tag.lower()
        if tag in (b"script", b"style"):
            close = _end_tag(tag).search(body, pos)
            stop = close.start() if close else len(body)
            if tag == b"script" and b"ld+json" in raw.lower() and stop - pos <= _JSONLD_MAX:
                with suppress(ValueError, RecursionError):  # broken JSON-LD says nothing
                    _jsonld(json.loads(body[pos:stop].decode("utf-8", "replace")), found)
            pos = close.end() if close else len(body)
        elif tag == b"meta":
            _meta(_attrs(raw), found)
        elif tag == b"title":
            close = _end_tag(tag).search(body, pos, pos + _TEXT_MAX)
            if close:
                found.add("title", 9, decode_text(body[pos : close.start()]))
        elif tag == b"link":
            attrs = _attrs(raw)
            rels = set(attrs.get("rel", "").lower().split())
            if "canonical" in rels:
                found.add("attribution_url", 2, attrs.get("href"))
            if "cc:attributionurl" in rels:
                found.add("attribution_url", 1, attrs.get("href"))
        elif _RDFA_WORDS.search(raw):
            _rdfa(tag, _attrs(raw), body, pos, found)
    result = {key: found.best[key][1] for key in FIELDS if key in found.best}
    if "attribution_url" in result and url:
        with suppress(ValueError):
            result["attribution_url"] = urljoin(url, result["attribution_url"])
    return result
