"""All ``CCSIGNALS_*`` settings, read once and validated at start-up.

A wrong value stops the crawl with one :class:`ConfigError` that names the setting, instead
of failing later inside a middleware.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy_ccsignals.records.audit import CRAWL_ID
from scrapy_ccsignals.signals.ccsignals import CC_SIGNAL_TOKENS
from scrapy_ccsignals.signals.content_signal import DEFAULT_USE, USE_LEVELS
from scrapy_ccsignals.signals.license import canonical_license_id
from scrapy_ccsignals.signals.robots import product_token, valid_token
from scrapy_ccsignals.signals.rsl import RSL_CONDITIONS

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

MODES = ("enforce", "tag")
PURPOSES = ("train-ai", "ai-input", "search")
DEFAULTS = ("allow", "deny")
EVIDENCE_RESPONSES = ("none", "kept", "all")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Addresses the plugin's own fetches of URLs a response named never go to, unless the
#: page's own origin is on one (CCSIGNALS_INTERNAL_NETWORKS): loopback, private (RFC 1918,
#: unique local), shared (RFC 6598), link-local, multicast and unspecified.
INTERNAL_NETWORKS = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)
#: What an unreachable tdmrep.json means: the conservative reservation, or nothing.
TDMREP_UNREACHABLE = ("deny", "unknown")

#: Every setting with its default, enable flag first and the rest alphabetical.
DEFAULT_SETTINGS: dict[str, Any] = {
    "CCSIGNALS_ENABLED": True,
    "CCSIGNALS_ACCEPT_CONDITIONS": [],
    "CCSIGNALS_AIPREF_LEGACY": True,
    "CCSIGNALS_ASSET_SCAN_BYTES": 1048576,
    "CCSIGNALS_AUDIT_LOG": "audit/%(name)s-%(time)s.jsonl",
    "CCSIGNALS_AUDIT_LOG_ROTATE_BYTES": 0,
    "CCSIGNALS_AUDIT_LOG_ROTATE_LINES": 0,
    "CCSIGNALS_CONTENT_USE": None,
    "CCSIGNALS_CRAWL_ID": None,
    "CCSIGNALS_DEFAULT": "allow",
    "CCSIGNALS_EVIDENCE_RESPONSES": "none",
    "CCSIGNALS_EVIDENCE_WARC": None,
    "CCSIGNALS_EXCLUDE": {},
    "CCSIGNALS_HEADER_MAX_BYTES": 8192,
    "CCSIGNALS_HOLD_LIMIT": 4096,
    "CCSIGNALS_HTML_SCAN_BYTES": 262144,
    "CCSIGNALS_INTERNAL_NETWORKS": None,
    "CCSIGNALS_ITEM_FIELD": "ccsignals",
    "CCSIGNALS_LICENSES": None,
    "CCSIGNALS_MAX_CRAWL_DELAY": 10.0,
    "CCSIGNALS_MAX_RETRY_AFTER": 3600.0,
    "CCSIGNALS_MODE": "enforce",
    "CCSIGNALS_NOARCHIVE_IS_NOAI": True,
    "CCSIGNALS_POLICY_CACHE_SIZE": 50000,
    "CCSIGNALS_POLICY_ERROR_MAX_AGE": 300,
    "CCSIGNALS_POLICY_LOCK_TIMEOUT": 90.0,
    "CCSIGNALS_POLICY_MAX_AGE": 86400,
    "CCSIGNALS_POLICY_RETRIES": 0,
    "CCSIGNALS_POLICY_STORE": "memory",
    "CCSIGNALS_POLICY_TIMEOUT": 30.0,
    "CCSIGNALS_PURPOSE": "train-ai",
    "CCSIGNALS_ROBOTSTXT_MAX_BYTES": 512000,
    "CCSIGNALS_RSL_HOSTS": [],
    "CCSIGNALS_RSL_MAX_BYTES": 512000,
    "CCSIGNALS_TDMREP_MAX_BYTES": 512000,
    "CCSIGNALS_TDMREP_UNREACHABLE": "deny",
    "CCSIGNALS_USER_AGENT": None,
}


#: A ``+http(s)://`` URL in a user agent: the page describing the crawler, in the form RFC
#: 9309 section 2.2.1 and the crawler best-practices draft show
#: (``Mozilla/5.0 (compatible; ExampleBot/0.1; +https://www.example.com/bot.html)``).
CRAWLER_PAGE_URL = re.compile(r"\+https?://[^\s;)]+", re.IGNORECASE)


def names_crawler_page(user_agent: str) -> bool:
    """Whether *user_agent* carries a ``+http(s)://`` URL of a page describing the crawler."""
    return CRAWLER_PAGE_URL.search(user_agent) is not None


#: What a boolean setting may be, as Scrapy's ``getbool`` reads it.
BOOLEAN = "must be a boolean: True/False, true/false or 1/0"


def unknown_settings(settings: BaseSettings) -> list[str]:
    """``CCSIGNALS_*`` names that are no setting of the plugin, each with the closest
    known name when there is one: a typo must not silently run a different crawl."""
    found = []
    for name in sorted(n for n in settings if isinstance(n, str) and n.startswith("CCSIGNALS_")):
        if name in DEFAULT_SETTINGS:
            continue
        close = difflib.get_close_matches(name, DEFAULT_SETTINGS, n=1, cutoff=0.6)
        found.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return found


class ConfigError(ValueError):
    """A ``CCSIGNALS_*`` setting has a value the plugin cannot use."""


__all__ = ["DEFAULT_SETTINGS", "Config", "ConfigError", "product_token", "unknown_settings"]


@dataclass(frozen=True)
class Config:
    enabled: bool
    accept_conditions: frozenset[str]
    aipref_legacy: bool
    asset_scan_bytes: int
    audit_log: str | None
    audit_log_rotate_bytes: int
    audit_log_rotate_lines: int
    #: the Content-Signal ``use=`` level the crawl needs (CCSIGNALS_CONTENT_USE, or the
    #: purpose's default)
    content_use: str
    crawl_id: str | None
    default: str
    #: "" (off), "auto" (beside the audit log when there is one) or a path template
    evidence_warc: str
    evidence_responses: str  # none, kept or all
    exclude: tuple[tuple[str, str], ...]  # (label, path) of each exclusion list
    header_max_bytes: int
    hold_limit: int
    html_scan_bytes: int
    internal_networks: tuple[IPNetwork, ...]
    item_field: str
    licenses: frozenset[str] | None
    max_crawl_delay: float
    max_retry_after: float
    mode: str
    noarchive_is_noai: bool
    policy_cache_size: int
    policy_error_max_age: float
    policy_lock_timeout: float
    policy_max_age: float
    policy_retries: int
    policy_store: str
    policy_timeout: float
    purpose: str
    robotstxt_max_bytes: int
    rsl_hosts: tuple[str, ...]
    rsl_max_bytes: int
    tdmrep_max_bytes: int
    tdmrep_unreachable: str
    token: str
    user_agent: str

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        def get(name: str) -> Any:
            value = settings.get(name)
            return DEFAULT_SETTINGS[name] if value is None else value

        def choice(name: str, allowed: tuple[str, ...]) -> str:
            value = get(name)
            if value not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
            return str(value)

        def number(name: str, kind: type, minimum: float) -> Any:
            value = get(name)
            try:
                if isinstance(value, bool):
                    raise TypeError
                result = kind(value)
            except (TypeError, ValueError):
                what = "an integer" if kind is int else "a number"
                raise ConfigError(f"{name} must be {what} >= {minimum}; got {value!r}") from None
            if result < minimum:
                raise ConfigError(f"{name} must be >= {minimum}; got {value!r}")
            return result

        def string_list(name: str) -> list[str]:
            value = get(name)
            if isinstance(value, str):
                value = [v for v in re.split(r"[,\s]+", value) if v]
            if not isinstance(value, (list, tuple, set, frozenset)) or not all(
                isinstance(v, str) for v in value
            ):
                raise ConfigError(f"{name} must be a list of strings; got {value!r}")
            return list(value)

        def flag(name: str) -> bool:
            try:
                return settings.getbool(name, DEFAULT_SETTINGS[name])
            except ValueError:
                raise ConfigError(f"{name} {BOOLEAN}; got {settings.get(name)!r}") from None

        enabled = flag("CCSIGNALS_ENABLED")

        accept = string_list("CCSIGNALS_ACCEPT_CONDITIONS")
        known_conditions = (*CC_SIGNAL_TOKENS, *RSL_CONDITIONS)
        unknown = sorted(set(accept) - set(known_conditions))
        if unknown:
            raise ConfigError(
                "CCSIGNALS_ACCEPT_CONDITIONS has unknown condition(s) "
                f"{', '.join(unknown)}; known: {', '.join(known_conditions)}"
            )

        licenses = None
        if settings.get("CCSIGNALS_LICENSES") is not None:
            wanted = string_list("CCSIGNALS_LICENSES")
            ids = [canonical_license_id(v) for v in wanted]
            bad = [v for v, spdx in zip(wanted, ids, strict=True) if spdx is None]
            if bad:
                raise ConfigError(
                    f"CCSIGNALS_LICENSES has id(s) that are not SPDX Creative Commons ids: "
                    f"{', '.join(map(repr, bad))} (e.g. CC-BY-4.0, CC-BY-SA-3.0-DE, CC0-1.0)"
                )
            licenses = frozenset(spdx for spdx in ids if spdx is not None)

        # On by default; None (or "") turns it off, so "set to None" is not "not set".
        if "CCSIGNALS_AUDIT_LOG" in settings:
            audit_log = settings["CCSIGNALS_AUDIT_LOG"]
        else:
            audit_log = DEFAULT_SETTINGS["CCSIGNALS_AUDIT_LOG"]
        if audit_log is not None and not isinstance(audit_log, str):
            raise ConfigError(
                f"CCSIGNALS_AUDIT_LOG must be a path or URI, or None (no log); got {audit_log!r}"
            )
        rotate_lines = number("CCSIGNALS_AUDIT_LOG_ROTATE_LINES", int, 0)
        rotate_bytes = number("CCSIGNALS_AUDIT_LOG_ROTATE_BYTES", int, 0)
        if audit_log:
            try:
                audit_log % {"name": "spider", "time": "t", "batch_id": 1, "batch_time": "t"}
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"CCSIGNALS_AUDIT_LOG {audit_log!r}: only %(name)s, %(time)s, "
                    "%(batch_id)d and %(batch_time)s may be used, and a literal % is written "
                    f"%%; {type(exc).__name__}: {exc}"
                ) from None
            if (rotate_lines or rotate_bytes) and not (
                "%(batch_id)" in audit_log or "%(batch_time)" in audit_log
            ):
                raise ConfigError(
                    f"CCSIGNALS_AUDIT_LOG {audit_log!r} must contain %(batch_id)d or "
                    "%(batch_time)s when CCSIGNALS_AUDIT_LOG_ROTATE_LINES or _ROTATE_BYTES is "
                    "set (each part needs a name of its own)"
                )
        crawl_id = settings.get("CCSIGNALS_CRAWL_ID")
        if crawl_id is not None and crawl_id != "":
            if not isinstance(crawl_id, str) or not CRAWL_ID.fullmatch(crawl_id):
                raise ConfigError(
                    "CCSIGNALS_CRAWL_ID must be 1-100 letters, digits, '.', '_', ':' or '-'; "
                    f"got {crawl_id!r}"
                )
        else:
            crawl_id = None

        evidence_warc = settings.get("CCSIGNALS_EVIDENCE_WARC")
        if evidence_warc is None:
            evidence_warc = "auto"
        elif (
            evidence_warc is False
            or evidence_warc == ""
            or (isinstance(evidence_warc, str) and evidence_warc.lower() in ("false", "0", "off"))
        ):
            evidence_warc = ""
        elif not isinstance(evidence_warc, str):
            raise ConfigError(
                f"CCSIGNALS_EVIDENCE_WARC must be a path, None (beside the audit log) or False; "
                f"got {evidence_warc!r}"
            )
        else:
            try:
                evidence_warc % {"name": "spider", "time": "t"}
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"CCSIGNALS_EVIDENCE_WARC {evidence_warc!r}: only %(name)s and %(time)s may "
                    f"be used, and a literal % is written %%; {type(exc).__name__}: {exc}"
                ) from None

        item_field = get("CCSIGNALS_ITEM_FIELD")
        if not isinstance(item_field, str) or not item_field:
            raise ConfigError(
                f"CCSIGNALS_ITEM_FIELD must be a non-empty string; got {item_field!r}"
            )

        # The token (rulebook, "The token"): CCSIGNALS_USER_AGENT as written, else the
        # product ROBOTSTXT_USER_AGENT names, else the one USER_AGENT names.
        user_agent = str(settings.get("USER_AGENT") or "")
        own = settings.get("CCSIGNALS_USER_AGENT")
        if own is not None and own != "":
            if not isinstance(own, str) or not valid_token(own):
                raise ConfigError(
                    "CCSIGNALS_USER_AGENT must be a product token (letters, digits, '_', "
                    f"'-'); got {own!r}"
                )
            token = own
        else:
            robots_ua = settings.get("ROBOTSTXT_USER_AGENT")
            if robots_ua is not None and not isinstance(robots_ua, str):
                raise ConfigError(f"ROBOTSTXT_USER_AGENT must be a string; got {robots_ua!r}")
            named = robots_ua or user_agent
            derived = product_token(named)
            if derived is None:
                source = "ROBOTSTXT_USER_AGENT" if robots_ua else "USER_AGENT"
                raise ConfigError(
                    f"CCSIGNALS_USER_AGENT is not set and no product token can be read from "
                    f"{source} ({named!r}); set CCSIGNALS_USER_AGENT to your crawler's token"
                )
            token = derived

        # Its form is checked where it is opened (policy.store.open_store, via the extension), once.
        policy_store = get("CCSIGNALS_POLICY_STORE")
        if not isinstance(policy_store, str):
            raise ConfigError(
                "CCSIGNALS_POLICY_STORE must be 'memory', 'sqlite:///path/to/file.db' or "
                f"'redis://host:port/db'; got {policy_store!r}"
            )

        purpose = choice("CCSIGNALS_PURPOSE", PURPOSES)
        content_use = settings.get("CCSIGNALS_CONTENT_USE")
        if content_use is None or content_use == "":
            content_use = DEFAULT_USE[purpose]
        elif content_use not in USE_LEVELS:
            raise ConfigError(
                f"CCSIGNALS_CONTENT_USE must be one of {', '.join(USE_LEVELS)} (or None for "
                f"the purpose's default); got {content_use!r}"
            )

        networks_setting = settings.get("CCSIGNALS_INTERNAL_NETWORKS")
        networks_text = (
            list(INTERNAL_NETWORKS)
            if networks_setting is None
            else string_list("CCSIGNALS_INTERNAL_NETWORKS")
        )
        try:
            internal_networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks_text)
        except ValueError as exc:
            raise ConfigError(
                f"CCSIGNALS_INTERNAL_NETWORKS must be a list of address ranges such as "
                f"'10.0.0.0/8' or 'fc00::/7'; {exc}"
            ) from None
        rsl_hosts = string_list("CCSIGNALS_RSL_HOSTS")
        bad_hosts = [
            h for h in rsl_hosts if not re.fullmatch(r"[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?", h)
        ]
        if bad_hosts:
            raise ConfigError(
                "CCSIGNALS_RSL_HOSTS must be a list of host names (a host's subdomains are "
                f"included), e.g. 'rslcollective.org'; got {', '.join(map(repr, bad_hosts))}"
            )

        return cls(
            enabled=enabled,
            evidence_warc=evidence_warc,
            evidence_responses=choice("CCSIGNALS_EVIDENCE_RESPONSES", EVIDENCE_RESPONSES),
            exclude=_exclusion_lists(get("CCSIGNALS_EXCLUDE")),
            accept_conditions=frozenset(accept),
            aipref_legacy=flag("CCSIGNALS_AIPREF_LEGACY"),
            audit_log=audit_log or None,
            audit_log_rotate_bytes=rotate_bytes,
            audit_log_rotate_lines=rotate_lines,
            content_use=content_use,
            crawl_id=crawl_id,
            default=choice("CCSIGNALS_DEFAULT", DEFAULTS),
            header_max_bytes=number("CCSIGNALS_HEADER_MAX_BYTES", int, 1),
            hold_limit=number("CCSIGNALS_HOLD_LIMIT", int, 1),
            html_scan_bytes=number("CCSIGNALS_HTML_SCAN_BYTES", int, 0),
            internal_networks=internal_networks,
            item_field=item_field,
            licenses=licenses,
            max_crawl_delay=number("CCSIGNALS_MAX_CRAWL_DELAY", float, 0),
            max_retry_after=number("CCSIGNALS_MAX_RETRY_AFTER", float, 0),
            mode=choice("CCSIGNALS_MODE", MODES),
            noarchive_is_noai=flag("CCSIGNALS_NOARCHIVE_IS_NOAI"),
            policy_cache_size=number("CCSIGNALS_POLICY_CACHE_SIZE", int, 1),
            policy_error_max_age=number("CCSIGNALS_POLICY_ERROR_MAX_AGE", float, 0),
            policy_lock_timeout=number("CCSIGNALS_POLICY_LOCK_TIMEOUT", float, 0.1),
            policy_max_age=number("CCSIGNALS_POLICY_MAX_AGE", float, 0),
            policy_retries=number("CCSIGNALS_POLICY_RETRIES", int, 0),
            policy_store=policy_store,
            policy_timeout=number("CCSIGNALS_POLICY_TIMEOUT", float, 0.001),
            purpose=purpose,
            robotstxt_max_bytes=number("CCSIGNALS_ROBOTSTXT_MAX_BYTES", int, 1),
            tdmrep_max_bytes=number("CCSIGNALS_TDMREP_MAX_BYTES", int, 1),
            tdmrep_unreachable=choice("CCSIGNALS_TDMREP_UNREACHABLE", TDMREP_UNREACHABLE),
            rsl_hosts=tuple(h.lower().strip("[].") for h in rsl_hosts),
            rsl_max_bytes=number("CCSIGNALS_RSL_MAX_BYTES", int, 1),
            asset_scan_bytes=number("CCSIGNALS_ASSET_SCAN_BYTES", int, 0),
            token=token,
            user_agent=user_agent,
        )

    def summary(self) -> dict[str, Any]:
        """The effective configuration, for the start-up INFO line."""
        return {
            "mode": self.mode,
            "purpose": self.purpose,
            "token": self.token,
            "default": self.default,
            "accept_conditions": sorted(self.accept_conditions),
            "aipref_legacy": self.aipref_legacy,
            "content_use": self.content_use,
            "noarchive_is_noai": self.noarchive_is_noai,
            "licenses": sorted(self.licenses) if self.licenses is not None else None,
            "audit_log": self.audit_log,
            "policy_store": self.policy_store,
            "exclude": [label for label, _ in self.exclude],
            "evidence_warc": self.evidence_warc or None,
            "evidence_responses": self.evidence_responses,
        }


def _exclusion_lists(value: Any) -> tuple[tuple[str, str], ...]:
    """``CCSIGNALS_EXCLUDE``: ``{label: path}``, or paths (``label=path``, or a bare path
    labelled by its file name without extension), as a list or a comma-separated string."""
    name = "CCSIGNALS_EXCLUDE"
    if hasattr(value, "copy_to_dict"):  # a Scrapy BaseSettings
        value = value.copy_to_dict()
    if isinstance(value, str):
        value = [v for v in re.split(r"\s*,\s*", value.strip()) if v]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for entry in value:
            if not isinstance(entry, str) or not entry:
                raise ConfigError(f"{name} must name files (label=path); got {entry!r}")
            label, sep, path = entry.partition("=")
            if not sep:
                path = entry
                label = re.sub(r"\.[^./]*$", "", path.rsplit("/", 1)[-1]) or path
            pairs.append((label, path))
    else:
        raise ConfigError(
            f"{name} must be a dict {{label: path}} or a list of paths; got {value!r}"
        )
    seen: set[str] = set()
    for label, path in pairs:
        if not isinstance(label, str) or not label.strip() or not label.isprintable():
            raise ConfigError(f"{name} has a label that is not a printable name: {label!r}")
        if not isinstance(path, str) or not path:
            raise ConfigError(f"{name} list {label!r} must be a file path; got {path!r}")
        if label in seen:
            raise ConfigError(f"{name} has the label {label!r} twice")
        seen.add(label)
    return tuple((label.strip(), path) for label, path in pairs)
