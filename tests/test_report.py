"""The report and check commands, run as a user would run them."""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest_twisted

from scrapy_ccsignals.records.report import summarise, summarise_file
from scrapy_ccsignals.records.report_html import render_html
from scrapy_ccsignals.records.report_text import render_text
from tests.crawling import page, run_crawl, stats, text

SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]
ROOT = Path(__file__).resolve().parent.parent
# The commands run from another folder: import this checkout's package, not an installed one.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


def scrapy(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRAPY, *args],
        capture_output=True,
        text=True,
        cwd=cwd or tempfile.gettempdir(),
        timeout=300,
        env=ENV,
        input=stdin,
    )


def line(stage, action, origin="http://a:80", decision=None, **extra):
    return json.dumps(
        {
            "time": "t",
            "url": origin + "/x",
            "origin": origin,
            "stage": stage,
            "action": action,
            "decision": decision,
            "reasons": extra.pop("reasons", []),
            "signals": [],
            **extra,
        }
    )


SAMPLE = [
    line("policy", "fetched", policy={"kind": "robots.txt", "outcome": "parsed"}),
    line(
        "request",
        "dropped",
        decision="forbidden",
        reasons=["disallowed by robots.txt group '*': http://a:80/robots.txt"],
    ),
    line("request", "error", reasons=["ResponseFailed"]),
    line("response", "fetched", decision="deny", families=["noai", "tdmrep"]),
    line(
        "response",
        "fetched",
        decision="allow",
        conditions=["cc-cr"],
        families=["cc-signals"],
        license={"id": "CC-BY-4.0", "url": "u"},
    ),
    line("response", "fetched", "http://b:80", decision="allow", families=["default"]),
    line("item", "dropped", decision="deny"),
    "not json",
    "[1]",
    "",
]


def test_summarise_counts():
    summary = summarise(SAMPLE)
    overall = summary.overall
    assert (summary.lines, summary.bad_lines) == (9, 2)
    assert (overall.requests, overall.fetched, overall.forbidden, overall.errors) == (5, 3, 1, 1)
    assert (
        overall.allowed,
        overall.denied,
        overall.allowed_with_conditions,
        overall.items_dropped,
    ) == (1, 1, 1, 1)
    # The outcomes partition the requests (the old chart's "allowed 11" beside the table's
    # "allowed 14" came from "allowed" meaning two things).
    assert overall.fetched == (
        overall.allowed + overall.allowed_with_conditions + overall.denied + overall.unchecked
    )
    assert overall.requests == (
        overall.fetched + overall.forbidden + overall.errors + overall.ignored
    )
    assert overall.denied_by_layer == {"noai ?": 1, "tdmrep ?": 1}
    assert overall.denied_by_family == {"noai": 1, "tdmrep": 1}
    assert overall.forbidden_by == {"disallowed by robots.txt group '*'": 1}
    assert overall.errors_by == {"ResponseFailed": 1}
    assert overall.licenses == {"CC-BY-4.0": 1, "none": 2}
    assert overall.policies == {"robots.txt parsed": 1}
    assert summary.origins["http://b:80"].requests == 1


def test_report_command_text_json_html(tmp_path):
    log = tmp_path / "audit.jsonl"
    log.write_text("\n".join(SAMPLE))
    out = scrapy("ccsignals-report", str(log), "--html", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr
    assert "http://a:80" in out.stdout and "Denied per family:       noai 1, tdmrep 1" in out.stdout
    data = json.loads(scrapy("ccsignals-report", str(log), "--json").stdout)
    assert data["overall"]["requests"] == 5
    html = (tmp_path / "r.html").read_text()
    assert "<table" in html and "<svg" in html
    assert "http://" not in html.replace("http://a:80", "").replace("http://b:80", "")
    assert scrapy("ccsignals-report", str(tmp_path / "missing.jsonl")).returncode == 2


def test_report_streams_a_million_lines(tmp_path):
    log = tmp_path / "big.jsonl"
    rng = random.Random(7)
    kinds = [
        ("response", "fetched", "allow"),
        ("response", "fetched", "deny"),
        ("request", "dropped", "forbidden"),
        ("request", "error", None),
    ]
    expected = {"allowed": 0, "denied": 0, "forbidden": 0, "errors": 0}
    key = {"allow": "allowed", "deny": "denied", "forbidden": "forbidden", None: "errors"}
    with log.open("w") as handle:
        for i in range(1_000_000):
            stage, action, decision = kinds[rng.randrange(4)]
            expected[key[decision]] += 1
            handle.write(
                json.dumps({"url": f"http://o{i % 50}:80/p/{i}", "origin": f"http://o{i % 50}:80", "stage": stage,
                            "action": action, "decision": decision, "families": ["noai"], "reasons": ["r: x"],
                            "license": {"id": "CC-BY-4.0"}, "signals": [], "pad": "x" * 150}) + "\n"
            )  # fmt: skip
    size_mb = log.stat().st_size / 2**20
    code = (
        "import json, sys\n"
        "from scrapy_ccsignals.records.report import summarise_file\n"
        "from scrapy_ccsignals.records.report_html import render_html\n"
        "summary = summarise_file(sys.argv[1])\n"
        "page = render_html(summary)\n"
        "s = summary.overall\n"
        "print(json.dumps({'allowed': s.allowed, 'denied': s.denied, 'forbidden': s.forbidden, 'errors': s.errors,\n"
        "  'page_kb': len(page) // 1024, 'rows': page.count('<tr data-origin='),\n"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would report
        # the forking pytest process's peak.
        "  'rss_mb': int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(log)], capture_output=True, text=True, timeout=600, env=ENV
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    rss = result.pop("rss_mb")
    # The page is bounded: the first 25 URLs per origin (50) and held-back outcome (3).
    assert result.pop("rows") == 50 * 3 * 25
    assert result.pop("page_kb") < 8_000
    assert result == expected
    # Streaming: peak RSS stays far below the file size (the interpreter alone is ~30-60 MB).
    assert size_mb > 200
    assert rss < 120, f"peak RSS {rss:.0f} MB for a {size_mb:.0f} MB log"


def test_check_command(server):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /secret\n"),
            "/open": {
                "body": page(
                    "Open",
                    "",
                    '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">',
                )
            },
            "/closed": {
                "body": page("Closed"),
                "headers": {"Content-Usage": "train-ai=n;exceptions=cc-cr"},
            },
        }
    )
    ok = scrapy("ccsignals-check", origin + "/open")
    assert ok.returncode == 0, ok.stderr
    assert "Licence: CC-BY-4.0" in ok.stdout and "Decision: ALLOW" in ok.stdout
    closed = scrapy("ccsignals-check", origin + "/closed")
    assert closed.returncode == 1
    assert re.search(r"\[cc-signals\]\s+header", closed.stdout)
    assert "conditions cc-cr not accepted" in closed.stdout
    accepted = scrapy(
        "ccsignals-check", "-s", "CCSIGNALS_ACCEPT_CONDITIONS=cc-cr", origin + "/closed"
    )
    assert accepted.returncode == 0 and "with conditions cc-cr" in accepted.stdout
    secret = scrapy("ccsignals-check", origin + "/secret")
    assert secret.returncode == 1 and "FORBIDDEN" in secret.stdout
    assert "/secret" not in server.paths(origin)
    record = json.loads(scrapy("ccsignals-check", "--json", origin + "/open").stdout)
    assert record["license"]["id"] == "CC-BY-4.0"
    assert scrapy("ccsignals-check", "not-a-url").returncode == 2


# Issue 14 item 12 and item 11 (report side): written before the fix, failing on main.


def test_reasons_are_not_cut_at_their_first_colon(tmp_path):
    reason = (
        "robots.txt unreachable (DownloadConnectionRefusedError: Connection was refused: 111): "
        "http://a:80/robots.txt"
    )
    log = tmp_path / "audit.jsonl"
    log.write_text(line("request", "dropped", decision="forbidden", reasons=[reason]) + "\n")
    kept = "robots.txt unreachable (DownloadConnectionRefusedError: Connection was refused: 111)"
    assert summarise(log.read_text().splitlines()).overall.forbidden_by == {kept: 1}
    out = scrapy("ccsignals-report", str(log))
    assert kept in out.stdout
    data = json.loads(scrapy("ccsignals-report", "--json", str(log)).stdout)
    assert list(data["overall"]["forbidden_by"]) == [kept]


def test_server_text_is_escaped_on_a_terminal(tmp_path):
    evil = "https://x.example/\x1b[2J\x1b]0;pwned\x07lic\x9b31m"
    log = tmp_path / "audit.jsonl"
    log.write_text(
        line("response", "fetched", decision="allow", families=["license"], license={"url": evil})
        + "\n"
        + line(
            "request", "dropped", "http://b:80\x1b[31m", decision="forbidden", reasons=["\x1b[1mx"]
        )
        + "\n"
    )
    out = scrapy("ccsignals-report", str(log))
    assert out.returncode == 0, out.stderr
    assert not any(c in out.stdout for c in "\x1b\x07\x9b")
    assert "\\x1b[2J" in out.stdout and "\\x9b31m" in out.stdout


def test_several_logs_and_stdin_are_merged(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(SAMPLE[:4]))
    second.write_text("\n".join(SAMPLE[4:7]))
    both = json.loads(scrapy("ccsignals-report", "--json", str(first), str(second)).stdout)
    alone = json.loads(scrapy("ccsignals-report", "--json", str(first)).stdout)
    assert both["overall"]["requests"] == 5 and alone["overall"]["requests"] == 3
    piped = scrapy("ccsignals-report", "--json", str(first), "-", stdin=second.read_text())
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["overall"] == both["overall"]


EVIL = "\x1b]0;pwned\x07\x1b[2J"
INJECT = "</td></tr></table><script>window.pwned=1</script>"


@pytest_twisted.ensureDeferred
async def test_crawl_report_names_the_crawl_and_escapes_server_text(server, tmp_path):
    origin = server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private\n"),
            "/": {
                "body": page(
                    "Home",
                    '<a href="/private?x=%1B%5B2J">p</a><a href="/closed">c</a>',
                    f'<link rel="license" href="https://evil.example/{EVIL}">',
                )
            },
            "/closed": {
                "body": page("Closed", "", f'<meta name="robots" content="noai" data-x="{INJECT}">')
            },
        }
    )
    log = tmp_path / "audit.jsonl"
    crawler, items = await run_crawl(
        [origin + "/"],
        {"CCSIGNALS_AUDIT_LOG": str(log), "CCSIGNALS_ACCEPT_CONDITIONS": "cc-cr"},
    )
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    started, finished = lines[0], lines[-1]
    assert (started["stage"], started["action"], finished["action"]) == (
        "crawl",
        "started",
        "finished",
    )
    assert started["token"] == "TestBot" and started["accept_conditions"] == ["cc-cr"]
    assert started["user_agent"] == "TestBot/1.0 (+http://127.0.0.1)"
    assert finished["stats"]["ccsignals/items/passed"] == stats(crawler)["ccsignals/items/passed"]

    summary = summarise_file(str(log))
    assert summary.items_kept == len(items) == 1
    assert summary.overall.denied == summary.overall.forbidden == 1
    out = io.StringIO()
    render_text(summary, out)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "spider pages, token TestBot" in out.getvalue()
    page_html = render_html(summary)
    assert page_html.count("<script") == 1  # ours; the server's tag is text
    assert "data-x=&quot;&lt;/td&gt;" in page_html  # the scanner's raw tag, as text
    assert "\x1b" not in page_html and "\\x1b]0;pwned" in page_html


def test_redirect_hops_are_not_counted_as_unchecked():
    from scrapy_ccsignals.records.report import outcome_of

    hop = {"stage": "response", "action": "redirected", "decision": None, "url": "http://a/x"}
    assert outcome_of(hop) is None
    assert outcome_of({**hop, "action": "fetched"}) == "unchecked"


def test_denied_by_an_unaccepted_condition_names_its_layer():
    """An RSL licence or a CC signal whose conditions the crawl did not accept denies with a
    signal of effect 'conditional': the layer of that signal is the one that denied, not '?'."""
    signals = [
        {"family": "rsl", "layer": "robots.txt", "effect": "conditional", "raw": "payment"},
        {"family": "aipref", "layer": "header", "effect": "unknown", "raw": "search=y"},
    ]
    denied = {
        "stage": "response",
        "action": "denied",
        "decision": "deny",
        "url": "http://a/x",
        "origin": "http://a",
        "families": ["rsl"],
        "reasons": ["rsl robots.txt: a licence is needed (rsl-license not accepted)"],
        "signals": signals,
    }
    summary = summarise([json.dumps(denied)])
    assert summary.overall.denied_by_layer == {"rsl robots.txt": 1}
