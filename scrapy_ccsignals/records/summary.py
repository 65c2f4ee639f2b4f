"""The parts of the EU AI Act public summary of training content that a crawl can fill.

The European Commission's template for the "sufficiently detailed summary" of training
content (Article 53(1)(d) AI Act, template of July 2025) asks, in section 2.3 (data crawled
and scraped from online sources), for the crawlers used (names / user agents, purposes),
the collection period, what the crawlers did about robots.txt and other reservation
protocols, the types of content, and the most relevant domain names: the top 10 % of
domains by size of content, with their share. Section 3.1 asks for the measures taken to
respect reservations of rights under Article 4(3) of the DSM Directive. The audit log
holds every fact for those parts; the fields it cannot know (provider, model, other
sources, signatory status...) are placeholders marked ``[PROVIDER: ...]``.

Counts come from :func:`scrapy_ccsignals.records.report.summarise_files` over the same
lines, so they equal what ``scrapy ccsignals-report`` prints; sizes come from the ``bytes``
field of ``response`` lines. The pass streams: memory grows with origins and hosts, not lines.
The public page describing the crawler is written by :mod:`.crawler_page`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy_ccsignals.records.feeds import Progress
from scrapy_ccsignals.records.report import Summary, summarise_files

if TYPE_CHECKING:
    from scrapy_ccsignals.records.crawls import Selection

PLACEHOLDER = "[PROVIDER: {}]"
TOP_SHARE = 0.10  # the template: top 10 % of domain names by size of content
MAX_AGENTS = 20
MAX_HOSTS = 1_000_000  # domain names sized (a few tens of MB at most)

#: The reservation protocols the plugin honours, in SIGNALS.md's order: family key (as in
#: the audit log's ``families``), name, version or specification, what it does.
PROTOCOLS: list[tuple[str, str, str, str]] = [
    ("robots", "robots.txt", "RFC 9309 (2022)",
     "read before the first request to a site; disallowed URLs are never requested; an "
     "unreachable robots.txt (5xx, 429, network error) disallows the whole site"),
    ("aipref", "AI preferences (Content-Usage)", "IETF draft-ietf-aipref-vocab / -attach",
     "robots.txt rule, HTTP header and HTML meta; train-ai=n withholds the content"),
    ("cc-signals", "CC signals", "creativecommons/cc-signals draft 0.1",
     "exceptions=cc-cr... on an aipref n: content kept only when the crawl commits to the "
     "condition, which then travels with the item"),
    ("content-signal", "Content-Signal", "Cloudflare content signals policy",
     "robots.txt lines and HTTP header; ai-train=no withholds the content, and so does a "
     "use= level below the one the crawl needs"),
    ("ai-control", "AI training rules in robots.txt", "draft-canel-robots-ai-control-00",
     "DisallowAITraining / AllowAITraining paths of the matched group; a disallowed path is "
     "withheld from AI training"),
    ("tdmrep", "TDM Reservation Protocol", "W3C TDMRep CG final report (2024)",
     "/.well-known/tdmrep.json, tdm-reservation header and HTML meta; a reservation "
     "withholds the content"),
    ("noai", "noai / noimageai", "X-Robots-Tag and robots meta convention",
     "noai withholds the content; noimageai withholds images"),
    ("noindex", "noindex", "X-Robots-Tag and robots meta",
     "noindex / none withholds the content from a search crawl"),
    ("rsl", "RSL licences", "Really Simple Licensing 1.0",
     "robots.txt License: lines and rel=license RSL documents; prohibited uses withhold the "
     "content, licences that must be obtained are conditions the crawl must accept"),
    ("iptc", "IPTC data mining", "IPTC Photo Metadata plus:DataMining (XMP)",
     "DMI-PROHIBITED-* values in images and documents withhold them"),
    ("c2pa", "C2PA / CAWG training and mining", "cawg.training-mining assertion",
     "notAllowed for AI training or data mining in a file's manifest withholds it"),
    ("license", "licence metadata", "rel=license, JSON-LD, Dublin Core/ccREL",
     "recorded per item (SPDX id); used to filter only when the operator asks"),
]  # fmt: skip


#: Section 3.1's row for the operator's exclusion lists (``CCSIGNALS_EXCLUDE``).
EXCLUSION_MEASURE = "exclusion lists"
EXCLUSION_SPEC = (
    "sites excluded by the provider (GPAI code of practice, copyright chapter, measure 1.2)"
)

OTHER_FAMILIES = {"default": "CCSIGNALS_DEFAULT = deny: no signal said anything"}


@dataclass
class HostSize:
    responses: int = 0
    bytes: int = 0
    used_bytes: int = 0  # bytes of responses whose content was allowed into the dataset


@dataclass
class AuditFacts:
    """What the report's summary does not hold: how much content, from which domains."""

    hosts: dict[str, HostSize] = field(default_factory=dict)
    responses_without_size: int = 0
    content_types: Counter[str] = field(default_factory=Counter)

    def add(self, line: dict[str, Any]) -> None:
        if line.get("stage") != "response":
            return
        kind = line.get("content_type")
        if isinstance(kind, str):  # where the log has it
            _bounded(self.content_types, kind.split(";")[0].strip())
        size = line.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.responses_without_size += 1
            return
        origin = line.get("origin") or line.get("url")
        host = host_of(origin if isinstance(origin, str) else "")
        tally = self.hosts.get(host)
        if tally is None:
            if len(self.hosts) >= MAX_HOSTS:
                host = "(other)"
                tally = self.hosts.setdefault(host, HostSize())
            else:
                tally = self.hosts[host] = HostSize()
        tally.responses += 1
        tally.bytes += size
        if line.get("decision") == "allow":
            tally.used_bytes += size

    @property
    def total_bytes(self) -> int:
        return sum(h.bytes for h in self.hosts.values())

    @property
    def used_bytes(self) -> int:
        return sum(h.used_bytes for h in self.hosts.values())

    def top_domains(self, share: float = TOP_SHARE) -> list[tuple[str, int, float]]:
        """The top *share* of domains (at least one) by bytes of content used, with their
        share of all bytes used: ``(host, bytes, fraction)``."""
        used = [(h, t.used_bytes) for h, t in self.hosts.items() if t.used_bytes]
        used.sort(key=lambda hb: (-hb[1], hb[0]))
        total = sum(b for _, b in used) or 1
        keep = max(1, math.ceil(len(used) * share)) if used else 0
        return [(h, b, b / total) for h, b in used[:keep]]


def _n(count: int, noun: str) -> str:
    """``1 response``, ``2 responses``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _bounded(counter: Counter[str], key: Any) -> None:
    if isinstance(key, str) and key and (key in counter or len(counter) < MAX_AGENTS):
        counter[key] += 1


def host_of(origin_or_url: str) -> str:
    """The domain name of an origin or URL (the template asks for domain names)."""
    try:
        return (urlsplit(origin_or_url).hostname or "?").lower()
    except ValueError:
        return "?"


def facts_of(lines: Iterable[str | bytes]) -> AuditFacts:
    facts = AuditFacts()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            facts.add(line)
    return facts


def read_audit(
    paths: list[str], progress: Progress | None = None, selection: Selection | None = None
) -> tuple[Summary, AuditFacts]:
    """The report's summary of one or more audit logs (plain or gzip; the crawls of
    *selection*, all without one) and their sizes, in one streamed pass, so the counts are
    the report's."""
    facts = AuditFacts()
    summary = summarise_files(paths, selection=selection, also=facts.add, progress=progress)
    return summary, facts


@dataclass
class Crawler:
    """Who crawled: from the log's crawl line or the command's options."""

    user_agent: str = ""
    token: str = ""
    contact: str = ""
    purpose: str = ""
    plugin: str = ""
    #: for the crawler page: how the data is used, exemptions from the crawler
    #: best practices with their reasons, the URL of its IP ranges, whether it renders
    data_use: str = ""
    exemptions: tuple[str, ...] = ()
    client_ranges: str = ""
    rendered: bool = False

    @classmethod
    def from_summary(cls, summary: Summary, **given: Any) -> Crawler:
        """From the logs' ``crawl`` start lines, overridden by the non-empty *given*."""
        facts = summary.facts() if summary.crawls else {}
        found: dict[str, Any] = {
            key: ", ".join(v for v in facts.get(key, []) if v != "-")
            for key in ("user_agent", "token", "purpose", "plugin")
        }
        found.update({k: v for k, v in given.items() if v})
        return cls(**found)


def _or(value: str, what: str) -> str:
    return value if value else PLACEHOLDER.format(what)


def _md(value: str) -> str:
    return "".join(c if c.isprintable() else " " for c in value).replace("|", "\\|")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return str(n)


def exclusion_lists(summary: Summary) -> list[dict[str, Any]]:
    """The exclusion lists the crawls used (their ``crawl`` start lines), once each by
    label and file hash."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for crawl in summary.crawls:
        for lst in crawl.get("exclusion_lists") or ():
            if isinstance(lst, dict):
                found.setdefault((str(lst.get("label")), str(lst.get("sha256"))), lst)
    return list(found.values())


def measures(summary: Summary) -> list[tuple[str, str, int, int]]:
    """Section 3.1's table: (protocol, specification, requests not sent, responses whose
    content was withheld) per protocol, from the report's counts."""
    overall = summary.overall
    rows = []
    for key, name, spec, _ in PROTOCOLS:
        requests = overall.forbidden - overall.excluded if key == "robots" else 0
        responses = overall.denied_by_family.get(key, 0)
        rows.append((name, spec, requests, responses))
    if overall.excluded or exclusion_lists(summary):
        rows.append((EXCLUSION_MEASURE, EXCLUSION_SPEC, overall.excluded, 0))
    known = {key for key, *_ in PROTOCOLS}
    for family, count in overall.denied_by_family.most_common():
        if family not in known:  # families added later, or the default deny
            rows.append((family, OTHER_FAMILIES.get(family, ""), 0, count))
    return rows


def render_summary(summary: Summary, facts: AuditFacts, crawler: Crawler, out: IO[str]) -> None:
    """Sections 2.3 and 3.1 of the template, in Markdown."""
    o = summary.overall
    period = (
        f"{summary.first_time} to {summary.last_time} (UTC, from the audit log)"
        if summary.first_time
        else PLACEHOLDER.format("collection period")
    )
    kinds = ", ".join(f"{k} ({_n(v, 'response')})" for k, v in facts.content_types.most_common())
    w = out.write
    w("# Public summary of training content: crawled data\n\n")
    w("Parts of the European Commission's template for the public summary of training content "
      "(AI Act, Article 53(1)(d); template of July 2025) that the crawl's audit log fills. "
      "Text in `[PROVIDER: ...]` is for the provider to complete.\n\n")  # fmt: skip
    w(f"- Provider: {PLACEHOLDER.format('name and contact of the provider')}\n")
    w(f"- Model(s): {PLACEHOLDER.format('model names and versions trained on this content')}\n")
    w(f"- Audit log: {_n(summary.lines, 'line')} ({summary.bad_lines:,} unreadable)\n\n")
    w("## 2.3 Data crawled and scraped from online sources\n\n")
    w("Were crawlers used by the provider or on its behalf? **Yes.**\n\n")
    w("| crawler | user agent | purpose |\n|---|---|---|\n")
    w(f"| {_md(_or(crawler.token, 'robots.txt product token'))} "
      f"| {_md(_or(crawler.user_agent, 'user agent string'))} "
      f"| {_md(_or(crawler.purpose, 'purpose of the crawl'))} |\n\n")  # fmt: skip
    w(f"**Period of data collection:** {period}.\n\n")
    w("**General description of the crawlers' behaviour:** robots.txt is fetched and obeyed "
      "before any other request to a site (RFC 9309); requests it disallows are never sent, "
      "and a site whose robots.txt is unreachable is not crawled. Every fetched response is "
      "checked against the reservation protocols listed in section 3.1, and content whose "
      "use for the purpose is reserved is not kept. "
      f"{PLACEHOLDER.format('paywalls, logins, CAPTCHAs: state what the crawlers do')}\n\n")  # fmt: skip
    w(
        f"- Requests: {o.requests:,}; responses fetched: {o.fetched:,}; requests not sent "
        f"because of robots.txt: {o.forbidden - o.excluded:,}; because the site is on an "
        f"exclusion list: {o.excluded:,}; other requests dropped: {o.ignored:,}; "
        f"errors: {o.errors:,}\n"
    )
    w(
        f"- Responses whose content was kept: {o.allowed + o.allowed_with_conditions:,} "
        f"(of which with accepted conditions: {o.allowed_with_conditions:,}); withheld: "
        f"{o.denied:,}; not checked (opted out per request): {o.unchecked:,}\n"
    )
    w(f"- Sites (origins): {len(summary.origins):,}; domain names: {len(facts.hosts):,}\n")
    if facts.hosts:
        w(f"- Content fetched: {_size(facts.total_bytes)}; content kept: "
          f"{_size(facts.used_bytes)}\n")  # fmt: skip
    if facts.responses_without_size:
        w(
            f"- Responses without a recorded size: {facts.responses_without_size:,} "
            "(logs written before scrapy-ccsignals recorded `bytes`)\n"
        )
    w("\n**Types of content:** "
      f"{kinds + '. ' if kinds else ''}"
      f"{PLACEHOLDER.format('describe the modalities and kinds of content (text, images...)')}"
      "\n\n")  # fmt: skip
    top = facts.top_domains()
    w(
        f"**Most relevant domain names** (top {TOP_SHARE:.0%} of "
        f"{_n(sum(1 for h in facts.hosts.values() if h.used_bytes), 'domain name')} "
        "by size of content kept):\n\n"
    )
    w("| domain name | content kept | share |\n|---|---:|---:|\n")
    for host, size, share in top:
        w(f"| {_md(host)} | {_size(size)} | {share:.1%} |\n")
    if not top:
        w(f"| {PLACEHOLDER.format('no response sizes in this log')} | | |\n")
    w(
        "\n## 3.1 Measures to respect reservations of rights from the text and data mining "
        "exception\n\n"
    )
    w(f"Signatory of the GPAI code of practice: {PLACEHOLDER.format('yes / no')}\n\n")
    w(
        "Machine-readable reservation protocols honoured by the crawlers, with what each held "
        "back in this crawl:\n\n"
    )
    w("| protocol | specification | requests not sent | responses withheld |\n")
    w("|---|---|---:|---:|\n")
    for name, spec, requests, responses in measures(summary):
        w(f"| {name} | {spec} | {requests:,} | {responses:,} |\n")
    lists = exclusion_lists(summary)
    if lists:
        w("\nSites excluded from crawling, by the provider's lists (requests to them, "
          "robots.txt included, are never sent): "
          + "; ".join(
              f"{_md(str(lst.get('label')))} ({_n(int(lst.get('hosts') or 0), 'host')}, "
              f"{int(lst.get('prefixes') or 0):,} URL prefix(es), file SHA-256 "
              f"`{_md(str(lst.get('sha256')))}`)"
              for lst in lists
          )
          + f"; requests not sent: {o.excluded:,}.\n")  # fmt: skip
    if o.forbidden_by:
        w("\nRequests not sent (robots.txt, exclusion lists), by reason: "
          + "; ".join(f"{_md(k)}: {v:,}" for k, v in o.forbidden_by.most_common()) + ".\n")  # fmt: skip
    if o.conditions:
        w("\nContent kept under CC-signal conditions the provider committed to: "
          + ", ".join(f"{_md(k)} ({_n(v, 'response')})" for k, v in o.conditions.most_common())
          + ". Each item's provenance names its conditions; `scrapy ccsignals-credits` "
          "writes the credits they require.\n")  # fmt: skip
    w(
        f"\nItems withheld from the dataset: {o.items_dropped:,}; items kept but tagged as "
        f"reserved: {o.items_tagged:,}.\n\n"
    )
    w(
        f"{PLACEHOLDER.format('other measures: opt-out requests, re-checks of sites after the crawl, complaint handling')}\n"
    )
