"""Calls to the policy store, off the reactor, and the fetch locks that let one worker of a
distributed crawl fetch a file while the others wait for it.

A store that fails (Redis gone, SQLite file locked too long) must not stop the crawl: warn
once, count, and go on as if the store had nothing."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from scrapy_ccsignals.policy.store import MemoryStore, PolicyStore, StoredPolicy

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.host import FetcherHost

#: How often a worker waiting for another worker's fetch looks at the store.
LOCK_POLL_INTERVAL = 0.2


class SharedStore:
    def __init__(self, runtime: FetcherHost, store: PolicyStore):
        self.runtime = runtime
        self.store = store
        #: the in-memory store keeps no raw files: nothing to read back or lock
        self.memory = isinstance(store, MemoryStore)

    async def call(self, method: Any, key: str, *args: Any, default: Any = None) -> Any:
        """Call a store method in a thread; on failure warn once, count, return *default*."""
        try:
            return await maybe_deferred_to_future(deferToThread(method, key, *args))
        except Exception as exc:
            self.runtime.inc("ccsignals/policy/store_error")
            self.runtime.warn_once(
                "*",
                "store",
                "Policy store %s failed (%r) for %s; fetching policies without it",
                self.runtime.cfg.policy_store,
                exc,
                key,
            )
            return default

    async def get(self, key: str) -> StoredPolicy | None:
        stored: StoredPolicy | None = await self.call(self.store.get, key)
        return stored

    async def put(self, key: str, entry: StoredPolicy, ttl: float) -> None:
        await self.call(self.store.put, key, entry, ttl)

    async def release(self, key: str) -> None:
        await self.call(self.store.release, key)

    async def lock_or_wait(
        self, key: str, origin: str, ready: Callable[[StoredPolicy], bool]
    ) -> StoredPolicy | None:
        """Take the shared store's fetch lock *key* (None: fetch it yourself, then
        :meth:`release` it; what is already there once the lock is taken is returned). If another worker holds it, poll the origin's entry until
        *ready* says what that worker fetched is there (returned), or until the lock
        expires (a dead worker: None, fetch it yourself)."""
        lock_timeout = self.runtime.cfg.policy_lock_timeout
        if await self.call(self.store.acquire, key, lock_timeout, default=True):
            # Another worker may have fetched it and let go of the lock since the caller
            # last looked: look again now that nobody else can be fetching it. (A store
            # failing here failed for the caller already: counted and warned once.)
            try:
                stored = await maybe_deferred_to_future(deferToThread(self.store.get, origin))
            except Exception:
                stored = None
            if stored is not None and ready(stored):
                await self.release(key)
                return stored
            return None
        self.runtime.inc("ccsignals/policy/lock_wait")
        deadline = monotonic() + lock_timeout
        while monotonic() < deadline:
            await sleep(LOCK_POLL_INTERVAL)
            stored = await self.get(origin)
            if stored is not None and ready(stored):
                return stored
        return None


async def sleep(seconds: float) -> None:
    from twisted.internet import reactor

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
