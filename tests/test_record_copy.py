"""Each item's copy of the response's record (gate/provenance.py ``own_copy``): equal to the
record, sharing none of its lists and dicts (a pipeline that edits one item's provenance
edits only that one), strings and numbers shared."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.checked import ItemRecord
from scrapy_ccsignals.gate.provenance import copy_record, own_copy

_TREES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
        | st.tuples(inner)
    ),
    max_leaves=30,
)


def _containers(value: Any, found: list[int]) -> list[int]:
    """Ids of the lists and dicts in *value* (tuples are shared: they cannot be edited)."""
    if isinstance(value, dict):
        found.append(id(value))
        for item in value.values():
            _containers(item, found)
    elif isinstance(value, list):
        found.append(id(value))
        for item in value:
            _containers(item, found)
    return found


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _TREES, max_size=6))
def test_a_copy_is_equal_and_shares_no_list_or_dict(record):
    copy = own_copy(record, ItemRecord)
    assert type(copy) is ItemRecord
    assert copy == record
    assert not set(_containers(dict(copy), [])[1:]) & set(_containers(record, []))


def test_dict_and_list_subclasses_become_plain_copies():
    """As before: a dict or list of another class inside a record is copied as a plain one."""

    class Tags(list):
        pass

    record = {"a": OrderedDict(x=[1, {"y": Tags([2])}]), "b": [OrderedDict(z=Tags([3]))]}
    copy = own_copy(record, dict)
    assert copy == record
    assert type(copy["a"]) is dict and type(copy["a"]["x"][1]["y"]) is list
    assert type(copy["b"][0]) is dict and type(copy["b"][0]["z"]) is list
    assert copy_record(record) == record and copy_record(record) is not record
