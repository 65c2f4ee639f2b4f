"""A response's own signals read again for another purpose, from its provenance alone
(``scrapy ccsignals-replay --purpose``; issue 29 item 3).

The crawl records every statement a response carried as written (``signals_as_written``):
those that say nothing for its purpose too, with effect ``unknown``. Each page-level
statement (layers ``header``, ``html``, ``file``) is read again here by its family's own
code for the purpose asked:

- ``Content-Usage`` (``aipref``, ``cc-signals``): its value, from the header line or the
  ``<meta http-equiv>`` tag recorded as ``raw``, parsed again;
- ``Content-Signal``: its value from ``raw`` (without a ``use=`` denial's note);
- ``noai`` / ``noindex``: the directives recorded, one signal each, whatever the purpose;
- TDMRep: the reservation and policy in ``value``, cascaded again;
- IPTC ``plus:DataMining`` and C2PA entries: their code or entry in ``value``;
- licences say the same for every purpose; RSL licences are read from the archive by the
  caller.

Never guessed: before a statement is read for another purpose, reading it for the crawl's
own purpose must give exactly what was recorded (else the record, or the settings the
replay runs with, differ from the crawl's). A record from before signals were recorded as
written, one whose page signals were cut at the cap (``truncated``), or one with a family
this module does not know, raises :class:`Unreadable`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy_ccsignals.records.recheck import PAGE_LAYERS, stored_signals
from scrapy_ccsignals.signals import aipref, c2pa, content_signal, htmlscan, iptc, license, noai
from scrapy_ccsignals.signals import rsl as rsl_family
from scrapy_ccsignals.signals import tdmrep as tdm
from scrapy_ccsignals.signals.assets import IMAGE_KINDS
from scrapy_ccsignals.signals.base import LAYER_HEADER, LAYER_HTML, Signal

if TYPE_CHECKING:
    from scrapy_ccsignals.config import Config

MARKER = "signals_as_written"
#: More page signals than a crawl keeps (16 per family and layer): an edited record, not
#: read (the statements are grouped in quadratic time at worst).
MAX_PAGE_SIGNALS = 1024
#: Families whose page signals say the same whatever the purpose: kept as recorded.
_AS_RECORDED = frozenset({license.FAMILY, rsl_family.FAMILY})
_CU_HEADER = "Content-Usage: "
_CS_HEADER = "Content-Signal: "
_XRT_HEADER = "X-Robots-Tag: "


class Unreadable(ValueError):
    """The record's page signals cannot be read for another purpose; the message says why."""


def as_written(cfg: Config, record: dict[str, Any]) -> list[Signal]:
    """The record's signals with those of the page's own layers for ``cfg.purpose``
    (other layers as recorded: the caller reads them again from the archived policies)."""
    recorded = str(record.get("purpose") or "")
    try:
        signals = stored_signals(record)
    except ValueError as exc:
        raise Unreadable(f"its signals are not readable ({exc})") from None
    if recorded == cfg.purpose:
        return signals
    if record.get(MARKER) is not True:
        raise Unreadable(
            f"its record is from before signals were recorded as written: its page "
            f"signals decide {recorded or 'its own purpose'} only"
        )
    if sum(s.layer in PAGE_LAYERS for s in signals) > MAX_PAGE_SIGNALS:
        raise Unreadable("it has more page signals than a crawl records")
    for data in record.get("signals") or ():
        if isinstance(data, dict) and data.get("truncated") and data.get("layer") in PAGE_LAYERS:
            raise Unreadable(
                f"its page had more {data.get('family')} {data.get('layer')} signals than "
                "provenance keeps"
            )
    out: list[Signal] = []
    statements: list[tdm.TdmStatement] = []
    tdm_at: int | None = None
    for group in _statements(s for s in signals if s.layer in PAGE_LAYERS):
        head = group[0]
        if head.family == tdm.FAMILY:
            statements += [_tdm_statement(s) for s in group]
            tdm_at = len(out) if tdm_at is None else tdm_at
            continue
        if head.family in _AS_RECORDED:
            out += group
            continue
        reader = _READERS.get(head.family)
        if reader is None:
            raise Unreadable(f"its {head.family} signals cannot be read for another purpose")
        if _checked(reader(cfg, record, group, recorded)) != _checked(group):
            raise Unreadable(
                f"its {head.family} {head.layer} signal {head.raw[:120]!r} does not read back "
                f"as recorded for {recorded} (settings other than the crawl's?)"
            )
        out += reader(cfg, record, group, cfg.purpose)
    if statements:
        page_tdm = [s for s in signals if s.layer in PAGE_LAYERS and s.family == tdm.FAMILY]
        if tdm.tdmrep_signals(statements, recorded) != page_tdm:
            raise Unreadable("its TDMRep signals do not read back as recorded")
        at = len(out) if tdm_at is None else tdm_at
        out[at:at] = tdm.tdmrep_signals(statements, cfg.purpose)
    return [s for s in signals if s.layer not in PAGE_LAYERS] + out


def _statements(signals: Any) -> list[list[Signal]]:
    """The signals grouped by the statement they come from: one family function's output
    for one header line, tag, value or file entry is contiguous and has no repeats."""
    groups: list[list[Signal]] = []
    key: tuple[str, ...] | None = None
    for signal in signals:
        mine = _statement_key(signal)
        if groups and mine == key and signal not in groups[-1]:
            groups[-1].append(signal)
        else:
            groups.append([signal])
            key = mine
    return groups


def _statement_key(signal: Signal) -> tuple[str, ...]:
    family = signal.family
    if family in (aipref.FAMILY, aipref.CC_FAMILY):
        return ("aipref", signal.layer, signal.source, signal.raw)
    if family == content_signal.FAMILY:
        return (family, signal.layer, signal.source, content_signal.written(signal.raw))
    if family in (noai.FAMILY, noai.NOINDEX_FAMILY):
        return ("noai", signal.layer, signal.source, signal.raw)
    if family == tdm.FAMILY:  # one statement per source and layer
        return (family, signal.layer, signal.source, signal.raw, signal.value)
    return (family, signal.layer, signal.source, signal.raw, signal.value, str(id(signal)))


def _http_equiv_content(tag: str) -> str:
    """The content of the one ``<meta http-equiv>`` tag recorded as *tag*, read by the
    crawl's own page scan."""
    found = htmlscan.extract(tag.encode("utf-8")).http_equiv
    if len(found) != 1:
        raise Unreadable(f"its html signal {tag[:120]!r} is not one <meta http-equiv> tag")
    return found[0][1]


def _aipref(cfg: Config, record: dict[str, Any], group: list[Signal], purpose: str) -> list[Signal]:
    head = group[0]
    if head.layer == LAYER_HEADER and head.raw.startswith(_CU_HEADER):
        text = head.raw[len(_CU_HEADER) :]
    elif head.layer == LAYER_HTML:
        text = _http_equiv_content(head.raw)
    else:
        raise Unreadable(f"its aipref {head.layer} signal {head.raw[:120]!r} is not a statement")
    return aipref.preference_signals(
        text, purpose, head.layer, head.source, head.raw, legacy=cfg.aipref_legacy
    )


def _checked(signals: list[Signal]) -> list[Any]:
    """What reading a statement back for the crawl's purpose must reproduce. A
    Content-Signal ``use=`` level's effect depends on the level the crawl needed
    (``CCSIGNALS_CONTENT_USE``, or its purpose's default), which provenance does not
    record: its value must match, and it is decided for the purpose asked with the level
    the replay needs, as a crawl for that purpose would."""
    return [
        (s.layer, s.source, s.value, content_signal.written(s.raw))
        if s.family == content_signal.FAMILY and s.value.startswith("use=")
        else s
        for s in signals
    ]


def _content_signal(
    cfg: Config, record: dict[str, Any], group: list[Signal], purpose: str
) -> list[Signal]:
    head = group[0]
    raw = content_signal.written(head.raw)
    if head.layer != LAYER_HEADER or not raw.startswith(_CS_HEADER):
        raise Unreadable(f"its content-signal signal {head.raw[:120]!r} is not a header line")
    return content_signal.content_signal_signals(
        raw[len(_CS_HEADER) :], purpose, head.layer, head.source, raw, cfg.content_use
    )


def _noai(cfg: Config, record: dict[str, Any], group: list[Signal], purpose: str) -> list[Signal]:
    head = group[0]
    asset = record.get("asset")
    kind = asset.get("kind") if isinstance(asset, dict) else None
    image = str(record.get("content_type") or "").startswith("image/") or kind in IMAGE_KINDS
    if not image and kind is None and any(s.value == "noimageai" for s in group):
        # An image is an image by its first bytes too; a record with neither an image type
        # nor the file's kind cannot tell whether noimageai applied.
        raise Unreadable("its noimageai signal: whether the file is an image is not recorded")
    return noai.noai_signals(
        {s.value for s in group},
        purpose,
        image,
        head.layer,
        head.source,
        head.raw,
        noarchive_is_noai=cfg.noarchive_is_noai,
    )


def _iptc(cfg: Config, record: dict[str, Any], group: list[Signal], purpose: str) -> list[Signal]:
    return [
        dataclasses.replace(s, effect=iptc.effect_for(iptc.data_mining_code(s.value), purpose))
        for s in group
    ]


def _c2pa(cfg: Config, record: dict[str, Any], group: list[Signal], purpose: str) -> list[Signal]:
    read = record.get("c2pa")
    state = str(read.get("validation_state") or "") if isinstance(read, dict) else ""
    out = []
    for signal in group:
        name, _, use = signal.value.rpartition("=")
        effect = c2pa.entry_effect(name, use, purpose, state)
        out.append(dataclasses.replace(signal, effect=effect))
    return out


def _tdm_statement(signal: Signal) -> tdm.TdmStatement:
    """The statement a TDMRep signal describes (its ``value``: ``tdm-reservation=1``
    or ``unset``, ``; tdm-policy=<url>``, `` (overridden)``)."""
    value = signal.value.removesuffix(" (overridden)")
    head, _, policy = value.partition("; tdm-policy=")
    if head == "unset":
        reservation = None
    elif head in ("tdm-reservation=0", "tdm-reservation=1"):
        reservation = int(head[-1])
    else:
        raise Unreadable(f"its tdmrep signal value {signal.value[:120]!r} is not a statement")
    return tdm.TdmStatement(signal.layer, signal.source, reservation, policy or None, signal.raw)


_READERS: dict[str, Callable[[Config, dict[str, Any], list[Signal], str], list[Signal]]] = {
    aipref.FAMILY: _aipref,
    aipref.CC_FAMILY: _aipref,
    content_signal.FAMILY: _content_signal,
    noai.FAMILY: _noai,
    noai.NOINDEX_FAMILY: _noai,
    iptc.FAMILY: _iptc,
    c2pa.FAMILY: _c2pa,
}

__all__ = ["MARKER", "Unreadable", "as_written"]
