"""Cost of reading C2PA per image: ``read_c2pa`` + ``c2pa_signals`` on small and ~1 MiB files,
with and without a manifest, so the integrator can decide whether it belongs on the reactor
thread (budget ~50 µs) or in a thread pool.

    python -m bench.c2pa [--number N] [--repeat R]

Needs the ``c2pa`` extra. Images are made at run time (``scrapy_ccsignals.testing.c2pa_assets``).
"""

from __future__ import annotations

import argparse
import statistics
import timeit

from scrapy_ccsignals.signals.c2pa import c2pa_installed, c2pa_signals, read_c2pa
from scrapy_ccsignals.testing.c2pa_assets import jpeg, png, sign, signing_chain, training_mining

ENTRIES = {
    "cawg.ai_generative_training": {"use": "notAllowed"},
    "cawg.ai_inference": {"use": "allowed"},
}


def cases() -> list[tuple[str, bytes, str]]:
    chain = signing_chain()
    assertion = [training_mining("cawg.training-mining", ENTRIES)]
    small, big = jpeg(64, 64), jpeg(16384, 16384)  # 2048² flat blocks: 1 MiB of scan data
    small_png, big_png = png(64, 64), png(600, 600, seed=1)  # noise: ~1 MiB
    # An APP11 segment that is not C2PA: the quick check cannot rule it out, the library must.
    app11 = b"\xff\xeb\x00\x0aJP\x00\x00\x00\x00\x00\x00"
    signed_small, signed_big = (sign(b, "image/jpeg", chain, assertion) for b in (small, big))
    return [
        ("jpeg small, no manifest", small, "image/jpeg"),
        ("jpeg 1 MiB, no manifest", big, "image/jpeg"),
        ("png 1 MiB, no manifest", big_png, "image/png"),
        ("jpeg small, no manifest, other APP11", small[:2] + app11 + small[2:], "image/jpeg"),
        ("jpeg 1 MiB, no manifest, other APP11", big[:2] + app11 + big[2:], "image/jpeg"),
        ("jpeg small, signed", signed_small, "image/jpeg"),
        ("jpeg 1 MiB, signed", signed_big, "image/jpeg"),
        ("png small, signed", sign(small_png, "image/png", chain, assertion), "image/png"),
        ("png 1 MiB, signed", sign(big_png, "image/png", chain, assertion), "image/png"),
        (
            "corrupt: signed 1 MiB jpeg cut in half",
            signed_big[: len(signed_big) // 2],
            "image/jpeg",
        ),
    ]


def measure(body: bytes, content_type: str, number: int, repeat: int) -> float:
    def one() -> None:
        c2pa_signals(read_c2pa(body, content_type), "train-ai", "http://127.0.0.1/x")

    one()  # the library's one-time set-up is not a per-image cost
    return statistics.median(timeit.repeat(one, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not c2pa_installed():
        raise SystemExit("c2pa-python is not installed: pip install 'scrapy-ccsignals[c2pa]'")
    for name, body, content_type in cases():
        status = read_c2pa(body, content_type).status
        micros = measure(body, content_type, args.number, args.repeat)
        print(f"{name:<46} {len(body):>9} B  {status:<9} {micros:9.1f} us")


if __name__ == "__main__":
    main()
