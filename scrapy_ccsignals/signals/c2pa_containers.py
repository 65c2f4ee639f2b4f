"""Whether a file can carry a C2PA manifest, from its container structure alone.

Most images on the web carry no manifest, and handing one to the native reader costs
~0.1-1 ms (it parses the whole container) where walking the container's top-level
structure costs a few µs. C2PA 2.x, "Embedding manifests into assets", says where an
embedded manifest store lives:

- JPEG: APP11 segments (JPEG XT boxes), which are header segments, before the first scan;
- PNG: a ``caBX`` chunk;
- RIFF (WebP, WAV, AVI): a ``C2PA`` chunk;
- ISO BMFF (AVIF, HEIF/HEIC, MP4, MOV): a top-level ``uuid`` box with the C2PA UUID.

A remote manifest is referenced from XMP (``dcterms:provenance``), so a JPEG APP1 or PNG
iTXt XMP packet naming it counts too. Only when the container is recognised by its magic
bytes, walks cleanly to its end (or first scan) and has none of these is the answer "no";
every other file — other formats, truncated or malformed structure, more parts than
:data:`MAX_PARTS` — goes to the library, which is the authority.
"""

from __future__ import annotations

import struct

MAX_PARTS = 4096  # segments / chunks / boxes walked before giving the file to the library
C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_ITXT = b"XML:com.adobe.xmp\x00"
_PROVENANCE = b"dcterms:provenance"
_BE32 = struct.Struct(">I")
_LE32 = struct.Struct("<I")


def may_carry_manifest(body: bytes) -> bool:
    """False only for a well-formed JPEG, PNG, RIFF or BMFF file without a C2PA part."""
    if body[:2] == b"\xff\xd8":
        return _jpeg(body)
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(body)
    if body[:4] == b"RIFF":
        return _riff(body)
    if body[4:8] == b"ftyp":
        return _bmff(body)
    return True


def _jpeg(body: bytes) -> bool:
    pos, end = 2, len(body)
    for _ in range(MAX_PARTS):
        if pos + 4 > end or body[pos] != 0xFF:
            return True
        marker = body[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image: the header is over
            return False
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length field
            pos += 2
            continue
        length = (body[pos + 2] << 8) | body[pos + 3]
        if marker == 0xEB or length < 2:  # APP11, or broken
            return True
        if _xmp_names_remote(body, pos + 4, pos + 2 + length, _XMP_APP1, marker == 0xE1):
            return True
        pos += 2 + length
    return True


def _xmp_names_remote(body: bytes, start: int, end: int, prefix: bytes, candidate: bool) -> bool:
    """Whether the part ``body[start:end]`` is an XMP packet naming a remote manifest."""
    return candidate and body.startswith(prefix, start) and _PROVENANCE in body[start:end]


def _png(body: bytes) -> bool:
    pos, end = 8, len(body)
    for _ in range(MAX_PARTS):
        if pos + 8 > end:
            return True
        (length,) = _BE32.unpack_from(body, pos)
        kind = body[pos + 4 : pos + 8]
        if kind == b"caBX":
            return True
        if kind == b"IEND":
            return False
        if _xmp_names_remote(body, pos + 8, pos + 8 + length, _XMP_ITXT, kind == b"iTXt"):
            return True
        pos += 12 + length
    return True


def _riff(body: bytes) -> bool:
    pos, end = 12, min(len(body), 8 + _LE32.unpack_from(body, 4)[0] if len(body) >= 8 else 0)
    for _ in range(MAX_PARTS):
        if pos == end:
            return False
        if pos + 8 > end:
            return True
        if body[pos : pos + 4] == b"C2PA":
            return True
        (size,) = _LE32.unpack_from(body, pos + 4)
        pos += 8 + size + (size & 1)
    return True


def _bmff(body: bytes) -> bool:
    pos, end = 0, len(body)
    for _ in range(MAX_PARTS):
        if pos == end:
            return False
        if pos + 8 > end:
            return True
        (size,) = _BE32.unpack_from(body, pos)
        header = 8
        if size == 1:  # 64-bit size follows the type
            if pos + 16 > end:
                return True
            size = int.from_bytes(body[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # to the end of the file
            size = end - pos
        if size < header:
            return True
        if body[pos + 4 : pos + 8] == b"uuid" and body[pos + header : pos + header + 16] == (
            C2PA_BMFF_UUID
        ):
            return True
        pos += size
    return True
