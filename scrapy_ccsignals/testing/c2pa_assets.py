"""Real images with real C2PA manifests, made at run time for tests and benchmarks.

The images are built byte by byte (no imaging library): a baseline greyscale JPEG whose
every 8x8 block is flat grey, and an RGB PNG. They are signed with ``c2pa-python``'s
``Builder`` using a throwaway ES256 chain from ``cryptography``: a CA and an end-entity
certificate with the digitalSignature key usage and the emailProtection extended key usage
that C2PA's certificate profile asks for (C2PA 2.x, "Certificate Profile"). The chain is
not in any trust list, so the library reports the signature ``Valid``, not ``Trusted``.

Needs the ``c2pa`` extra (``cryptography`` comes with it).
"""

from __future__ import annotations

import datetime
import io
import json
import random
import struct
import zlib
from dataclasses import dataclass
from typing import Any


def jpeg(width: int = 16, height: int = 16) -> bytes:
    """A valid baseline JPEG of flat grey; about ``width*height/256`` bytes of scan data."""

    def segment(marker: int, payload: bytes) -> bytes:
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    # One Huffman code '0' per table: DC difference category 0, then AC end-of-block, so
    # each block is two 0 bits; the scan ends padded with 1 bits.
    scan = b"\x00" * (blocks // 4) + (b"\x3f" if blocks % 4 else b"")
    return b"".join(
        (
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + bytes([1] * 64)),
            segment(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00"),
            segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00"),
            segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


def png(width: int = 8, height: int = 8, seed: int | None = None) -> bytes:
    """A valid RGB PNG: black, or noise from *seed* (which does not compress)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    noise = random.Random(seed) if seed is not None else None
    rows = b"".join(
        b"\x00" + (noise.randbytes(width * 3) if noise else bytes(width * 3)) for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        )
    )


@dataclass(frozen=True)
class SigningChain:
    certificates: bytes  # end-entity then CA, PEM
    private_key: bytes  # PKCS#8 PEM


def signing_chain() -> SigningChain:
    """A fresh CA + end-entity ES256 chain valid from yesterday for 30 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "scrapy-ccsignals tests"),
            ]
        )

    def usage(*, signing: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=signing,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not signing,
            crl_sign=not signing,
            encipher_only=False,
            decipher_only=False,
        )

    def builder(subject: x509.Name, issuer: x509.Name, key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Throwaway test CA")
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        builder(name("Throwaway test signer"), ca_name, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return SigningChain(
        leaf.public_bytes(pem) + ca.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def training_mining(label: str, entries: dict[str, dict[str, str]]) -> dict[str, object]:
    """A training-mining assertion for a manifest definition."""
    return {"label": label, "data": {"entries": entries}}


def sign(
    asset: bytes,
    mime: str,
    chain: SigningChain,
    assertions: list[dict[str, object]],
    remote_url: str | None = None,
) -> bytes:
    """*asset* with a signed manifest carrying *assertions* (embedded unless *remote_url*).

    No thumbnail is made (the library would decode the image for it: slow for big ones).
    """
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": "scrapy-ccsignals-tests", "version": "1"}],
        "title": "test asset",
        "assertions": assertions,
    }
    info = c2pa.C2paSignerInfo("es256", chain.certificates, chain.private_key, None)
    settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    context = c2pa.Context(settings)
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(json.dumps(manifest), context) as builder,
    ):
        # C2PA 2.x: a new asset's first action must be c2pa.created; the intent adds it.
        builder.set_intent(
            c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CREATION
        )
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(asset), out)
    return out.getvalue()
