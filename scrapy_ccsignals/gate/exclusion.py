"""Exclusion lists: sites the operator has decided never to crawl (``CCSIGNALS_EXCLUDE``).

The EU GPAI Code of Practice (copyright chapter, measure 1.2) asks providers to exclude
from their crawls websites recognised as persistently infringing copyright. Such lists are
long (a million entries is realistic), so they are kept compact and matched in time that
does not grow with their size:

- a *host* entry (``example.com``; a leading ``*.`` or ``.`` is the same) excludes that host
  and every host below it: a request to ``a.b.example.com`` looks up ``a.b.example.com``,
  ``b.example.com``, ``example.com`` and ``com``. IP addresses match only themselves.
- a *URL prefix* entry (``https://example.com/user/42/``, or ``example.com/user/42/``)
  excludes the URLs of that exact host whose path and query start with it, whatever the
  scheme and port (the stricter reading). Paths are compared in the RFC 9309 comparison
  form, as robots.txt rules are.

Entries are stored as 64-bit hashes in open-addressing tables of ``array`` (about 20 bytes
per entry, measured in ``bench/memory.py``), with the index of the list they came from, so
a match names the list and the entry (rebuilt from the URL: the matching host or prefix,
as normalised). A false match needs a 64-bit hash collision between a listed entry and a
host or prefix of the request (about one in 10^13 per lookup with a million entries).
Pure: no Scrapy, no I/O beyond reading the files.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import ParseResult, SplitResult, urlsplit

from scrapy_ccsignals.signals.pathmatch import url_path_of_parts

#: A host name as listed: letters, digits, ``-``, ``_`` and dots (IDNA-encoded first).
_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
_IPV4 = re.compile(r"^[0-9.]+$")
#: A host name that needs no normalising (and is not an IP address).
_PLAIN = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.[a-z_-]*[a-z_][a-z0-9_-]*$"
)


@dataclass(frozen=True, slots=True)
class ExclusionList:
    """One loaded file: its label, where it came from, and what it held."""

    label: str
    path: str
    hosts: int
    prefixes: int
    skipped: int  # lines that are neither a host nor a URL prefix
    sha256: str  # of the file as read
    first_skipped: str = ""  # the first line not understood, for the warning

    @property
    def entries(self) -> int:
        return self.hosts + self.prefixes

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "path": self.path,
            "entries": self.entries,
            "hosts": self.hosts,
            "prefixes": self.prefixes,
            "skipped": self.skipped,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why a URL is excluded: the list's label and the entry that matched."""

    label: str
    entry: str

    @property
    def reason(self) -> str:
        return f"excluded by list {self.label!r} (entry {self.entry!r})"


def _hash(text: str) -> int:
    """A 64-bit hash, never 0 (0 marks an empty slot). Python's own string hash: fast, and
    the tables are built by the process that uses them (``PYTHONHASHSEED`` only changes
    where entries sit, not what matches)."""
    return hash(text) or 1


class _Table:
    """Open addressing with linear probing: 64-bit keys, a 16-bit value (the list index).
    At most half full, so a lookup probes about 1.5 slots whatever its size."""

    __slots__ = ("keys", "mask", "values")

    def __init__(self, keys: array[int], values: array[int]):
        size = 8
        while size < 2 * len(keys):
            size *= 2
        self.mask = size - 1
        self.keys = array("q", bytes(8 * size))
        self.values = array("H", bytes(2 * size))
        table, slots, mask = self.keys, self.values, self.mask
        for key, value in zip(keys, values, strict=True):
            i = key & mask
            while True:
                found = table[i]
                if found == 0:
                    table[i] = key
                    slots[i] = value
                    break
                if found == key:  # listed twice: the first list keeps it
                    break
                i = (i + 1) & mask

    def get(self, key: int) -> int | None:
        table, mask = self.keys, self.mask
        i = key & mask
        while True:
            found = table[i]
            if found == key:
                return int(self.values[i])
            if found == 0:
                return None
            i = (i + 1) & mask


def normalise_host(host: str) -> str | None:
    """A listed or requested host as compared: lower case, IDNA (punycode), no trailing dot;
    None when it is not a host name or IP address."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return None
    if ":" in host or _IPV4.match(host):
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST.match(host) else None


def _prefix_key(host: str, prefix: str) -> int:
    return _hash(f"{host} {prefix}")


def parse_entry(line: str) -> tuple[str, str | None] | None:
    """One line of a list: ``(host, None)`` for a host entry, ``(host, path_prefix)`` for a
    URL prefix, None for a blank or comment line; raises ValueError when it is neither."""
    text = line.split("#", 1)[0].strip() if "#" in line else line.strip()
    if not text:
        return None
    if _PLAIN.match(text):  # the common case: a lower-case ASCII host name
        return text, None
    if " " in text or "\t" in text:
        raise ValueError("more than one word")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError("not an http(s) URL")
    elif "/" in text:
        parts = urlsplit("http://" + text)
    else:
        if text.startswith("*."):
            text = text[2:]
        host = normalise_host(text.lstrip("."))
        if host is None:
            raise ValueError("not a host name")
        return host, None
    host = normalise_host(parts.hostname or "")
    if host is None:
        raise ValueError("no valid host")
    return host, url_path_of_parts(parts)


class Exclusions:
    """Every loaded list, matched as one."""

    def __init__(self, lists: Iterable[tuple[str, str]] = ()):
        self.lists: list[ExclusionList] = []
        host_keys, host_lists = array("q"), array("H")
        prefix_keys, prefix_lists = array("q"), array("H")
        lengths: set[int] = set()
        prefix_hosts = array("q")
        for index, (label, path) in enumerate(lists):
            hosts = prefixes = skipped = 0
            first_skipped = ""
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for raw in handle:
                    digest.update(raw)
                    line = raw.decode("utf-8", "replace")
                    try:
                        entry = parse_entry(line)
                    except ValueError:
                        skipped += 1
                        first_skipped = first_skipped or line.strip()[:200]
                        continue
                    if entry is None:
                        continue
                    host, prefix = entry
                    if prefix is None:
                        host_keys.append(_hash(host))
                        host_lists.append(index)
                        hosts += 1
                    else:
                        prefix_keys.append(_prefix_key(host, prefix))
                        prefix_lists.append(index)
                        prefix_hosts.append(_hash(host))
                        lengths.add(len(prefix))
                        prefixes += 1
            self.lists.append(
                ExclusionList(
                    label, path, hosts, prefixes, skipped, digest.hexdigest(), first_skipped
                )
            )
        self._hosts = _Table(host_keys, host_lists)
        self._prefixes = _Table(prefix_keys, prefix_lists)
        #: hosts that have URL prefix entries: only their requests try the prefixes
        self._prefix_hosts = _Table(prefix_hosts, array("H", bytes(2 * len(prefix_hosts))))
        #: the distinct prefix lengths, shortest first (bounded by the longest URL listed)
        self._lengths = tuple(sorted(lengths))

    def __bool__(self) -> bool:
        return any(lst.entries for lst in self.lists)

    @property
    def entries(self) -> int:
        return sum(lst.entries for lst in self.lists)

    def match_url(self, url: str) -> Exclusion | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        return self.match(parts)

    def match(self, parts: SplitResult | ParseResult, path: str | None = None) -> Exclusion | None:
        """The first listed entry that covers the URL (its host, a parent domain, or a URL
        prefix of it), or None. *path* is the URL's path in comparison form, if known."""
        host = parts.hostname or ""  # lower case already
        if not _PLAIN.match(host):
            normalised = normalise_host(host)
            if normalised is None:
                return None
            host = normalised
        found = self._match_host(host)
        if found is not None or not self._lengths:
            return found
        if self._prefix_hosts.get(_hash(host)) is None:
            return None
        if path is None:
            path = url_path_of_parts(parts)
        for length in self._lengths:
            if length > len(path):
                break
            index = self._prefixes.get(_prefix_key(host, path[:length]))
            if index is not None:
                return Exclusion(self.lists[index].label, host + path[:length])
        return None

    def _match_host(self, host: str) -> Exclusion | None:
        table = self._hosts
        if ":" in host or _IPV4.match(host):  # an IP address has no parents
            index = table.get(_hash(host))
            return None if index is None else Exclusion(self.lists[index].label, host)
        candidate = host
        while True:
            index = table.get(_hash(candidate))
            if index is not None:
                return Exclusion(self.lists[index].label, candidate)
            dot = candidate.find(".")
            if dot < 0:
                return None
            candidate = candidate[dot + 1 :]


__all__ = ["Exclusion", "ExclusionList", "Exclusions", "normalise_host", "parse_entry"]
