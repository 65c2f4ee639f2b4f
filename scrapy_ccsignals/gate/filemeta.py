"""What a non-HTML file says about its own rights, read in one call that the extension
runs off the reactor thread: XMP/IPTC, PDF and EPUB metadata (``signals.assets``) and the
C2PA manifest (``signals.c2pa``), both from the first ``CCSIGNALS_ASSET_SCAN_BYTES`` of the
body (SIGNALS.md, Asset metadata). Reading a manifest with the native library costs
0.1-7 ms per image, far over the use gate's budget on the reactor thread."""

from __future__ import annotations

from scrapy_ccsignals.signals.assets import AssetMetadata, asset_kind, asset_metadata
from scrapy_ccsignals.signals.c2pa import C2paResult, c2pa_media_type, read_c2pa, wants_c2pa
from scrapy_ccsignals.signals.c2pa_containers import may_carry_manifest


def wants_file_metadata(content_type: str, body: bytes) -> bool:
    """Whether a non-HTML response may carry rights metadata worth a thread hop: a file
    kind the readers know (by its first bytes or type), or a type C2PA can be in."""
    return bool(asset_kind(body[:64], content_type)) or wants_c2pa(content_type)


def read_file_metadata(
    head: bytes, content_type: str, c2pa: bool
) -> tuple[AssetMetadata | None, C2paResult | None]:
    """Both readers on the first bytes of the file; never raises. *c2pa* is false when
    the ``c2pa`` extra is not installed (the caller says so once)."""
    asset = (
        asset_metadata(head, content_type, len(head)) if asset_kind(head, content_type) else None
    )
    manifest = None
    c2pa_type = c2pa_media_type(content_type, head) if c2pa else ""
    if c2pa_type and may_carry_manifest(head):
        manifest = read_c2pa(head, c2pa_type)
    return asset, manifest


def file_attribution(asset: AssetMetadata) -> dict[str, str]:
    """The file's attribution in provenance's keys (SIGNALS.md, Attribution r2): ``creator``
    is ``dc:creator``, else ``photoshop:Credit``, else ``plus:Licensor``; empty fields are
    absent, never guessed."""
    found = asset.attribution
    fields = {
        "title": found.get("title", ""),
        "creator": found.get("creator") or found.get("credit") or found.get("licensor") or "",
        "attribution_url": found.get("attribution_url", ""),
        "copyright": found.get("copyright", ""),
    }
    return {key: value for key, value in fields.items() if value}
