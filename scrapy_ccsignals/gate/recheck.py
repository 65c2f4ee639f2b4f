"""Re-deciding a stored item against its origin's current policy files (``scrapy
ccsignals-recheck``; issue 18). A pure function: the item's provenance record and the fresh
policies in, the new decision and the updated record out.

The decision is made again the way the crawl made it (SIGNALS.md, "Combining"), from:

- the page's own signals as stored in provenance (layers ``header``, ``html``, ``file``:
  the response is not fetched again unless ``--refetch-pages``);
- the current robots.txt and tdmrep.json, read by the real :func:`~.usegate.evaluate` on the
  fresh :class:`OriginPolicy` (no headers, no body): its ``Content-Usage`` and
  ``Content-Signal`` lines, its RSL ``License:`` licences, the tdmrep.json entry;
- the current text of the RSL licences the page named (``Link``, ``<link>``).

TDMRep is a cascade (TDMRep section 3): a page-level statement (header, meta, file) that
carries a value overrides tdmrep.json, so a fresh tdmrep.json decides only when the page said
nothing. The access gate applies first: an item whose URL robots.txt now disallows is
withdrawn; so is one whose robots.txt is now unreachable (5xx, network error), since nothing
can then be verified (RFC 9309 section 2.3.1.4 treats that as complete disallow).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy_ccsignals.gate.decision import decide
from scrapy_ccsignals.gate.usegate import ResponseFacts, evaluate, rsl_urls
from scrapy_ccsignals.records.recheck import PAGE_LAYERS, page_rsl_urls, stored_signals
from scrapy_ccsignals.signals import rsl
from scrapy_ccsignals.signals.base import DENY, LAYER_ROBOTS, LAYER_TDMREP, UNKNOWN, Signal
from scrapy_ccsignals.signals.pathmatch import url_path
from scrapy_ccsignals.signals.robots import UNREACHABLE

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config
    from scrapy_ccsignals.policy.origin import OriginPolicy

FORBIDDEN = "forbidden"
UNCHECKED = "unchecked"
_POLICY_LAYERS = frozenset({LAYER_ROBOTS, LAYER_TDMREP})


@dataclass
class Fresh:
    """What the re-check crawl fetched: the policy of each origin, and each RSL licence
    by URL (``None``: fetched but unusable, so it has no effect) with its policy record."""

    policies: dict[str, OriginPolicy] = dataclasses.field(default_factory=dict)
    rsl_docs: dict[str, rsl.RslDocument | None] = dataclasses.field(default_factory=dict)
    rsl_records: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The re-check of one item: ``decision`` is ``allow`` (kept), ``deny``, ``forbidden``
    (access gate) or ``unchecked`` (no record to re-check); ``record`` the updated
    provenance (None when the item had none)."""

    decision: str
    reasons: tuple[str, ...]
    record: dict[str, Any] | None

    @property
    def kept(self) -> bool:
        return self.decision == "allow"


def access_denial(policy: OriginPolicy, url: str) -> str | None:
    """Why the access gate would now drop *url*, or None when it may be fetched."""
    if policy.robots.can_fetch(url, url_path(url)):
        return None
    if policy.robots.outcome == UNREACHABLE:
        record = policy.robots_record
        return (
            f"cannot verify: robots.txt unreachable ({record.status or record.detail}): "
            f"{policy.robots_url}"
        )
    return f"disallowed by robots.txt group {policy.robots.group!r}: {policy.robots_url}"


def _policy_records(policy: OriginPolicy, rsl_urls: list[str], fresh: Fresh) -> list[Any]:
    records: list[Any] = policy.record_dicts()
    records += [fresh.rsl_records[u] for u in rsl_urls if u in fresh.rsl_records]
    return records


def _combined(
    cfg: Config,
    url: str,
    record: dict[str, Any],
    policy: OriginPolicy,
    fresh: Fresh,
    stored: list[Signal] | None = None,
) -> tuple[list[Signal], list[str], list[dict[str, object]]]:
    """The item's signals (*stored*, else the record's) with the fresh policy's, the RSL
    URLs used and matched terms."""
    if stored is None:
        stored = stored_signals(record)
    content_type = str(record.get("content_type") or "")
    robots_docs = {u: d for u, d in fresh.rsl_docs.items() if d is not None}
    evaluation = evaluate(cfg, ResponseFacts.of_url(url, content_type), policy, robots_docs)
    policy_signals = [s for s in evaluation.signals if s.layer in _POLICY_LAYERS]
    page = [
        s
        for s in stored
        if (s.layer in PAGE_LAYERS and s.family != rsl.FAMILY)
        or (s.family == "license" and s.effect == DENY)  # the CCSIGNALS_LICENSES filter
    ]
    # Licence records of the fresh robots.txt (License lines) replace the old ones; the
    # licence filter's verdict stays the page's.
    signals = [s for s in policy_signals if s.family != "license" or s.effect == UNKNOWN]
    if any(s.family == "tdmrep" and not s.value.startswith("unset") for s in page):
        # TDMRep cascade: the page's own statement overrides tdmrep.json.
        signals = [
            dataclasses.replace(s, effect=UNKNOWN, value=f"{s.value} (overridden)")
            if s.family == "tdmrep" and s.layer == LAYER_TDMREP and s.effect != UNKNOWN
            else s
            for s in signals
        ]
    signals += page
    terms: list[dict[str, object]] = list(evaluation.extra.get("rsl", []))
    used = rsl_urls(ResponseFacts.of_url(url), policy)  # the robots.txt License lines
    for rsl_url, layer in page_rsl_urls(record):
        used.append(rsl_url)
        doc = fresh.rsl_docs.get(rsl_url)
        if doc is None:
            continue
        matched = rsl.match_content(doc, url)
        signals += rsl.rsl_signals(doc, matched, cfg.purpose, layer, doc.url, cfg.accept_conditions)
        if matched is not None:
            terms.append(rsl.terms_dict(doc, matched))
    return signals, list(dict.fromkeys(used)), terms


def recheck_record(
    cfg: Config,
    record: dict[str, Any] | None,
    origin: str | None,
    fresh: Fresh,
    now: str,
    stored: list[Signal] | None = None,
) -> Outcome:
    """Re-decide one item from its stored provenance *record* and the *fresh* policies;
    *stored*, when given, are the record's signals read for ``cfg.purpose``
    (:mod:`.written`)."""
    if record is None or origin is None or not isinstance(record.get("url"), str):
        return Outcome(
            UNCHECKED, ("no provenance record with a URL: the item cannot be re-checked",), record
        )
    url = record["url"]
    previous = {"decision": record.get("decision"), "reasons": record.get("reasons")}
    updated = dict(record, rechecked_at=now, recheck={"previous": previous, "refetched": False})
    policy = fresh.policies.get(origin)
    if policy is None:
        reasons: tuple[str, ...] = (f"cannot verify: the policy of {origin} was not fetched",)
        updated.update(decision=UNCHECKED, conditions=[], reasons=list(reasons))
        return Outcome(UNCHECKED, reasons, updated)
    denial = access_denial(policy, url)
    if denial is not None:
        updated.update(
            decision=FORBIDDEN,
            conditions=[],
            reasons=[denial],
            policies=_policy_records(policy, [], fresh),
        )
        return Outcome(FORBIDDEN, (denial,), updated)
    try:
        signals, rsl_used, terms = _combined(cfg, url, record, policy, fresh, stored)
    except ValueError as exc:
        reasons = (f"cannot verify: the stored provenance is not readable ({exc})",)
        updated.update(decision=UNCHECKED, conditions=[], reasons=list(reasons))
        return Outcome(UNCHECKED, reasons, updated)
    decision = decide(signals, cfg.accept_conditions, cfg.default)
    updated.update(
        decision=decision.decision,
        conditions=list(decision.conditions),
        reasons=list(decision.reasons),
        signals=[s.as_dict() for s in signals],
        policies=_policy_records(policy, rsl_used, fresh),
    )
    if terms:
        updated["rsl"] = terms
    else:
        updated.pop("rsl", None)
    return Outcome(decision.decision, decision.reasons, updated)


def refetched_outcome(
    record: dict[str, Any] | None, new: dict[str, Any], policy: OriginPolicy | None, now: str
) -> Outcome:
    """The outcome of an item whose page was fetched again (``--refetch-pages``): the new
    provenance record, made by the plugin in the re-check crawl, replaces the stored one."""
    previous = {
        "decision": record.get("decision") if record else None,
        "reasons": record.get("reasons") if record else None,
    }
    old_sha = record.get("sha256") if record else None
    updated = dict(
        new,
        rechecked_at=now,
        recheck={
            "previous": previous,
            "refetched": True,
            "page_changed": old_sha is not None and old_sha != new.get("sha256"),
        },
    )
    if policy is not None:
        denial = access_denial(policy, str(new.get("url") or ""))
        if denial is not None:  # redirected into a disallowed path
            updated.update(decision=FORBIDDEN, conditions=[], reasons=[denial])
            return Outcome(FORBIDDEN, (denial,), updated)
    decision = str(new.get("decision"))
    return Outcome(decision, tuple(new.get("reasons") or ()), updated)
