"""robots.txt-style path patterns, shared by Content-Usage rules and TDMRep locations.

RFC 9309 section 2.2.3: ``*`` matches any sequence of characters and a final ``$`` anchors
the pattern at the end of the path. TDMRep (CG final report, section 3.2) reuses the same
syntax for ``location``. Matching is against the path plus the query string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import ParseResult, SplitResult, unquote, urlsplit


def _normalise(text: str) -> str:
    # Compare decoded forms so that "/caf%C3%A9" and "/café" match each other
    # (RFC 9309 section 2.2.2: octets are compared after percent-decoding where safe).
    return unquote(text, errors="replace")


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Return a regex for *pattern*, or None when it is not a path pattern."""
    if not pattern.startswith("/") and not pattern.startswith("*"):
        return None
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in _normalise(body).split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)


def url_path(url: str) -> str:
    """The part of *url* that patterns match: path and query, decoded."""
    return url_path_of_parts(urlsplit(url))


def url_path_of_parts(parts: SplitResult | ParseResult) -> str:
    """:func:`url_path` for an already parsed URL."""
    path = parts.path or "/"
    if getattr(parts, "params", ""):
        path = f"{path};{parts.params}"  # type: ignore[union-attr]
    if parts.query:
        path = f"{path}?{parts.query}"
    return _normalise(path)


def pattern_matches(pattern: str, path: str) -> bool:
    """True when *pattern* matches the decoded *path* from :func:`url_path`."""
    compiled = compile_pattern(pattern)
    return compiled is not None and compiled.match(path) is not None


def match_length(pattern: str) -> int:
    """How specific *pattern* is: its length without wildcards (RFC 9309 2.2.2)."""
    return len(pattern.replace("*", "").rstrip("$"))
