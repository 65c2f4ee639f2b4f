"""The hostile-server fixture: origins that send every kind of broken or oversized input,
each with the outcome SIGNALS.md and the "What happens when" table (docs/what-happens-when.md) define."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from typing import Any

from tests.crawling import page, text

# A port nothing listens on (found at build time) stands for a refusing origin.


@dataclass
class Case:
    name: str
    routes: dict[str, Any] | None  # None: an origin that refuses connections
    expect: dict[str, str]  # path -> "forbidden" | "allow" | "deny" | "error"
    stats: tuple[str, ...] = ()  # stats keys that must be present
    warns: bool = False  # a WARNING naming the origin's URL is expected


def b64(data: bytes) -> dict[str, Any]:
    return {"body_b64": base64.b64encode(data).decode(), "headers": {"Content-Type": "text/plain"}}


PAGE = {"body": page("ok")}
ALLOW_ALL = text("User-agent: *\nAllow: /\n")


def cases() -> list[Case]:
    rng = random.Random(1)
    big_robots = (
        "User-agent: *\nDisallow: /early\n" + "# padding line\n" * 350_000 + "Disallow: /late\n"
    )
    huge_tdmrep = json.dumps(
        [{"location": f"/x{i}/*", "tdm-reservation": 1} for i in range(40_000)]
    )
    loop = {
        "/robots.txt": {"status": 302, "headers": {"Location": "/loop"}},
        "/loop": {"status": 302, "headers": {"Location": "/loop"}},
    }
    chain = {f"/c{i}": {"status": 301, "headers": {"Location": f"/c{i + 1}"}} for i in range(7)}
    chain["/robots.txt"] = {"status": 301, "headers": {"Location": "/c0"}}
    chain["/c7"] = text("User-agent: *\nDisallow: /")
    return [
        Case("robots-5mb", {"/robots.txt": text(big_robots), "/early": PAGE, "/late": PAGE},
             {"/early": "forbidden", "/late": "allow"}, ("ccsignals/policy/truncated/robots.txt",)),
        Case("robots-binary", {"/robots.txt": b64(bytes(rng.randrange(256) for _ in range(4096))), "/p": PAGE},
             {"/p": "allow"}, ("ccsignals/robots/parsed",)),
        Case("robots-utf16", {"/robots.txt": b64("User-agent: *\nDisallow: /private\n".encode("utf-16")), "/private": PAGE, "/p": PAGE},
             {"/private": "forbidden", "/p": "allow"}),
        Case("robots-latin1", {"/robots.txt": b64("# Café Müller\nUser-agent: *\nDisallow: /private\n".encode("latin-1")), "/private": PAGE, "/p": PAGE},
             {"/private": "forbidden", "/p": "allow"}),
        Case("robots-bom", {"/robots.txt": b64(b"\xef\xbb\xbfUser-agent: *\nDisallow: /private\n"), "/private": PAGE},
             {"/private": "forbidden"}),
        Case("robots-redirect-loop", {**loop, "/p": PAGE}, {"/p": "allow"}, ("ccsignals/robots/redirect_limit",), warns=True),
        Case("robots-redirect-chain-7", {**chain, "/p": PAGE}, {"/p": "allow"}, ("ccsignals/robots/redirect_limit",), warns=True),
        Case("robots-timeout", {"/robots.txt": {**ALLOW_ALL, "delay": 30}, "/p": PAGE}, {"/p": "forbidden"},
             ("ccsignals/robots/unreachable",), warns=True),
        Case("robots-closed-mid-body", {"/robots.txt": {**text("User-agent: *\nAllow: /\n" * 200), "drop_after": 100}, "/p": PAGE},
             {"/p": "forbidden"}, ("ccsignals/robots/unreachable",), warns=True),
        Case("robots-429", {"/robots.txt": {"status": 429, "headers": {"Retry-After": "3600"}}, "/p": PAGE}, {"/p": "forbidden"},
             ("ccsignals/robots/status/429",), warns=True),
        Case("refused", None, {"/p": "forbidden"}, ("ccsignals/robots/unreachable",), warns=True),
        Case("tdmrep-huge", {"/robots.txt": ALLOW_ALL, "/.well-known/tdmrep.json": text(huge_tdmrep), "/x1/a": PAGE},
             {"/x1/a": "deny"}, ("ccsignals/policy/truncated/tdmrep.json", "ccsignals/tdmrep/unreachable"), warns=True),
        Case("tdmrep-object", {"/robots.txt": ALLOW_ALL, "/.well-known/tdmrep.json": text('{"location": "/", "tdm-reservation": 1}'), "/p": PAGE},
             {"/p": "allow"}, ("ccsignals/tdmrep/invalid",), warns=True),
        Case("tdmrep-bad-entries",
             {"/robots.txt": ALLOW_ALL,
              "/.well-known/tdmrep.json": text(json.dumps([7, {"location": 5, "tdm-reservation": 1}, {"location": "bad", "tdm-reservation": 1},
                                                            {"location": "/r/*", "tdm-reservation": "1"}, {"location": "/*", "tdm-reservation": [1]}])),
              "/r/1": PAGE, "/p": PAGE},
             {"/r/1": "deny", "/p": "allow"}, ("ccsignals/tdmrep/entries_skipped",), warns=True),
        Case("headers-64kb", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p"), "headers": {"X-Big": "a" * 65536}}}, {"/p": "error"}),
        Case("headers-repeated", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p"), "headers": {"Content-Usage": ["train-ai=y", "train-ai=n"]}}},
             {"/p": "deny"}),
        Case("headers-control-chars", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p"), "headers": {"Content-Usage": "train-ai=n\x01", "X-Robots-Tag": "noai\x02"}}},
             {"/p": "allow"}),
        Case("html-no-head", {"/robots.txt": ALLOW_ALL, "/p": {"body": '<html><body><meta name="robots" content="noai"><p>x</p>'}}, {"/p": "deny"}),
        Case("html-meta-after-1mb", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p", "x" * 1_100_000 + '<meta name="robots" content="noai">')}},
             {"/p": "allow"}),
        Case("html-meta-flood", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p", head='<meta http-equiv="Content-Usage" content="train-ai=n">' * 4800)}},
             {"/p": "deny"}, ("ccsignals/signals/truncated",)),
        Case("html-rdfa-flood", {"/robots.txt": ALLOW_ALL, "/p": {"body": page("p", '<div property="dc:title">' * 10_000)}}, {"/p": "allow"}),
        Case("html-binary-body", {"/robots.txt": ALLOW_ALL, "/p": {"body_b64": base64.b64encode(bytes(rng.randrange(256) for _ in range(20000))).decode()}},
             {"/p": "allow"}),
        Case("pdf-noai", {"/robots.txt": ALLOW_ALL, "/d.pdf": {**b64(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "headers": {"Content-Type": "application/pdf", "X-Robots-Tag": "noai"}}},
             {"/d.pdf": "deny"}),
        Case("pdf-plain", {"/robots.txt": ALLOW_ALL, "/d.pdf": {**b64(b"%PDF-1.7\n"), "headers": {"Content-Type": "application/pdf"}}}, {"/d.pdf": "allow"}),
        Case("image-noimageai", {"/robots.txt": ALLOW_ALL, "/i.png": {**b64(b"\x89PNG\r\n\x1a\n"), "headers": {"Content-Type": "image/png", "X-Robots-Tag": "noimageai"}}},
             {"/i.png": "deny"}),
    ]  # fmt: skip
