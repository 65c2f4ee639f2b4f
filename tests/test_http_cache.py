"""Issue 26 item 7: a response Scrapy's HTTP cache serves was fetched when the cache stored
it, not when the crawl read it back. Its provenance says so: ``fetched_at`` is the cache
entry's time and ``cached`` is true."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import pytest_twisted
from scrapy.extensions.httpcache import FilesystemCacheStorage

from scrapy_ccsignals.records.audit import iso_time
from tests.crawling import page, run_crawl, text

STORAGES = {
    "filesystem": "scrapy.extensions.httpcache.FilesystemCacheStorage",
    "dbm": "scrapy.extensions.httpcache.DbmCacheStorage",
}


def _site(server) -> str:
    return server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/p": {"body": page("p"), "headers": {"Content-Usage": "train-ai=y"}},
        }
    )


@pytest.mark.parametrize("storage", sorted(STORAGES))
@pytest_twisted.ensureDeferred
async def test_cached_response_keeps_when_it_was_fetched(server, tmp_path, storage):
    origin = _site(server)
    log = tmp_path / "audit.jsonl"
    settings = {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(tmp_path / "cache"),
        "HTTPCACHE_STORAGE": STORAGES[storage],
        "CCSIGNALS_AUDIT_LOG": str(log),
    }
    _, first = await run_crawl([f"{origin}/p"], settings, follow=False)
    fresh = first[0]["ccsignals"]
    assert "cached" not in fresh

    _, second = await run_crawl([f"{origin}/p"], settings, follow=False)
    assert server.paths(origin).count("/p") == 1  # the second crawl read the cache
    record = second[0]["ccsignals"]
    assert record["cached"] is True
    assert record["decision"] == "allow"
    # Stored by the cache middleware just before the plugin evaluated the first response.
    assert record["fetched_at"] <= fresh["fetched_at"]
    if storage == "filesystem":
        (meta,) = Path(tmp_path / "cache").rglob("pickled_meta")
        assert record["fetched_at"] == iso_time(pickle.loads(meta.read_bytes())["timestamp"])
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    fetched = [x for x in lines if (x["stage"], x["action"]) == ("response", "fetched")]
    assert fetched[-1]["cached"] is True
    assert fetched[-1]["time"] > record["fetched_at"]  # the line says when it was read back


class DateOnlyStorage(FilesystemCacheStorage):
    """A cache storage that does not say when it stored a response (as a third-party one
    may not): the response's own ``Date`` header is all there is."""

    def retrieve_response(self, spider, request):
        response = super().retrieve_response(spider, request)
        request.meta.pop("cache_timestamp", None)
        return response


@pytest.mark.parametrize(
    ("date", "fetched_at"),
    [
        ("Tue, 01 Dec 2026 10:00:00 GMT", "2026-12-01T10:00:00.000Z"),
        ("Fri, 01 Jan 2100 00:00:00 GMT", None),  # in the future: not a fetch time
        ("yesterday", None),
    ],
)
@pytest_twisted.ensureDeferred
async def test_without_a_cache_time_the_date_header_says_when(server, tmp_path, date, fetched_at):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/p": {"body": page("p"), "headers": {"Date": date}},
        }
    )
    settings = {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(tmp_path / "cache"),
        "HTTPCACHE_STORAGE": DateOnlyStorage,
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.DummyPolicy",
    }
    await run_crawl([f"{origin}/p"], settings, follow=False)
    _, items = await run_crawl([f"{origin}/p"], settings, follow=False)
    assert server.paths(origin).count("/p") == 1
    record = items[0]["ccsignals"]
    assert record["cached"] is True
    assert record["fetched_at"] == fetched_at
