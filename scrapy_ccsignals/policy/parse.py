"""Policy files as fetched (:class:`~scrapy_ccsignals.policy.store.RawFile`) turned into
an origin's policy: the rules, each file's provenance record (also written to the audit
log), the warnings and stats that say what was found, and the policy's expiry."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING

from scrapy_ccsignals.policy import ages
from scrapy_ccsignals.policy.download import TOO_MANY_REDIRECTS
from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.records.audit import iso_time, utc_now
from scrapy_ccsignals.signals import robots, tdmrep
from scrapy_ccsignals.signals.base import LAYER_TDMREP
from scrapy_ccsignals.signals.tdmrep import TdmStatement

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.host import FetcherHost
    from scrapy_ccsignals.policy.store import RawFile, StoredPolicy

KIND = "tdmrep.json"
#: ``tdmrep_record.outcome`` until tdmrep.json is known.
PENDING = "pending"
#: ``tdmrep_record.outcome`` of a tdmrep.json that could not be read.
UNREACHABLE = "unreachable"
#: How the statement of an unreachable tdmrep.json begins (its reason names the cause).
UNREACHABLE_TEXT = "tdmrep.json unreachable"


class PolicyParser:
    def __init__(self, runtime: FetcherHost):
        self.runtime = runtime
        self.cfg = runtime.cfg

    def robots_policy(
        self, origin: str, raw: RawFile, fetched_at: float, cached: bool
    ) -> OriginPolicy:
        """The policy with its robots.txt part; tdmrep.json pending."""
        stamp = iso_time(fetched_at)
        rules, robots_record = self._robots(origin, raw, stamp, cached)
        age_left = ages.age_left(self.cfg, raw, fetched_at)
        policy = OriginPolicy(
            origin,
            rules,
            robots_record,
            None,
            self.pending_tdmrep_record(origin, stamp),
            monotonic() + age_left,
        )
        if rules.extensions or rules.usage_lines_dropped:
            # Origin work once per origin: the usage lines made ready for every page.
            cfg = self.cfg
            policy.usage_lines(cfg.purpose, cfg.aipref_legacy, cfg.content_use)
        return policy

    def stored_policy(self, origin: str, stored: StoredPolicy, cached: bool) -> OriginPolicy:
        """The policy of a store entry: robots.txt, and tdmrep.json if it was fetched."""
        policy = self.robots_policy(origin, stored.robots, stored.fetched_at, cached)
        tdmrep_raw, tdmrep_at = stored.tdmrep, stored.tdmrep_time
        # Else fetched when the use gate first needs it (or again: it could not be read).
        if tdmrep_raw is not None and ages.age_left(self.cfg, tdmrep_raw, tdmrep_at, KIND) > 0:
            self.add_tdmrep(policy, tdmrep_raw, tdmrep_at, cached)
        return policy

    def pending_tdmrep_record(self, origin: str, stamp: str = "") -> PolicyRecord:
        """The record of a tdmrep.json not known yet."""
        url = f"{origin}{tdmrep.WELL_KNOWN_PATH}"
        return PolicyRecord("tdmrep.json", url, None, stamp or utc_now(), None, PENDING)

    def add_tdmrep(
        self, policy: OriginPolicy, raw: RawFile, fetched_at: float, cached: bool
    ) -> None:
        """tdmrep.json (fetched at Unix time *fetched_at*) is known: its entries, or, when
        it could not be read, the conservative statement for every path until it is tried
        again (SIGNALS.md r3, unreachable tdmrep.json)."""
        # When the origin could not be reached at all, the robots.txt warning says it.
        origin_down = policy.robots_record.status is None
        entries, record, dropped = self._tdmrep(
            policy.origin, raw, iso_time(fetched_at), cached, origin_down
        )
        deny = self.cfg.tdmrep_unreachable == "deny"
        if record.outcome != UNREACHABLE:
            past_cap = None
            if dropped:
                # The first matching entry decides (TDMRep 3.2): exact for a path a kept
                # entry matches; for any other, an unread one might, as if unreachable.
                past_cap = TdmStatement(
                    LAYER_TDMREP,
                    record.url,
                    1 if deny else None,
                    None,
                    f"tdmrep.json has {tdmrep.MAX_TDMREP_ENTRIES + dropped} entries, more "
                    f"than {tdmrep.MAX_TDMREP_ENTRIES}: none of those read matches, the rest "
                    "not read",
                )
            policy.set_tdmrep(entries, record, past_cap=past_cap)
            return
        statement = TdmStatement(
            LAYER_TDMREP,
            record.url,
            1 if deny else None,
            None,
            f"{UNREACHABLE_TEXT} ({record.detail})",
        )
        expires = monotonic() + ages.age_left(self.cfg, raw, fetched_at, KIND)
        policy.set_tdmrep(None, record, unreachable=statement, expires=expires)

    def failed_policy(self, origin: str, detail: str) -> OriginPolicy:
        """The policy of an origin whose fetch ended without a result (a bug of ours, or
        the crawl closing): unreachable, so disallowed (RFC 9309 2.3.1.4)."""
        now = utc_now()
        policy = OriginPolicy(
            origin=origin,
            robots=robots.rules_for_error(self.cfg.token),
            robots_record=PolicyRecord(
                "robots.txt", f"{origin}/robots.txt", None, now, None, robots.UNREACHABLE, detail
            ),
            tdmrep=None,
            tdmrep_record=self.failed_tdmrep_record(origin, detail, now),
            expires=monotonic() + ages.error_max_age(self.cfg),
        )
        return policy

    def failed_tdmrep_record(self, origin: str, detail: str, stamp: str = "") -> PolicyRecord:
        return PolicyRecord(
            "tdmrep.json",
            f"{origin}{tdmrep.WELL_KNOWN_PATH}",
            None,
            stamp or utc_now(),
            None,
            "error",
            detail,
        )

    def _robots(
        self, origin: str, raw: RawFile, fetched_at: str, cached: bool
    ) -> tuple[robots.RobotsRules, PolicyRecord]:
        url, status, error = raw.url, raw.status, raw.error
        if status is None:
            if error.startswith(TOO_MANY_REDIRECTS):
                # RFC 9309 2.3.1.2: past 5 redirects the file MAY be taken as unavailable.
                rules = robots.RobotsRules(outcome=robots.UNAVAILABLE, token=self.cfg.token)
                self.runtime.inc("ccsignals/robots/redirect_limit")
            else:
                rules = robots.rules_for_error(self.cfg.token)
            self.runtime.warn_once(
                origin,
                "robots",
                "robots.txt at %s could not be fetched (%s): %s",
                url,
                error,
                "allowing all (RFC 9309 2.3.1.2)"
                if rules.outcome == robots.UNAVAILABLE
                else "disallowing all requests to the origin (RFC 9309 2.3.1.4)",
            )
        else:
            rules = robots.rules_for_response(
                status, raw.body or b"", self.cfg.token, self.cfg.robotstxt_max_bytes
            )
            self.runtime.inc(f"ccsignals/robots/status/{status}")
            if rules.outcome == robots.UNREACHABLE:
                self.runtime.warn_once(
                    origin,
                    "robots",
                    "robots.txt at %s answered %s: %s",
                    url,
                    status,
                    "disallowing all requests to the origin (RFC 9309 2.3.1.4)",
                )
        self.runtime.inc(f"ccsignals/robots/{rules.outcome}")
        if rules.access_rules_dropped:
            self._over_cap(
                origin,
                url,
                "rules",
                f"{robots.MAX_ACCESS_RULES + rules.access_rules_dropped} Allow/Disallow rules",
                robots.MAX_ACCESS_RULES,
                "every request to the origin is disallowed",
            )
        if rules.usage_lines_dropped:
            self._over_cap(
                origin,
                url,
                "usage_lines",
                f"{len(rules.extensions) + rules.usage_lines_dropped} usage lines "
                "(Content-Usage, Content-Signal, AI-training rules)",
                robots.MAX_USAGE_LINES,
                "every page of the origin is denied",
            )
        record = self.record(origin, "robots.txt", raw, fetched_at, rules.outcome, error, cached)
        return rules, record

    def _over_cap(
        self, origin: str, url: str, what: str, found: str, cap: int, outcome: str
    ) -> None:
        """A robots.txt with more of *what* for the crawler than *cap*: what is past the
        cap is not read, so the origin gets the conservative *outcome*; counted
        (``ccsignals/robots/<what>_capped``) and warned about once."""
        self.runtime.inc(f"ccsignals/robots/{what}_capped")
        self.runtime.warn_once(
            origin,
            f"robots_{what}",
            "robots.txt at %s has %s for the crawler, more than %d: the rest is not read and %s",
            url,
            found,
            cap,
            outcome,
        )

    def _tdmrep(
        self, origin: str, raw: RawFile, fetched_at: str, cached: bool, origin_down: bool = False
    ) -> tuple[list[tdmrep.TdmEntry] | None, PolicyRecord, int]:
        """The entries (at most :data:`~.tdmrep.MAX_TDMREP_ENTRIES`), the record, and how
        many entries past the cap were left out."""
        url, status = raw.url, raw.status
        entries: list[tdmrep.TdmEntry] | None = None
        detail = raw.error
        dropped = 0
        if ages.tdmrep_unreachable(raw):
            # 5xx, 429, no response, or past the byte cap (SIGNALS.md r3): not "absent".
            outcome = UNREACHABLE
            detail = str(status) if status is not None and not detail else detail[:200]
        elif status is None or not 200 <= status < 300:
            outcome = "absent"  # 4xx other than 429 (and a redirect to nowhere): no TDMRep
        else:
            try:
                entries, skipped = tdmrep.parse_tdmrep_json(raw.body or b"")
            except tdmrep.TdmRepError as exc:
                outcome, detail = "invalid", str(exc)
            else:
                outcome = "found"
                if skipped:
                    detail = f"{skipped} entries without a valid location skipped"
                    self.runtime.inc("ccsignals/tdmrep/entries_skipped", skipped)
                    self.runtime.warn_once(origin, "tdmrep", "tdmrep.json at %s: %s", url, detail)
                dropped = max(0, len(entries) - tdmrep.MAX_TDMREP_ENTRIES)
                if dropped:
                    entries = entries[: tdmrep.MAX_TDMREP_ENTRIES]
                    self.runtime.inc("ccsignals/tdmrep/entries_capped")
                    self.runtime.warn_once(
                        origin,
                        "tdmrep_entries",
                        "tdmrep.json at %s has %d entries, more than %d: the rest is not "
                        "read; a page none of the first ones matches is %s",
                        url,
                        len(entries) + dropped,
                        tdmrep.MAX_TDMREP_ENTRIES,
                        "reserved (train-ai and ai-input denied)"
                        if self.cfg.tdmrep_unreachable == "deny"
                        else "taken to have no known reservation",
                    )
        if outcome == "invalid":
            self.runtime.warn_once(
                origin,
                "tdmrep",
                "tdmrep.json at %s is not usable (%s); the origin is taken not to use TDMRep",
                url,
                detail,
            )
        elif outcome == UNREACHABLE and not origin_down:
            self.runtime.warn_once(
                origin,
                "tdmrep",
                "tdmrep.json at %s could not be read (%s): %s until it is tried again",
                url,
                detail,
                "train-ai and ai-input are denied for the origin"
                if self.cfg.tdmrep_unreachable == "deny"
                else "the origin's TDM reservation is unknown",
            )
        self.runtime.inc(f"ccsignals/tdmrep/{outcome}")
        record = self.record(origin, "tdmrep.json", raw, fetched_at, outcome, detail, cached)
        return entries, record, dropped

    def record(
        self,
        origin: str,
        kind: str,
        raw: RawFile,
        fetched_at: str,
        outcome: str,
        detail: str,
        cached: bool,
    ) -> PolicyRecord:
        """The provenance/audit record of one policy file, written to the audit log."""
        if not detail and raw.final_url != raw.url:
            detail = f"redirected to {raw.final_url}"
        record = PolicyRecord.of_file(kind, raw, fetched_at, outcome, detail, cached)
        self.runtime.audit_policy(origin, record)
        return record
