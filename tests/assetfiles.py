"""Real files with rights metadata inside, built in code: JPEG, PNG, WebP, TIFF and GIF
through Pillow (plus hand-placed XMP where Pillow has no writer), PDF by hand with a
correct cross-reference table, EPUB 2 and 3 with :mod:`zipfile`, and broken variants
(truncated, corrupt, zip bombs, hostile XML). Each builder returns the file's bytes."""

from __future__ import annotations

import io
import random
import struct
import zipfile

from PIL import Image, PngImagePlugin

from scrapy_ccsignals.testing.files import (  # noqa: F401  (re-exported for the tests)
    CC_BY,
    CHAPTER,
    CONTAINER,
    PLUS_VOCAB,
    epub,
    opf2,
    opf3,
    pdf,
    svg,
    xmp,
)


def _image(size: tuple[int, int] = (16, 16), noise: bool = False) -> Image.Image:
    if noise:
        rng = random.Random(7)
        return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    return Image.new("RGB", size, (200, 30, 30))


def jpeg(
    packet: bytes | None = None, size: tuple[int, int] = (16, 16), noise: bool = False
) -> bytes:
    """A JFIF JPEG from Pillow with *packet* in an APP1 segment right after APP0."""
    out = io.BytesIO()
    _image(size, noise).save(out, "JPEG", quality=90)
    data = out.getvalue()
    if packet is None:
        return data
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    (app0_len,) = struct.unpack(">H", data[4:6])
    cut = 4 + app0_len
    return data[:cut] + segment + data[cut:]


def png(packet: bytes | None = None, compressed: bool = False) -> bytes:
    """A PNG from Pillow with *packet* in an ``iTXt`` chunk (Pillow's own writer)."""
    info = PngImagePlugin.PngInfo()
    if packet is not None:
        info.add_itxt("XML:com.adobe.xmp", packet.decode(), zip=compressed)
    out = io.BytesIO()
    _image().save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp(packet: bytes) -> bytes:
    out = io.BytesIO()
    _image().save(out, "WEBP", xmp=packet)
    return out.getvalue()


def tiff(packet: bytes, big_endian: bool = False) -> bytes:
    out = io.BytesIO()
    _image().save(
        out, "TIFF", tiffinfo={700: packet}, **({"big_endian": True} if big_endian else {})
    )
    return out.getvalue()


def gif(packet: bytes) -> bytes:
    """A GIF with the XMP application extension after the global colour table
    (XMP Specification Part 3, 1.1.2: packet, then the 258-byte "magic trailer")."""
    out = io.BytesIO()
    _image().convert("P").save(out, "GIF")
    data = out.getvalue()
    flags = data[10]
    cut = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    extension = b"!\xff\x0bXMP DataXMP" + packet + trailer
    return data[:cut] + extension + data[cut:]


def zip_bomb(size: int = 16 << 20, lie: bool = False) -> bytes:
    """An EPUB whose package document inflates to *size* bytes (~1000:1). With *lie*, its
    local and central headers declare 1 KiB uncompressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER)
        archive.writestr("OEBPS/content.opf", b"<package>" + b" " * size, compresslevel=9)
    data = bytearray(out.getvalue())
    if lie:
        name = b"OEBPS/content.opf"
        # (signature, offset of the uncompressed size, offset of the name)
        for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            pos = data.find(signature)
            while pos >= 0:
                if data[pos + name_at : pos + name_at + len(name)] == name:
                    struct.pack_into("<I", data, pos + size_at, 1024)
                pos = data.find(signature, pos + 4)
    return bytes(data)


BILLION_LAUGHS = (
    '<!DOCTYPE package [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
