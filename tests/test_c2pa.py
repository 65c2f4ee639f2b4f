"""C2PA / CAWG training-and-data-mining assertions (SIGNALS.md, "Asset metadata").

Images are signed here, at run time, with a throwaway CA chain and c2pa-python's Builder,
then read back with ``read_c2pa``; the rules are checked per purpose.
"""

from __future__ import annotations

import sys

import pytest

from scrapy_ccsignals.signals import c2pa as c2pa_signals_module
from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_FILE, UNKNOWN
from scrapy_ccsignals.signals.c2pa import (
    AVAILABLE,
    ERROR,
    NONE,
    NOT_INSTALLED,
    REMOTE,
    C2paResult,
    TrainingMiningEntry,
    c2pa_installed,
    c2pa_media_type,
    c2pa_signals,
    parse_store,
    read_c2pa,
    wants_c2pa,
)
from scrapy_ccsignals.signals.c2pa_containers import may_carry_manifest
from scrapy_ccsignals.testing import c2pa_assets
from scrapy_ccsignals.testing.c2pa_assets import jpeg, png, sign, training_mining

URL = "http://127.0.0.1:1/photo.jpg"
needs_c2pa = pytest.mark.skipif(
    not c2pa_installed(), reason="c2pa-python (the c2pa extra) is not installed"
)


def effects(result: C2paResult, purpose: str) -> dict[str, str]:
    return {s.value.split("=")[0]: s.effect for s in c2pa_signals(result, purpose, URL)}


def decision(result: C2paResult, purpose: str) -> str:
    found = {s.effect for s in c2pa_signals(result, purpose, URL)}
    return DENY if DENY in found else ALLOW if ALLOW in found else UNKNOWN


@pytest.fixture(scope="module")
def chain():
    pytest.importorskip("c2pa", reason="c2pa-python (the c2pa extra) is not installed")
    return c2pa_assets.signing_chain()


CAWG = {
    "cawg.ai_generative_training": {"use": "notAllowed"},
    "cawg.ai_training": {"use": "allowed"},
    "cawg.ai_inference": {"use": "constrained", "constraint_info": "licence: https://e.x/l"},
    "cawg.data_mining": {"use": "allowed"},
}


@needs_c2pa
def test_signed_jpeg_cawg_assertion(chain):
    signed = sign(jpeg(), "image/jpeg", chain, [training_mining("cawg.training-mining", CAWG)])
    result = read_c2pa(signed, "image/jpeg")
    assert result.status == AVAILABLE
    assert result.manifest.startswith("urn:c2pa:")
    assert result.validation_state == "Valid"  # signed correctly, by a CA nobody trusts
    assert "Throwaway test signer" in result.signer
    assert {e.name: e.use for e in result.entries} == {k: v["use"] for k, v in CAWG.items()}
    # train-ai: generative training notAllowed beats the allowed entries.
    assert effects(result, "train-ai") == {
        "cawg.ai_generative_training": DENY,
        "cawg.ai_training": ALLOW,
        "cawg.ai_inference": UNKNOWN,
        "cawg.data_mining": ALLOW,
    }
    assert decision(result, "train-ai") == DENY
    # ai-input: inference is constrained, which counts as notAllowed; reason carries the text.
    assert decision(result, "ai-input") == DENY
    (inference,) = [s for s in c2pa_signals(result, "ai-input", URL) if s.effect == DENY]
    assert inference.family == "c2pa" and inference.layer == LAYER_FILE
    assert inference.source == URL
    assert "constrained (licence: https://e.x/l)" in inference.describe()
    assert decision(result, "search") == UNKNOWN


@needs_c2pa
def test_signed_png_legacy_c2pa_assertion(chain):
    entries = {"c2pa.data_mining": {"use": "notAllowed"}}
    signed = sign(png(), "image/png", chain, [training_mining("c2pa.training-mining", entries)])
    result = read_c2pa(signed, "image/png; charset=binary")
    assert result.status == AVAILABLE
    assert [(e.label, e.name, e.use) for e in result.entries] == [
        ("c2pa.training-mining", "c2pa.data_mining", "notAllowed")
    ]
    assert decision(result, "train-ai") == DENY
    assert decision(result, "ai-input") == DENY
    assert decision(result, "search") == UNKNOWN
    # The type comes from the bytes when the header is vague or wrong.
    assert read_c2pa(signed, "application/octet-stream").entries == result.entries


@needs_c2pa
def test_all_allowed_allows_and_a_manifest_without_the_assertion_is_silent(chain):
    allowed = {k: {"use": "allowed"} for k in CAWG}
    signed = sign(jpeg(), "image/jpeg", chain, [training_mining("cawg.training-mining", allowed)])
    result = read_c2pa(signed, "image/jpeg")
    assert decision(result, "train-ai") == ALLOW
    assert decision(result, "ai-input") == ALLOW

    bare = read_c2pa(sign(jpeg(), "image/jpeg", chain, []), "image/jpeg")
    assert bare.status == AVAILABLE and bare.entries == ()
    assert c2pa_signals(bare, "train-ai", URL) == []


@needs_c2pa
def test_altered_file_cannot_allow_but_still_denies(chain):
    entries = {"cawg.ai_training": {"use": "allowed"}, "cawg.ai_inference": {"use": "notAllowed"}}
    signed = sign(png(), "image/png", chain, [training_mining("cawg.training-mining", entries)])
    at = signed.index(b"IDAT") + 8  # change one byte of the image data after signing
    altered = signed[:at] + bytes([signed[at] ^ 1]) + signed[at + 1 :]
    result = read_c2pa(altered, "image/png")
    assert result.status == AVAILABLE and result.validation_state == "Invalid"
    assert decision(result, "train-ai") == UNKNOWN
    assert decision(result, "ai-input") == DENY


@needs_c2pa
def test_remote_manifest_is_not_fetched(chain):
    entries = {"cawg.ai_training": {"use": "notAllowed"}}
    url = "http://127.0.0.1:9/manifests/photo.c2pa"  # nothing listens: a fetch would fail
    signed = sign(
        jpeg(), "image/jpeg", chain, [training_mining("cawg.training-mining", entries)], url
    )
    result = read_c2pa(signed, "image/jpeg")
    assert result == C2paResult(REMOTE, detail=url)
    assert c2pa_signals(result, "train-ai", URL) == []


@needs_c2pa
@pytest.mark.parametrize("body", [jpeg(), jpeg(1, 1), png()], ids=["jpeg", "jpeg-1x1", "png"])
def test_unsigned_image_has_no_manifest(body):
    result = read_c2pa(body, "image/jpeg" if body[:2] == b"\xff\xd8" else "image/png")
    assert result.status == NONE
    assert c2pa_signals(result, "train-ai", URL) == []


@needs_c2pa
def test_unsigned_image_with_another_app11_reaches_the_library_and_has_no_manifest():
    # An APP11 segment (JPEG XT) that is not C2PA: the quick check cannot rule it out.
    body = jpeg()
    body = body[:2] + b"\xff\xeb\x00\x0aJP\x00\x00\x00\x00\x00\x00" + body[2:]
    assert may_carry_manifest(body)
    assert read_c2pa(body, "image/jpeg").status == NONE


@needs_c2pa
@pytest.mark.parametrize(
    "cut",
    [
        lambda b: b[:40],
        lambda b: b[: len(b) // 2],
        lambda b: b[: len(b) - 200],
        lambda b: b[:2] + b"c2pa" * 50,
        lambda b: b.replace(b"jumb", b"jumx"),
        lambda b: b.replace(b"c2pa", b"c2pb", 1),
        lambda b: b"",
        lambda b: b"c2pa garbage",
    ],
    ids=["head", "half", "tail-cut", "marker-spam", "box-type", "store-uuid", "empty", "junk"],
)
def test_corrupt_or_truncated_file_gives_no_signal(chain, cut):
    entries = {"cawg.ai_training": {"use": "notAllowed"}}
    signed = sign(jpeg(), "image/jpeg", chain, [training_mining("cawg.training-mining", entries)])
    result = read_c2pa(cut(signed), "image/jpeg")
    assert result.status in (ERROR, NONE)
    assert c2pa_signals(result, "train-ai", URL) == []
    assert "\n" not in result.detail


def test_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "c2pa", None)  # makes `import c2pa` raise ImportError
    c2pa_signals_module._library.cache_clear()
    try:
        assert not c2pa_installed()
        result = read_c2pa(jpeg(), "image/jpeg")
        assert result.status == NOT_INSTALLED
        assert c2pa_signals(result, "train-ai", URL) == []
        assert result.as_dict() == {"status": NOT_INSTALLED, "detail": result.detail}
    finally:
        c2pa_signals_module._library.cache_clear()


@pytest.mark.parametrize(
    ("content_type", "wanted"),
    [
        ("image/jpeg", True),
        ("IMAGE/PNG; q=1", True),
        ("image/webp", True),
        ("image/avif", True),
        ("image/heic", True),
        ("image/tiff", True),
        ("application/pdf", True),
        ("video/mp4", True),
        ("text/html", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_wants_c2pa(content_type, wanted):
    assert wants_c2pa(content_type) is wanted


@pytest.mark.parametrize(
    ("content_type", "head", "wanted"),
    [
        ("image/jpg", b"\xff\xd8\xff\xe0", "image/jpeg"),  # an unregistered type
        ("application/octet-stream", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("", b"%PDF-1.7", "application/pdf"),
        ("image/png", b"\xff\xd8\xff\xe0", "image/jpeg"),  # the bytes decide
        ("image/svg+xml", b"<svg/>", "image/svg+xml"),  # not told by bytes: the type
        ("video/mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        ("text/plain", b"hello", ""),
        ("application/octet-stream", b"PK\x03\x04", ""),
    ],
)
def test_c2pa_media_type_is_told_by_the_bytes_first(content_type, head, wanted):
    assert c2pa_media_type(content_type, head) == wanted


# The parsing of the library's JSON, for what real signing cannot easily produce.
def store(assertions, state="Valid"):
    return {
        "active_manifest": "urn:c2pa:active",
        "manifests": {
            "urn:c2pa:old": {"assertions": [training_mining("cawg.training-mining", CAWG)]},
            "urn:c2pa:active": {"assertions": assertions},
        },
        "validation_state": state,
    }


@pytest.mark.parametrize(
    ("assertions", "purpose", "expected"),
    [
        (
            [
                training_mining(
                    "cawg.training-mining__1", {"cawg.ai_training": {"use": "notAllowed"}}
                )
            ],
            "train-ai",
            DENY,
        ),
        (
            [training_mining("cawg.training-mining", {"cawg.ai_training": {"use": "NOTALLOWED"}})],
            "train-ai",
            DENY,
        ),
        (
            [training_mining("cawg.training-mining", {"cawg.ai_training": {"use": "maybe"}})],
            "train-ai",
            UNKNOWN,
        ),
        (
            [training_mining("cawg.training-mining", {"com.example.mine": {"use": "notAllowed"}})],
            "train-ai",
            UNKNOWN,
        ),
        (
            [training_mining("cawg.training-mining", {"cawg.ai_inference": {"use": "notAllowed"}})],
            "train-ai",
            UNKNOWN,
        ),
        (
            [training_mining("cawg.training-mining", {"cawg.ai_inference": {"use": "notAllowed"}})],
            "ai-input",
            DENY,
        ),
        (
            [
                training_mining(
                    "cawg.training-mining", {"cawg.ai_generative_training": {"use": "constrained"}}
                )
            ],
            "train-ai",
            DENY,
        ),
        (
            [
                training_mining(
                    "com.example.training-mining", {"cawg.ai_training": {"use": "notAllowed"}}
                )
            ],
            "train-ai",
            UNKNOWN,
        ),
        ([{"label": "cawg.training-mining", "data": {"entries": ["x"]}}], "train-ai", UNKNOWN),
        ([{"label": "cawg.training-mining", "data": "x"}, 7, None], "train-ai", UNKNOWN),
        ([], "train-ai", UNKNOWN),  # the older manifest's denial does not describe this asset
    ],
)
def test_parse_store_rules(assertions, purpose, expected):
    result = parse_store(store(assertions))
    assert result.status == AVAILABLE and result.manifest == "urn:c2pa:active"
    assert decision(result, purpose) == expected


@pytest.mark.parametrize(
    ("data", "status"),
    [(None, ERROR), ([], ERROR), ({}, NONE), ({"active_manifest": "x", "manifests": {}}, ERROR)],
)
def test_parse_store_malformed(data, status):
    assert parse_store(data).status == status


def test_hostile_manifest_is_capped_and_escaped():
    entries = {f"cawg.x{i}": {"use": "allowed"} for i in range(1000)}
    entries["cawg.x0"] = {"use": "notAllowed", "constraint_info": "a\x1b[31m\nb" + "z" * 10_000}
    result = parse_store(store([training_mining("cawg.training-mining", entries)]))
    assert len(result.entries) == c2pa_signals_module.MAX_ENTRIES
    info = result.entries[0].constraint_info
    assert len(info) == c2pa_signals_module.MAX_TEXT and "\x1b" not in info and "\n" not in info


def test_as_dict_for_provenance():
    result = C2paResult(
        AVAILABLE,
        (TrainingMiningEntry("cawg.training-mining", "cawg.ai_inference", "constrained", "ask"),),
        manifest="urn:c2pa:1",
        validation_state="Valid",
    )
    assert result.as_dict() == {
        "status": AVAILABLE,
        "manifest": "urn:c2pa:1",
        "validation_state": "Valid",
        "entries": [
            {
                "label": "cawg.training-mining",
                "name": "cawg.ai_inference",
                "use": "constrained",
                "constraint_info": "ask",
            }
        ],
    }


@needs_c2pa
def test_file_cut_after_its_manifest_denies_but_cannot_allow(chain):
    # What the asset-scan cap (first CCSIGNALS_ASSET_SCAN_BYTES) gives for a big signed file:
    # the manifest is whole, the asset's hash no longer matches.
    entries = {"cawg.ai_training": {"use": "allowed"}, "cawg.ai_inference": {"use": "notAllowed"}}
    signed = sign(
        jpeg(1024, 1024), "image/jpeg", chain, [training_mining("cawg.training-mining", entries)]
    )
    result = read_c2pa(signed[: len(signed) - 2000], "image/jpeg")
    assert (result.status, result.validation_state) == (AVAILABLE, "Invalid")
    assert decision(result, "train-ai") == UNKNOWN
    assert decision(result, "ai-input") == DENY


@needs_c2pa
def test_signed_files_pass_the_quick_check(chain):
    assertion = [training_mining("cawg.training-mining", CAWG)]
    assert may_carry_manifest(sign(jpeg(), "image/jpeg", chain, assertion))
    assert may_carry_manifest(sign(png(), "image/png", chain, assertion))


@needs_c2pa
def test_reading_from_several_threads(chain):
    # The integrator runs read_c2pa in Twisted's thread pool (deferToThread).
    from concurrent.futures import ThreadPoolExecutor

    bodies = [
        sign(jpeg(), "image/jpeg", chain, [training_mining("cawg.training-mining", CAWG)]),
        sign(png(), "image/png", chain, [training_mining("c2pa.training-mining", {})]),
        jpeg(),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: read_c2pa(bodies[i % 3], "image/jpeg"), range(24)))
    assert [len(r.entries) for r in results] == [4, 0, 0] * 8
    assert [r.status for r in results[:3]] == [AVAILABLE, AVAILABLE, NONE]
