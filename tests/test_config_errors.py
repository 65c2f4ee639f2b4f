"""Issue #14 items 8 and 10: a bad setting is one clear error line naming it, the crawl
does not start, ``scrapy`` exits 1, and no traceback is printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import pytest_twisted

from scrapy_ccsignals.config import ConfigError
from tests.crawling import run_crawl

SPIDER = textwrap.dedent(
    """
    import scrapy

    class S(scrapy.Spider):
        name = "s"
        custom_settings = {"ADDONS": {"scrapy_ccsignals.Addon": 100}}

        async def start(self):
            yield scrapy.Request("data:,x")

        def parse(self, response):
            yield {"ok": 1}
    """
)


def runspider(tmp_path, *settings: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "s.py").write_text(SPIDER)
    args = [sys.executable, "-m", "scrapy", "runspider", "s.py", "-s", "LOG_LEVEL=INFO"]
    for s in settings:
        args += ["-s", s]
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("CCSIGNALS_MODE=block", "CCSIGNALS_MODE must be one of enforce, tag"),
        ("CCSIGNALS_POLICY_STORE=mysql://x", "CCSIGNALS_POLICY_STORE"),
        ("CCSIGNALS_AUDIT_LOG=audit-%d.jsonl", "CCSIGNALS_AUDIT_LOG"),
        ("CCSIGNALS_AUDIT_LOG=blocker/audit.jsonl", "CCSIGNALS_AUDIT_LOG"),
        # issue 28 item 3: read by the add-on, before the extension (was a traceback)
        ("CCSIGNALS_ENABLED=flase", "CCSIGNALS_ENABLED must be a boolean: True/False"),
        ("CCSIGNALS_HTML_SCAN_BYTES=lots", "CCSIGNALS_HTML_SCAN_BYTES must be an integer >= 0"),
        ("CCSIGNALS_HOLD_LIMIT=0", "CCSIGNALS_HOLD_LIMIT must be >= 1; got '0'"),
        ("CCSIGNALS_AUDIT_LOG_ROTATE_LINES=10", "must contain %(batch_id)d or %(batch_time)s"),
        ("CCSIGNALS_CRAWL_ID=a b", "CCSIGNALS_CRAWL_ID must be 1-100 letters"),
    ],
)
def test_bad_setting_is_one_line_and_exit_1(tmp_path, setting, named):
    (tmp_path / "blocker").write_text("a regular file, not a folder")
    result = runspider(tmp_path, setting)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr[-3000:]
    assert named in errors[0]
    assert "Traceback" not in result.stderr
    assert "Spider opened" not in result.stderr


def test_unknown_setting_is_one_warning_with_the_closest_name(tmp_path):
    result = runspider(
        tmp_path, "CCSIGNALS_PURPUSE=search", "CCSIGNALS_AUDIT_LOGG=x.jsonl", "CCSIGNALS_ZZZ=1"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if "unknown setting" in line]
    assert len(warnings) == 1, result.stderr[-3000:]
    assert "WARNING" in warnings[0]
    assert "CCSIGNALS_PURPUSE (did you mean CCSIGNALS_PURPOSE?)" in warnings[0]
    assert "CCSIGNALS_AUDIT_LOGG (did you mean CCSIGNALS_AUDIT_LOG?)" in warnings[0]
    assert "CCSIGNALS_ZZZ" in warnings[0]
    assert "CCSIGNALS_PURPOSE" not in result.stderr.replace("mean CCSIGNALS_PURPOSE", "")


def test_good_settings_still_crawl(tmp_path):
    result = runspider(tmp_path, f"CCSIGNALS_AUDIT_LOG={tmp_path}/a-%(name)s.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "a-s.jsonl").read_text().count("\n") >= 1


@pytest_twisted.ensureDeferred
async def test_unwritable_audit_log_stops_a_crawl_runner_crawl(tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(ConfigError, match="CCSIGNALS_AUDIT_LOG"):
        await run_crawl(["data:,x"], {"CCSIGNALS_AUDIT_LOG": str(tmp_path / "blocker" / "a.jsonl")})


@pytest_twisted.ensureDeferred
async def test_middlewares_without_extension_refuse_to_start():
    settings = {
        "ADDONS": {},
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy_ccsignals.downloadermiddleware.CCSignalsDownloaderMiddleware": 100
        },
    }
    with pytest.raises(ConfigError, match="EXTENSIONS"):
        await run_crawl(["data:,x"], settings)
