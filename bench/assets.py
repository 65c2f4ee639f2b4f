"""Micro-benchmark of the asset-metadata scan (SIGNALS.md "Asset metadata"): microseconds
per non-HTML response for ``asset_metadata`` + ``asset_signals`` + the TDMRep statement
and licences, as the use gate would run them, on ~1 MiB files built by tests/assetfiles.py.

    python -m bench.assets            # needs the test extra (Pillow) to build the files
"""

from __future__ import annotations

import random
import statistics
import timeit

from scrapy_ccsignals.signals.assets import (
    DEFAULT_SCAN_BYTES,
    asset_licenses,
    asset_metadata,
    asset_signals,
    asset_tdm_statement,
)
from tests import assetfiles as af

PACKET = af.xmp(
    data_mining=af.PLUS_VOCAB + "DMI-PROHIBITED-AIMLTRAINING",
    license=af.CC_BY,
    creators=("Ada Lovelace",),
    credit="Photo: Ada",
    title="Engine",
    rights="© 2026 Ada Lovelace",
)


def files() -> dict[str, tuple[bytes, str]]:
    """name -> (body, content type), each about 1 MiB."""
    big_jpeg = dict(size=(1100, 1000), noise=True)
    cover = random.Random(3).randbytes(1 << 20)
    return {
        "jpeg, XMP at start": (af.jpeg(PACKET, **big_jpeg), "image/jpeg"),  # type: ignore[arg-type]
        "jpeg, no XMP": (af.jpeg(None, **big_jpeg), "image/jpeg"),  # type: ignore[arg-type]
        "png, iTXt XMP": (af.png(PACKET) + b"\0" * (1 << 20), "image/png"),
        "pdf, XMP after 900 KB": (af.pdf(PACKET, filler=900_000), "application/pdf"),
        "epub, OPF then 1 MiB": (
            af.epub(af.opf3("1"), extra={"OEBPS/cover.jpg": cover}),
            "application/epub+zip",
        ),
        "text/plain (not scanned)": (b"x" * (1 << 20), "text/plain"),
    }


def measure(body: bytes, content_type: str, number: int = 200, repeat: int = 7) -> float:
    url = "https://example.com/a"

    def one() -> None:
        meta = asset_metadata(body, content_type, DEFAULT_SCAN_BYTES)
        asset_signals(meta, "train-ai", url)
        asset_tdm_statement(meta, url)
        asset_licenses(meta)

    runs = timeit.repeat(one, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    for name, (body, content_type) in files().items():
        status = asset_metadata(body, content_type).status
        print(
            f"{name:<26} {len(body) / 1024:7.0f} KiB  {status:<11} "
            f"{measure(body, content_type):8.1f} us per response"
        )


if __name__ == "__main__":
    main()
