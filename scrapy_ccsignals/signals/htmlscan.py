"""Cheap extraction of the page-level metadata every family needs from an HTML body.

A full HTML parse per response would cost more than the rest of the plugin; instead a
byte regex finds ``<meta>``, ``<link>``, ``<a>`` and JSON-LD ``<script>`` tags in the first
``CCSIGNALS_HTML_SCAN_BYTES`` bytes. ``<a>``/``<link>`` tags are only parsed when they
mention a licence, scripts only when they are JSON-LD, so a typical page costs one scan.

Tags inside comments, CDATA sections and ``<script>``/``<style>`` bodies are not signals
(SIGNALS.md, HTML scanning r2): the same scan matches those spans and steps over them, as
an HTML parser would (an unterminated comment or script runs to the end of the body).
JSON-LD scripts are read as data.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape

# A tag opener with no ">" after it runs to the end of the body (``\Z``) and ends the
# scan: without that alternative, every later opener would rescan to the end (quadratic in
# the page size, minutes for 256 KB of "<a ": a stalled reactor).
_TAG_RE = re.compile(
    rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    rb"|<(meta|link|a|script|style)\b([^>]*)(?:>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_ATTR_RE = re.compile(
    rb"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""", re.DOTALL
)
_SCRIPT_END_RE = re.compile(rb"</script\s*>", re.IGNORECASE)
_STYLE_END_RE = re.compile(rb"</style\s*>", re.IGNORECASE)
_JSONLD_MAX = 65536
_LICENSE_RELS = frozenset({"license", "dcterms:license", "dc:license", "cc:license", "dct:license"})
_LICENSE_PROPS = frozenset({"dcterms:license", "dc:license", "cc:license", "dct:license"})


def decode_text(value: bytes) -> str:
    """Bytes of a tag or attribute as text: UTF-8, entities unescaped, stripped."""
    text = value.decode("utf-8", "replace")
    if "&" in text:
        text = unescape(text)
    return text.strip()


def _attrs(raw: bytes) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).decode("ascii", "replace").lower()
        if name in attrs:
            continue  # HTML: the first occurrence of an attribute wins
        value = match.group(2) or match.group(3) or match.group(4) or b""
        attrs[name] = decode_text(value)
    return attrs


@dataclass
class HtmlMeta:
    """What the page says about itself."""

    #: ``<meta name=... content=...>``: (lower-cased name, content, tag bytes)
    names: list[tuple[str, str, bytes]] = field(default_factory=list)
    #: ``<meta http-equiv=... content=...>``: (lower-cased name, content, tag bytes)
    http_equiv: list[tuple[str, str, bytes]] = field(default_factory=list)
    #: licence links: (how, href, type, tag text)
    licenses: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: parsed JSON-LD blocks
    jsonld: list[object] = field(default_factory=list)


@lru_cache(maxsize=16)
def _meta_filter(names: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """Matches the attributes of a ``<meta>`` tag that may matter: an ``http-equiv``, a
    licence property, one of *names*, or an entity (which may spell one of them)."""
    words = [b"http-equiv", b"license", b"&", *names]
    return re.compile(b"|".join(re.escape(word) for word in words), re.IGNORECASE)


def extract(body: bytes, names: tuple[bytes, ...] | None = None) -> HtmlMeta:
    """Extract meta tags, licence links and JSON-LD from an HTML body (already capped).

    With *names* (lower-case), ``<meta name>`` tags are only kept when they may carry one
    of those names: a page's ``description``, ``viewport`` and ``charset`` tags are
    skipped without parsing their attributes."""
    meta = HtmlMeta()
    wanted = _meta_filter(names).search if names is not None else None
    search = _TAG_RE.search
    pos = 0
    while (match := search(body, pos)) is not None:
        pos = match.end()
        if match.group(1) is None:
            continue  # a comment or CDATA section: stepped over whole
        if match.group(0)[-1:] != b">":
            break  # a tag cut off by the end of the body: not a tag (HTML drops it)
        tag = match.group(1).lower()
        raw_attrs = match.group(2)
        if tag == b"meta":
            if wanted is not None and not wanted(raw_attrs):
                continue
            attrs = _attrs(raw_attrs)
            content = attrs.get("content", "")
            tag_bytes = match.group(0)  # decoded only if a signal needs its text
            if "name" in attrs:
                meta.names.append((attrs["name"].lower(), content, tag_bytes))
            if "http-equiv" in attrs:
                meta.http_equiv.append((attrs["http-equiv"].lower(), content, tag_bytes))
            prop = attrs.get("property", "").lower()
            if prop in _LICENSE_PROPS:
                href = attrs.get("resource") or attrs.get("href") or content
                meta.licenses.append((f"<meta property={prop}>", href, "", decode_text(tag_bytes)))
            continue
        lowered = raw_attrs.lower()
        if tag == b"script" or tag == b"style":
            end = (_SCRIPT_END_RE if tag == b"script" else _STYLE_END_RE).search(body, pos)
            jsonld = tag == b"script" and b"ld+json" in lowered
            if jsonld and end and end.start() - pos <= _JSONLD_MAX:
                with suppress(ValueError, RecursionError):  # broken JSON-LD says nothing
                    meta.jsonld.append(
                        json.loads(body[pos : end.start()].decode("utf-8", "replace"))
                    )
            pos = end.end() if end else len(body)  # raw text: no tags inside
            continue
        if b"license" not in lowered:
            continue
        attrs = _attrs(raw_attrs)
        rels = set(attrs.get("rel", "").lower().split())
        prop = attrs.get("property", "").lower()
        if rels & _LICENSE_RELS or prop in _LICENSE_PROPS:
            how = "<link rel=license>" if tag == b"link" else "<a rel=license>"
            href = attrs.get("href") or attrs.get("resource") or ""
            if href:
                meta.licenses.append(
                    (how, href, attrs.get("type", "").lower(), decode_text(match.group(0)))
                )
    return meta
