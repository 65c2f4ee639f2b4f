"""Rights inside files: the front the use gate calls for non-HTML responses.

SIGNALS.md "Asset metadata (images, PDF, EPUB) (r2)": read the metadata embedded in the
first ``CCSIGNALS_ASSET_SCAN_BYTES`` of an image, PDF or EPUB, never more, and turn it into

- IPTC ``plus:DataMining`` signals (family ``iptc``, layer ``file``): :func:`asset_signals`;
- a TDMRep statement for the cascade's content-metadata layer: :func:`asset_tdm_statement`;
- licence candidates (``cc:license``, EPUB licence links, and ``xmpRights:WebStatement``
  / ``dc:rights`` when they hold a licence URL; other rights text is the attribution's
  ``copyright``): :func:`asset_licenses`;
- attribution fields (SIGNALS.md "Attribution"): :attr:`AssetMetadata.attribution`.

The container is told by its first bytes (a server's ``Content-Type`` often lies about
images); ``Content-Type`` decides only for SVG and EPUB (a ZIP is read as an EPUB only when
it says so or its ``mimetype`` member does). A truncated, corrupt or hostile file gives
``status == "malformed"`` and no signal; this module never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy_ccsignals.signals.base import LAYER_FILE, Signal
from scrapy_ccsignals.signals.epub import EpubMetadata, read_epub
from scrapy_ccsignals.signals.iptc import iptc_signals
from scrapy_ccsignals.signals.license import License, is_license_url, make_license
from scrapy_ccsignals.signals.tdmrep import TdmStatement, reservation_value
from scrapy_ccsignals.signals.xmp import MalformedFile, XmpProperties, read_xmp, sniff

DEFAULT_SCAN_BYTES = 1 << 20
FOUND, ABSENT, MALFORMED, UNSUPPORTED = "found", "absent", "malformed", "unsupported"
#: Content types whose bodies are scanned (parameters and case aside); other non-HTML
#: bodies are scanned only when their first bytes are one of these containers.
CONTENT_TYPES = {
    "image/jpeg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/png": "png",
    "image/apng": "png",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "image/gif": "gif",
    "image/svg+xml": "svg",
    "application/pdf": "pdf",
    "application/epub+zip": "epub",
}
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "application/xml", "text/xml"})
_EPUB_MIMETYPE = b"mimetypeapplication/epub+zip"


@dataclass(frozen=True, slots=True)
class AssetMetadata:
    """What a file says about its own rights."""

    kind: str  # jpeg, png, webp, tiff, gif, pdf, svg, epub; "" when not a scanned kind
    status: str  # found / absent / malformed / unsupported
    where: str = ""  # "XMP" or "EPUB OPF"
    detail: str = ""  # why it is malformed
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    tdm_raw: str = ""
    data_mining: tuple[str, ...] = ()
    constraint: str = ""  # plus:OtherConstraints or a PLUS rights expression
    licenses: tuple[tuple[str, str], ...] = ()  # (how, value), e.g. ("XMP cc:license", url)
    attribution: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The provenance record's ``asset`` field."""
        data: dict[str, object] = {"kind": self.kind, "metadata": self.status}
        if self.where:
            data["where"] = self.where
        if self.detail:
            data["detail"] = self.detail
        if self.data_mining:
            data["data_mining"] = list(self.data_mining)
        return data


#: The kinds that are images (``noimageai`` applies to them, whatever the type says).
IMAGE_KINDS = frozenset({"jpeg", "png", "webp", "tiff", "gif", "svg"})
#: First bytes of JPEG, PNG, WebP (RIFF), TIFF (II, MM) and GIF files.
_IMAGE_FIRST_BYTES = frozenset({b"\xff", b"\x89", b"R", b"I", b"M", b"G"})
#: Bytes :func:`asset_kind` looks at to tell a container (SVG's ``<svg`` may follow a prolog).
SNIFF_BYTES = 4096


def is_image_file(body: bytes, content_type: str) -> bool:
    """True when *body* is an image by its Content-Type or by its first bytes: a JPEG sent
    as ``application/octet-stream`` or without a type is an image, as its XMP and C2PA
    manifest are read whatever the type says."""
    if content_type.startswith("image/"):
        return True
    # The binary formats' magic bytes; the first byte rules out any text page at once.
    if body[:1] in _IMAGE_FIRST_BYTES and sniff(body[:12]) in IMAGE_KINDS:
        return True
    # What is left is an SVG, which asset_kind tells only under a generic type: never HTML.
    if content_type.startswith("text/html"):
        return False
    return asset_kind(body[:SNIFF_BYTES], content_type) in IMAGE_KINDS


def asset_kind(body: bytes, content_type: str) -> str:
    """The container to read (see the module docstring), or "" for none."""
    mime = content_type.split(";", 1)[0].strip().lower()
    kind = sniff(body)
    if kind == "zip":
        return "epub" if mime == "application/epub+zip" or _EPUB_MIMETYPE in body[:64] else ""
    if kind == "svg":
        return kind if mime in _GENERIC_TYPES or mime == "image/svg+xml" else ""
    if kind:
        return kind
    return "svg" if mime == "image/svg+xml" else ""


def _from_xmp(kind: str, props: XmpProperties) -> AssetMetadata:
    reservation, policy = props.first("tdm:reservation"), props.first("tdm:policy")
    raw = " ".join(
        f"tdm:{name}={value}"
        for name, value in (("reservation", reservation), ("policy", policy))
        if value
    )
    licenses = [("XMP cc:license", v) for v in props.get("cc:license")]
    statements = props.get("xmpRights:WebStatement")
    licenses += [("XMP xmpRights:WebStatement", v) for v in statements if is_license_url(v)]
    rights = props.get("dc:rights")
    licenses += [("XMP dc:rights", v) for v in rights if is_license_url(v)]
    attribution = {
        "title": props.first("dc:title"),
        "creator": ", ".join(props.get("dc:creator")),
        "credit": props.first("photoshop:Credit") or props.first("cc:attributionName"),
        "attribution_url": props.first("cc:attributionURL"),
        "copyright": _copyright((*rights, *statements)),
        "licensor": ", ".join(
            f"{name} <{url}>" if name and url else name or url for name, url in props.licensors
        ),
    }
    constraint = (
        props.first("plus:OtherConstraints")
        or props.first("plus:EmbdEncRightsExpr")
        or props.first("plus:LinkedEncRightsExpr")
    )
    return AssetMetadata(
        kind,
        FOUND,
        "XMP",
        tdm_reservation=reservation or None,
        tdm_policy=policy or None,
        tdm_raw=f"XMP {raw}" if raw else "",
        data_mining=props.get("plus:DataMining"),
        constraint=constraint,
        licenses=tuple(licenses),
        attribution={key: value for key, value in attribution.items() if value},
    )


def _from_epub(meta: EpubMetadata) -> AssetMetadata:
    rights = meta.rights
    licenses = [(f"EPUB {how}", href) for how, href in meta.licenses if href]
    licenses += [("EPUB dc:rights", v) for v in rights if is_license_url(v)]
    attribution = {
        "title": meta.titles[0] if meta.titles else "",
        "creator": ", ".join(meta.creators),
        "copyright": _copyright(rights),
    }
    return AssetMetadata(
        "epub",
        FOUND,
        "EPUB OPF",
        tdm_reservation=meta.tdm_reservation,
        tdm_policy=meta.tdm_policy or None,
        tdm_raw=meta.tdm_raw,
        licenses=tuple(licenses),
        attribution={key: value for key, value in attribution.items() if value},
    )


def _copyright(values: tuple[str, ...]) -> str:
    """The free-text rights statements (``dc:rights``, ``xmpRights:WebStatement`` that is
    not a licence URL: "Copyright ...", a terms page), joined: attribution, not a licence
    (rulebook, Asset metadata (r3))."""
    return "; ".join(dict.fromkeys(v for v in values if v and not is_license_url(v)))


def asset_metadata(
    body: bytes, content_type: str, limit: int = DEFAULT_SCAN_BYTES
) -> AssetMetadata:
    """Read the rights metadata in the first *limit* bytes of *body*. Never raises."""
    kind = asset_kind(body, content_type)
    if not kind:
        return AssetMetadata("", UNSUPPORTED)
    try:
        if kind == "epub":
            epub = read_epub(body if len(body) <= limit else body[:limit])
            return _from_epub(epub) if epub is not None else AssetMetadata(kind, ABSENT)
        props = read_xmp(body, kind, limit)  # walks the body up to limit without a copy
        return _from_xmp(kind, props) if props is not None else AssetMetadata(kind, ABSENT)
    except MalformedFile as exc:
        return AssetMetadata(kind, MALFORMED, detail=str(exc)[:200])
    except Exception as exc:  # a server's bytes must never stop a crawl (SIGNALS.md "Bad input")
        return AssetMetadata(kind, MALFORMED, detail=f"unexpected {type(exc).__name__}")


def asset_signals(meta: AssetMetadata, purpose: str, source: str) -> list[Signal]:
    """The IPTC DataMining signals of a file (TDMRep and licences go through their own
    families: :func:`asset_tdm_statement`, :func:`asset_licenses`)."""
    if not meta.data_mining:
        return []
    return iptc_signals(meta.data_mining, purpose, LAYER_FILE, source, meta.constraint)


def asset_tdm_statement(meta: AssetMetadata, source: str) -> TdmStatement | None:
    """The file's TDMRep statement, last in the cascade (after headers), or None."""
    if meta.tdm_reservation is None and meta.tdm_policy is None:
        return None
    return TdmStatement(
        LAYER_FILE,
        source,
        reservation_value(meta.tdm_reservation) if meta.tdm_reservation else None,
        meta.tdm_policy,
        meta.tdm_raw,
    )


def asset_licenses(meta: AssetMetadata) -> list[License]:
    """Licence candidates, with sources ``file XMP cc:license`` and the like (the layer
    :func:`~scrapy_ccsignals.signals.license.license_signals` reads is ``file``)."""
    return [make_license(value, f"file {how}", value) for how, value in meta.licenses]
