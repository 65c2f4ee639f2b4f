"""Credits for a dataset, from its items' provenance: what CC signals' Credit asks for.

Every ``cc-cr*`` signal asks, at a minimum, that the dataset and its collections be cited
(SIGNALS.md, "CC signals" and "Attribution (r2)"). For each collection (an origin, named by
the site's own name where its pages give one) this lists the licences (SPDX ids), the
accepted conditions and the number of works, then one attribution line per work in the
title / creator / source / licence form Creative Commons recommends ("TASL").

Streamed: the works are rendered as they are read into a temporary spool file, and the
per-collection counts (memory in proportion to the number of origins) are written before
them at the end. Items whose provenance says ``deny`` (tag mode) are not part of the
dataset's content and are counted, not credited; so are items without provenance.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any
from urllib.parse import quote, urlsplit

from scrapy_ccsignals.records.feeds import FeedStats, Progress, iter_items
from scrapy_ccsignals.records.words import counted

FORMATS = ("md", "csv", "json")
MAX_NAMES = 32  # distinct site names / licences kept per collection (hostile pages vary them)
_SPDX_CC = re.compile(r"^CC-([A-Z-]+?)-(\d\.\d)(?:-([A-Z]+))?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|]")
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})
_URL_SAFE = ":/?#@!$&*+,;=%~-._"
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9:/?#@!$&*+,;=%~\-._]")
_CSV_COLUMNS = [
    "record", "origin", "site_name", "works", "licenses", "conditions",
    "url", "title", "creator", "source", "license", "license_url", "copyright", "attribution",
]  # fmt: skip


def license_name(spdx: str | None) -> str:
    """A licence's short name as CC writes it: ``CC-BY-SA-4.0`` → ``CC BY-SA 4.0``."""
    if not spdx:
        return ""
    special = {"CC0-1.0": "CC0 1.0", "CC-PDM-1.0": "Public Domain Mark 1.0",
               "CC-PDDC": "Public Domain Dedication and Certification"}  # fmt: skip
    if spdx in special:
        return special[spdx]
    match = _SPDX_CC.match(spdx)
    if not match:
        return spdx
    elements, version, place = match.groups()
    return f"CC {elements} {version}" + (f" {place}" if place else "")


def origin_label(url: str) -> str:
    """``scheme://host[:port]`` of a work's URL (the collection it belongs to)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "?"
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop, 0, end)
        if at != -1:
            end = at
    return _origin(scheme, rest[:end])


@lru_cache(maxsize=4096)
def _origin(scheme: str, netloc: str) -> str:
    # Cached: a million works come from a few thousand origins.
    try:
        parts = urlsplit(f"{scheme}://{netloc}/")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "?"
    if not parts.scheme or not host:
        return "?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return (value if value.isprintable() else _CONTROL.sub(" ", value)).strip()


def _md(value: str) -> str:
    return value.translate(_MD_ESCAPES) if _MD_SPECIAL.search(value) else value


def _md_link(text: str, url: str) -> str:
    """A Markdown link when *url* is http(s), else the text alone (a page cannot plant a
    ``javascript:`` link in the dataset's README)."""
    if not url.lower().startswith(("http://", "https://")):
        return _md(text)
    if _URL_UNSAFE.search(url):
        url = quote(url, safe=_URL_SAFE)
    return f"[{_md(text)}]({url})"


@dataclass(slots=True)
class Work:
    """One work's credit, from its item's provenance."""

    origin: str
    url: str
    title: str = ""
    creator: str = ""
    site_name: str = ""
    source: str = ""
    license: str = ""
    license_url: str = ""
    copyright: str = ""
    conditions: list[str] = field(default_factory=list)

    @classmethod
    def from_provenance(cls, record: dict[str, Any]) -> Work:
        url = _text(record.get("url"))
        attribution = record.get("attribution")
        attribution = attribution if isinstance(attribution, dict) else {}
        lic = record.get("license")
        lic = lic if isinstance(lic, dict) else {}
        conditions = record.get("conditions")
        return cls(
            origin=origin_label(url),
            url=url,
            title=_text(attribution.get("title")),
            creator=_text(attribution.get("creator")),
            site_name=_text(attribution.get("site_name")),
            source=_text(attribution.get("attribution_url")) or url,
            license=_text(lic.get("id")),
            license_url=_text(lic.get("url")),
            copyright=_text(attribution.get("copyright")),
            conditions=[c for c in conditions if isinstance(c, str)]
            if isinstance(conditions, list)
            else [],
        )

    def line(self) -> str:
        """The attribution in plain text: ``"Title" by Creator, from Site (source),
        licensed under CC BY 4.0 (licence URL).``"""
        text = f'"{self.title}"' if self.title else "Untitled work"
        if self.creator:
            text += f" by {self.creator}"
        text += f", from {self.site_name or self.origin} ({self.source})"
        if self.license or self.license_url:
            name = license_name(self.license) or self.license_url
            text += f", licensed under {name}"
            if self.license_url and self.license_url != name:
                text += f" ({self.license_url})"
        else:
            text += ", licence not stated"
        if self.copyright:
            text += f"; {self.copyright}"
        return text + "."

    def markdown(self) -> str:
        title = f"“{self.title}”" if self.title else "Untitled work"
        text = _md_link(title, self.source)
        if self.creator:
            text += f" by {_md(self.creator)}"
        text += f", from {_md(self.site_name or self.origin)}"
        if self.license or self.license_url:
            name = license_name(self.license) or self.license_url
            text += f", licensed under {_md_link(name, self.license_url)}"
        else:
            text += ", licence not stated"
        if self.copyright:
            text += f"; {_md(self.copyright)}"
        if self.conditions:
            text += f" (conditions: {_md(', '.join(self.conditions))})"
        return f"- {text}."

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        data["attribution"] = self.line()
        return data


@dataclass
class Collection:
    """The works of one origin."""

    origin: str
    works: int = 0
    site_names: Counter[str] = field(default_factory=Counter)
    licenses: Counter[str] = field(default_factory=Counter)
    conditions: Counter[str] = field(default_factory=Counter)

    def add(self, work: Work) -> None:
        self.works += 1
        _bounded(self.site_names, work.site_name)
        _bounded(self.licenses, work.license or work.license_url or "none")
        self.conditions.update(work.conditions)

    @property
    def site_name(self) -> str:
        return self.site_names.most_common(1)[0][0] if self.site_names else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "site_name": self.site_name,
            "works": self.works,
            "licenses": dict(self.licenses.most_common()),
            "conditions": dict(self.conditions.most_common()),
        }


def _bounded(counter: Counter[str], key: str) -> None:
    if key and (key in counter or len(counter) < MAX_NAMES):
        counter[key] += 1


@dataclass
class Credits:
    """What the feeds held: collections, and what was not credited."""

    feeds: FeedStats = field(default_factory=FeedStats)
    collections: dict[str, Collection] = field(default_factory=dict)
    credited: int = 0
    denied: int = 0  # items tagged "deny": not dataset content
    without_provenance: int = 0

    def add(self, item: dict[str, Any], field_name: str) -> Work | None:
        record = item.get(field_name)
        if not isinstance(record, dict) or not isinstance(record.get("url"), str):
            self.without_provenance += 1
            return None
        if record.get("decision") == "deny":
            self.denied += 1
            return None
        work = Work.from_provenance(record)
        collection = self.collections.get(work.origin)
        if collection is None:
            collection = self.collections[work.origin] = Collection(work.origin)
        collection.add(work)
        self.credited += 1
        return work

    def ranked(self) -> list[Collection]:
        return sorted(self.collections.values(), key=lambda c: (-c.works, c.origin))

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.feeds.items,
            "unreadable": self.feeds.bad,
            "credited": self.credited,
            "denied": self.denied,
            "without_provenance": self.without_provenance,
            "collections": [c.as_dict() for c in self.ranked()],
        }


def _counts(counter: Counter[str], names: bool = False) -> str:
    return ", ".join(f"{license_name(k) if names else k} ({v})" for k, v in counter.most_common())


def write_credits(
    paths: list[str],
    out: IO[str],
    fmt: str = "md",
    field_name: str = "ccsignals",
    progress: Progress | None = None,
) -> Credits:
    """Read the feeds at *paths* and write their credits to *out* as *fmt*."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    credits = Credits()
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        rows = csv.writer(spool) if fmt == "csv" else None
        for _path, item in iter_items(paths, credits.feeds, progress):
            work = credits.add(item, field_name)
            if work is None:
                continue
            if fmt == "md":
                spool.write(work.markdown() + "\n")
            elif fmt == "json":
                spool.write(("," if credits.credited > 1 else "") + "\n")
                spool.write(json.dumps(work.as_dict(), ensure_ascii=False))
            else:
                assert rows is not None
                data = work.as_dict()
                rows.writerow(
                    ["work", *(data.get(c, "") for c in _CSV_COLUMNS[1:5])]
                    + [", ".join(work.conditions)]
                    + [data.get(c, "") for c in _CSV_COLUMNS[6:]]
                )
        if progress is not None:
            progress.done()
        spool.seek(0)
        _write_head(credits, out, fmt, paths)
        shutil.copyfileobj(spool, out)
        if fmt == "json":
            out.write("\n]}\n")
    return credits


def _write_head(credits: Credits, out: IO[str], fmt: str, paths: list[str]) -> None:
    if fmt == "json":
        head = json.dumps(credits.as_dict(), ensure_ascii=False, indent=1)
        out.write(head[: head.rindex("}")].rstrip() + ',\n "works": [')
        return
    if fmt == "csv":
        rows = csv.writer(out)
        rows.writerow(_CSV_COLUMNS)
        for c in credits.ranked():
            rows.writerow(
                ["collection", c.origin, c.site_name, c.works, _counts(c.licenses),
                 _counts(c.conditions)] + [""] * (len(_CSV_COLUMNS) - 6)
            )  # fmt: skip
        return
    out.write("# Credits\n\n")
    out.write(
        f"This dataset holds {counted(credits.credited, 'work')} from "
        f"{counted(len(credits.collections), 'collection')} (web sites). Cite the dataset, and each collection and work as below.\n\n"
    )
    out.write("## Collections\n\n")
    out.write("| collection | site | works | licences | conditions accepted |\n")
    out.write("|---|---|---:|---|---|\n")
    for c in credits.ranked():
        cells = [c.origin, c.site_name or "-", str(c.works),
                 _counts(c.licenses, names=True) or "-", _counts(c.conditions) or "-"]  # fmt: skip
        out.write("| " + " | ".join(_md(cell) for cell in cells) + " |\n")
    skipped = []
    if credits.denied:
        its = "its" if credits.denied == 1 else "their"
        skipped.append(f"{counted(credits.denied, 'item')} marked `deny` in {its} provenance")
    if credits.without_provenance:
        skipped.append(f"{counted(credits.without_provenance, 'item')} without provenance")
    if credits.feeds.bad:
        skipped.append(f"{counted(credits.feeds.bad, 'unreadable entry')}")
    if skipped:
        out.write(f"\nNot credited: {'; '.join(skipped)}.\n")
    out.write("\n## Works\n\n")
