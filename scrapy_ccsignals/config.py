"""All ``CCSIGNALS_*`` settings, read once and validated at start-up.

A wrong value stops the crawl with one :class:`ConfigError` that names the setting, instead
of failing later inside a middleware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy_ccsignals.signals.ccsignals import CC_SIGNAL_TOKENS

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

MODES = ("enforce", "tag")
PURPOSES = ("train-ai", "search")
DEFAULTS = ("allow", "deny")

#: Every setting with its default, enable flag first and the rest alphabetical.
DEFAULT_SETTINGS: dict[str, Any] = {
    "CCSIGNALS_ENABLED": True,
    "CCSIGNALS_ACCEPT_CONDITIONS": [],
    "CCSIGNALS_AUDIT_LOG": None,
    "CCSIGNALS_DEFAULT": "allow",
    "CCSIGNALS_HEADER_MAX_BYTES": 8192,
    "CCSIGNALS_HTML_SCAN_BYTES": 262144,
    "CCSIGNALS_ITEM_FIELD": "ccsignals",
    "CCSIGNALS_LICENSES": None,
    "CCSIGNALS_MAX_CRAWL_DELAY": 10.0,
    "CCSIGNALS_MODE": "enforce",
    "CCSIGNALS_POLICY_ERROR_MAX_AGE": 300,
    "CCSIGNALS_POLICY_LOCK_TIMEOUT": 90.0,
    "CCSIGNALS_POLICY_MAX_AGE": 86400,
    "CCSIGNALS_POLICY_RETRIES": 0,
    "CCSIGNALS_POLICY_STORE": "memory",
    "CCSIGNALS_POLICY_TIMEOUT": 30.0,
    "CCSIGNALS_PURPOSE": "train-ai",
    "CCSIGNALS_ROBOTSTXT_MAX_BYTES": 512000,
    "CCSIGNALS_TDMREP_MAX_BYTES": 512000,
    "CCSIGNALS_USER_AGENT": None,
}

_TOKEN_RE = re.compile(r"[A-Za-z_-]+")


class ConfigError(ValueError):
    """A ``CCSIGNALS_*`` setting has a value the plugin cannot use."""


def product_token(user_agent: str) -> str:
    """The robots.txt product token of a user agent string (RFC 9309 section 2.2.1)."""
    match = _TOKEN_RE.match(user_agent.strip())
    return match.group(0) if match else ""


@dataclass(frozen=True)
class Config:
    enabled: bool
    accept_conditions: frozenset[str]
    audit_log: str | None
    default: str
    header_max_bytes: int
    html_scan_bytes: int
    item_field: str
    licenses: frozenset[str] | None
    max_crawl_delay: float
    mode: str
    policy_error_max_age: float
    policy_lock_timeout: float
    policy_max_age: float
    policy_retries: int
    policy_store: str
    policy_timeout: float
    purpose: str
    robotstxt_max_bytes: int
    tdmrep_max_bytes: int
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
                raise ConfigError(f"{name} must be a {kind.__name__}; got {value!r}") from None
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

        try:
            enabled = settings.getbool("CCSIGNALS_ENABLED", True)
        except ValueError:
            raise ConfigError(
                f"CCSIGNALS_ENABLED must be a boolean; got {settings.get('CCSIGNALS_ENABLED')!r}"
            ) from None

        accept = string_list("CCSIGNALS_ACCEPT_CONDITIONS")
        unknown = sorted(set(accept) - set(CC_SIGNAL_TOKENS))
        if unknown:
            raise ConfigError(
                "CCSIGNALS_ACCEPT_CONDITIONS has unknown CC signal(s) "
                f"{', '.join(unknown)}; known: {', '.join(CC_SIGNAL_TOKENS)}"
            )

        licenses = None
        if settings.get("CCSIGNALS_LICENSES") is not None:
            licenses = frozenset(string_list("CCSIGNALS_LICENSES"))

        audit_log = get("CCSIGNALS_AUDIT_LOG")
        if audit_log is not None and not isinstance(audit_log, str):
            raise ConfigError(f"CCSIGNALS_AUDIT_LOG must be a path or URI; got {audit_log!r}")
        if audit_log:
            try:
                audit_log % {"name": "spider", "time": "t"}
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"CCSIGNALS_AUDIT_LOG {audit_log!r}: only %(name)s and %(time)s may be "
                    f"used, and a literal % is written %%; {type(exc).__name__}: {exc}"
                ) from None

        item_field = get("CCSIGNALS_ITEM_FIELD")
        if not isinstance(item_field, str) or not item_field:
            raise ConfigError(
                f"CCSIGNALS_ITEM_FIELD must be a non-empty string; got {item_field!r}"
            )

        user_agent = str(settings.get("USER_AGENT") or "")
        token = get("CCSIGNALS_USER_AGENT") or settings.get("ROBOTSTXT_USER_AGENT") or ""
        if not isinstance(token, str):
            raise ConfigError(f"CCSIGNALS_USER_AGENT must be a string; got {token!r}")
        token = product_token(token or user_agent)
        if not token:
            raise ConfigError(
                "CCSIGNALS_USER_AGENT is empty and no product token can be read from "
                f"ROBOTSTXT_USER_AGENT or USER_AGENT ({user_agent!r})"
            )

        # Its form is checked where it is opened (policy.store.open_store, via the extension), once.
        policy_store = get("CCSIGNALS_POLICY_STORE")
        if not isinstance(policy_store, str):
            raise ConfigError(
                "CCSIGNALS_POLICY_STORE must be 'memory', 'sqlite:///path/to/file.db' or "
                f"'redis://host:port/db'; got {policy_store!r}"
            )

        return cls(
            enabled=enabled,
            accept_conditions=frozenset(accept),
            audit_log=audit_log or None,
            default=choice("CCSIGNALS_DEFAULT", DEFAULTS),
            header_max_bytes=number("CCSIGNALS_HEADER_MAX_BYTES", int, 1),
            html_scan_bytes=number("CCSIGNALS_HTML_SCAN_BYTES", int, 0),
            item_field=item_field,
            licenses=licenses,
            max_crawl_delay=number("CCSIGNALS_MAX_CRAWL_DELAY", float, 0),
            mode=choice("CCSIGNALS_MODE", MODES),
            policy_error_max_age=number("CCSIGNALS_POLICY_ERROR_MAX_AGE", float, 0),
            policy_lock_timeout=number("CCSIGNALS_POLICY_LOCK_TIMEOUT", float, 0.1),
            policy_max_age=number("CCSIGNALS_POLICY_MAX_AGE", float, 0),
            policy_retries=number("CCSIGNALS_POLICY_RETRIES", int, 0),
            policy_store=policy_store,
            policy_timeout=number("CCSIGNALS_POLICY_TIMEOUT", float, 0.001),
            purpose=choice("CCSIGNALS_PURPOSE", PURPOSES),
            robotstxt_max_bytes=number("CCSIGNALS_ROBOTSTXT_MAX_BYTES", int, 1),
            tdmrep_max_bytes=number("CCSIGNALS_TDMREP_MAX_BYTES", int, 1),
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
            "licenses": sorted(self.licenses) if self.licenses is not None else None,
            "audit_log": self.audit_log,
            "policy_store": self.policy_store,
        }
