"""Summarise audit logs: streamed line by line, so a multi-gigabyte log costs memory in
proportion to its number of origins, not its size.

Every request ends in exactly one *outcome* (docs/audit-log.md): ``forbidden`` by
robots.txt, ``error``, ``ignored`` by another middleware, or fetched and then ``allowed``,
``conditional`` (allowed with accepted conditions), ``denied`` or ``unchecked``. The
outcomes partition the requests, and the text table, JSON, HTML charts and HTML tables all
print the same counts (the old page drew "allowed" without the conditional ones beside a
table that counted them in).

What grows with the log is bounded: counters keep at most ``MAX_KEYS`` keys (the rest are
counted under ``(other)``), each origin keeps the first ``urls_per_outcome`` held-back URLs
per outcome (``MAX_SAMPLES`` in all), and the timeline switches from seconds to minutes, hours
and days when it gets long. The renderers are in ``report_text`` and ``report_html``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy_ccsignals.records.crawls import LineCounts, Selection, read_records
from scrapy_ccsignals.records.inputs import ReadStats

if TYPE_CHECKING:
    from scrapy_ccsignals.records.feeds import Progress

#: Outcomes in display order; every request has one.
OUTCOMES = ("allowed", "conditional", "denied", "unchecked", "forbidden", "error", "ignored")
#: The outcomes of URLs the crawl did not use, listed URL by URL.
HELD_BACK = ("forbidden", "denied", "error", "ignored")
MAX_KEYS = 500  # distinct keys per counter
MAX_SAMPLES = 200_000  # URLs kept for the explorer, over all origins
MAX_TEXT = 1000  # characters kept of one URL or reason
CRAWL_FACTS = ("spider", "token", "user_agent", "purpose", "mode", "default", "plugin")
_URL_TAIL = re.compile(r": [a-zA-Z][a-zA-Z0-9+.-]*://\S*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """*text* with control characters (C0, DEL, C1) shown as ``\\xNN``: server text must
    not move a terminal's cursor, retitle it or hide what follows (issue 14 item 11)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def reason_key(reason: str) -> str:
    """A reason without its trailing source URL (``...: http://a/robots.txt``), so reasons
    group across origins; everything before it is kept, colons included."""
    return _URL_TAIL.sub("", reason)


def normalise_origin(url: str) -> str:
    """``scheme://host:port`` as the audit log writes origins (default port spelled out)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    if not scheme or not host or port is None:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def bump(counter: Counter[str], key: str, count: int = 1) -> None:
    """Count *key*, or ``(other)`` once the counter holds ``MAX_KEYS`` keys."""
    if key not in counter and len(counter) >= MAX_KEYS:
        key = "(other)"
    counter[key] += count


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT]


# A denied response's families denied through a signal of one of these effects: an outright
# deny, or a conditional whose conditions the crawl did not accept (RSL, CC signals).
_DENYING = frozenset({"deny", "conditional"})


def outcome_of(line: dict[str, Any]) -> str | None:
    """The outcome of a ``request`` or ``response`` line; None for other stages."""
    stage, action = line.get("stage"), line.get("action")
    if stage == "request":
        if action == "error":
            return "error"
        if action == "dropped":
            return "forbidden" if line.get("decision") == "forbidden" else "ignored"
        return None
    if stage != "response" or action == "redirected":
        # A redirect hop (3xx or meta refresh) leads to another request, which has the
        # outcome; the hop itself is in the audit log, not in the tallies.
        return None
    decision = line.get("decision")
    if decision == "deny":
        return "denied"
    if decision == "allow":
        return "conditional" if line.get("conditions") else "allowed"
    return "unchecked"


@dataclass
class Tally:
    """Counts for one origin, or for all of them."""

    requests: int = 0
    fetched: int = 0
    forbidden: int = 0
    excluded: int = 0  # of the forbidden: on an exclusion list (CCSIGNALS_EXCLUDE)
    ignored: int = 0  # dropped by another middleware (e.g. OffsiteMiddleware)
    errors: int = 0
    allowed: int = 0  # allowed without conditions
    allowed_with_conditions: int = 0
    denied: int = 0
    unchecked: int = 0  # fetched with dont_obey_ccsignals
    items_dropped: int = 0
    items_tagged: int = 0
    forbidden_by: Counter[str] = field(default_factory=Counter)
    errors_by: Counter[str] = field(default_factory=Counter)
    denied_by_family: Counter[str] = field(default_factory=Counter)
    denied_by_layer: Counter[str] = field(default_factory=Counter)  # "family layer"
    conditions: Counter[str] = field(default_factory=Counter)
    licenses: Counter[str] = field(default_factory=Counter)
    policies: Counter[str] = field(default_factory=Counter)
    #: the last line seen per policy kind: outcome, status, url, cached, detail; an
    #: origin's own fact, so the overall tally (``per_origin`` False) keeps none
    policy_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    rsl: Counter[str] = field(default_factory=Counter)  # RSL licence URLs seen
    per_origin: bool = True

    def count(self, outcome: str) -> int:
        return getattr(self, _FIELD[outcome])

    def add(self, line: dict[str, Any], outcome: str | None) -> None:
        stage = line.get("stage")
        if stage == "policy":
            policy = line.get("policy")
            if not isinstance(policy, dict):
                return
            kind = _text(policy.get("kind", "?"))
            bump(self.policies, f"{kind} {_text(policy.get('outcome', '?'))}")
            if self.per_origin and (kind in self.policy_files or len(self.policy_files) < 8):
                self.policy_files[kind] = {
                    k: _text(policy[k]) if isinstance(policy.get(k), str) else policy.get(k)
                    for k in ("outcome", "status", "url", "cached", "fetched_at", "detail")
                }
            return
        if stage == "item":
            action = line.get("action")
            if action == "dropped":
                self.items_dropped += 1
            elif action == "tagged":
                self.items_tagged += 1
            return
        if outcome is None:
            return
        self.requests += 1
        setattr(self, _FIELD[outcome], getattr(self, _FIELD[outcome]) + 1)
        reasons = line.get("reasons") or ["?"]
        if outcome == "forbidden":
            bump(self.forbidden_by, reason_key(_text(reasons[0])))
            if "excluded" in (line.get("families") or ()):
                self.excluded += 1
        elif outcome == "error":
            bump(self.errors_by, reason_key(_text(reasons[0])).split(":", 1)[0])
        elif outcome in ("ignored",):
            return
        if stage != "response":
            return
        self.fetched += 1
        if outcome == "denied":
            families = line.get("families") or ["?"]
            for family in families:
                bump(self.denied_by_family, _text(family))
            layers = {
                f"{s.get('family')} {s.get('layer')}"
                for s in line.get("signals") or ()
                if isinstance(s, dict)
                and s.get("effect") in _DENYING
                and s.get("family") in families
            }
            for key in layers or {f"{f} ?" for f in families}:
                bump(self.denied_by_layer, _text(key))
        elif outcome == "conditional":
            for condition in line.get("conditions") or ():
                bump(self.conditions, _text(condition))
        lic = line.get("license")
        lic = lic if isinstance(lic, dict) else {}
        bump(self.licenses, _text(lic.get("id") or lic.get("url") or "none"))
        if lic.get("url") and "robots.txt" in str(lic.get("source", "")):
            bump(self.rsl, _text(lic["url"]))

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        if not data.pop("per_origin"):
            del data["policy_files"]
        for key, value in data.items():
            if isinstance(value, Counter):
                data[key] = dict(value.most_common())
        return data


_FIELD = {
    "allowed": "allowed",
    "conditional": "allowed_with_conditions",
    "denied": "denied",
    "unchecked": "unchecked",
    "forbidden": "forbidden",
    "error": "errors",
    "ignored": "ignored",
}


@dataclass
class Sample:
    """One held-back URL for the explorer."""

    url: str
    outcome: str
    reasons: list[str]
    families: list[str]
    time: str


@dataclass
class Summary:
    lines: int = 0
    bad_lines: int = 0
    sources: list[tuple[str, int]] = field(default_factory=list)  # (log, lines read)
    origin_filter: str | None = None
    overall: Tally = field(default_factory=lambda: Tally(per_origin=False))
    origins: dict[str, Tally] = field(default_factory=dict)
    crawls: list[dict[str, Any]] = field(default_factory=list)  # `crawl` `started` lines
    finished: list[dict[str, Any]] = field(default_factory=list)  # `crawl` `finished` lines
    first_time: str = ""
    last_time: str = ""
    #: (bucket, outcome) -> count; a bucket is an ISO time cut to ``time_width`` characters
    timeline: Counter[tuple[str, str]] = field(default_factory=Counter)
    time_width: int = 19  # 19 seconds, 16 minutes, 13 hours, 10 days
    urls_per_outcome: int = 25
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    sampled: int = 0
    #: crawls the logs hold, and the ids reported on (None: all of them)
    crawls_in_logs: int = 0
    selected: list[str] | None = None
    other_crawl_lines: int = 0  # lines of crawls not reported on
    truncated: list[str] = field(default_factory=list)  # gzip files cut short

    @property
    def items_kept(self) -> int | None:
        """Items passed, from the crawls' end lines; None when no crawl wrote one, and for
        one origin (the crawl counts them for the whole crawl)."""
        if not self.finished or self.origin_filter is not None:
            return None
        return sum(
            int((f.get("stats") or {}).get("ccsignals/items/passed", 0)) for f in self.finished
        )

    def facts(self) -> dict[str, list[str]]:
        """Each crawl fact with its distinct values over the logs' start lines."""
        found: dict[str, list[str]] = {}
        for key in (*CRAWL_FACTS, "accept_conditions", "licenses"):
            values: dict[str, None] = {}
            for crawl in self.crawls:
                value = crawl.get(key)
                if isinstance(value, list):
                    value = ", ".join(map(str, value)) or "none"
                values[_text(value if value is not None else "-")] = None
            found[key] = list(values)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "bad_lines": self.bad_lines,
            "sources": [{"log": s, "lines": n} for s, n in self.sources],
            "origin": self.origin_filter,
            "crawls_in_logs": self.crawls_in_logs,
            "selected_crawls": self.selected,
            "other_crawl_lines": self.other_crawl_lines,
            "truncated_logs": self.truncated,
            "crawls": self.crawls,
            "period": [self.first_time, self.last_time] if self.first_time else None,
            "items_kept": self.items_kept,
            "overall": self.overall.as_dict(),
            "origins": {o: t.as_dict() for o, t in sorted(self.origins.items())},
            "held_back": {
                origin: {outcome: [vars(s) for s in kept] for outcome, kept in per.items()}
                for origin, per in sorted(self.samples.items())
            },
        }

    def _period(self, time: str) -> bool:
        """Stretch the period to *time*; False when it is not an ISO 8601 time."""
        if not (len(time) >= 19 and time[4] == "-" and time[10] == "T"):
            return False
        if not self.first_time or time < self.first_time:
            self.first_time = time
        if time > self.last_time:
            self.last_time = time
        return True

    def _tick(self, time: str, outcome: str) -> None:
        if not self._period(time):
            return
        self.timeline[(time[: self.time_width], outcome)] += 1
        if len(self.timeline) > 20_000 and self.time_width > 10:
            self.time_width = {19: 16, 16: 13, 13: 10}[self.time_width]
            coarse: Counter[tuple[str, str]] = Counter()
            for (bucket, kind), n in self.timeline.items():
                coarse[(bucket[: self.time_width], kind)] += n
            self.timeline = coarse

    def _sample(self, origin: str, outcome: str, line: dict[str, Any]) -> None:
        per_origin = self.samples.get(origin)
        if per_origin is None:
            if self.sampled >= MAX_SAMPLES:
                return
            per_origin = self.samples[origin] = {}
        kept = per_origin.setdefault(outcome, [])
        if len(kept) >= self.urls_per_outcome or self.sampled >= MAX_SAMPLES:
            return
        self.sampled += 1
        kept.append(
            Sample(
                _text(line.get("url")),
                outcome,
                [_text(r) for r in (line.get("reasons") or [])[:8]],
                [_text(f) for f in (line.get("families") or [])[:8]],
                _text(line.get("time", "")),
            )
        )

    def add(self, line: dict[str, Any]) -> None:
        stage = line.get("stage")
        if stage == "crawl":
            target = self.crawls if line.get("action") == "started" else self.finished
            if len(target) < 1000:
                target.append(line)
            self._period(str(line.get("time", "")))
            return
        origin = line.get("origin") or "?"
        if not isinstance(origin, str):
            origin = str(origin)
        if self.origin_filter is not None and origin != self.origin_filter:
            return
        outcome = outcome_of(line)
        self.overall.add(line, outcome)
        tally = self.origins.get(origin)
        if tally is None:
            tally = self.origins[origin] = Tally()
        tally.add(line, outcome)
        if outcome is not None:
            self._tick(str(line.get("time", "")), outcome)
            if outcome in HELD_BACK:
                self._sample(origin, outcome, line)


def summarise(
    lines: Iterable[str | bytes],
    origin: str | None = None,
    urls_per_outcome: int = 25,
    summary: Summary | None = None,
) -> Summary:
    """Fold audit log lines into a :class:`Summary` (a new one, or *summary* to merge
    several logs); unreadable lines are counted. With *origin*, only that origin's lines
    (and the crawls' start and end lines) count."""
    if summary is None:
        summary = Summary(urls_per_outcome=urls_per_outcome)
        summary.origin_filter = normalise_origin(origin) if origin else None
    for raw in lines:
        if not raw.strip():
            continue
        summary.lines += 1
        try:
            line = json.loads(raw)
        except ValueError:
            summary.bad_lines += 1
            continue
        if not isinstance(line, dict):
            summary.bad_lines += 1
            continue
        summary.add(line)
    return summary


def summarise_files(
    paths: Iterable[str],
    origin: str | None = None,
    urls_per_outcome: int = 25,
    selection: Selection | None = None,
    also: Callable[[dict[str, Any]], None] | None = None,
    progress: Progress | None = None,
) -> Summary:
    """One summary of several logs (plain or gzip; ``-`` is standard input), e.g. one per
    worker or the rotated parts of one log: the crawls *selection* names (all without
    one). *also* sees each line of those crawls too (one pass for several summaries)."""
    summary = Summary(urls_per_outcome=urls_per_outcome)
    summary.origin_filter = normalise_origin(origin) if origin else None
    paths = list(paths)
    counts = LineCounts()
    read = ReadStats()
    for _path, line in read_records(paths, selection, read, counts):
        if progress is not None:
            progress.tick()
        summary.add(line)
        if also is not None:
            also(line)
    if progress is not None:
        progress.done()
    summary.lines = sum(counts.lines.values())
    summary.bad_lines = counts.bad
    summary.other_crawl_lines = counts.skipped
    summary.sources = [(path, counts.lines.get(path, 0)) for path in paths]
    summary.truncated = read.truncated
    if selection is not None:
        summary.crawls_in_logs = len(selection.found)
        summary.selected = sorted(selection.chosen) if selection.chosen is not None else None
    return summary


def summarise_file(path: str) -> Summary:
    return summarise_files([path])


def summary_from_stats(stats: dict[str, Any]) -> str:
    """The report's headline counts, from a crawl's ``ccsignals/...`` stats, for the
    end-of-crawl INFO block."""

    def get(key: str) -> int:
        return int(stats.get(key, 0))

    def group(prefix: str) -> str:
        found = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        return ", ".join(f"{k} {v}" for k, v in sorted(found.items(), key=lambda kv: -kv[1])) or "-"

    allowed, denied = get("ccsignals/responses/allow"), get("ccsignals/responses/deny")
    excluded = get("ccsignals/forbidden/excluded")
    return "\n".join(
        ([f"  requests forbidden by exclusion lists: {excluded}"] if excluded else [])
        + [
            f"  requests forbidden by robots.txt: {get('ccsignals/forbidden/robots.txt')} "
            f"(disallowed {get('ccsignals/forbidden/robots.txt/disallowed')}, "
            f"unreachable {get('ccsignals/forbidden/robots.txt/unreachable')})",
            f"  responses checked: {allowed + denied} (allowed {allowed}, with conditions "
            f"{get('ccsignals/responses/allow_conditional')}, denied {denied})",
            f"  denied per family: {group('ccsignals/deny/')}",
            f"  items: passed {get('ccsignals/items/passed')}, dropped {get('ccsignals/items/dropped')}, "
            f"tagged {get('ccsignals/items/tagged_deny')}, without provenance field "
            f"{get('ccsignals/items/field_missing')}",
            f"  licences: {group('ccsignals/licenses/')}",
            f"  robots.txt: {group('ccsignals/robots/')}",
            f"  tdmrep.json: {group('ccsignals/tdmrep/')}",
            f"  policies: fetched {get('ccsignals/policy/fetched')}, from store "
            f"{get('ccsignals/policy/store_hit')}",
        ]
    )
