"""``scrapy ccsignals-check`` as a user runs it (issue 14 item 11): structured JSON for
forbidden and failed URLs, documented exit codes, token and purpose shown, aligned
columns, one clear line for a disabled plugin or a bad setting, control characters of
server text escaped."""

from __future__ import annotations

import json
import socket

import pytest

from tests.crawling import page, text
from tests.test_report import scrapy


@pytest.fixture
def site(server):
    return server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /secret\n"),
            "/open": {"body": page("Open")},
            "/esc": {
                "body": page("Esc"),
                "headers": {"Link": '<https://x.example/\x1b[2J\x1b]0;pwned\x07>; rel="license"'},
                "status": 200,
            },
            "/noai": {
                "body": page("N"),
                "headers": {"X-Robots-Tag": "noai", "tdm-reservation": "1"},
            },
        }
    )


def test_forbidden_json_is_a_structured_record(site):
    result = scrapy("ccsignals-check", "--json", site + "/secret")
    assert result.returncode == 1, result.stderr
    record = json.loads(result.stdout)
    assert record["decision"] == "forbidden"
    assert record["url"] == site + "/secret"
    assert record["policy"]["kind"] == "robots.txt"
    assert "disallowed by robots.txt" in record["reasons"][0]


def test_dead_origin_is_an_error_exit_2():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = scrapy("ccsignals-check", "--json", f"http://127.0.0.1:{port}/x")
    assert result.returncode == 2, result.stdout + result.stderr
    record = json.loads(result.stdout)
    assert record["decision"] == "error"
    assert record["error"]["type"]


def test_text_output_names_token_and_purpose_and_aligns(site):
    result = scrapy("ccsignals-check", "-s", "USER_AGENT=AI2Bot/1.0", site + "/noai")
    assert result.returncode == 1
    assert "Token: AI2Bot" in result.stdout
    assert "Purpose: train-ai" in result.stdout
    rows = [r for r in result.stdout.splitlines() if r.startswith("  [")]
    assert len(rows) >= 2
    starts = {r.index(" header ") for r in rows}
    assert len(starts) == 1, rows  # the layer column lines up


def test_server_text_is_escaped(site):
    result = scrapy("ccsignals-check", site + "/esc")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b" in result.stdout


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("CCSIGNALS_ENABLED=False", "disabled"),
        ("CCSIGNALS_MODE=block", "CCSIGNALS_MODE"),
        ("CCSIGNALS_POLICY_STORE=foo://", "CCSIGNALS_POLICY_STORE"),
    ],
)
def test_disabled_or_bad_setting_is_one_line_exit_2(site, setting, expected):
    result = scrapy("ccsignals-check", "-s", setting, site + "/open")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [x for x in (result.stdout + result.stderr).splitlines() if x.strip()]
    assert len(lines) == 1, lines
    assert expected in lines[0]


def _project(folder, audit_log):
    """A Scrapy project folder whose crawls write their audit log to *audit_log*."""
    (folder / "scrapy.cfg").write_text("[settings]\ndefault = checkproj.settings\n")
    package = folder / "checkproj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        f'ADDONS = {{"scrapy_ccsignals.Addon": 100}}\nCCSIGNALS_AUDIT_LOG = {str(audit_log)!r}\n'
    )


def test_check_inside_a_project_leaves_its_audit_log_alone(site, tmp_path):
    """Issue 26 item 8: the crawl's audit log is the dataset's account; a check run from the
    project folder is not part of the dataset (like ccsignals-recheck, only ``--audit``)."""
    crawl_log = tmp_path / "audit.jsonl"
    crawl_log.write_text('{"stage": "crawl", "action": "started"}\n')
    _project(tmp_path, crawl_log)
    result = scrapy("ccsignals-check", "--json", site + "/noai", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["decision"] == "deny"
    assert crawl_log.read_text() == '{"stage": "crawl", "action": "started"}\n'

    own_log = tmp_path / "check-audit.jsonl"
    result = scrapy("ccsignals-check", "--audit", str(own_log), site + "/noai", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    events = [json.loads(x) for x in own_log.read_text().splitlines()]
    assert {(e["stage"], e["action"]) for e in events} >= {
        ("crawl", "started"),
        ("response", "fetched"),
    }
    assert any(e["url"] == site + "/noai" and e["decision"] == "deny" for e in events)
    assert crawl_log.read_text() == '{"stage": "crawl", "action": "started"}\n'
