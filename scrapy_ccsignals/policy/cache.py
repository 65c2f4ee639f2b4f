"""The parsed policies kept in memory: a bounded LRU (``CCSIGNALS_POLICY_CACHE_SIZE``). An
evicted origin is read again from a persistent store (its age counted from the original
fetch) or fetched again; an expired one stays until it is replaced, for the requests that
were checked against it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy_ccsignals.policy.origin import OriginPolicy


class PolicyCache:
    def __init__(self, size: int, evicted: Callable[[], None]):
        self._size = size
        self._evicted = evicted
        #: origin -> parsed policy, least recently used first
        self._policies: OrderedDict[str, OriginPolicy] = OrderedDict()

    def __len__(self) -> int:
        return len(self._policies)

    def get(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if it is in memory, expired or not."""
        return self._policies.get(origin)

    def fresh(self, origin: str) -> OriginPolicy | None:
        """The origin's policy if it is in memory and not expired (marks it as recently
        used)."""
        policy = self._policies.get(origin)
        if policy is None or policy.expires <= monotonic():
            return None
        self._policies.move_to_end(origin)
        return policy

    def known(self, origin: str) -> bool:
        """Whether the origin's policy is in memory and not expired (LRU order untouched)."""
        policy = self._policies.get(origin)
        return policy is not None and policy.expires > monotonic()

    def put(self, origin: str, policy: OriginPolicy) -> None:
        policies = self._policies
        policies[origin] = policy
        policies.move_to_end(origin)
        while len(policies) > self._size:
            policies.popitem(last=False)
            self._evicted()
