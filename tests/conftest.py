from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrapy_ccsignals.testserver import TestServer


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    """One real HTTP server subprocess on 127.0.0.1 for the whole session; each test
    opens the origins it needs on ports of their own."""
    with TestServer() as srv:
        yield srv
