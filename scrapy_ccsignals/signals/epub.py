"""Rights in an EPUB's package document (SIGNALS.md "Asset metadata", "TDMRep").

An EPUB is a ZIP (EPUB 3.3 OCF section 4): ``META-INF/container.xml`` names the package
document (OPF) in its first ``<rootfile full-path>``. The OPF ``<metadata>`` carries
TDMRep (TDMRep final report, "EPUB"): EPUB 3 ``<meta property="tdm:reservation">1</meta>``
and ``tdm:policy`` (the prefix declared as ``http://www.w3.org/ns/tdmrep#``, or used
undeclared), EPUB 2 ``<meta name="tdm:reservation" content="1"/>``; and ``dc:rights``,
``dc:creator``, ``dc:title``, plus licence links (``<link rel="dcterms:license">``,
``<meta property="dcterms:license">``).

Only the scanned first bytes are read. A whole archive is opened with :mod:`zipfile`; one
cut short by the scan window (no central directory) is walked by its local file headers,
which EPUB writers put in order (``mimetype`` first, then usually ``META-INF`` and the OPF).
Each member read is capped at :data:`MAX_MEMBER` uncompressed bytes, so a zip bomb costs
at most that. A corrupt archive, an oversized member or a hostile XML document raises
:class:`~scrapy_ccsignals.signals.xmp.MalformedFile`; no container or OPF in the window is
"absent" (None).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from scrapy_ccsignals.signals.xmp import MalformedFile, bounded_inflate, parse_xml

CONTAINER = "META-INF/container.xml"
MAX_MEMBER = 256 * 1024
MAX_OPF_CANDIDATES = 8
DC = "{http://purl.org/dc/elements/1.1/}"
TDM_NAMESPACES = ("http://www.w3.org/ns/tdmrep#", "http://www.w3.org/ns/tdmrep/")
_LICENSE_RELS = frozenset({"license", "dcterms:license", "cc:license", "xhv:license"})
_LOCAL = struct.Struct("<4sHHHHHIIIHH")


@dataclass(frozen=True, slots=True)
class EpubMetadata:
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    tdm_raw: str = ""
    titles: tuple[str, ...] = ()
    creators: tuple[str, ...] = ()
    rights: tuple[str, ...] = ()
    licenses: tuple[tuple[str, str], ...] = field(default=())  # (how, href)


def _read_capped(open_member: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MEMBER:
        raise MalformedFile(f"EPUB: {info.filename} is {info.file_size} bytes uncompressed")
    with open_member.open(info) as member:
        data = member.read(MAX_MEMBER + 1)
    if len(data) > MAX_MEMBER:  # the declared size lied
        raise MalformedFile(f"EPUB: {info.filename} over {MAX_MEMBER} bytes uncompressed")
    return data


def _zip_members(data: bytes) -> dict[str, bytes] | None:
    """container.xml and the .opf members of a whole archive; None when it is cut short."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return None
    except (OSError, ValueError, EOFError, struct.error, NotImplementedError) as exc:
        raise MalformedFile(f"EPUB: {exc}") from None
    members = {}
    try:
        with archive:
            opfs = [i for i in archive.infolist() if i.filename.lower().endswith(".opf")]
            for info in opfs[:MAX_OPF_CANDIDATES]:
                members[info.filename] = _read_capped(archive, info)
            if CONTAINER in archive.namelist():
                members[CONTAINER] = _read_capped(archive, archive.getinfo(CONTAINER))
    except MalformedFile:
        raise
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise MalformedFile(f"EPUB: {type(exc).__name__}: {exc}") from None
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise MalformedFile(f"EPUB: {type(exc).__name__}: {exc}") from None
    return members


def _inflate_member(raw: bytes, method: int, stored_ok: bool) -> bytes | None:
    """A member's bytes, at most :data:`MAX_MEMBER`; None when its data is cut short."""
    if method == 0:
        if not stored_ok:
            return None  # stored with a data descriptor: its end cannot be told
        if len(raw) > MAX_MEMBER:
            raise MalformedFile(f"EPUB: stored member over {MAX_MEMBER} bytes")
        return raw
    if method != 8:
        raise MalformedFile(f"EPUB: compression method {method}")
    out, complete = bounded_inflate(raw, -zlib.MAX_WBITS, MAX_MEMBER, "EPUB member")
    return out if complete else None


def _local_members(data: bytes) -> dict[str, bytes]:
    """container.xml and .opf members found walking local file headers (APPNOTE 4.3.7)."""
    members: dict[str, bytes] = {}
    pos = 0
    while pos + _LOCAL.size <= len(data) and data.startswith(b"PK\x03\x04", pos):
        _sig, _ver, flags, method, _t, _d, _crc, size, _usize, name_len, extra_len = (
            _LOCAL.unpack_from(data, pos)
        )
        name = data[pos + _LOCAL.size : pos + _LOCAL.size + name_len].decode("utf-8", "replace")
        start = pos + _LOCAL.size + name_len + extra_len
        descriptor = bool(flags & 0x08)  # sizes follow the data: the next header ends it
        if descriptor:
            found = data.find(b"PK\x03\x04", start)
            end = found if found >= 0 else len(data)
        else:
            end = start + size
        wanted = name == CONTAINER or (
            name.lower().endswith(".opf") and len(members) < MAX_OPF_CANDIDATES
        )
        if wanted and not flags & 0x01 and end <= len(data):  # not encrypted, not cut
            member = _inflate_member(data[start:end], method, stored_ok=not descriptor)
            if member is not None:
                members[name] = member
        pos = end
    return members


def _rootfile(container: bytes) -> str | None:
    root = parse_xml(container)
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] == "rootfile" and node.get("full-path"):
            media = node.get("media-type", "application/oebps-package+xml")
            if media == "application/oebps-package+xml":
                return node.get("full-path")
    return None


def _tdm_prefixes(prefix_attr: str) -> set[str]:
    """Prefixes the package's ``prefix`` attribute maps to the TDMRep vocabulary."""
    words = prefix_attr.split()
    found = {"tdm"}
    for name, uri in zip(words[::2], words[1::2], strict=False):
        if name.endswith(":"):
            if uri in TDM_NAMESPACES:
                found.add(name[:-1])
            elif name == "tdm:":
                found.discard("tdm")
    return found


def parse_opf(opf: bytes) -> EpubMetadata:
    """The rights metadata of a package document."""
    root = parse_xml(opf)
    prefixes = _tdm_prefixes(root.get("prefix", ""))
    reservation = policy = None
    raw: list[str] = []
    titles: list[str] = []
    creators: list[str] = []
    rights: list[str] = []
    licenses: list[tuple[str, str]] = []
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        text = " ".join((node.text or "").split())
        if tag.startswith(DC):
            bucket = {"title": titles, "creator": creators, "rights": rights}.get(local)
            if bucket is not None and text:
                bucket.append(text)
            continue
        if local == "link" and set(node.get("rel", "").split()) & _LICENSE_RELS:
            licenses.append((f"<link rel={node.get('rel')}>", node.get("href", "")))
            continue
        if local != "meta" or node.get("refines"):
            continue
        prop = node.get("property") or node.get("name") or ""
        value = text if node.get("property") else node.get("content", "").strip()
        prefix, _, term = prop.partition(":")
        if prop in ("dcterms:license", "cc:license") and value:
            licenses.append((f"<meta {prop}>", value))
        elif prefix in prefixes and term in ("reservation", "policy"):
            attr = "property" if node.get("property") else "name"
            raw.append(f'<meta {attr}="{prop}">{value}')
            if term == "reservation":
                reservation = value
            else:
                policy = value
    return EpubMetadata(
        reservation,
        policy,
        " ".join(raw),
        tuple(titles),
        tuple(creators),
        tuple(rights),
        tuple(licenses),
    )


def read_epub(data: bytes) -> EpubMetadata | None:
    """The rights metadata of an EPUB's first bytes; None when the window holds no
    container.xml or no package document. Raises :class:`MalformedFile`."""
    members = _zip_members(data)
    if members is None:
        members = _local_members(data)
    if CONTAINER not in members:
        return None
    path = _rootfile(members[CONTAINER])
    if path is None or path not in members:
        return None
    return parse_opf(members[path])
