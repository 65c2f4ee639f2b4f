"""Policy stores: where the raw policy files of each origin are kept between requests,
runs and workers. Chosen by ``CCSIGNALS_POLICY_STORE``:

- ``memory`` (default): this process only. It keeps no raw bytes: within one process the
  fetcher's bounded cache of parsed policies is the only copy, and an origin evicted from
  it is fetched again (raw bodies kept here would never be read back);
- ``sqlite:///path/to/file.db``: a file shared by the runs and processes of one machine;
- ``redis://host:port/db``: shared by every worker of a distributed crawl (``redis`` extra).

What is stored is what the server sent (status, bytes, final URL, error, fetch time), never
parsed objects, so a newer plugin version re-reads old entries with its own rules. Stores
also hand out a per-origin fetch lock with a timeout (set-if-absent), so that with several
workers one fetches while the others wait, and a dead worker blocks nobody for long.

Store methods are synchronous and short; the fetcher calls them in a thread
(``deferToThread``), never on the reactor thread.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class RawFile:
    """One policy file as fetched."""

    url: str
    status: int | None
    body: bytes | None
    error: str
    final_url: str
    #: the evidence archive's record of this response (the worker that fetched it wrote it)
    warc_record_id: str | None = None
    #: the redirect targets followed after ``url``, in order (the last is ``final_url``):
    #: a file kept for one page is checked again for the next page that names it
    hops: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = base64.b64encode(self.body).decode() if self.body is not None else None
        data["hops"] = list(self.hops)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RawFile:
        body = data.get("body")
        url, final_url = data["url"], data.get("final_url", data["url"])
        hops = data.get("hops")
        if not isinstance(hops, list):  # stored before hops were: at least where it ended
            hops = [final_url] if final_url != url else []
        return cls(
            url=url,
            status=data.get("status"),
            body=base64.b64decode(body) if body is not None else None,
            error=data.get("error", ""),
            final_url=final_url,
            warc_record_id=data.get("warc_record_id"),
            hops=tuple(str(hop) for hop in hops),
        )


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """Both policy files of an origin and when robots.txt was fetched (Unix time). tdmrep.json
    is None until the use gate first needed it (it is fetched then, not with robots.txt);
    ``tdmrep_fetched_at`` is when it was fetched (None: with robots.txt), so that one that
    could not be read is tried again sooner than robots.txt."""

    robots: RawFile
    tdmrep: RawFile | None
    fetched_at: float
    tdmrep_fetched_at: float | None = None

    @property
    def tdmrep_time(self) -> float:
        return self.fetched_at if self.tdmrep_fetched_at is None else self.tdmrep_fetched_at

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "robots": self.robots.to_json(),
            "tdmrep": self.tdmrep.to_json() if self.tdmrep is not None else None,
            "fetched_at": self.fetched_at,
        }
        if self.tdmrep_fetched_at is not None:
            data["tdmrep_fetched_at"] = self.tdmrep_fetched_at
        return json.dumps(data)

    @classmethod
    def loads(cls, text: str | bytes) -> StoredPolicy:
        data = json.loads(text)
        tdmrep_at = data.get("tdmrep_fetched_at")
        return cls(
            RawFile.from_json(data["robots"]),
            RawFile.from_json(data["tdmrep"]) if data.get("tdmrep") else None,
            float(data["fetched_at"]),
            float(tdmrep_at) if tdmrep_at is not None else None,
        )


class PolicyStore(Protocol):
    name: str

    def get(self, origin: str) -> StoredPolicy | None: ...

    def put(self, origin: str, policy: StoredPolicy, ttl: float) -> None: ...

    def acquire(self, origin: str, timeout: float) -> bool:
        """Take the origin's fetch lock for *timeout* seconds; False if another holds it."""
        ...

    def release(self, origin: str) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """No store: the fetcher's LRU of parsed policies is the in-process cache. Keeping the
    raw files too cost up to a body's size per origin (a 10 KB HTML 404 for tdmrep.json)
    for bytes nobody reads again; the fetcher does not call it at all."""

    name = "memory"

    def get(self, origin: str) -> StoredPolicy | None:
        return None

    def put(self, origin: str, policy: StoredPolicy, ttl: float) -> None:
        pass

    def acquire(self, origin: str, timeout: float) -> bool:
        return True  # one process: the fetcher already fetches each origin once

    def release(self, origin: str) -> None:
        pass

    def close(self) -> None:
        pass


class SQLiteStore:
    """A SQLite file; WAL mode and a busy timeout make it safe for several processes."""

    name = "sqlite"

    def __init__(self, path: str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS policies (origin TEXT PRIMARY KEY, data TEXT NOT NULL, "
                "fetched_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS locks (origin TEXT PRIMARY KEY, owner TEXT NOT NULL, "
                "expires REAL NOT NULL)"
            )

    def get(self, origin: str) -> StoredPolicy | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM policies WHERE origin = ?", (origin,)
            ).fetchone()
        return StoredPolicy.loads(row[0]) if row else None

    def put(self, origin: str, policy: StoredPolicy, ttl: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO policies (origin, data, fetched_at) VALUES (?, ?, ?)",
                (origin, policy.dumps(), policy.fetched_at),
            )

    def acquire(self, origin: str, timeout: float) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "DELETE FROM locks WHERE origin = ? AND expires < ?", (origin, now)
                )
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO locks (origin, owner, expires) VALUES (?, ?, ?)",
                    (origin, self._owner, now + timeout),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cursor.rowcount == 1

    def release(self, origin: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM locks WHERE origin = ? AND owner = ?", (origin, self._owner)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisStore:
    """Redis: entries expire on their own (``EX``); the lock is ``SET NX EX``."""

    name = "redis"
    PREFIX = "ccsignals:policy:"
    LOCK_PREFIX = "ccsignals:lock:"

    def __init__(self, url: str):
        try:
            import redis
        except ImportError:  # pragma: no cover - depends on the extra
            raise ImportError(
                "CCSIGNALS_POLICY_STORE uses Redis: pip install 'scrapy-ccsignals[redis]'"
            ) from None
        self._owner = uuid.uuid4().hex
        self._redis = redis.Redis.from_url(url, socket_timeout=10)
        self._redis.ping()

    def get(self, origin: str) -> StoredPolicy | None:
        data = self._redis.get(self.PREFIX + origin)
        return StoredPolicy.loads(data) if data else None

    def put(self, origin: str, policy: StoredPolicy, ttl: float) -> None:
        self._redis.set(self.PREFIX + origin, policy.dumps(), ex=max(1, int(ttl)))

    def acquire(self, origin: str, timeout: float) -> bool:
        return bool(
            self._redis.set(
                self.LOCK_PREFIX + origin, self._owner, nx=True, ex=max(1, int(timeout))
            )
        )

    #: Delete the lock only if this worker still holds it, atomically: a lock that expired
    #: and was taken by another worker must not be deleted by the first one's release.
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def release(self, origin: str) -> None:
        self._redis.eval(self._RELEASE, 1, self.LOCK_PREFIX + origin, self._owner)

    def close(self) -> None:
        self._redis.close()


def open_store(uri: str) -> PolicyStore:
    """The store named by a ``CCSIGNALS_POLICY_STORE`` value."""
    if uri == "memory":
        return MemoryStore()
    scheme = urlsplit(uri).scheme
    if scheme == "sqlite":
        # As in SQLAlchemy: sqlite:///relative/file.db, sqlite:////absolute/file.db
        if not uri.startswith("sqlite:///") or len(uri) == len("sqlite:///"):
            raise ValueError(f"a SQLite policy store is sqlite:///path/to/file.db, not {uri!r}")
        return SQLiteStore(uri[len("sqlite:///") :])
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(uri)
    raise ValueError(
        f"unknown policy store {uri!r}: use 'memory', 'sqlite:///path/to/file.db' or "
        "'redis://host:port/db'"
    )
