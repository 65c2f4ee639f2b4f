"""One linear pass over an HTML body for everything the plugin reads from a page: the
``<meta>`` tags, licence links and JSON-LD every family needs, and what attribution needs
(``<title>``, ``<link rel=canonical>``, author/Open Graph/Dublin Core metas, ccREL RDFa),
read from the first ``CCSIGNALS_HTML_SCAN_BYTES`` bytes.

A full HTML parse per response would cost more than the rest of the plugin; instead one
byte regex over the lower-cased body (a case-insensitive regex costs twice as much) finds
the tags that may matter, and their attributes are read from the original bytes at the same
offsets. The work follows what the page holds, not its size in tags: an ``<a>`` tag is only
looked at when its attributes mention a licence (the regex checks that, so a page's many
other links cost no Python), and ``<span>``/``<div>``/... only when the page names a ccREL
or Dublin Core term. Attribution's
candidates are kept raw and read only when an item needs them
(:func:`~scrapy_ccsignals.signals.attribution.page_attribution`).

Tags inside comments, CDATA sections and ``<script>``/``<style>`` bodies are not signals
(SIGNALS.md, HTML scanning r2): the same scan matches those spans and steps over them, as
an HTML parser would (an unterminated comment or script runs to the end of the body).
JSON-LD scripts are read as data.

What one ``<meta>``/``<link>``/``<a>`` tag adds to the page facts is a pure function of its
bytes, so it is remembered for short tags (:data:`CACHED_TAG_BYTES`, :data:`CACHED_TAGS`):
the tags a site's template repeats on every page cost a dictionary lookup.

Bounded on hostile input: a tag opener with no ``>`` after it ends the scan (see
``_tag_re``); repeated identical tags past :data:`MAX_ENTRIES` are kept once.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from typing import Any

import msgspec

_ATTR_RE = re.compile(
    rb"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""", re.DOTALL
)
_SCRIPT_END_RE = re.compile(rb"</script\s*>")
_STYLE_END_RE = re.compile(rb"</style\s*>")
#: The start tags the scan reads. ``<a>`` only when its attributes, up to the next ``<``
#: or ``>``, say "license" (checked by the regex, so the many other ``<a>`` tags of a page
#: cost no Python; each span is looked at once, so the check stays linear). The check
#: never backtracks where Python has possessive repeats (3.11): a page's hundreds of
#: ``<a href>`` tags fail it in one step each.
_A_LICENSE = (
    rb"a(?=\b[^<>l]*+(?:l(?!icense)[^<>l]*+)*+license)"
    if sys.version_info >= (3, 11)
    else rb"a(?=\b[^<>]*license)"
)
_TAGS = (b"meta", b"link", b"script", b"style", b"title", _A_LICENSE)
_JSONLD_MAX = 65536
_LICENSE_RELS = frozenset({"license", "dcterms:license", "dc:license", "cc:license", "dct:license"})
_LICENSE_PROPS = frozenset({"dcterms:license", "dc:license", "cc:license", "dct:license"})
#: Elements that may carry ccREL / Dublin Core RDFa (attribution).
RDFA_TAGS = (b"a", b"span", b"div", b"p", b"small", b"footer", b"cite")
_RDFA_TERMS = (b"cc:attribution", b"dc:", b"dct:", b"dcterms:")
_RDFA_TERM_RE = re.compile(b"|".join(re.escape(term) for term in _RDFA_TERMS))
#: what comes before the colon of an RDFa term (``cc:`` only in ``cc:attribution...``)
_TERM_ENDS = (b"dc", b"dct", b"dcterms", b"cc")
_DC_TERM_RE = re.compile(rb"dc(?:t|terms)?:")
#: colons of a page looked at one by one for an RDFa term, before searching for the terms
_COLONS_LOOKED_AT = 16
#: ... and on a page that names a ccREL / Dublin Core term, every element that may carry it.
_TAGS_RDFA = (b"meta", b"link", b"script", b"style", b"title", *RDFA_TAGS)
#: ``<meta>`` attributes attribution reads (Open Graph, author, Dublin Core, ccREL).
_ATTRIBUTION_META = re.compile(rb"og:|author|dc|cc:attribution|&")
#: Entries of one kind (meta names, http-equivs, licences) kept as found; past this many,
#: a tag identical to one already kept adds nothing (256 KB of one repeated ``<meta>``
#: would otherwise give thousands of identical signals).
MAX_ENTRIES = 64


def decode_text(value: bytes) -> str:
    """Bytes of a tag or attribute as text: UTF-8, entities unescaped, stripped."""
    text = value.decode("utf-8", "replace")
    if "&" in text:
        text = unescape(text)
    return text.strip()


def attrs(raw: bytes) -> dict[str, str]:
    """A tag's attributes, names lower-cased; HTML: the first occurrence of one wins."""
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTR_RE.findall(raw):  # findall: no Match objects
        key = name.decode("ascii", "replace").lower()
        if key not in found:
            found[key] = decode_text(double or single or bare)
    return found


@dataclass
class HtmlMeta:
    """What the page says about itself (the page facts of one response)."""

    #: ``<meta name=... content=...>``: (lower-cased name, content, tag bytes)
    names: list[tuple[str, str, bytes]] = field(default_factory=list)
    #: ``<meta http-equiv=... content=...>``: (lower-cased name, content, tag bytes)
    http_equiv: list[tuple[str, str, bytes]] = field(default_factory=list)
    #: licence links: (how, href, type, tag text)
    licenses: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: parsed JSON-LD blocks
    jsonld: list[object] = field(default_factory=list)
    #: attribution candidates in document order, read only when an item needs them:
    #: ("meta", attrs bytes), ("link", attrs bytes), ("title", text start),
    #: ("jsonld", data), (tag name, attrs bytes, text start) for an RDFa element
    attribution: list[tuple[Any, ...]] = field(default_factory=list)
    #: (list, tag bytes) of every entry kept, to drop repeats past MAX_ENTRIES
    _seen: set[tuple[int, bytes]] = field(default_factory=set, repr=False, compare=False)

    def keep(self, entries: list[Any], entry: Any, tag: bytes) -> None:
        key = (id(entries), tag)
        if len(entries) >= MAX_ENTRIES and key in self._seen:
            return
        self._seen.add(key)
        entries.append(entry)


@lru_cache(maxsize=8)
def _tag_re(tags: tuple[bytes, ...]) -> tuple[re.Pattern[bytes], tuple[bytes, ...]]:
    """The scan over the lower-cased body: comments and CDATA (stepped over whole), and
    the start tags read, and the tag names by group number. A tag opener with no ">"
    after it runs to the end of the body (``\\Z``) and ends the scan: without that
    alternative, every later opener would rescan to the end (quadratic in the page size,
    minutes for 256 KB of "<a "): a stalled reactor). One flat alternation, each tag with
    its own attributes group (the match's ``lastindex`` names the tag): every alternative
    starts with a literal, so the regex engine rejects most of a page's ``<`` at a glance."""
    alternatives = b"|".join(tag + rb"\b([^>]*)(?:>|\Z)" for tag in tags)
    pattern = re.compile(
        rb"<(?:!--.*?(?:-->|\Z)|!\[cdata\[.*?(?:\]\]>|\Z)|" + alternatives + rb")", re.DOTALL
    )
    names = tuple(re.match(rb"[a-z]+", tag).group() for tag in tags)  # type: ignore[union-attr]
    return pattern, (b"", *names)


@lru_cache(maxsize=16)
def _meta_filter(names: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """Matches the (lower-cased) attributes of a ``<meta>`` tag that may matter to a
    family: an ``http-equiv``, a licence property, one of *names*, or an entity (which may
    spell one of them)."""
    words = [b"http-equiv", b"license", b"&", *(n.lower() for n in names)]
    return re.compile(b"|".join(re.escape(word) for word in words))


def extract(body: bytes, names: tuple[bytes, ...] | None = None) -> HtmlMeta:
    """Extract meta tags, licence links, JSON-LD and attribution candidates from an HTML
    body (already capped), in one pass.

    With *names* (lower-case), ``<meta name>`` tags are only kept when they may carry one
    of those names: a page's ``description``, ``viewport`` and ``charset`` tags are
    skipped without parsing their attributes."""
    meta = HtmlMeta()
    low = body.lower()  # same offsets: only ASCII letters change
    pattern, tags = _tag_re(_TAGS_RDFA if _has_rdfa_terms(low) else _TAGS)
    search = pattern.search
    wanted = _meta_filter(names).search if names is not None else None
    cache = _tag_cache(names)
    pos = 0
    # Per tag, as few calls as can be: a page's dozen tags cost more in Python than the
    # regex pass over its bytes.
    while (match := search(low, pos)) is not None:
        start, pos = match.span()
        index = match.lastindex
        if index is None:
            continue  # a comment or CDATA section: stepped over whole
        if low[pos - 1] != 62:  # b">"
            break  # a tag cut off by the end of the body: not a tag (HTML drops it)
        tag = tags[index]
        if tag == b"meta" or tag == b"link" or tag == b"a":
            tag_bytes = body[start:pos]
            found = cache.get(tag_bytes)
            if found is None:
                raw = tag_bytes[len(tag) + 1 : -1]  # the attributes, between name and ">"
                if tag == b"meta":
                    found = _meta(raw, match.group(index), tag_bytes, wanted)
                else:
                    found = _link(raw, tag, match.group(index), tag_bytes)
                remember(cache, tag_bytes, found)
            for kind, value in found:  # what the tag adds (see _Steps), in order
                if kind == _CANDIDATE:
                    meta.attribution.append(value)
                elif kind == _RDFA_LINK:
                    meta.attribution.append((b"a", value, pos))
                else:
                    meta.keep(getattr(meta, kind), value, tag_bytes)
        elif tag == b"script" or tag == b"style":
            pos = _raw_text(meta, body, low, tag, match.group(index), pos)
        elif tag == b"title":
            meta.attribution.append(("title", pos))
        else:
            lowered = match.group(index)
            if _RDFA_TERM_RE.search(lowered):
                meta.attribution.append((tag, body[pos - 1 - len(lowered) : pos - 1], pos))
    return meta


def _has_rdfa_terms(low: bytes) -> bool:
    """Whether the page names a ccREL or Dublin Core term anywhere. Every term has a colon,
    and many pages have few: the first :data:`_COLONS_LOOKED_AT` colons are found with
    ``bytes.find`` (memchr) and the bytes before each compared, a few microseconds. A page
    with more is searched for the terms: ``cc:attribution`` as a substring, the Dublin Core
    prefixes with a regex (its literal prefix makes it twice as fast as ``b"dc" in``; a
    regex for all terms, with no literal prefix, would cost a millisecond on 50 KB)."""
    find, endswith = low.find, low.endswith
    at = find(b":")
    for _ in range(_COLONS_LOOKED_AT):
        if at < 0:
            return False
        if endswith(_TERM_ENDS, 0, at) and (
            not endswith(b"cc", 0, at) or low.startswith(b"attribution", at + 1)
        ):
            return True
        at = find(b":", at + 1)
    return b"cc:attribution" in low or _DC_TERM_RE.search(low) is not None


_JSON_DECODER = msgspec.json.Decoder()


def read_json(raw: bytes) -> Any:
    """A JSON-LD script's data, as ``json.loads`` of its text (undecodable bytes replaced)
    gives it: msgspec reads it in a third of the time; what msgspec refuses (bytes that
    are not UTF-8, ``NaN``, a lone surrogate, a number past a float's range) is read by
    ``json.loads`` as before. Raises ``ValueError`` or ``RecursionError`` for broken JSON."""
    try:
        return _JSON_DECODER.decode(raw)
    except (ValueError, RecursionError):
        return json.loads(raw.decode("utf-8", "replace"))


def _raw_text(meta: HtmlMeta, body: bytes, low: bytes, tag: bytes, lowered: bytes, pos: int) -> int:
    """Step over a script or style body (raw text: no tags inside); read JSON-LD as data.
    Returns where the scan goes on."""
    close = (_SCRIPT_END_RE if tag == b"script" else _STYLE_END_RE).search(low, pos)
    stop = close.start() if close else len(body)
    if tag == b"script" and b"ld+json" in lowered and stop - pos <= _JSONLD_MAX:
        try:
            data = read_json(body[pos:stop])
        except (ValueError, RecursionError):
            pass  # broken JSON-LD says nothing
        else:
            if close is not None:  # an unterminated script is no licence statement
                meta.jsonld.append(data)
            meta.attribution.append(("jsonld", data))
    return close.end() if close else len(body)


#: What reading one ``<meta>``/``<link>``/``<a>`` tag adds to the page facts, as steps
#: :func:`extract` applies: (:data:`_CANDIDATE`, attribution candidate), (:data:`_RDFA_LINK`, attrs
#: bytes: an ``<a>`` carrying RDFa, its text read from where the tag ends), or (the
#: :class:`HtmlMeta` field to keep an entry in, entry). A pure function of the tag's bytes
#: (and the family names asked for), so it is remembered per tag (:func:`_tag_cache`).
_Steps = tuple[tuple[str, Any], ...]
_CANDIDATE = "attribution"
_RDFA_LINK = "rdfa"
#: Tags of at most this many bytes have their steps remembered, at most this many per set
#: of names asked for (the cache is emptied when full): a site's pages repeat their
#: template's tags (content-usage meta, licence link, stylesheet, author, og:site_name),
#: which then cost a dictionary lookup. Server bytes as keys: entries and their count are
#: capped, so a hostile site can make one cache no larger than ~1 MB.
CACHED_TAG_BYTES = 512
CACHED_TAGS = 2048


@lru_cache(maxsize=4)
def _tag_cache(names: tuple[bytes, ...] | None) -> dict[bytes, _Steps]:
    """The remembered steps of the tags read for one set of *names* (they decide which
    ``<meta name>`` tags are read)."""
    return {}


def remember(cache: dict[bytes, Any], tag: bytes, found: Any) -> None:
    """Keep *found*, read from the short *tag*, in *cache* (one of the bounded tag caches:
    the scan's, attribution's): at most :data:`CACHED_TAGS` tags of at most
    :data:`CACHED_TAG_BYTES`, emptied when full (a site of unique tags only refills it)."""
    if len(tag) <= CACHED_TAG_BYTES:
        if len(cache) >= CACHED_TAGS:
            cache.clear()
        cache[tag] = found


def _meta(raw: bytes, lowered: bytes, tag_bytes: bytes, wanted: Any) -> _Steps:
    """A ``<meta>``: a candidate for attribution, and what a family reads (a name, an
    http-equiv, a licence property)."""
    steps: list[tuple[str, Any]] = []
    if _ATTRIBUTION_META.search(lowered):
        steps.append((_CANDIDATE, ("meta", raw)))
    if wanted is not None and not wanted(lowered):
        return tuple(steps)
    found = attrs(raw)
    content = found.get("content", "")
    if "name" in found:
        steps.append(("names", (found["name"].lower(), content, tag_bytes)))
    if "http-equiv" in found:
        steps.append(("http_equiv", (found["http-equiv"].lower(), content, tag_bytes)))
    prop = found.get("property", "").lower()
    if prop in _LICENSE_PROPS:
        href = found.get("resource") or found.get("href") or content
        steps.append(("licenses", (f"<meta property={prop}>", href, "", decode_text(tag_bytes))))
    return tuple(steps)


def _link(raw: bytes, tag: bytes, lowered: bytes, tag_bytes: bytes) -> _Steps:
    """A ``<link>`` or ``<a>``: a licence link, and for attribution a canonical link or
    ccREL RDFa (``<a property="dct:title" rel="cc:attributionURL">``)."""
    steps: list[tuple[str, Any]] = []
    if tag == b"link":
        if b"canonical" in lowered or b"cc:attributionurl" in lowered:
            steps.append((_CANDIDATE, ("link", raw)))
    elif _RDFA_TERM_RE.search(lowered):
        steps.append((_RDFA_LINK, raw))
    if b"license" not in lowered:
        return tuple(steps)
    found = attrs(raw)
    rels = set(found.get("rel", "").lower().split())
    prop = found.get("property", "").lower()
    if rels & _LICENSE_RELS or prop in _LICENSE_PROPS:
        how = "<link rel=license>" if tag == b"link" else "<a rel=license>"
        href = found.get("href") or found.get("resource") or ""
        if href:
            entry = (how, href, found.get("type", "").lower(), decode_text(tag_bytes))
            steps.append(("licenses", entry))
    return tuple(steps)
