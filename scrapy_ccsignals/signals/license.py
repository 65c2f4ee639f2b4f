"""Licence metadata: where it is found and how Creative Commons licences are normalised.

Sources: ``Link: <...>; rel="license"`` header, ``<link rel="license">``, ``<a rel="license">``,
JSON-LD ``license``, Dublin Core / ccREL (``dcterms:license``, ``cc:license``) and RSL
(``License:`` in robots.txt, or ``rel="license"`` with type ``application/rsl+xml``).
A CC URL is rewritten to its canonical form (https, creativecommons.org, no deed/legalcode,
query or fragment, trailing slash) with an SPDX-style id. A licence only changes the
decision when the operator filters on it (``CCSIGNALS_LICENSES``).
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
    r"^/licenses/(?P<kind>by(?:-nc)?(?:-nd|-sa)?|by-nd-nc)/(?P<version>\d+\.\d+)"
    r"(?:/(?P<port>[a-z]{2}(?:-[a-z]{2})?|igo))?(?:/|$)",
    re.IGNORECASE,
)
_CC_PUBLIC_DOMAIN_RE = re.compile(
    r"^/publicdomain/(?P<kind>zero|mark)/(?P<version>\d+\.\d+)(?:/|$)", re.IGNORECASE
)
_LINK_HEADER_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^,;]*)*)")


@dataclass(frozen=True, slots=True)
class License:
    url: str  # canonical for CC licences, as found (absolute) otherwise
    id: str | None  # SPDX-style id for CC licences, None otherwise
    source: str  # where it was found, e.g. "html <link rel=license>"
    raw: str
    rsl: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "id": self.id, "source": self.source, "raw": self.raw}


@lru_cache(maxsize=1024)  # a site repeats its licence URL on every page
def normalise_cc(url: str) -> tuple[str, str] | None:
    """(canonical URL, SPDX id) for a Creative Commons licence URL, else None."""
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
        port = (match.group("port") or "").lower()
        path = f"/licenses/{kind}/{version}/" + (f"{port}/" if port else "")
        spdx = f"CC-{kind.upper()}-{version}" + (f"-{port.upper()}" if port else "")
        return f"https://creativecommons.org{path}", spdx
    match = _CC_PUBLIC_DOMAIN_RE.match(parts.path)
    if match:
        kind, version = match.group("kind").lower(), match.group("version")
        spdx = f"CC0-{version}" if kind == "zero" else f"CC-PDM-{version}"
        return f"https://creativecommons.org/publicdomain/{kind}/{version}/", spdx
    return None


def make_license(url: str, source: str, raw: str, rsl: bool = False) -> License:
    cc = None if rsl else normalise_cc(url)
    if cc:
        return License(cc[0], cc[1], source, raw)
    return License(url.strip(), None, source, raw, rsl=rsl)


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


def jsonld_licenses(data: object, depth: int = 0) -> list[str]:
    """Licence URLs named by ``license`` keys in parsed JSON-LD (nested, ``@graph``)."""
    if depth > 8:
        return []
    found: list[str] = []
    if isinstance(data, list):
        for item in data:
            found.extend(jsonld_licenses(item, depth + 1))
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in ("license", "schema:license", "http://schema.org/license"):
                found.extend(_license_values(value))
            elif isinstance(value, (list, dict)):
                found.extend(jsonld_licenses(value, depth + 1))
    return found


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
        Signal(FAMILY, lic.source.split()[0], url, UNKNOWN, lic.raw, value=lic.id or lic.url)
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
