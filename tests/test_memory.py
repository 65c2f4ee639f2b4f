"""The per-origin policy state the 1,000,000-origin projection in bench/README.md rests on
(``python -m bench.memory``): measured with tracemalloc, and bounded by the LRU."""

from __future__ import annotations

from bench.memory import exclusion_list_cost, per_origin_bytes, plugin_state, scrapy_state


def test_policy_state_per_origin_is_small():
    plugin = per_origin_bytes(plugin_state, 2000)
    scrapy = per_origin_bytes(scrapy_state, 2000)
    # What Scrapy's own middleware keeps per origin (a protego parser) is the yardstick:
    # the plugin's whole policy (rules, two records, policy, LRU entry) is about as large.
    assert plugin < 2048
    assert plugin < 1.5 * scrapy


def test_exclusion_lists_are_compact():
    """CCSIGNALS_EXCLUDE keeps hashes in arrays, not strings in a set (~100 bytes each)."""
    cost = exclusion_list_cost(100_000)
    assert cost["bytes_per_entry"] < 48
