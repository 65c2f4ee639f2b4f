"""robots.txt-style path patterns: one matcher for robots.txt ``Content-Usage`` and
``Content-Signal`` paths, TDMRep locations and (later) RSL content URLs.

RFC 9309 section 2.2.3: ``*`` matches any sequence of characters and a final ``$`` anchors
the pattern at the end of the path. TDMRep (CG final report, section 3.2) reuses the same
syntax for ``location``. Matching is against the path plus the query string.

Percent-encoding (RFC 9309 section 2.2.2), applied alike to patterns and paths before they
are compared: ``%XX`` escapes of unreserved characters (``A-Z a-z 0-9 - . _ ~``) are
decoded; every other escape stays escaped, its hex digits upper-cased, so ``%2F`` is not
``/`` and ``/a%2Fb/`` is not under ``/a/``; characters outside US-ASCII are
percent-encoded as UTF-8; ASCII characters a URI may not hold (space, ``<``, ``"``...) and a
stray ``%`` are escaped too. Reserved characters written literally (``/ ? = &``...) stay as
they are: they are delimiters, not data. The pattern characters ``$`` and ``*`` are the
exception (RFC 9309 section 2.2.3): in a pattern they are the end anchor and the wildcard,
so a literal one is written ``%24`` / ``%2A`` (``/path/foo-%24`` matches the path
``/path/foo-$``); a ``$`` or ``*`` in a URL's path is compared in that escaped form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import ParseResult, SplitResult, urlsplit

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters that stay literal: unreserved and reserved (RFC 3986 section 2.2), except
#: the robots.txt pattern characters ``$`` and ``*``, which compare as ``%24`` / ``%2A``.
_LITERAL = _UNRESERVED | frozenset(":/?#[]@!&'()+,;=")
#: Anything that may need rewriting: an escape, or a character not kept literally.
_NEEDS_WORK = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!&'()+,;=]")
_HEX = frozenset("0123456789abcdefABCDEF")


def normalise(text: str) -> str:
    """The RFC 9309 2.2.2 comparison form of a path or pattern (see the module docstring)."""
    if _NEEDS_WORK.search(text) is None:
        return text  # the common case: plain ASCII, no escapes
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if char in _LITERAL:
            out.append(char)
        else:  # "%" without two hex digits, ASCII a URI may not hold, or non-ASCII
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Return a regex for *pattern*, or None when it is not a path pattern."""
    if not pattern.startswith("/") and not pattern.startswith("*"):
        return None
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(normalise(part)) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)


def url_path(url: str) -> str:
    """The part of *url* that patterns match: path and query, in comparison form."""
    return url_path_of_parts(urlsplit(url))


def url_path_of_parts(parts: SplitResult | ParseResult) -> str:
    """:func:`url_path` for an already parsed URL."""
    path = parts.path or "/"
    if getattr(parts, "params", ""):
        path = f"{path};{parts.params}"  # type: ignore[union-attr]
    if parts.query:
        path = f"{path}?{parts.query}"
    return normalise(path)


def pattern_matches(pattern: str, path: str) -> bool:
    """True when *pattern* matches *path*, a path in comparison form from :func:`url_path`
    (a raw path is normalised here too; normalising twice changes nothing).

    One matcher: the :class:`PathPattern` a crawl prepares once per file, made here for
    one call, so what the corpora and property tests check is what the crawl runs."""
    return prepare_pattern(pattern).matches(normalise(path))


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A pattern made ready once for the many paths it is matched against (the lines of an
    origin's robots.txt or tdmrep.json are matched against every page of the origin):
    compiled when the policy is read, so no page compiles or looks one up."""

    pattern: str
    #: the normalised pattern (``$`` and trailing ``*`` dropped) for a pattern with no
    #: other wildcard; None for one with a wildcard before its end
    plain: str | None
    exact: bool  # a plain pattern with a final ``$``: the whole path
    regex: re.Pattern[str] | None
    length: int  # :func:`match_length`

    def matches(self, path: str) -> bool:
        """True when the pattern matches *path*, in comparison form (:func:`url_path`)."""
        plain = self.plain
        if plain is not None:
            return path == plain if self.exact else path.startswith(plain)
        regex = self.regex
        return regex is not None and regex.match(path) is not None


def prepare_pattern(pattern: str) -> PathPattern:
    """*pattern* as a :class:`PathPattern` (a pattern that is no path pattern, starting
    with neither ``/`` nor ``*``, matches nothing)."""
    length = match_length(pattern)
    if not pattern.startswith(("/", "*")):
        return PathPattern(pattern, None, False, None, length)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    prefix = body.rstrip("*")
    if "*" in prefix:
        return PathPattern(pattern, None, False, compile_pattern(pattern), length)
    if prefix != body:
        # Wildcards only at the end ("/p/1*", TDMRep's usual "/*", also "/p*$"): they
        # match any rest, so the pattern is its prefix, matched without a regex.
        return PathPattern(pattern, normalise(prefix), False, None, length)
    return PathPattern(pattern, normalise(body), anchored, None, length)


def match_length(pattern: str) -> int:
    """How specific *pattern* is: its length without wildcards (RFC 9309 2.2.2)."""
    body = pattern[:-1] if pattern.endswith("$") else pattern
    return sum(len(normalise(part)) for part in body.split("*"))
