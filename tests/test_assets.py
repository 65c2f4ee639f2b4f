"""Rights inside files (SIGNALS.md "Asset metadata (r2)"): XMP in every container, IPTC
DataMining per purpose, TDMRep from PDF and EPUB into the cascade, licences, attribution,
and broken or hostile files, all on real files built by tests/assetfiles.py."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from PIL import Image
from pypdf import PdfReader

from scrapy_ccsignals.signals import iptc
from scrapy_ccsignals.signals.assets import (
    ABSENT,
    FOUND,
    MALFORMED,
    UNSUPPORTED,
    asset_kind,
    asset_licenses,
    asset_metadata,
    asset_signals,
    asset_tdm_statement,
)
from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_FILE, LAYER_HEADER, UNKNOWN
from scrapy_ccsignals.signals.tdmrep import TdmStatement, tdmrep_signals
from scrapy_ccsignals.signals.xmp import parse_packet
from tests import assetfiles as af

PURPOSES = ("train-ai", "ai-input", "search")
URL = "https://example.com/a"
FULL = af.xmp(
    data_mining=af.PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING",
    tdm_reservation="1",
    tdm_policy="https://example.com/tdm-policy.json",
    license=af.CC_BY,
    web_statement="https://example.com/rights",
    rights="© 2026 Ada Lovelace",
    creators=("Ada Lovelace", "Charles Babbage"),
    credit="Photo: Ada / Agency",
    title="Engine",
    licensor=("Agency", "https://agency.example/licensing"),
)


def _pillow_ok(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def _pypdf_ok(data: bytes) -> None:
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    assert reader.xmp_metadata is not None


CONTAINERS = {
    "jpeg": (lambda p: af.jpeg(p), "image/jpeg", _pillow_ok),
    "png": (lambda p: af.png(p), "image/png", _pillow_ok),
    "png-compressed": (lambda p: af.png(p, compressed=True), "image/png", _pillow_ok),
    "webp": (af.webp, "image/webp", _pillow_ok),
    "tiff": (af.tiff, "image/tiff", _pillow_ok),
    "tiff-big-endian": (lambda p: af.tiff(p, big_endian=True), "image/tiff", _pillow_ok),
    "gif": (af.gif, "image/gif", _pillow_ok),
    "pdf": (af.pdf, "application/pdf", _pypdf_ok),
    "pdf-flate": (lambda p: af.pdf(p, compress=True), "application/pdf", _pypdf_ok),
}


@pytest.mark.parametrize("name", CONTAINERS)
def test_xmp_in_every_container(name):
    build, content_type, validate = CONTAINERS[name]
    data = build(FULL)
    validate(data)  # a real file, not just bytes we can read
    meta = asset_metadata(data, content_type)
    assert (meta.kind, meta.status, meta.where) == (name.split("-")[0], FOUND, "XMP")
    # the pantry's DMI-PROHIBITED belongs to an ingredient, not to this file
    assert meta.data_mining == (af.PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING",)
    assert (meta.tdm_reservation, meta.tdm_policy) == ("1", "https://example.com/tdm-policy.json")
    assert meta.attribution == {
        "title": "Engine",  # x-default, not the first rdf:li
        "creator": "Ada Lovelace, Charles Babbage",
        "credit": "Photo: Ada / Agency",
        # (r3) a WebStatement that is no licence URL is a rights statement, not a licence
        "copyright": "© 2026 Ada Lovelace; https://example.com/rights",
        "licensor": "Agency <https://agency.example/licensing>",
    }
    licenses = asset_licenses(meta)
    assert [(lic.id, lic.source) for lic in licenses] == [("CC-BY-4.0", "file XMP cc:license")]
    assert licenses[0].url == "https://creativecommons.org/licenses/by/4.0/"


def test_the_container_is_told_by_its_bytes_not_its_content_type():
    meta = asset_metadata(af.png(FULL), "image/jpeg")
    assert (meta.kind, meta.status) == ("png", FOUND)
    assert asset_kind(af.png(FULL), "application/octet-stream") == "png"


@pytest.mark.parametrize("attribute_form", [False, True])
def test_attribute_and_element_form_read_the_same(attribute_form):
    packet = af.xmp(
        data_mining="DMI-PROHIBITED",
        tdm_reservation="0",
        license=af.CC_BY,
        credit="Ada",
        attribute_form=attribute_form,
    )
    meta = asset_metadata(af.jpeg(packet), "image/jpeg")
    assert meta.data_mining == ("DMI-PROHIBITED",)
    assert meta.tdm_reservation == "0"
    assert meta.licenses == (("XMP cc:license", af.CC_BY),)
    assert meta.attribution == {"credit": "Ada"}


def test_bare_rdf_and_struct_values():
    packet = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description>'
        b"<plus:Licensor><rdf:Bag><rdf:li><rdf:Description plus:LicensorName='A' "
        b"plus:LicensorURL='https://a.example/'/></rdf:li></rdf:Bag></plus:Licensor>"
        b'<plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"/>'
        b"<plus:EmbdEncRightsExpr><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        b"<plus:EncRightsExpr>odrl:prohibit tdm</plus:EncRightsExpr>"
        b"<plus:RightsExprEncType>text/plain</plus:RightsExprEncType></rdf:li></rdf:Bag>"
        b"</plus:EmbdEncRightsExpr></rdf:Description></rdf:RDF>"
    )
    props = parse_packet(packet)
    assert props.licensors == (("A", "https://a.example/"),)
    assert props.get("plus:DataMining") == ("http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",)
    assert props.first("plus:EmbdEncRightsExpr") == "odrl:prohibit tdm"


def test_svg_ccrel_with_namespaces_on_the_root():
    meta = asset_metadata(af.svg(creator="Grace"), "image/svg+xml")
    assert (meta.kind, meta.status) == ("svg", FOUND)
    assert meta.attribution == {"title": "Red square", "creator": "Grace"}
    assert [lic.id for lic in asset_licenses(meta)] == ["CC-BY-4.0"]


# IPTC DataMining, per SIGNALS.md "Asset metadata (r2)": value -> effect per purpose.
DATA_MINING_TABLE = {
    "DMI-PROHIBITED-AIMLTRAINING": (DENY, UNKNOWN, UNKNOWN),
    "DMI-PROHIBITED-GENAIMLTRAINING": (DENY, UNKNOWN, UNKNOWN),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": (DENY, DENY, ALLOW),
    "DMI-PROHIBITED": (DENY, DENY, DENY),
    "DMI-PROHIBITED-SEECONSTRAINT": (DENY, DENY, UNKNOWN),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": (DENY, DENY, UNKNOWN),
    "DMI-ALLOWED": (ALLOW, ALLOW, ALLOW),
    "DMI-UNSPECIFIED": (UNKNOWN, UNKNOWN, UNKNOWN),
    "DMI-SOMETHING-NEW": (UNKNOWN, UNKNOWN, UNKNOWN),
}


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("value", DATA_MINING_TABLE)
@pytest.mark.parametrize("spelling", ["uri", "bare", "prefixed"])
def test_data_mining_table(value, purpose, spelling):
    written = {"uri": af.PLUS_VOCAB + value, "bare": value, "prefixed": f"plus:{value.lower()}"}
    meta = asset_metadata(af.jpeg(af.xmp(data_mining=written[spelling])), "image/jpeg")
    (signal,) = asset_signals(meta, purpose, URL)
    expected = DATA_MINING_TABLE[value][PURPOSES.index(purpose)]
    assert (signal.family, signal.layer, signal.source) == ("iptc", LAYER_FILE, URL)
    assert signal.effect == expected
    assert signal.value == (value if value in iptc.KNOWN else "unrecognised")
    assert written[spelling] in signal.describe()


@pytest.mark.parametrize("purpose", ["train-ai", "ai-input"])
def test_see_constraint_gives_the_constraint_as_reason(purpose):
    packet = af.xmp(
        data_mining=af.PLUS_VOCAB + "DMI-PROHIBITED-SEECONSTRAINT",
        other_constraints="Licence required: ai@example.com",
    )
    (signal,) = asset_signals(asset_metadata(af.png(packet), "image/png"), purpose, URL)
    assert signal.effect == DENY
    assert "Licence required: ai@example.com" in signal.describe()


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize(("header", "file", "final"), [(0, "1", 1), (1, "0", 0), (1, None, 1)])
def test_file_tdmrep_is_the_cascades_last_layer(purpose, header, file, final):
    """The file's own metadata comes after the headers (SIGNALS.md "TDMRep")."""
    packet = af.xmp(tdm_reservation=file, tdm_policy="https://example.com/p.json")
    meta = asset_metadata(af.pdf(packet), "application/pdf")
    statement = asset_tdm_statement(meta, URL)
    assert statement is not None and statement.layer == LAYER_FILE
    assert statement.policy == "https://example.com/p.json"
    header_statement = TdmStatement(LAYER_HEADER, URL, header, None, f"tdm-reservation: {header}")
    signals = tdmrep_signals([header_statement, statement], purpose)
    decided = [s for s in signals if s.effect != UNKNOWN]
    if purpose == "train-ai":  # tdmrep.py applies the reservation to train-ai
        (signal,) = decided
        assert signal.layer == (LAYER_FILE if file is not None else LAYER_HEADER)
        assert signal.effect == (DENY if final == 1 else ALLOW)
    elif purpose == "search":
        assert decided == []


def test_no_tdmrep_in_the_file_no_statement():
    meta = asset_metadata(af.jpeg(af.xmp(license=af.CC_BY)), "image/jpeg")
    assert asset_tdm_statement(meta, URL) is None
    assert asset_signals(meta, "train-ai", URL) == []


# EPUB


@pytest.mark.parametrize("descriptors", [False, True], ids=["sizes", "data-descriptors"])
def test_epub3(descriptors):
    data = af.epub(af.opf3("1", "https://example.com/p.json"), descriptors=descriptors)
    meta = asset_metadata(data, "application/epub+zip")
    assert (meta.kind, meta.status, meta.where) == ("epub", FOUND, "EPUB OPF")
    statement = asset_tdm_statement(meta, URL)
    assert statement is not None
    assert (statement.reservation, statement.policy) == (1, "https://example.com/p.json")
    assert 'property="tdm:reservation"' in statement.raw
    assert meta.attribution == {
        "title": "A Book",
        "creator": "Ada Lovelace",
        "copyright": "© 2026 Ada Lovelace",
    }
    assert [lic.id for lic in asset_licenses(meta)] == ["CC-BY-4.0"]


def test_epub2_meta_name():
    meta = asset_metadata(af.epub(af.opf2("1", "https://p.example/")), "application/epub+zip")
    statement = asset_tdm_statement(meta, URL)
    assert statement is not None
    assert (statement.reservation, statement.policy) == (1, "https://p.example/")
    assert 'name="tdm:reservation"' in statement.raw
    assert [lic.source for lic in asset_licenses(meta)] == ["file EPUB dc:rights"]
    assert meta.attribution == {"title": "Old Book", "creator": "Charles Babbage"}


def test_epub3_with_another_prefix_for_tdmrep():
    opf = (
        af.opf3("1")
        .replace(b'prefix="tdm:', b'prefix="t:')
        .replace(b"tdm:reservation", b"t:reservation")
    )
    meta = asset_metadata(af.epub(opf), "application/epub+zip")
    assert meta.tdm_reservation == "1"


@pytest.mark.parametrize("descriptors", [False, True], ids=["sizes", "data-descriptors"])
def test_epub_bigger_than_the_window_is_read_from_its_first_bytes(descriptors):
    """No central directory in the window: the local headers are walked."""
    cover = random.Random(1).randbytes(3 << 20)
    data = af.epub(af.opf3("1"), extra={"OEBPS/cover.jpg": cover}, descriptors=descriptors)
    meta = asset_metadata(data, "application/epub+zip", limit=1 << 20)
    assert (meta.status, meta.tdm_reservation) == (FOUND, "1")


def test_a_zip_is_an_epub_only_when_it_says_so():
    data = af.epub(af.opf3())
    assert asset_kind(data, "application/zip") == "epub"  # its mimetype member says so
    plain = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    assert asset_metadata(plain.getvalue(), "application/zip").status == UNSUPPORTED


# Broken and hostile files: no signal, never an exception.


def _jpeg_cut_inside_xmp() -> bytes:
    data = af.jpeg(FULL)
    return data[: data.index(b"</x:xmpmeta>")]


def _epub_corrupt_deflate() -> bytes:
    data = bytearray(af.epub(af.opf3()))
    start = data.index(b"OEBPS/content.opf") + len(b"OEBPS/content.opf")  # no extra field
    data[start + 2 : start + 40] = b"\xff" * 38
    return bytes(data)


BROKEN = {
    "jpeg-cut-in-xmp": (_jpeg_cut_inside_xmp(), "image/jpeg", MALFORMED),
    "jpeg-cut-before-xmp": (af.jpeg(FULL)[:12], "image/jpeg", ABSENT),
    "jpeg-without-xmp": (af.jpeg(None), "image/jpeg", ABSENT),
    "jpeg-bad-marker": (af.jpeg(FULL)[:20] + b"\x00" * 100, "image/jpeg", MALFORMED),
    "png-without-xmp": (af.png(None), "image/png", ABSENT),
    "xmp-with-undefined-entity": (
        af.jpeg(FULL.replace(b"Engine", b"&lol9;")),
        "image/jpeg",
        MALFORMED,
    ),
    "xmp-billion-laughs": (
        af.jpeg(
            af.xmp(title="&lol9;", doctype=af.BILLION_LAUGHS).replace(b"&amp;lol9;", b"&lol9;")
        ),
        "image/jpeg",
        MALFORMED,
    ),
    "corrupt-zip": (
        b"PK\x03\x04" + random.Random(2).randbytes(4000),
        "application/epub+zip",
        ABSENT,
    ),
    "epub-header-and-directory-differ": (
        af.epub(af.opf3()).replace(b"content.opf", b"content.opX", 1),
        "application/epub+zip",
        MALFORMED,
    ),
    "epub-corrupt-deflate": (_epub_corrupt_deflate(), "application/epub+zip", MALFORMED),
    "zip-bomb": (af.zip_bomb(), "application/epub+zip", MALFORMED),
    "zip-bomb-lying-sizes": (af.zip_bomb(lie=True), "application/epub+zip", MALFORMED),
    "epub-billion-laughs": (
        af.epub(af.opf3(doctype=af.BILLION_LAUGHS)),
        "application/epub+zip",
        MALFORMED,
    ),
    "epub-external-entity": (
        af.epub(af.opf3(doctype='<!DOCTYPE package [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>')),
        "application/epub+zip",
        MALFORMED,
    ),
    "epub-container-without-rootfile": (
        af.epub(af.opf3(), container=b"<container/>"),
        "application/epub+zip",
        ABSENT,
    ),
    "text": (b"just text", "text/plain", UNSUPPORTED),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_files_give_no_signal(name):
    data, content_type, status = BROKEN[name]
    meta = asset_metadata(data, content_type)
    assert meta.status == status, meta.detail
    assert not meta.detail.startswith("unexpected")
    assert meta.data_mining == () and meta.licenses == () and meta.attribution == {}
    assert asset_tdm_statement(meta, URL) is None
    assert asset_signals(meta, "train-ai", URL) == []


def test_png_with_a_compressed_xmp_bomb():
    bomb = zlib.compress(b" " * (16 << 20), 9)
    chunk_data = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + bomb
    chunk = len(chunk_data).to_bytes(4, "big") + b"iTXt" + chunk_data
    chunk += zlib.crc32(chunk[4:]).to_bytes(4, "big")
    data = af.png(None)
    data = data[:33] + chunk + data[33:]  # after the signature and IHDR
    with pytest.raises(ValueError, match="too large"):  # Pillow reached the chunk, and refused
        _pillow_ok(data)
    meta = asset_metadata(data, "image/png")
    assert meta.status == MALFORMED and "over" in meta.detail


def test_pdf_metadata_beyond_the_scan_window_is_not_read():
    data = af.pdf(FULL, filler=300_000)
    _pypdf_ok(data)
    assert asset_metadata(data, "application/pdf").status == FOUND
    meta = asset_metadata(data, "application/pdf", limit=200_000)
    assert meta.status == ABSENT


def test_pdf_metadata_with_another_filter_is_not_read():
    data = af.pdf(FULL).replace(b"/Subtype /XML ", b"/Subtype /XML /Filter /LZWDecode ")
    meta = asset_metadata(data, "application/pdf")
    assert meta.status == ABSENT


@pytest.mark.parametrize("filter_", [b"/Filter /Crypt ", b"/Filter [/Crypt] "])
def test_pdf_metadata_with_the_identity_crypt_filter_is_read(filter_):
    """An encrypted PDF saved with EncryptMetadata false marks its metadata stream with the
    Crypt filter and no parameters: the Identity filter, the bytes unchanged (ISO 32000-1,
    7.4.10 and 7.6.5)."""
    data = af.pdf(FULL).replace(b"/Subtype /XML ", b"/Subtype /XML " + filter_)
    assert asset_metadata(data, "application/pdf").status == FOUND


def test_pdf_metadata_with_a_named_crypt_filter_is_not_read():
    named = b"/Subtype /XML /Filter /Crypt /DecodeParms << /Name /StdCF >> "
    data = af.pdf(FULL).replace(b"/Subtype /XML ", named)
    assert asset_metadata(data, "application/pdf").status == ABSENT


FUZZED = {
    "jpeg": af.jpeg(FULL),
    "png": af.png(FULL, compressed=True),
    "webp": af.webp(FULL),
    "tiff": af.tiff(FULL),
    "gif": af.gif(FULL),
    "pdf": af.pdf(FULL, compress=True),
    "epub": af.epub(af.opf3("1")),
    "epub-descriptors": af.epub(af.opf3("1"), descriptors=True),
}


@pytest.mark.parametrize("name", FUZZED)
def test_truncated_and_mangled_files_never_raise(name):
    data = FUZZED[name]
    rng = random.Random(name)
    cases = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 150))]
    for _ in range(150):
        mangled = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        cases.append(bytes(mangled))
    for case in cases:
        meta = asset_metadata(case, "application/octet-stream")
        assert meta.status in (FOUND, ABSENT, MALFORMED, UNSUPPORTED)
        assert not meta.detail.startswith("unexpected"), (name, meta.detail)
