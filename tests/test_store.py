"""Policy stores: SQLite across runs, Redis across workers (scrapy-redis)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import pytest_twisted

from scrapy_ccsignals.policy.store import (
    MemoryStore,
    RawFile,
    SQLiteStore,
    StoredPolicy,
    open_store,
)
from scrapy_ccsignals.records.crawls import select_crawls
from scrapy_ccsignals.records.report import summarise_files
from tests.crawling import page, run_crawl, stats, text

ROOT = Path(__file__).resolve().parent.parent


def site(server, n: int = 3) -> str:
    links = "".join(f'<a href="/p/{i}">{i}</a>' for i in range(n))
    return server.add_origin(
        {
            "/robots.txt": text(
                "User-agent: *\nDisallow: /private\nContent-Usage: /p/0 train-ai=n\n"
            ),
            "/.well-known/tdmrep.json": text('[{"location": "/p/1", "tdm-reservation": 1}]'),
            "/": {"body": page("home", links + '<a href="/private">x</a>')},
            "/p/*": {"body": page("p")},
        }
    )


def policy_paths(server, origin: str) -> Counter:
    return Counter(
        p for p in server.paths(origin) if p in ("/robots.txt", "/.well-known/tdmrep.json")
    )


def test_stored_policy_roundtrip():
    stored = StoredPolicy(
        RawFile("http://a:80/robots.txt", 200, b"\x00\xffUser-agent: *", "", "http://a:80/r"),
        RawFile(
            "http://a:80/.well-known/tdmrep.json",
            None,
            None,
            "TimeoutError",
            "http://a:80/.well-known/tdmrep.json",
        ),
        1234.5,
    )
    assert StoredPolicy.loads(stored.dumps()) == stored


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("memory", MemoryStore),
        ("sqlite:///{tmp}/p.db", SQLiteStore),
        ("sqlite:///{tmp}/sub/dir/p.db", SQLiteStore),
    ],
)
def test_open_store(tmp_path, uri, kind):
    store = open_store(uri.format(tmp=tmp_path))
    assert isinstance(store, kind)
    assert store.acquire("o", 5)
    store.close()


def test_sqlite_lock_is_exclusive_and_expires(tmp_path):
    a, b = SQLiteStore(str(tmp_path / "p.db")), SQLiteStore(str(tmp_path / "p.db"))
    assert a.acquire("http://o:80", 60)
    assert not b.acquire("http://o:80", 60)
    a.release("http://o:80")
    assert b.acquire("http://o:80", 0.0001)
    import time

    time.sleep(0.01)  # plain test code, no reactor involved
    assert a.acquire("http://o:80", 60)  # b's lock expired
    a.close()
    b.close()


@pytest.mark.parametrize("value", ["sqlite://relative.db", "sqlite:///", "postgres://x", 5])
@pytest_twisted.ensureDeferred
async def test_bad_store_setting(server, value):
    from scrapy_ccsignals.config import ConfigError

    with pytest.raises(ConfigError, match="CCSIGNALS_POLICY_STORE"):
        await run_crawl([site(server) + "/"], {"CCSIGNALS_POLICY_STORE": value})


@pytest_twisted.ensureDeferred
async def test_sqlite_second_run_fetches_no_policy(server, tmp_path):
    origin = site(server)
    db = tmp_path / "policies.db"
    settings = {
        "CCSIGNALS_POLICY_STORE": f"sqlite:///{db}",
        "CCSIGNALS_AUDIT_LOG": str(tmp_path / "a%(time)s.jsonl"),
    }
    _crawler1, items1 = await run_crawl([origin + "/"], settings)
    assert policy_paths(server, origin) == {"/robots.txt": 1, "/.well-known/tdmrep.json": 1}
    crawler2, items2 = await run_crawl(
        [origin + "/"], {**settings, "CCSIGNALS_AUDIT_LOG": str(tmp_path / "second.jsonl")}
    )
    # The second run used the stored files: no new policy request, same decisions.
    assert policy_paths(server, origin) == {"/robots.txt": 1, "/.well-known/tdmrep.json": 1}
    assert "/private" not in server.paths(origin)
    assert stats(crawler2)["ccsignals/policy/store_hit"] == 1
    assert "ccsignals/policy/fetched" not in stats(crawler2)
    decisions = lambda items: sorted((i["url"], i["ccsignals"]["decision"]) for i in items)  # noqa: E731
    assert decisions(items1) == decisions(items2)
    # Provenance and audit log say the policy came from the store, and when it was fetched.
    policies = items2[0]["ccsignals"]["policies"]
    assert all(p["cached"] for p in policies)
    assert policies[0]["fetched_at"] == items1[0]["ccsignals"]["policies"][0]["fetched_at"]
    lines = [json.loads(x) for x in (tmp_path / "second.jsonl").read_text().splitlines()]
    assert [(x["action"], x["policy"]["cached"]) for x in lines if x["stage"] == "policy"] == [
        ("cached", True)
    ] * 2


@pytest.mark.parametrize(("age", "refetched"), [(3600, False), (90_000, True)])
@pytest_twisted.ensureDeferred
async def test_sqlite_expired_entry_refetched(server, tmp_path, age, refetched):
    origin = site(server)
    db = tmp_path / "policies.db"
    settings = {"CCSIGNALS_POLICY_STORE": f"sqlite:///{db}"}
    await run_crawl([origin + "/"], settings)
    # Age the stored entry as if it had been fetched `age` seconds ago.
    with sqlite3.connect(db) as conn:
        (data,) = conn.execute("SELECT data FROM policies").fetchone()
        stored = json.loads(data)
        stored["fetched_at"] -= age
        conn.execute(
            "UPDATE policies SET data = ?, fetched_at = ?",
            (json.dumps(stored), stored["fetched_at"]),
        )
    await run_crawl([origin + "/"], settings)
    assert policy_paths(server, origin)["/robots.txt"] == (2 if refetched else 1)


@pytest_twisted.ensureDeferred
async def test_sqlite_error_entry_expires_sooner(server, tmp_path):
    origin = server.add_origin({"/robots.txt": {"status": 503}, "/": {"body": page("x")}})
    settings = {
        "CCSIGNALS_POLICY_STORE": f"sqlite:///{tmp_path / 'p.db'}",
        "CCSIGNALS_POLICY_ERROR_MAX_AGE": 0,
    }
    await run_crawl([origin + "/"], settings)
    await run_crawl([origin + "/"], settings)
    assert server.paths(origin).count("/robots.txt") == 2  # a 503 is not kept
    settings["CCSIGNALS_POLICY_ERROR_MAX_AGE"] = 300
    await run_crawl([origin + "/"], settings)
    await run_crawl([origin + "/"], settings)
    # Within CCSIGNALS_POLICY_ERROR_MAX_AGE the stored 503 is reused: no new request.
    assert server.paths(origin).count("/robots.txt") == 2


def test_redis_workers_fetch_each_policy_once(server, redis_url, tmp_path):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    origins = [site(server, n=8) for _ in range(4)]
    urls = [o + "/" for o in origins]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.redis_worker",
                redis_url,
                str(tmp_path / f"audit-{i}.jsonl"),
                "books-1",
                *urls,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    results = []
    for proc in workers:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    for origin in origins:
        assert policy_paths(server, origin) == {"/robots.txt": 1, "/.well-known/tdmrep.json": 1}, (
            origin
        )
        pages = [p for p in server.paths(origin) if p.startswith("/p/") or p == "/"]
        assert sorted(pages) == sorted(
            ["/"] + [f"/p/{i}" for i in range(8)]
        )  # each page once, shared frontier
        assert "/private" not in server.paths(origin)
    fetched = sum(r.get("ccsignals/policy/fetched", 0) for r in results)
    assert fetched == len(origins)
    # Every worker that crawled an origin it did not fetch the policy of took it from Redis.
    fetched_by: Counter = Counter()
    for i in range(3):
        lines = [json.loads(x) for x in (tmp_path / f"audit-{i}.jsonl").read_text().splitlines()]
        crawled = {x["origin"] for x in lines if x["stage"] == "response"}
        robots = {
            x["origin"]: x["action"]
            for x in lines
            if x["stage"] == "policy" and x["policy"]["kind"] == "robots.txt"
        }
        assert crawled <= set(robots), f"worker {i} crawled an origin without a policy line"
        hits = [o for o, action in robots.items() if action == "cached"]
        assert results[i].get("ccsignals/policy/store_hit", 0) == len(hits)
        fetched_by.update(o for o, action in robots.items() if action == "fetched")
    assert fetched_by == dict.fromkeys(origins, 1)
    # Items: 9 pages per origin, minus /p/0 (Content-Usage n) and /p/1 (TDMRep) dropped.
    assert sum(r.get("item_scraped_count", 0) for r in results) == 7 * len(origins)
    # One CCSIGNALS_CRAWL_ID: the three logs are one crawl, which the report counts whole.
    logs = sorted(str(p) for p in tmp_path.glob("audit-*.jsonl"))
    selection = select_crawls(logs)
    assert list(selection.found.crawls) == ["books-1"]
    summary = summarise_files(logs, selection=selection)
    assert summary.overall.fetched == 9 * len(origins) and summary.items_kept == 7 * len(origins)


@pytest_twisted.ensureDeferred
async def test_lock_of_a_dead_worker_expires(server, tmp_path):
    origin = site(server)
    db = tmp_path / "p.db"
    dead = SQLiteStore(str(db))
    assert dead.acquire(origin, 60)  # a worker that died holding the lock
    crawler, items = await run_crawl(
        [origin + "/"],
        {"CCSIGNALS_POLICY_STORE": f"sqlite:///{db}", "CCSIGNALS_POLICY_LOCK_TIMEOUT": 1},
    )
    dead.close()
    s = stats(crawler)
    assert s["ccsignals/policy/lock_wait"] == 1
    assert s["ccsignals/policy/fetched"] == 1
    assert policy_paths(server, origin) == {"/robots.txt": 1, "/.well-known/tdmrep.json": 1}
    assert items


@pytest_twisted.ensureDeferred
async def test_corrupt_store_entry_is_refetched(server, tmp_path, caplog):
    origin = site(server)
    db = tmp_path / "p.db"
    settings = {"CCSIGNALS_POLICY_STORE": f"sqlite:///{db}"}
    await run_crawl([origin + "/"], settings)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE policies SET data = 'not json'")
    crawler, items = await run_crawl([origin + "/"], settings)
    assert stats(crawler)["ccsignals/policy/store_error"] == 1
    assert stats(crawler)["ccsignals/policy/fetched"] == 1
    assert policy_paths(server, origin)["/robots.txt"] == 2
    assert any("Policy store sqlite:///" in r.getMessage() for r in caplog.records)
    assert "/private" not in server.paths(origin)
    assert items


def test_redis_release_keeps_a_lock_taken_over_by_another_worker(redis_url):
    from scrapy_ccsignals.policy.store import RedisStore

    a, b = RedisStore(redis_url), RedisStore(redis_url)
    origin = "http://takeover.example:80"
    assert a.acquire(origin, 60)
    assert not b.acquire(origin, 60)
    a._redis.delete(a.LOCK_PREFIX + origin)  # a's lock expires...
    assert b.acquire(origin, 60)  # ...and b takes it
    a.release(origin)  # a finishing late must not free b's lock
    assert not a.acquire(origin, 60)
    b.release(origin)
    assert a.acquire(origin, 60)
    a.release(origin)
    a.close()
    b.close()
