"""Licence metadata: where it is found and how Creative Commons licences are normalised.

Sources: ``Link: <...>; rel="license"`` header, ``<link rel="license">``, ``<a rel="license">``,
JSON-LD ``license``, Dublin Core / ccREL (``dcterms:license``, ``cc:license``) and RSL
(``License:`` in robots.txt, or ``rel="license"`` with type ``application/rsl+xml``).
A CC URL in any of its forms (http or https, ``www.``, ``deed.xx``, ``legalcode``,
``legalcode.xx``, with or without the trailing slash, query or fragment) is rewritten to
its canonical form (https, creativecommons.org, no deed/legalcode, query or fragment,
trailing slash) and given the id **the SPDX licence list** names it by (:data:`SPDX_CC_IDS`):
``CC-BY-NC-SA-3.0-DE``, ``CC0-1.0``, ``CC-PDM-1.0``, ``CC-PDDC`` for
``/licenses/publicdomain/``, ``CC-BY-NC-ND-1.0`` for ``by-nd-nc/1.0``, ``CC-SA-1.0``. A CC
licence the SPDX list does not name (``nc-sa/1.0``, most ported licences) gets the same
shape as an SPDX ``LicenseRef-``: ``LicenseRef-CC-NC-SA-1.0``, ``LicenseRef-CC-BY-3.0-FR``.
A licence only changes the decision when the operator filters on it
(``CCSIGNALS_LICENSES``, checked with :func:`canonical_license_id`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy_ccsignals.signals.base import DENY, UNKNOWN, Signal

FAMILY = "license"
RSL_TYPE = "application/rsl+xml"

_CC_LICENSE_RE = re.compile(
    r"^/licenses/(?P<kind>(?:by|nc|nd|sa)(?:-(?:nc|nd|sa)){0,2})/(?P<version>\d+\.\d+)"
    r"(?:/(?P<port>[a-z]{2}(?:-[a-z]{2})?|igo|scotland))?(?:/|$)",
    re.IGNORECASE,
)
_CC_PUBLIC_DOMAIN_RE = re.compile(
    r"^/publicdomain/(?P<kind>zero|mark)/(?P<version>\d+\.\d+)(?:/|$)", re.IGNORECASE
)
_CC_PDDC_RE = re.compile(r"^/licenses/publicdomain(?:/|$)", re.IGNORECASE)
#: The order of licence elements in SPDX ids (``by-nd-nc`` is ``CC-BY-NC-ND``).
_ELEMENT_ORDER = {"by": 0, "nc": 1, "nd": 2, "sa": 3}

#: Every Creative Commons id on the SPDX licence list (3.29): the ids
#: ``CCSIGNALS_LICENSES`` accepts, with the ``LicenseRef-CC-`` forms below.
SPDX_CC_IDS: frozenset[str] = frozenset(
    {
        *(f"CC-BY-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")),
        *(f"CC-BY-{p}" for p in ("2.5-AU", "3.0-AT", "3.0-AU", "3.0-DE", "3.0-IGO", "3.0-NL")),
        "CC-BY-3.0-US",
        *(f"CC-BY-NC-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "3.0-DE", "3.0-IGO", "4.0")),
        *(f"CC-BY-NC-ND-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "3.0-DE", "3.0-IGO", "4.0")),
        *(f"CC-BY-NC-SA-{v}" for v in ("1.0", "2.0", "2.0-DE", "2.0-FR", "2.0-UK", "2.5")),
        *(f"CC-BY-NC-SA-{v}" for v in ("3.0", "3.0-DE", "3.0-IGO", "4.0")),
        *(f"CC-BY-ND-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "3.0-DE", "4.0")),
        *(f"CC-BY-SA-{v}" for v in ("1.0", "2.0", "2.0-UK", "2.1-JP", "2.5", "3.0", "3.0-AT")),
        *(f"CC-BY-SA-{v}" for v in ("3.0-DE", "3.0-IGO", "4.0")),
        "CC-PDDC",
        "CC-PDM-1.0",
        "CC-SA-1.0",
        "CC0-1.0",
    }
)
_LICENSE_REF_RE = re.compile(
    r"LicenseRef-CC-(?:BY|NC|ND|SA)(?:-(?:NC|ND|SA)){0,2}-\d+\.\d+(?:-[A-Z]+(?:-[A-Z]{2})?)?"
)
_IDS_BY_UPPER = {spdx.upper(): spdx for spdx in SPDX_CC_IDS}
_LINK_HEADER_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^,;]*)*)")


@dataclass(frozen=True, slots=True, init=False)
class License:
    url: str  # canonical for CC licences, as found (absolute) otherwise
    id: str | None  # SPDX-style id for CC licences, None otherwise
    source: str  # where it was found, e.g. "html <link rel=license>"
    raw: str
    rsl: bool = False

    def __init__(self, url: str, id: str | None, source: str, raw: str, rsl: bool = False) -> None:
        # As Signal's (signals/base.py): the slots' setters, not object.__setattr__.
        _set_url(self, url)
        _set_id(self, id)
        _set_source(self, source)
        _set_raw(self, raw)
        _set_rsl(self, rsl)

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "id": self.id, "source": self.source, "raw": self.raw}


_set_url, _set_id, _set_source, _set_raw, _set_rsl = (
    License.__dict__[name].__set__ for name in ("url", "id", "source", "raw", "rsl")
)


def _cc_id(kind: str, version: str, port: str) -> str:
    """The SPDX id of a CC licence, or the ``LicenseRef-CC-`` id when SPDX has none."""
    elements = sorted(kind.split("-"), key=lambda e: _ELEMENT_ORDER.get(e, 9))
    spdx = "-".join(["CC", *(e.upper() for e in elements), version]) + (
        f"-{port.upper()}" if port else ""
    )
    return spdx if spdx in SPDX_CC_IDS else f"LicenseRef-{spdx}"


def canonical_license_id(text: str) -> str | None:
    """*text* as a CC licence id this module gives (SPDX case restored), else None.

    SPDX ids match case-insensitively (SPDX spec, annex B), so ``cc-by-4.0`` is
    ``CC-BY-4.0``."""
    spdx = _IDS_BY_UPPER.get(text.strip().upper())
    if spdx is not None:
        return spdx
    text = text.strip()
    if text[:14].lower() == "licenseref-cc-":
        text = "LicenseRef-CC-" + text[14:].upper()
        if _LICENSE_REF_RE.fullmatch(text):
            return text
    return None


#: Longest licence URL (and raw text, each; characters) whose reading is kept for the
#: next page that names it (a site's template repeats its licence on every page); a
#: longer one, which only a hostile server sends, is read each time and never kept.
MAX_KEPT_URL = 512
#: Licences and CC readings kept, least recently used dropped first.
MAX_KEPT_LICENSES = 1024


def normalise_cc(url: str) -> tuple[str, str] | None:
    """(canonical URL, SPDX id) for a Creative Commons licence URL, else None."""
    return kept_cc(url) if len(url) <= MAX_KEPT_URL else _normalise_cc(url)


def _normalise_cc(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in ("creativecommons.org", "www.creativecommons.org"):
        return None
    match = _CC_LICENSE_RE.match(parts.path)
    if match:
        kind, version = match.group("kind").lower(), match.group("version")
        if "by" not in kind and version != "1.0":
            return None  # licences without Attribution were retired after 1.0
        port = (match.group("port") or "").lower()
        path = f"/licenses/{kind}/{version}/" + (f"{port}/" if port else "")
        return f"https://creativecommons.org{path}", _cc_id(kind, version, port)
    match = _CC_PUBLIC_DOMAIN_RE.match(parts.path)
    if match:
        kind, version = match.group("kind").lower(), match.group("version")
        spdx = f"CC0-{version}" if kind == "zero" else f"CC-PDM-{version}"
        if spdx not in SPDX_CC_IDS:
            spdx = f"LicenseRef-{spdx}"
        return f"https://creativecommons.org/publicdomain/{kind}/{version}/", spdx
    if _CC_PDDC_RE.match(parts.path):
        return "https://creativecommons.org/licenses/publicdomain/", "CC-PDDC"
    return None


#: Where the SPDX licence list's ``seeAlso`` URLs for licences live (host + path prefix):
#: a URL under one of these, or a Creative Commons licence URL, names a licence. Other
#: URLs in free-form rights fields (a publisher's terms page, a EULA) do not.
LICENSE_URL_PREFIXES = (
    "opensource.org/licenses/",
    "opensource.org/license/",
    "www.gnu.org/licenses/",
    "gnu.org/licenses/",
    "www.apache.org/licenses/",
    "apache.org/licenses/",
    "www.mozilla.org/mpl/",
    "mozilla.org/mpl/",
    "opendatacommons.org/licenses/",
    "www.opendatacommons.org/licenses/",
    "www.eclipse.org/legal/epl",
    "spdx.org/licenses/",
    "artlibre.org/licence/",
    "unlicense.org",
    "www.nationalarchives.gov.uk/doc/open-government-licence/",
    "cdla.dev/",
    "cdla.io/",
)


def is_license_url(value: str) -> bool:
    """Whether *value* is a licence URL: a Creative Commons licence, or a URL under one of
    :data:`LICENSE_URL_PREFIXES` (rulebook, Asset metadata (r3): ``dc:rights`` and
    ``xmpRights:WebStatement`` are a licence only then; anything else is a copyright
    statement)."""
    text = value.strip()
    if " " in text or not text.lower().startswith(("http://", "https://")):
        return False
    if normalise_cc(text) is not None:
        return True
    rest = text.split("://", 1)[1].lower()
    return rest.startswith(LICENSE_URL_PREFIXES)


def make_license(url: str, source: str, raw: str, rsl: bool = False) -> License:
    """The licence *url* names, found at *source* as *raw*: a CC licence canonical and
    with its id (:func:`normalise_cc`), any other URL as found. Licences are immutable,
    so one serves every page that repeats it."""
    if len(url) <= MAX_KEPT_URL and len(raw) <= MAX_KEPT_URL:
        return kept_license(url, source, raw, rsl)
    return _make_license(url, source, raw, rsl)


def _make_license(url: str, source: str, raw: str, rsl: bool) -> License:
    cc = None if rsl else normalise_cc(url)
    if cc:
        return License(cc[0], cc[1], source, raw)
    return License(url.strip(), None, source, raw, rsl=rsl)


#: :func:`make_license` and :func:`normalise_cc` of the values short enough to keep.
kept_license = lru_cache(maxsize=MAX_KEPT_LICENSES)(_make_license)
kept_cc = lru_cache(maxsize=MAX_KEPT_LICENSES)(_normalise_cc)


def link_header_licenses(value: str) -> list[tuple[str, str | None]]:
    """``(url, type)`` of every ``rel="license"`` link in a ``Link`` header value."""
    found = []
    for match in _LINK_HEADER_RE.finditer(value):
        params: dict[str, str] = {}
        for param in match.group(2).split(";"):
            key, sep, val = param.partition("=")
            if sep:
                params[key.strip().lower()] = val.strip().strip('"')
        if "license" in params.get("rel", "").lower().split():
            found.append((match.group(1).strip(), params.get("type")))
    return found


#: The keys that name a licence in JSON-LD.
_JSONLD_LICENSE_KEYS = frozenset({"license", "schema:license", "http://schema.org/license"})


def jsonld_licenses(data: object, depth: int = 0) -> list[str]:
    """Licence URLs named by ``license`` keys in parsed JSON-LD (nested, ``@graph``),
    in document order; containers nested more than eight deep are not read."""
    found: list[str] = []
    _jsonld_walk(data, depth, found)
    return found


def _jsonld_walk(data: object, depth: int, found: list[str]) -> None:
    # One list for the whole walk, and scalars never entered: every page's JSON-LD is read.
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data:
            if isinstance(item, (list, dict)):
                _jsonld_walk(item, depth + 1, found)
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in _JSONLD_LICENSE_KEYS:
                found.extend(_license_values(value))
            elif isinstance(value, (list, dict)):
                _jsonld_walk(value, depth + 1, found)


def _license_values(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        for key in ("@id", "url", "id"):
            if isinstance(value.get(key), str):
                return [value[key]]
    if isinstance(value, list):
        return [v for item in value for v in _license_values(item)]
    return []


def choose_license(found: list[License]) -> License | None:
    """The item's licence: the first CC licence found, else the first other one."""
    for lic in found:
        if lic.id:
            return lic
    for lic in found:
        if not lic.rsl:
            return lic
    return found[0] if found else None


def license_signals(
    found: list[License], chosen: License | None, allowed: frozenset[str] | None, url: str
) -> list[Signal]:
    """One signal per licence seen; with an operator filter, a deny when not allowed."""
    signals = [
        Signal(FAMILY, lic.source.split()[0], url, UNKNOWN, lic.raw, lic.id or lic.url)
        for lic in found
    ]
    if allowed is not None and (chosen is None or chosen.id not in allowed):
        got = chosen.id or chosen.url if chosen else "none"
        signals.append(
            Signal(
                FAMILY,
                chosen.source.split()[0] if chosen else "html",
                url,
                DENY,
                f"licence {got} not in CCSIGNALS_LICENSES",
                value=str(got),
            )
        )
    return signals
