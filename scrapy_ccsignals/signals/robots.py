"""robots.txt (RFC 9309) as a pure function of status and bytes: the access rules for one
product token, plus the extension lines protego does not keep.

Group selection is done here, once per file: the groups naming the token
(case-insensitive, RFC 9309 section 2.2.1; several are merged), else ``*``, else none.
The chosen group's allow/disallow lines are handed to protego, which does the matching
(longest match wins, Allow wins a tie, section 2.2.2). Inside the same group we read
``Content-Usage`` (draft-ietf-aipref-attach section 4) and ``Content-Signal`` lines;
``License`` (RSL 1.0) is a file-wide line like ``Sitemap``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from protego import Protego

from scrapy_ccsignals.signals.pathmatch import match_length, pattern_matches

#: Outcomes. "parsed": 2xx, rules apply. "unavailable": 4xx or too many redirects, no
#: rules, allow all (RFC 9309 2.3.1.2-3). "unreachable": 5xx, 429, timeout or network
#: error, disallow all (RFC 9309 2.3.1.4).
PARSED = "parsed"
UNAVAILABLE = "unavailable"
UNREACHABLE = "unreachable"

MAX_REDIRECTS = 5  # RFC 9309 section 2.3.1.2

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
_EXTENSION_KEYS = frozenset({"content-usage", "content-signal"})


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

    key: str
    path: str  # "/" when the line names no path (whole site)
    value: str
    raw: str


@dataclass
class RobotsRules:
    outcome: str
    token: str
    group: str | None = None  # the user-agent the chosen group named, or None
    crawl_delay: float | None = None
    extensions: list[ScopedLine] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
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


def _agent_name(value: str) -> str:
    # "Googlebot/2.1 (+http://...)" names the product token "googlebot".
    words = value.split("/", 1)[0].split()
    return words[0].lower() if words else ""


def parse_robots(text: str, token: str) -> RobotsRules:
    """Pick the group for *token* in *text* and build its rules (outcome ``parsed``)."""
    wanted = token.lower()
    groups: list[tuple[list[str], list[tuple[str, str, str]]]] = []
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
            groups[-1][0].append(_agent_name(value))
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

    own = [rules for agents, rules in groups if wanted in agents]
    star = [rules for agents, rules in groups if "*" in agents]
    chosen, name = (own, token) if own else ((star, "*") if star else ([], None))
    rules = [rule for group_rules in chosen for rule in group_rules]

    lines = ["User-agent: *"]
    crawl_delay: float | None = None
    extensions: list[ScopedLine] = []
    for key, value, raw in rules:
        if key in _EXTENSION_KEYS:
            path, sep, rest = value.partition(" ")
            if value.startswith("/") and sep:
                extensions.append(ScopedLine(key, path, rest.strip(), raw))
            else:
                extensions.append(ScopedLine(key, "/", value, raw))
        elif _RULE_KEYS[key] == "Crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and delay == delay:  # not NaN
                crawl_delay = delay if crawl_delay is None else max(crawl_delay, delay)
        else:
            lines.append(f"{_RULE_KEYS[key]}: {value}")
    matcher = Protego.parse("\n".join(lines)) if len(lines) > 1 else None
    return RobotsRules(
        outcome=PARSED,
        token=token,
        group=name,
        crawl_delay=crawl_delay,
        extensions=extensions,
        licenses=licenses,
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
