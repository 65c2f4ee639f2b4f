"""The provenance record: a plain JSON-serialisable dict that travels with every item.

Fields (all documented in docs/provenance.md): url, fetched_at, status, content_type, sha256,
purpose, decision, conditions, reasons, license, signals, signals_as_written, policies, agent,
crawl.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy_ccsignals.gate.usegate import Evaluation
from scrapy_ccsignals.policy.origin import OriginPolicy
from scrapy_ccsignals.records.audit import utc_now
from scrapy_ccsignals.signals.attribution import page_attribution

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.signals.htmlscan import HtmlMeta

_D = TypeVar("_D", bound=dict[str, Any])


def build_record(
    cfg: Config,
    version: str,
    url: str,
    status: int,
    content_type: str,
    body: bytes,
    evaluation: Evaluation,
    policy: OriginPolicy | None,
    *,
    crawl: str | None = None,
) -> dict[str, Any]:
    """The record of one response; *crawl* is the crawl's id, the one every line of its
    audit log starts with, so an item ties to its crawl's log."""
    decision = evaluation.decision
    record = {
        "url": url,
        "fetched_at": utc_now(),
        "status": status,
        "content_type": content_type,
        "sha256": hashlib.sha256(body).hexdigest(),
        "purpose": cfg.purpose,
        "decision": decision.decision,
        "conditions": list(decision.conditions),
        "reasons": list(decision.reasons),
        "license": evaluation.license.as_dict() if evaluation.license else None,
        "signals": _signal_dicts(evaluation),
        # Every statement is in ``signals`` as written, also those silent for the purpose:
        # what tells these records from earlier ones, whose signals replay cannot read
        # again for another purpose (gate/written.py).
        "signals_as_written": True,
        "policies": policy.record_dicts() if policy else [],
        "agent": {"user_agent": cfg.user_agent, "token": cfg.token, "plugin": version},
        **evaluation.extra,
    }
    if crawl is not None:
        record["crawl"] = crawl
    return record


def _signal_dicts(evaluation: Evaluation) -> list[dict[str, object]]:
    """The signals as provenance lists them; past the cap per family and layer, the last
    one kept of each says how many more were left out (``truncated``)."""
    dicts = [signal.as_dict() for signal in evaluation.signals]
    if evaluation.truncated:
        last = {(s.family, s.layer): i for i, s in enumerate(evaluation.signals)}
        for key, count in evaluation.truncated.items():
            if key in last:
                dicts[last[key]]["truncated"] = count
    return dicts


#: Types of the values a record's copy shares with the record (immutable).
_LEAVES = frozenset({str, int, float, bool, type(None)})


def copy_record(record: Any) -> Any:
    """A copy of *record* (JSON-like data) for one item, sharing no list or dict with the
    response's record or other items: a pipeline that edits one item's provenance edits
    only that one. Strings and numbers are shared (they cannot be edited)."""
    if isinstance(record, dict):
        return own_copy(record, dict)
    if isinstance(record, list):
        return _copy_list(record)
    return record


def own_copy(record: dict[str, Any], cls: type[_D]) -> _D:
    """:func:`copy_record` of a dict, as a *cls* (an item's ``ItemRecord``). A record is
    nearly all strings and numbers, so each value's exact type is tested first, and the
    plain dicts and lists it holds are copied without a call to :func:`copy_record`; a copy
    this way costs less than a ``marshal`` round trip, and an item gets it in one step."""
    out = cls(record)
    for key, value in record.items():
        kind = type(value)
        if kind is str or kind in _LEAVES:
            continue
        if kind is dict:
            out[key] = own_copy(value, dict)
        elif kind is list:
            out[key] = _copy_list(value)
        else:
            out[key] = copy_record(value)
    return out


def _copy_list(values: list[Any]) -> list[Any]:
    return [
        value
        if (kind := type(value)) is str or kind in _LEAVES
        else (own_copy(value, dict) if kind is dict else copy_record(value))
        for value in values
    ]


def unchecked_record(
    cfg: Config, version: str, reason: str, crawl: str | None = None
) -> dict[str, Any]:
    """The record of an item that no response's decision covers (yielded from an errback,
    or from a request that opted out): provenance is per response, so it says so rather
    than borrowing another response's verdict. It still names its *crawl*."""
    record: dict[str, Any] = {
        "url": None,
        "fetched_at": None,
        "purpose": cfg.purpose,
        "decision": "unchecked",
        "conditions": [],
        "reasons": [reason],
        "license": None,
        "signals": [],
        "policies": [],
        "agent": {"user_agent": cfg.user_agent, "token": cfg.token, "plugin": version},
    }
    if crawl is not None:
        record["crawl"] = crawl
    return record


def add_page_attribution(
    record: dict[str, Any], page: HtmlMeta, body: bytes, url: str, scan_bytes: int
) -> None:
    """Put the page's attribution (SIGNALS.md, Attribution r2) on *record*, when it states
    any: read from the page facts the use gate's scan made, once per response, when the
    first item needs it."""
    attribution = page_attribution(page, body[:scan_bytes], url)
    if attribution:
        record["attribution"] = attribution
