"""The use gate's evaluate and record steps do less per response (issue 25): what they
build is checked here against the plain forms they replace (each signal's ``as_dict``,
each policy record's ``as_dict``), over generated inputs, and a record still owns every
dict and list in it."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from urllib.parse import urljoin

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scrapy.settings import Settings

from scrapy_ccsignals.config import Config
from scrapy_ccsignals.gate.decision import Decision, decide
from scrapy_ccsignals.gate.provenance import build_record
from scrapy_ccsignals.gate.usegate import Evaluation, _Gathered, _html_licences
from scrapy_ccsignals.policy.origin import OriginPolicy, PolicyRecord
from scrapy_ccsignals.signals.base import ALLOW, CONDITIONAL, DENY, UNKNOWN, Signal
from scrapy_ccsignals.signals.htmlscan import HtmlMeta
from scrapy_ccsignals.signals.license import make_license
from scrapy_ccsignals.signals.pathmatch import compile_pattern, normalise, prepare_pattern
from scrapy_ccsignals.signals.robots import parse_robots
from scrapy_ccsignals.signals.rsl import is_rsl_type

CFG = Config.from_settings(Settings({"USER_AGENT": "FastBot/1.0"}))
URL = "http://127.0.0.1:1/p"
_PAGES = ["http://127.0.0.1:1/p/1", "http://127.0.0.1:1/a/b/2"]
DECISION = Decision(DENY, (), ("deny by x",), ("aipref",))

_words = st.sampled_from(["aipref", "cc-signals", "rsl", "tdmrep", "license", "noai", ""])
signals = st.builds(
    Signal,
    family=_words,
    layer=st.sampled_from(["robots.txt", "tdmrep.json", "header", "html", "file"]),
    source=st.sampled_from([URL, "http://127.0.0.1:1/robots.txt"]),
    effect=st.sampled_from([ALLOW, DENY, CONDITIONAL, UNKNOWN]),
    raw=st.text(max_size=8),
    value=st.sampled_from(["", "silent", "train-ai=n"]),
    conditions=st.lists(st.sampled_from(["cc-cr", "cc-dc", "pay"]), max_size=3).map(tuple),
    all_required=st.booleans(),
)


def _policy(tdmrep_detail: str = "") -> OriginPolicy:
    robots = PolicyRecord("robots.txt", "http://127.0.0.1:1/robots.txt", 200, "t", "x", "parsed")
    tdmrep = PolicyRecord(
        "tdmrep.json",
        "http://127.0.0.1:1/.well-known/tdmrep.json",
        404,
        "t",
        None,
        "absent",
        tdmrep_detail,
        warc_record_id="<urn:uuid:1>",
    )
    rules = parse_robots("User-agent: *\nAllow: /\n", CFG.token)
    return OriginPolicy("http://127.0.0.1:1", rules, robots, None, tdmrep, 0.0)


def _record(evaluation: Evaluation, policy: OriginPolicy | None) -> dict:
    return build_record(CFG, "0", URL, 200, "text/html", b"", evaluation, policy)


@settings(max_examples=200, deadline=None)
@given(st.lists(signals, max_size=6), st.dictionaries(st.integers(0, 5), st.integers(1, 9)))
def test_record_signals_are_each_signals_dict(found, cut):
    """Each signal's entry is its ``as_dict`` (conditions, ``all_required``), and past the
    cap the last one kept of a family and layer says how many more were left out."""
    keys = [(s.family, s.layer) for s in found]
    truncated = {keys[i]: n for i, n in cut.items() if i < len(keys)}
    record = _record(Evaluation(found, None, DECISION, {}, truncated), None)
    expected = [s.as_dict() for s in found]
    last = {key: i for i, key in enumerate(keys)}
    for key, count in truncated.items():
        expected[last[key]]["truncated"] = count
    assert record["signals"] == expected
    lists = [d["conditions"] for d in record["signals"] if "conditions" in d]
    assert len({id(x) for x in lists}) == len(lists)  # each entry its own list


def test_record_policies_are_each_records_dict_and_owned():
    policy = _policy("a detail")
    evaluation = Evaluation([], None, DECISION)
    first = _record(evaluation, policy)
    assert first["policies"] == [policy.robots_record.as_dict(), policy.tdmrep_record.as_dict()]
    first["policies"][0]["outcome"] = "edited"
    first["policies"][1].clear()
    second = _record(evaluation, policy)
    assert second["policies"] == [policy.robots_record.as_dict(), policy.tdmrep_record.as_dict()]
    assert second["policies"][0] is not first["policies"][0]


def test_record_policies_follow_a_policy_record_replaced():
    """tdmrep.json becomes known after robots.txt (``set_tdmrep``): the next record says so."""
    policy = _policy()
    evaluation = Evaluation([], None, DECISION)
    assert _record(evaluation, policy)["policies"][1]["outcome"] == "absent"
    known = PolicyRecord("tdmrep.json", policy.tdmrep_url, 200, "t2", "y", "parsed")
    policy.set_tdmrep([], known)
    assert _record(evaluation, policy)["policies"][1] == known.as_dict()
    policy.robots_record = PolicyRecord("robots.txt", policy.robots_url, 404, "t3", None, "absent")
    assert _record(evaluation, policy)["policies"][0] == policy.robots_record.as_dict()


def reference_decide(signals: list[Signal], accept: frozenset[str], default: str) -> Decision:
    """The combining rules as decide() wrote them before it took one pass (a filter per
    rule), kept here to check that the one pass decides, reasons and lists the same."""

    def met(s: Signal) -> list[str]:
        if s.all_required:
            return sorted(s.conditions) if set(s.conditions) <= accept else []
        return sorted(set(s.conditions) & accept)

    rsl = [s for s in signals if s.family == "rsl" and s.effect != UNKNOWN]
    overridden = []
    if rsl and all(s.effect == ALLOW or (s.effect == CONDITIONAL and met(s)) for s in rsl):
        overridden = [
            s
            for s in signals
            if s.family in {"aipref", "cc-signals", "content-signal", "ai-control"}
            and (s.effect == DENY or (s.effect == CONDITIONAL and not met(s)))
        ]
    signals = [s for s in signals if s not in overridden]
    denies = [s for s in signals if s.effect == DENY]
    if denies:
        reasons = tuple(f"deny by {s.describe()}" for s in denies)
        return Decision(DENY, (), reasons, tuple(dict.fromkeys(s.family for s in denies)))
    conditionals = [s for s in signals if s.effect == CONDITIONAL]
    unmet = [s for s in conditionals if not met(s)]
    if unmet:
        reasons = tuple(
            f"deny by {s.describe()} (conditions {', '.join(s.conditions)} not accepted)"
            for s in unmet
        )
        return Decision(DENY, (), reasons, tuple(dict.fromkeys(s.family for s in unmet)))
    allows = [s for s in signals if s.effect in (ALLOW, CONDITIONAL)]
    if not allows:
        reason = f"no signal for the purpose; CCSIGNALS_DEFAULT={default}"
        return Decision(default, (), (reason,), ("default",))
    return Decision(
        ALLOW,
        tuple(sorted({c for s in conditionals for c in met(s)})),
        tuple(f"allow by {s.describe()}" for s in allows)
        + tuple(
            f"{s.effect} by {s.describe()} overridden by the RSL licence that allows the purpose"
            for s in overridden
        ),
        tuple(dict.fromkeys(s.family for s in allows)),
    )


_RSL_OVER_BOTH = [
    Signal("rsl", "html", URL, ALLOW, "licence"),
    Signal("cc-signals", "html", URL, CONDITIONAL, "meta", conditions=("cc-cr",)),
    Signal("aipref", "header", URL, DENY, "train-ai=n"),
]


@settings(max_examples=500, deadline=None)
@example(_RSL_OVER_BOTH, frozenset(), ALLOW)  # the overridden reasons in the signals' order
@given(
    st.lists(signals, max_size=8),
    st.frozensets(st.sampled_from(["cc-cr", "cc-dc", "pay"])),
    st.sampled_from([ALLOW, DENY]),
)
def test_decide_agrees_with_the_rules_one_filter_each(found, accept, default):
    assert decide(found, accept, default) == reference_decide(found, accept, default)
    assert decide(iter(found), accept, default) == reference_decide(found, accept, default)


_pattern_text = st.text(alphabet="ab/.*%2F$é", max_size=8)


@settings(max_examples=500, deadline=None)
@example("/p/1*", "/p/10")
@example("*", "/")
@example("/a%2*", "/a%252")
@given(
    _pattern_text.map(lambda p: "/" + p) | _pattern_text.map(lambda p: "*" + p) | _pattern_text,
    st.text(alphabet="ab/.%2F$*é", max_size=10).map(lambda p: "/" + p),
)
def test_a_pattern_with_wildcards_at_its_end_matches_as_its_regex_does(pattern, path):
    """A pattern whose wildcards are all at its end is matched as a prefix, without the
    regex: it matches what the regex of the pattern matches."""
    assume("*" in pattern)  # a pattern without one is matched as a prefix already
    path = normalise(path)
    regex = compile_pattern(pattern)
    expected = regex is not None and regex.match(path) is not None
    assert prepare_pattern(pattern).matches(path) == expected


_hrefs = st.sampled_from(
    [
        "https://creativecommons.org/licenses/by/4.0/",
        "http://creativecommons.org/licenses/by-sa/3.0/de/deed.de",
        "https://example.org/licence.xml",
        "/licence",
        "licence.html",
        "https://x.test/" + "l" * 600,
        " https://creativecommons.org/publicdomain/zero/1.0/ ",
    ]
)
_entries = st.tuples(
    st.sampled_from(["<link rel=license>", "<a rel=license>", "<meta property=dc:license>"]),
    _hrefs,
    st.sampled_from(["", "application/rsl+xml", "Application/RSL+XML; v=1", "text/html"]),
    st.sampled_from(["<link rel=license>", "<a>" + "t" * 600]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_entries, max_size=4), st.lists(_hrefs, max_size=3), st.sampled_from(_PAGES))
def test_page_licences_are_those_each_link_names(entries, jsonld, url):
    """The page's licences, whether remembered from another page or not, are what
    ``make_license`` gives for each link resolved against the page's URL."""
    page = HtmlMeta(licenses=entries, jsonld=[{"license": jsonld}] if jsonld else [])
    for _ in range(2):  # the second time from what the first remembered
        found = _Gathered()
        _html_licences(url, page, found)
        expected = [
            make_license(urljoin(url, href), f"html {how}", text, rsl=is_rsl_type(kind))
            for how, href, kind, text in entries
        ] + [make_license(urljoin(url, href), "html JSON-LD", href) for href in jsonld]
        assert found.licenses == expected


@settings(max_examples=100, deadline=None)
@given(signals)
def test_a_signal_is_a_frozen_signal_with_its_fields(signal):
    """Signal stores its fields through its slots' setters (signals/base.py): what comes
    out is a Signal, frozen, equal and hashed by its fields, copied and pickled as one."""
    assert type(signal) is Signal
    fields = [getattr(signal, f.name) for f in dataclasses.fields(Signal)]
    assert Signal(*fields) == signal and hash(Signal(*fields)) == hash(signal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        signal.family = "x"  # type: ignore[misc]
    assert dataclasses.replace(signal, raw="r").raw == "r"
    assert pickle.loads(pickle.dumps(signal)) == signal
    assert copy.deepcopy(signal) == signal
