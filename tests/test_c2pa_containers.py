"""The container walk that spares the native C2PA reader the files that cannot carry a
manifest (C2PA 2.x, "Embedding manifests into assets"). "False" must only ever mean "no
embedded manifest here": everything unsure goes to the library."""

from __future__ import annotations

import struct

import pytest

from scrapy_ccsignals.signals.c2pa_containers import C2PA_BMFF_UUID, MAX_PARTS, may_carry_manifest
from scrapy_ccsignals.testing.c2pa_assets import jpeg, png


def jpeg_with(segment: bytes, body: bytes | None = None) -> bytes:
    body = body or jpeg()
    return body[:2] + segment + body[2:]


def app(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def png_with(kind: bytes, data: bytes) -> bytes:
    body = png()
    chunk = struct.pack(">I", len(data)) + kind + data + b"\x00\x00\x00\x00"
    return body[:33] + chunk + body[33:]  # after the 8-byte signature and the IHDR chunk


def riff(*chunks: tuple[bytes, bytes], form: bytes = b"WEBP") -> bytes:
    data = form + b"".join(
        k + struct.pack("<I", len(d)) + d + b"\x00" * (len(d) & 1) for k, d in chunks
    )
    return b"RIFF" + struct.pack("<I", len(data)) + data


def box(kind: bytes, data: bytes, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I", 1) + kind + struct.pack(">Q", len(data) + 16) + data
    return struct.pack(">I", len(data) + 8) + kind + data


FTYP = box(b"ftyp", b"avif\x00\x00\x00\x00avifmif1")
XMP_REMOTE = b'<x:xmpmeta><rdf:Description dcterms:provenance="https://e.x/m.c2pa"/></x:xmpmeta>'
XMP_PLAIN = b'<x:xmpmeta><rdf:Description dc:title="x"/></x:xmpmeta>'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (jpeg(), False),
        (jpeg(1, 1), False),
        (jpeg(2048, 2048), False),
        (jpeg_with(app(0xFE, b"c2pa mentioned in a comment")), False),
        (jpeg_with(app(0xEB, b"JP\x00\x01")), True),  # APP11: JPEG XT boxes
        (jpeg_with(app(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP_REMOTE)), True),
        (jpeg_with(app(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP_PLAIN)), False),
        (jpeg_with(b"\xff\xff\xff" + app(0xFE, b"x")), False),  # fill bytes
        (jpeg()[:30], True),  # cut inside the header: the library decides
        (jpeg_with(b"\xff\xfe\x00\x01"), True),  # impossible length
        (jpeg_with(b"\x00garbage"), True),
        (jpeg_with(app(0xFE, b"x") * (MAX_PARTS + 1)), True),  # too many parts to walk
        (png(), False),
        (png(600, 600, seed=1), False),
        (png_with(b"caBX", b"\x00" * 16), True),
        (png_with(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP_REMOTE), True),
        (png_with(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP_PLAIN), False),
        (png()[:-12], True),  # no IEND
        (riff((b"VP8 ", b"\x00" * 11)), False),
        (riff((b"VP8X", b"\x00" * 10), (b"C2PA", b"\x00" * 5), (b"VP8 ", b"\x00" * 4)), True),
        (riff((b"VP8 ", b"\x00" * 11))[:-3], True),
        (FTYP + box(b"meta", b"\x00" * 20) + box(b"mdat", b"\x00" * 100), False),
        (FTYP + box(b"uuid", C2PA_BMFF_UUID + b"\x00" * 20) + box(b"mdat", b"x"), True),
        (FTYP + box(b"uuid", C2PA_BMFF_UUID + b"\x00" * 20, large=True), True),
        (FTYP + box(b"uuid", b"\x01" * 16 + b"\x00" * 20), False),  # another uuid box
        (FTYP + struct.pack(">I", 0) + b"mdat" + b"\x00" * 50, False),  # size 0: to the end
        (FTYP + struct.pack(">I", 4) + b"mdat", True),  # size smaller than its header
        (FTYP + box(b"mdat", b"\x00" * 100)[:-10], True),
        (b"GIF89a" + b"\x00" * 20, True),  # not walked: the library decides
        (b"%PDF-1.7\n", True),
        (b"", True),
    ],
)
def test_may_carry_manifest(body, expected):
    assert may_carry_manifest(body) is expected
