"""Real files with rights metadata inside, built in code without third-party packages:
XMP packets, JPEG with an XMP APP1 segment, PDF (a correct cross-reference table) and
EPUB 2/3 (:mod:`zipfile`). A public testing helper: the project's tests, benchmarks and
the example project's demo web serve these files; Pillow-made images for the tests live in
``tests/assetfiles.py``."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from html import escape

from scrapy_ccsignals.testing.c2pa_assets import jpeg as plain_jpeg

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"

_NS = (
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    'xmlns:tdm="http://www.w3.org/ns/tdmrep/" '
    'xmlns:cc="http://creativecommons.org/ns#" '
    'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
    'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
)


def xmp(
    *,
    data_mining: str | None = None,
    tdm_reservation: str | None = None,
    tdm_policy: str | None = None,
    license: str | None = None,
    web_statement: str | None = None,
    rights: str | None = None,
    creators: tuple[str, ...] = (),
    credit: str | None = None,
    title: str | None = None,
    licensor: tuple[str, str] | None = None,
    other_constraints: str | None = None,
    attribute_form: bool = False,
    doctype: str = "",
) -> bytes:
    """An XMP packet in its ``<?xpacket?>`` wrapper, as Adobe tools write it. Simple
    properties go in attribute form on ``rdf:Description`` when *attribute_form*, else as
    elements (``plus:DataMining`` with ``rdf:resource``)."""
    attrs: list[str] = []
    props: list[str] = []

    def simple(name: str, value: str | None, resource: bool = False) -> None:
        if value is None:
            return
        if attribute_form:
            attrs.append(f'{name}="{escape(value)}"')
        elif resource:
            props.append(f'<{name} rdf:resource="{escape(value)}"/>')
        else:
            props.append(f"<{name}>{escape(value)}</{name}>")

    simple("plus:DataMining", data_mining, resource=True)
    simple("tdm:reservation", tdm_reservation)
    simple("tdm:policy", tdm_policy)
    simple("cc:license", license, resource=True)
    simple("xmpRights:WebStatement", web_statement)
    simple("photoshop:Credit", credit)
    if rights is not None:
        props.append(
            f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{escape(rights)}</rdf:li>'
            "</rdf:Alt></dc:rights>"
        )
    if title is not None:
        props.append(
            '<dc:title><rdf:Alt><rdf:li xml:lang="fr">Titre</rdf:li>'
            f'<rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        )
    if creators:
        items = "".join(f"<rdf:li>{escape(c)}</rdf:li>" for c in creators)
        props.append(f"<dc:creator><rdf:Seq>{items}</rdf:Seq></dc:creator>")
    if licensor is not None:
        props.append(
            '<plus:Licensor><rdf:Seq><rdf:li rdf:parseType="Resource">'
            f"<plus:LicensorName>{escape(licensor[0])}</plus:LicensorName>"
            f"<plus:LicensorURL>{escape(licensor[1])}</plus:LicensorURL>"
            "</rdf:li></rdf:Seq></plus:Licensor>"
        )
    if other_constraints is not None:
        props.append(
            "<plus:OtherConstraints><rdf:Alt><rdf:li xml:lang='x-default'>"
            f"{escape(other_constraints)}</rdf:li></rdf:Alt></plus:OtherConstraints>"
        )
    # An ingredient's own rights in the pantry are not this file's.
    props.append(
        "<xmpMM:Pantry xmlns:xmpMM='http://ns.adobe.com/xap/1.0/mm/'><rdf:Bag>"
        "<rdf:li rdf:parseType='Resource'>"
        f"<plus:DataMining rdf:resource='{PLUS_VOCAB}DMI-PROHIBITED'/></rdf:li>"
        "</rdf:Bag></xmpMM:Pantry>"
    )
    body = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="test"><rdf:RDF {_NS}>'
        f'<rdf:Description rdf:about="" {" ".join(attrs)}>{"".join(props)}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    )
    return (
        f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{doctype}{body}\n'
        + " " * 200
        + '\n<?xpacket end="w"?>'
    ).encode()


def svg(license_url: str = CC_BY, creator: str = "Ada") -> bytes:
    """An Inkscape-style SVG: ccREL in ``<metadata>``, namespaces declared on the root."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'width="10" height="10"><metadata><rdf:RDF><cc:Work rdf:about="">'
        "<dc:title>Red square</dc:title>"
        f"<dc:creator><cc:Agent><dc:title>{creator}</dc:title></cc:Agent></dc:creator>"
        f'<cc:license rdf:resource="{license_url}"/></cc:Work></rdf:RDF></metadata>'
        '<rect width="10" height="10" fill="red"/></svg>'
    ).encode()


def pdf(packet: bytes, compress: bool = False, filler: int = 0) -> bytes:
    """A one-page PDF 1.7 whose catalog's ``/Metadata`` is an XMP stream (ISO 32000-1
    14.3.2), with a correct xref table. *filler* bytes of the page's content stream come before the metadata."""
    stream = zlib.compress(packet) if compress else packet
    filt = b"/Filter /FlateDecode " if compress else b""
    content = b"0 0 m 10 10 l S\n" + b"%" * filler + b"\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 5 0 R >>",
        b"<< /Type /Metadata /Subtype /XML "
        + filt
        + b"/Length %d >>\nstream\n" % len(stream)
        + stream
        + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in (1, 2, 3, 5, 4):  # the page content (and its filler) before the metadata
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number - 1] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[number] for number in sorted(offsets))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def opf3(reservation: str | None = "1", policy: str | None = None, doctype: str = "") -> bytes:
    metas = ""
    if reservation is not None:
        metas += f'<meta property="tdm:reservation">{reservation}</meta>'
    if policy is not None:
        metas += f'<meta property="tdm:policy">{policy}</meta>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" '
        'prefix="tdm: http://www.w3.org/ns/tdmrep#">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="id">urn:uuid:1</dc:identifier><dc:title>A Book</dc:title>'
        "<dc:language>en</dc:language><dc:creator>Ada Lovelace</dc:creator>"
        "<dc:rights>© 2026 Ada Lovelace</dc:rights>"
        f'<link rel="dcterms:license" href="{CC_BY}"/>'
        '<meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>'
        f"{metas}{'&lol9;' if doctype else ''}</metadata>"
        '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c1"/></spine></package>'
    ).encode()


def opf2(reservation: str = "1", policy: str | None = None) -> bytes:
    metas = f'<meta name="tdm:reservation" content="{reservation}"/>'
    if policy is not None:
        metas += f'<meta name="tdm:policy" content="{policy}"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:opf="http://www.idpf.org/2007/opf">'
        '<dc:identifier id="id">urn:isbn:0</dc:identifier><dc:title>Old Book</dc:title>'
        '<dc:creator opf:role="aut">Charles Babbage</dc:creator><dc:language>en</dc:language>'
        f"<dc:rights>{CC_BY}</dc:rights>{metas}</metadata>"
        '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c1"/></spine></package>'
    ).encode()


CONTAINER = (
    b'<?xml version="1.0"?><container version="1.0" '
    b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    b'<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)
CHAPTER = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hello</p></body></html>'


class _Unseekable(io.RawIOBase):
    """An output stream without seek/tell: zipfile then writes data descriptors."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


def epub(
    opf: bytes,
    extra: dict[str, bytes] | None = None,
    descriptors: bool = False,
    container: bytes = CONTAINER,
) -> bytes:
    """An OCF container: ``mimetype`` stored first, then META-INF, the OPF, a chapter and
    *extra* members (stored), deflated otherwise."""
    sink: io.BytesIO | _Unseekable = _Unseekable() if descriptors else io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("OEBPS/content.opf", opf)
        archive.writestr("OEBPS/c1.xhtml", CHAPTER)
        for name, data in (extra or {}).items():
            archive.writestr(name, data, zipfile.ZIP_STORED)
    return bytes(sink.buffer) if isinstance(sink, _Unseekable) else sink.getvalue()


def jpeg_with_xmp(packet: bytes, width: int = 16, height: int = 16) -> bytes:
    """A valid baseline JPEG with *packet* in an APP1 segment right after APP0."""
    data = plain_jpeg(width, height)
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    (app0_len,) = struct.unpack(">H", data[4:6])
    cut = 4 + app0_len
    return data[:cut] + segment + data[cut:]
