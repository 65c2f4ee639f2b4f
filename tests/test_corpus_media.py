"""Real image, PDF and EPUB files with rights metadata (``tests/data/media/``: IPTC's
reference image, C2PA's SDK fixtures, ExifTool's test files, EPUB samples; each names its
repository, path, commit and licence in ``media_files.json`` and the folder's README).

What each file says was read by independent tools and stored beside it: ExifTool's tags
and c2pa-python's Reader. Here (a) the plugin's readers must find the same values, (b) the
stored values are read again from the tools when they are installed, so the data cannot
drift from what the tools say, and (c) real crawls of the files give the stored decision
per purpose in both modes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest
import pytest_twisted

from scrapy_ccsignals.signals.assets import (
    FOUND,
    asset_licenses,
    asset_metadata,
    asset_signals,
)
from scrapy_ccsignals.signals.base import ALLOW, DENY
from scrapy_ccsignals.signals.c2pa import c2pa_installed, c2pa_signals, read_c2pa, wants_c2pa
from tests.corpora import DATA as DATA_DIR
from tests.corpora import load
from tests.crawling import run_crawl, stats, text

CORPUS = load("media/media_files.json")
FILES = CORPUS["files"]
FOLDER = DATA_DIR / "media"
PURPOSES = ("train-ai", "ai-input", "search")
IDS = [f["file"] for f in FILES]
each_file = pytest.mark.parametrize("case", FILES, ids=IDS)
needs_c2pa = pytest.mark.skipif(
    not c2pa_installed(), reason="c2pa-python (the c2pa extra) is not installed"
)


def body(case: dict[str, Any]) -> bytes:
    return (FOLDER / case["file"]).read_bytes()


def values(tags: dict[str, Any], *names: str) -> list[str]:
    """A tag's values as a list (ExifTool writes one value bare, several as a list),
    whitespace runs collapsed as the plugin stores text."""
    for name in names:
        found = tags.get(name)
        if found is not None:
            items = found if isinstance(found, list) else [found]
            return [" ".join(str(v).split()) for v in items]
    return []


def cbor_tag(entry: str) -> str:
    """ExifTool's tag for a training-mining entry's ``use``:
    ``cawg.ai_generative_training`` -> ``CBOR:EntriesCawgAi_Generative_TrainingUse``,
    ``c2pa.ai_inference`` -> ``CBOR:EntriesC2PaAi_InferenceUse`` (a letter after a digit
    is upper case too)."""

    def word(w: str) -> str:
        return re.sub(r"(^|\d)([a-z])", lambda m: m.group(1) + m.group(2).upper(), w)

    parts = ("_".join(word(w) for w in p.split("_")) for p in entry.split("."))
    return "CBOR:Entries" + "".join(parts) + "Use"


def test_every_file_names_its_source_and_is_the_stored_file():
    assert sorted(p.name for p in FOLDER.iterdir() if p.suffix not in (".json", ".md")) == (
        sorted(IDS)
    )
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    for case in FILES:
        assert {"repo", "path", "commit", "url", "licence"} <= set(case["source"]), case["file"]
        data = body(case)
        assert len(data) == case["bytes"]
        assert hashlib.sha256(data).hexdigest() == case["sha256"], case["file"]
        assert case["file"] in readme and case["source"]["commit"] in readme


# --- (a) the plugin reads what the independent tools read ------------------------------------


@each_file
def test_the_plugin_reads_what_exiftool_reads(case):
    tags = case["exiftool"]
    meta = asset_metadata(body(case), case["content_type"])
    has_metadata = any(name.startswith(("XMP-", "XML")) for name in tags)
    assert (meta.status == FOUND) is has_metadata, (meta.status, meta.detail)
    if not has_metadata:
        return
    found = meta.attribution
    assert list(meta.data_mining) == values(tags, "XMP-plus:DataMining")
    assert meta.constraint == "".join(values(tags, "XMP-plus:OtherConstraints")[:1])
    assert found.get("title", "") == "".join(values(tags, "XMP-dc:Title", "XML-dc:Title")[:1])
    assert found.get("creator", "") == ", ".join(values(tags, "XMP-dc:Creator", "XML-dc:Creator"))
    assert found.get("credit", "") == "".join(values(tags, "XMP-photoshop:Credit")[:1])
    names, urls = values(tags, "XMP-plus:LicensorName"), values(tags, "XMP-plus:LicensorURL")
    assert found.get("licensor", "") == ", ".join(
        f"{n} <{u}>" for n, u in zip(names, urls, strict=True)
    )
    # Licences: cc:license in XMP, an EPUB OPF <link rel="cc:license">; rights statements
    # that are not the file's licence are attribution copyright (free text, a terms page).
    links = [
        href
        for rel, href in zip(values(tags, "XML:LinkRel"), values(tags, "XML:LinkHref"), strict=True)
        if rel == "cc:license"
    ]
    licence_urls = values(tags, "XMP-cc:License") + links
    assert [value for _, value in meta.licenses] == licence_urls
    statements = values(tags, "XMP-dc:Rights", "XML-dc:Rights")
    statements += values(tags, "XMP-xmpRights:WebStatement")
    copyright_ = [s for s in statements if s not in licence_urls]
    assert found.get("copyright", "") == "; ".join(copyright_)


@each_file
def test_the_licence_is_the_stored_one(case):
    meta = asset_metadata(body(case), case["content_type"])
    licences = asset_licenses(meta)
    if case["license"] is None:
        assert licences == []
    else:
        assert [(lic.id, lic.url) for lic in licences] == [
            (case["license"]["id"], case["license"]["url"])
        ]


@needs_c2pa
@each_file
def test_the_plugin_reads_what_c2pa_python_reads(case):
    stored = case["c2pa"]
    if not wants_c2pa(case["content_type"]):  # an EPUB: C2PA is not looked for
        assert stored == {"status": "none"}
        return
    result = read_c2pa(body(case), case["content_type"])
    assert result.status == stored["status"], result.detail
    assert result.validation_state == stored.get("validation_state", "")
    assert {e.name: e.use for e in result.entries} == stored.get("training_mining", {})
    # ExifTool reads the same entries from the manifest's CBOR.
    for name, use in stored.get("training_mining", {}).items():
        assert case["exiftool"][cbor_tag(name)] == use


@needs_c2pa
@each_file
@pytest.mark.parametrize("purpose", PURPOSES)
def test_the_file_signals_give_the_stored_decision(case, purpose):
    data, ctype = body(case), case["content_type"]
    signals = asset_signals(asset_metadata(data, ctype), purpose, "https://example.com/f")
    if wants_c2pa(ctype):
        signals += c2pa_signals(read_c2pa(data, ctype), purpose, "https://example.com/f")
    denies = {(s.family, s.layer) for s in signals if s.effect == DENY}
    expected = case["expected"][purpose]
    if expected["decision"] == DENY:
        assert (expected["family"], expected["layer"]) in denies
    else:
        assert not denies and expected["family"] is None
    if case["c2pa"].get("validation_state") == "Invalid":  # its "allowed" allows nothing
        assert not [s for s in signals if s.family == "c2pa" and s.effect == ALLOW]


READ_IN_A_FRESH_PROCESS = """
import sys
from scrapy_ccsignals.signals.c2pa import read_c2pa
result = read_c2pa(open(sys.argv[1], "rb").read(), "image/jpeg")
print(result.status, result.validation_state)
"""


@needs_c2pa
def test_reading_a_manifest_contacts_no_host_the_file_names():
    """Adobe's file names its CAWG identity issuer as ``did:web:`` on an adobe.com host;
    validating it must not make the native library fetch anything (a host the file
    chooses, outside Scrapy: no robots.txt, no audit, a request from a parser). The library
    honours ``HTTPS_PROXY``: pointed at a loopback listener, it shows every attempt."""
    attempts: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def answer() -> None:  # record each request line, then refuse it
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the read is over
                return
            with connection:
                connection.settimeout(5)
                attempts.append(connection.recv(200))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {**os.environ, "NO_PROXY": "", "no_proxy": ""}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = proxy
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                READ_IN_A_FRESH_PROCESS,
                str(FOLDER / "ims_multiple_manifests.jpg"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        listener.close()
        thread.join(10)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["available", "Invalid"]
    assert attempts == []


# --- (b) the stored values are what the tools say now ----------------------------------------


@each_file
def test_exiftool_still_reads_the_stored_values(case):
    if shutil.which("exiftool") is None:
        pytest.skip(
            "exiftool is not installed (Debian: libimage-exiftool-perl; .ci/run installs it)"
        )
    run = subprocess.run(
        ["exiftool", *CORPUS["tools"]["exiftool"]["args"], str(FOLDER / case["file"])],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    (tags,) = json.loads(run.stdout)
    tags.pop("SourceFile")
    assert tags == case["exiftool"]


@needs_c2pa
@each_file
def test_c2pa_python_still_reads_the_stored_values(case):
    import c2pa

    # Offline like every test: the library may contact no host (Adobe's file names one).
    settings = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        "core": {"allowed_network_hosts": []},
    }
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    try:
        with c2pa.Reader(FOLDER / case["file"], context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        assert case["c2pa"] == {"status": "none"}
        return
    except c2pa.C2paError:
        assert case["c2pa"] == {"status": "error"}
        return
    manifest = store["manifests"][store["active_manifest"]]
    entries = {
        name: entry["use"]
        for assertion in manifest.get("assertions", [])
        if assertion["label"].split("__")[0] in ("cawg.training-mining", "c2pa.training-mining")
        for name, entry in assertion["data"]["entries"].items()
    }
    assert case["c2pa"] == {
        "status": "available",
        "validation_state": store["validation_state"],
        "training_mining": entries,
    }


# --- (c) real crawls of the files ------------------------------------------------------------


def _routes() -> dict[str, Any]:
    routes: dict[str, Any] = {"/robots.txt": text("User-agent: *\nAllow: /\n")}
    for case in FILES:
        routes["/" + case["file"]] = {
            "body_b64": base64.b64encode(body(case)).decode(),
            "headers": {"Content-Type": case["content_type"]},
        }
    return routes


@needs_c2pa
@pytest.mark.parametrize("mode", ["tag", "enforce"])
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest_twisted.ensureDeferred
async def test_crawl_the_corpus(server, purpose, mode):
    """Every file served with its Content-Type from one origin that allows crawling: the
    decision per purpose is the stored one (in tag mode with the deny's family and layer
    and the file's licence in provenance; in enforce mode, which items are dropped)."""
    origin = server.add_origin(_routes())
    urls = {origin + "/" + case["file"]: case for case in FILES}
    crawler, items = await run_crawl(
        list(urls), {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": mode}, follow=False
    )
    expected = {url: case["expected"][purpose]["decision"] for url, case in urls.items()}
    if mode == "enforce":
        assert sorted(i["url"] for i in items) == sorted(
            u for u, d in expected.items() if d == ALLOW
        )
        denied = sum(1 for d in expected.values() if d == DENY)
        assert stats(crawler).get("ccsignals/items/dropped", 0) == denied
        return
    records = {i["url"]: i["ccsignals"] for i in items}
    assert {url: r["decision"] for url, r in records.items()} == expected
    for url, case in urls.items():
        record, want = records[url], case["expected"][purpose]
        if want["decision"] == DENY:
            assert any(
                r.startswith(f"deny by {want['family']} {want['layer']} ")
                for r in record["reasons"]
            ), record["reasons"]
        licence = record["license"]
        if case["license"] is None:
            assert licence is None, licence
        else:
            assert (licence["id"], licence["url"]) == (
                case["license"]["id"],
                case["license"]["url"],
            )
        if case["c2pa"]["status"] == "available":
            assert record["c2pa"]["validation_state"] == case["c2pa"]["validation_state"]


@needs_c2pa
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest_twisted.ensureDeferred
async def test_with_default_deny_no_file_is_allowed(server, purpose):
    """No file in the corpus has an allow the rules honour: Adobe's files say ``allowed``
    (CAWG and the older C2PA names) in a manifest that fails validation, which may deny
    but never allow. With ``CCSIGNALS_DEFAULT = "deny"`` every file is denied."""
    origin = server.add_origin(_routes())
    urls = [origin + "/" + case["file"] for case in FILES]
    _, items = await run_crawl(
        urls,
        {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": "tag", "CCSIGNALS_DEFAULT": "deny"},
        follow=False,
    )
    records = {i["url"][len(origin) + 1 :]: i["ccsignals"] for i in items}
    assert {name: r["decision"] for name, r in records.items()} == dict.fromkeys(IDS, DENY)
    adobe = records["ims_multiple_manifests.jpg"]
    assert adobe["c2pa"]["validation_state"] == "Invalid"
    assert {e["use"] for e in adobe["c2pa"]["entries"]} == {"allowed"}
    assert not [s for s in adobe["signals"] if s["effect"] == ALLOW]


@needs_c2pa
@pytest.mark.parametrize("served_as", ["application/octet-stream", "image/jpg", ""])
@pytest.mark.parametrize("purpose", PURPOSES)
@pytest_twisted.ensureDeferred
async def test_a_wrong_or_missing_content_type_reads_the_same(server, purpose, served_as):
    """Servers often send images as ``application/octet-stream``, ``image/jpg`` (not a
    registered type) or with an empty Content-Type: the file is told by its bytes, for its XMP and
    for its C2PA manifest alike, so the decisions are the stored ones."""
    routes = _routes()
    for path, route in routes.items():
        if path != "/robots.txt":
            route["headers"] = {"Content-Type": served_as}
    origin = server.add_origin(routes)
    urls = {origin + "/" + case["file"]: case for case in FILES}
    _, items = await run_crawl(
        list(urls), {"CCSIGNALS_PURPOSE": purpose, "CCSIGNALS_MODE": "tag"}, follow=False
    )
    got = {i["url"]: i["ccsignals"]["decision"] for i in items}
    assert got == {url: case["expected"][purpose]["decision"] for url, case in urls.items()}
