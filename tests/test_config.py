"""Settings validation: a wrong value is one clear error naming the setting."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from scrapy_ccsignals.config import Config, ConfigError, product_token


def config(**values) -> Config:
    return Config.from_settings(Settings(values))


def test_defaults():
    cfg = config(USER_AGENT="Scrapy/2.19 (+https://scrapy.org)")
    assert (cfg.mode, cfg.purpose, cfg.default, cfg.item_field) == (
        "enforce",
        "train-ai",
        "allow",
        "ccsignals",
    )
    assert cfg.token == "Scrapy"
    assert cfg.accept_conditions == frozenset()
    assert cfg.robotstxt_max_bytes == 512000


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"CCSIGNALS_MODE": "strict"}, "CCSIGNALS_MODE"),
        ({"CCSIGNALS_PURPOSE": "train"}, "CCSIGNALS_PURPOSE"),
        ({"CCSIGNALS_DEFAULT": "maybe"}, "CCSIGNALS_DEFAULT"),
        ({"CCSIGNALS_CONTENT_USE": "partial"}, "CCSIGNALS_CONTENT_USE"),
        ({"CCSIGNALS_CONTENT_USE": 2}, "CCSIGNALS_CONTENT_USE"),
        ({"CCSIGNALS_MAX_CRAWL_DELAY": "soon"}, "CCSIGNALS_MAX_CRAWL_DELAY"),
        ({"CCSIGNALS_MAX_CRAWL_DELAY": -1}, "CCSIGNALS_MAX_CRAWL_DELAY"),
        ({"CCSIGNALS_MAX_RETRY_AFTER": "1h"}, "CCSIGNALS_MAX_RETRY_AFTER"),
        ({"CCSIGNALS_MAX_RETRY_AFTER": -1}, "CCSIGNALS_MAX_RETRY_AFTER"),
        ({"CCSIGNALS_ROBOTSTXT_MAX_BYTES": True}, "CCSIGNALS_ROBOTSTXT_MAX_BYTES"),
        ({"CCSIGNALS_ACCEPT_CONDITIONS": ["cc-by"]}, "CCSIGNALS_ACCEPT_CONDITIONS"),
        ({"CCSIGNALS_ACCEPT_CONDITIONS": 5}, "CCSIGNALS_ACCEPT_CONDITIONS"),
        ({"CCSIGNALS_ITEM_FIELD": ""}, "CCSIGNALS_ITEM_FIELD"),
        ({"CCSIGNALS_AUDIT_LOG": 3}, "CCSIGNALS_AUDIT_LOG"),
        ({"CCSIGNALS_ENABLED": "perhaps"}, "CCSIGNALS_ENABLED"),
        ({"CCSIGNALS_USER_AGENT": "", "USER_AGENT": "  "}, "CCSIGNALS_USER_AGENT"),
    ],
)
def test_invalid(values, setting):
    with pytest.raises(ConfigError, match=setting):
        config(**{"USER_AGENT": "Bot/1", **values})


def test_conditions_from_string():
    cfg = config(USER_AGENT="Bot", CCSIGNALS_ACCEPT_CONDITIONS="cc-cr, cc-cr-op")
    assert cfg.accept_conditions == {"cc-cr", "cc-cr-op"}


@pytest.mark.parametrize(
    ("values", "token"),
    [
        ({"USER_AGENT": "MyCrawler/1.0 (+https://x)"}, "MyCrawler"),
        ({"USER_AGENT": "x", "ROBOTSTXT_USER_AGENT": "RoboBot"}, "RoboBot"),
        (
            {
                "USER_AGENT": "x",
                "ROBOTSTXT_USER_AGENT": "RoboBot",
                "CCSIGNALS_USER_AGENT": "Own-Bot_2",
            },
            "Own-Bot_2",
        ),
        ({"USER_AGENT": "AI2Bot/1.0 (+https://x)"}, "AI2Bot"),
        ({"USER_AGENT": "360Spider"}, "360Spider"),
        ({"USER_AGENT": "Mozilla/5.0 (compatible; ExampleAIBot/1.0; +https://x)"}, "ExampleAIBot"),
        # ROBOTSTXT_USER_AGENT may be a whole User-Agent string, as Scrapy allows.
        ({"USER_AGENT": "x", "ROBOTSTXT_USER_AGENT": "RoboBot/2.0 (+https://x)"}, "RoboBot"),
        # An empty CCSIGNALS_USER_AGENT is unset.
        ({"USER_AGENT": "Scrapy/2.19", "CCSIGNALS_USER_AGENT": ""}, "Scrapy"),
    ],
)
def test_token(values, token):
    assert config(**values).token == token


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"CCSIGNALS_USER_AGENT": "My Bot"}, "CCSIGNALS_USER_AGENT"),
        ({"CCSIGNALS_USER_AGENT": "MyBot/1.0"}, "CCSIGNALS_USER_AGENT"),
        ({"CCSIGNALS_USER_AGENT": "My.Bot"}, "CCSIGNALS_USER_AGENT"),
        ({"CCSIGNALS_USER_AGENT": 5}, "CCSIGNALS_USER_AGENT"),
        ({"USER_AGENT": "My.Bot/1.0"}, "USER_AGENT"),
        ({"ROBOTSTXT_USER_AGENT": "(x)"}, "ROBOTSTXT_USER_AGENT"),
        ({"ROBOTSTXT_USER_AGENT": 7}, "ROBOTSTXT_USER_AGENT"),
    ],
)
def test_invalid_token(values, setting):
    with pytest.raises(ConfigError, match=setting):
        config(**{"USER_AGENT": "Bot/1", **values})


def test_product_token():
    assert product_token("  CCBot/2.0") == "CCBot"
    assert product_token("/") is None


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({}, "aipref_legacy", True),
        ({"CCSIGNALS_AIPREF_LEGACY": False}, "aipref_legacy", False),
        ({"CCSIGNALS_AIPREF_LEGACY": "false"}, "aipref_legacy", False),
        ({}, "noarchive_is_noai", True),
        ({"CCSIGNALS_NOARCHIVE_IS_NOAI": "0"}, "noarchive_is_noai", False),
        ({"CCSIGNALS_PURPOSE": "ai-input"}, "purpose", "ai-input"),
        ({"CCSIGNALS_LICENSES": "cc-by-4.0, CC0-1.0"}, "licenses", {"CC-BY-4.0", "CC0-1.0"}),
        (
            {"CCSIGNALS_LICENSES": ["LicenseRef-CC-NC-SA-1.0"]},
            "licenses",
            {"LicenseRef-CC-NC-SA-1.0"},
        ),
        ({"CCSIGNALS_LICENSES": []}, "licenses", frozenset()),
    ],
)
def test_r2_settings(values, field, expected):
    assert getattr(config(USER_AGENT="Bot/1", **values), field) == expected


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"CCSIGNALS_AIPREF_LEGACY": "perhaps"}, "CCSIGNALS_AIPREF_LEGACY"),
        ({"CCSIGNALS_NOARCHIVE_IS_NOAI": "sometimes"}, "CCSIGNALS_NOARCHIVE_IS_NOAI"),
        ({"CCSIGNALS_LICENSES": ["CC-BY-4"]}, "CCSIGNALS_LICENSES"),
        ({"CCSIGNALS_LICENSES": ["MIT"]}, "CCSIGNALS_LICENSES"),
        ({"CCSIGNALS_LICENSES": ["CC-BY-3.0-FR"]}, "CCSIGNALS_LICENSES"),  # not on the SPDX list
        ({"CCSIGNALS_LICENSES": "CC-BY-4.0 https://x/l"}, "CCSIGNALS_LICENSES"),
    ],
)
def test_r2_invalid(values, setting):
    with pytest.raises(ConfigError, match=setting):
        config(**{"USER_AGENT": "Bot/1", **values})


@pytest.mark.parametrize(
    ("purpose", "setting", "level"),
    [
        ("train-ai", None, "full"),
        ("ai-input", None, "reference"),
        ("search", None, "reference"),
        ("train-ai", "immediate", "immediate"),
    ],
)
def test_content_use_defaults_by_purpose(purpose, setting, level):
    settings = Settings({"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_CONTENT_USE": setting})
    assert Config.from_settings(settings).content_use == level
