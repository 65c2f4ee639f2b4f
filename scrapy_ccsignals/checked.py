"""Which items the spider middleware gave a record, until the item pipeline sees them.

The pipeline gives every other item an ``unchecked`` record (items yielded from errbacks
do not pass spider middlewares). An ``id()`` alone cannot tell them apart: an item dropped
between the two (by a later spider middleware) frees its id, and a new item can get it. So
each entry holds a weak reference to the object that lives exactly as long as the item's
check: the record put on it (always a :class:`ItemRecord`, which takes weak references), or
the item itself when it has no field for one; the entry disappears with that object.
"""

from __future__ import annotations

import weakref
from typing import Any

from itemadapter import ItemAdapter


class ItemRecord(dict[str, Any]):
    """An item's provenance record: a plain dict that weak references can point at."""

    __slots__ = ("__weakref__",)


class CheckedItems:
    def __init__(self) -> None:
        self._refs: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def add(self, item: Any, record: ItemRecord | None) -> None:
        """*item* was checked; *record* is the record put on it (None: it has no field)."""
        key = id(item)
        target = item if record is None else record
        try:
            ref: Any = weakref.ref(target, lambda dead: self._forget(key, dead))
        except TypeError:  # an item class without weak references: held until the pipeline
            ref = _Strong(target)
        self._refs[key] = ref

    def take(self, item: Any, field: str) -> bool:
        """Whether *item* is one the spider middleware checked (and forget it)."""
        ref = self._refs.pop(id(item), None)
        if ref is None:
            return False
        target = ref()
        if target is None:
            return False
        if target is item:
            return True
        value = item.get(field) if isinstance(item, dict) else ItemAdapter(item).get(field)
        return value is target

    def _forget(self, key: int, dead: Any) -> None:
        if self._refs.get(key) is dead:
            del self._refs[key]


class _Strong:
    """A strong reference with ``weakref.ref``'s call interface."""

    __slots__ = ("target",)

    def __init__(self, target: Any):
        self.target = target

    def __call__(self) -> Any:
        return self.target
