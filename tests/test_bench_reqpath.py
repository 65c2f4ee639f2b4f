"""bench/reqpath.py, which counts the request path's instructions (bench/README.md,
"Session 8"): each case runs the real middleware on requests of a known origin, without
waiting (a case that waited would count nothing of what a crawl does)."""

from __future__ import annotations

import pytest

from bench import reqpath


@pytest.mark.parametrize("case", sorted(reqpath._BUILD))
def test_case_runs_without_waiting(case: str) -> None:
    reqpath._BUILD[case](20)()


def test_plugin_request_case_lets_the_requests_through() -> None:
    """The plugin's case measures the access gate's allow path: the policy is known and
    robots.txt allows the URLs."""
    requests = reqpath._requests(5)
    run = reqpath._each(_plugin_gate(), requests)
    run()
    assert all(r.meta["_ccsignals_access_checked"][0] == r.url for r in requests)


def _plugin_gate():  # type: ignore[no-untyped-def]
    from scrapy_ccsignals.downloadermiddleware import CCSignalsDownloaderMiddleware

    crawler = reqpath._crawler(plugin=True)
    middleware = CCSignalsDownloaderMiddleware.from_crawler(crawler)
    reqpath._know_origin(middleware.runtime)
    return middleware.process_request
