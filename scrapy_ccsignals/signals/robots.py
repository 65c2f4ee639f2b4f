"""robots.txt (RFC 9309) as a pure function of status and bytes: the access rules for one
product token, plus the extension lines protego does not keep.

Group selection is done here, once per file: the groups naming the token
(case-insensitive, RFC 9309 section 2.2.1; several are merged), else ``*``, else none.
A ``User-agent`` value names the product up to the first ``/``, space or tab, digits
included (``AI2Bot`` is AI2Bot's group): Google's matcher keeps only letters, we follow
what site owners mean (rulebook, "The token"). The chosen group's allow/disallow lines
are handed to protego, which does the matching (longest match wins, Allow wins a tie,
percent-encoding as section 2.2.2). Inside the same group we read ``Content-Usage``
(draft-ietf-aipref-attach section 4), ``Content-Signal`` and ``DisallowAITraining`` /
``AllowAITraining`` (draft-canel-robots-ai-control-00) lines; a ``Sitemap`` line does not
end a group, so lines after it still belong to it; ``Content-Signal``
lines before the first ``User-agent`` apply whatever group is matched (and when none is);
``License`` (RSL 1.0) is a file-wide line like ``Sitemap``.

The crawler's own token comes from :func:`product_token` (rulebook, "The token").
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from protego import Protego

from scrapy_ccsignals.signals import ai_control
from scrapy_ccsignals.signals.pathmatch import match_length, pattern_matches

#: Outcomes. "parsed": 2xx, rules apply. "unavailable": 4xx or too many redirects, no
#: rules, allow all (RFC 9309 2.3.1.2-3). "unreachable": 5xx, 429, timeout or network
#: error, disallow all (RFC 9309 2.3.1.4).
PARSED = "parsed"
UNAVAILABLE = "unavailable"
UNREACHABLE = "unreachable"

MAX_REDIRECTS = 5  # RFC 9309 section 2.3.1.2
#: Usage lines read from the crawler's group (and the top-level ``Content-Signal`` lines):
#: each is matched against every page of the origin, so past it the rest is not read and
#: the origin's pages are denied (fail closed: the unread lines may say anything).
MAX_USAGE_LINES = 512
#: Allow/Disallow rules read from the crawler's group (protego matches a URL against them one
#: by one): past it, the rest is not read and the origin is disallowed (fail closed).
MAX_ACCESS_RULES = 4096

_UA_KEYS = frozenset({"user-agent", "useragent", "user agent"})
_RULE_KEYS = {
    "allow": "Allow",
    "disallow": "Disallow",
    "dissallow": "Disallow",
    "dissalow": "Disallow",
    "disalow": "Disallow",
    "crawl-delay": "Crawl-delay",
    "crawldelay": "Crawl-delay",
}
#: Usage lines read from the matched group (rulebook, robots.txt): draft-ietf-aipref-attach's
#: Content-Usage, Cloudflare's Content-Signal, draft-canel-robots-ai-control's AI-training rules.
_EXTENSION_KEYS = frozenset(
    {"content-usage", "content-signal", "disallowaitraining", "allowaitraining"}
)
_AI_CONTROL = ai_control.KEYS


def outcome_for_status(status: int) -> str:
    """RFC 9309 section 2.3.1: what a final HTTP status means for the rules."""
    if 200 <= status < 300:
        return PARSED
    if status == 429 or status >= 500:
        return UNREACHABLE
    return UNAVAILABLE  # 3xx past the redirect limit, and 4xx


def decode_body(body: bytes) -> str:
    """Decode leniently: honour a UTF-8/UTF-16 BOM, else UTF-8 with replacement."""
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    return body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class ScopedLine:
    """A ``Content-Usage``/``Content-Signal`` line: optional path scope and its value."""

    key: str  # content-usage, content-signal, disallowaitraining or allowaitraining
    path: str  # "/" when the line names no path (whole site)
    value: str
    raw: str


@dataclass(slots=True)
class RobotsRules:
    """One origin's rules for one token. Kept per origin for the whole crawl (up to
    ``CCSIGNALS_POLICY_CACHE_SIZE``), so compact: tuples (the empty one is shared), no
    instance dict, and no protego matcher when nothing is disallowed."""

    outcome: str
    token: str
    group: str | None = None  # the user-agent the chosen group named, or None
    crawl_delay: float | None = None
    extensions: tuple[ScopedLine, ...] = ()
    licenses: tuple[str, ...] = ()
    #: usage lines past :data:`MAX_USAGE_LINES`, not kept (the origin is denied for them)
    usage_lines_dropped: int = 0
    #: Allow/Disallow rules past :data:`MAX_ACCESS_RULES` (then every path is disallowed)
    access_rules_dropped: int = 0
    _matcher: Protego | None = None

    def can_fetch(self, url: str, path: str) -> bool:
        """True when the rules let the token fetch *url* (whose path is *path*)."""
        if self.outcome == UNREACHABLE:
            return path == "/robots.txt"
        if self._matcher is None or path == "/robots.txt":
            return True
        return bool(self._matcher.can_fetch(url, self.token))

    def scoped(self, key: str, path: str) -> list[ScopedLine]:
        """Lines of *key* that apply to *path*: the longest matching scope, all ties."""
        best = -1
        chosen: list[ScopedLine] = []
        for line in self.extensions:
            if line.key != key or not pattern_matches(line.path, path):
                continue
            length = match_length(line.path)
            if length > best:
                best, chosen = length, [line]
            elif length == best:
                chosen.append(line)
        return chosen


def _split_line(line: str) -> tuple[str, str] | None:
    line = line.split("#", 1)[0].strip()
    key, sep, value = line.partition(":")
    if not sep:
        return None
    return key.strip().lower(), value.strip()


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")
_PRODUCT_END_RE = re.compile(r"[/ \t]")
_COMPATIBLE_RE = re.compile(r"\bcompatible\s*;\s*([^;)]*)", re.IGNORECASE)
_PRODUCT_RE = re.compile(r"[^/\s();]+")
_SCOPED_RE = re.compile(r"(/[^ \t]*)[ \t]+(.*)", re.DOTALL)


def valid_token(text: str) -> bool:
    """True when *text* is a usable product token: letters, digits, ``_`` and ``-``.

    RFC 9309 section 2.2.1 allows letters, ``_`` and ``-``; digits are kept because
    deployed crawlers (``AI2Bot``, ``360Spider``) have them and sites name them so."""
    return _TOKEN_RE.fullmatch(text) is not None


def product_token(user_agent: str) -> str | None:
    """The robots.txt product token a ``User-Agent`` string names, or None.

    The first product name (``MyAIBot/1.0 (+url)`` -> ``MyAIBot``), except that a
    browser-style string with a ``compatible;`` comment names the first product inside it
    (``Mozilla/5.0 (compatible; ExampleAIBot/1.0; +url)`` -> ``ExampleAIBot``). None when
    that name holds other characters than :func:`valid_token` allows."""
    text = user_agent.strip()
    compatible = _COMPATIBLE_RE.search(text)
    if compatible:
        inner = _PRODUCT_RE.match(compatible.group(1).strip())
        if inner and valid_token(inner.group(0)):
            return inner.group(0)
    first = _PRODUCT_RE.match(text)
    if first and valid_token(first.group(0)):
        return first.group(0)
    return None


def agent_name(value: str) -> str:
    """The product a ``User-agent:`` value names, lower-cased: up to the first ``/``,
    space or tab (``Googlebot/2.1 (+http://...)`` -> ``googlebot``)."""
    return _PRODUCT_END_RE.split(value.strip(), maxsplit=1)[0].lower()


def _scoped_line(key: str, value: str, raw: str) -> ScopedLine:
    """A ``Content-Usage``/``Content-Signal`` value with an optional leading path, which
    ends at the first space or tab (draft-ietf-aipref-attach section 4); for
    ``DisallowAITraining``/``AllowAITraining`` the value is the path pattern and the line's
    value its preference, ``n`` or ``y``."""
    if key in _AI_CONTROL:
        return ScopedLine(key, value, _AI_CONTROL[key], raw)
    match = _SCOPED_RE.fullmatch(value)
    if match:
        return ScopedLine(key, match.group(1), match.group(2).strip(), raw)
    return ScopedLine(key, "/", value, raw)


def parse_robots(text: str, token: str) -> RobotsRules:
    """Pick the group for *token* in *text* and build its rules (outcome ``parsed``)."""
    wanted = token.lower()
    groups: list[tuple[list[str], list[tuple[str, str, str]]]] = []
    preamble: list[ScopedLine] = []  # Content-Signal lines before the first User-agent
    licenses: list[str] = []
    in_agents = False
    for raw_line in text.splitlines():
        parts = _split_line(raw_line)
        if parts is None:
            continue
        key, value = parts
        if key in _UA_KEYS:
            if not in_agents:
                groups.append(([], []))
                in_agents = True
            groups[-1][0].append(agent_name(value))
            continue
        if key == "license":
            if value:
                licenses.append(value)
            continue
        if key not in _RULE_KEYS and key not in _EXTENSION_KEYS:
            continue  # Sitemap and unknown records neither end nor join a group (2.2.4)
        in_agents = False
        if groups:
            groups[-1][1].append((key, value, raw_line.strip()))
        elif key == "content-signal":
            preamble.append(_scoped_line(key, value, raw_line.strip()))

    own = [rules for agents, rules in groups if wanted in agents]
    star = [rules for agents, rules in groups if "*" in agents]
    chosen, name = (own, token) if own else ((star, "*") if star else ([], None))
    rules = [rule for group_rules in chosen for rule in group_rules]

    lines = ["User-agent: *"]
    disallows = False
    crawl_delay: float | None = None
    extensions: list[ScopedLine] = list(preamble)
    for key, value, raw in rules:
        if key in _AI_CONTROL and not value:
            continue  # names no path: says nothing, as an empty Disallow
        if key in _EXTENSION_KEYS:
            extensions.append(_scoped_line(key, value, raw))
        elif _RULE_KEYS[key] == "Crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and delay == delay:  # not NaN
                crawl_delay = delay if crawl_delay is None else max(crawl_delay, delay)
        else:
            lines.append(f"{_RULE_KEYS[key]}: {value}")
            # An empty Disallow disallows nothing (RFC 9309 2.2.2).
            disallows = disallows or (_RULE_KEYS[key] == "Disallow" and bool(value))
    access_rules = sum(1 for line in lines[1:] if not line.endswith(": "))
    access_dropped = max(0, access_rules - MAX_ACCESS_RULES)
    if access_dropped:
        # The rules left unread may disallow anything: disallow all (except /robots.txt).
        lines, disallows = ["User-agent: *", "Disallow: /"], True
    # Without a Disallow, every path is allowed whatever the Allow lines say: no matcher.
    matcher = Protego.parse("\n".join(lines)) if disallows else None
    return RobotsRules(
        outcome=PARSED,
        token=token,
        group=name,
        crawl_delay=crawl_delay,
        extensions=tuple(extensions[:MAX_USAGE_LINES]),
        licenses=tuple(licenses),
        usage_lines_dropped=max(0, len(extensions) - MAX_USAGE_LINES),
        access_rules_dropped=access_dropped,
        _matcher=matcher,
    )


def rules_for_response(status: int, body: bytes, token: str, max_bytes: int) -> RobotsRules:
    """The rules an HTTP answer for ``/robots.txt`` gives (after redirects)."""
    outcome = outcome_for_status(status)
    if outcome != PARSED:
        return RobotsRules(outcome=outcome, token=token)
    return parse_robots(decode_body(body[:max_bytes]), token)


def rules_for_error(token: str) -> RobotsRules:
    """Timeouts, refused connections and other network errors: disallow all."""
    return RobotsRules(outcome=UNREACHABLE, token=token)
