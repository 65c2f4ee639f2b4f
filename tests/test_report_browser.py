"""The HTML report opened in a real browser: Playwright for Python driving Debian's
``chromium`` (``.ci/run`` installs it; no browser download). Skips, saying why, when
either is missing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example project's crawl (a real crawl of the demo web): its sites and outputs."""
    output = tmp_path_factory.mktemp("example") / "output"
    out = subprocess.run(
        [sys.executable, "-m", "example_project", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    sites = dict(re.findall(r"^  (\S+)\s+(http://127\.0\.0\.\d+:\d+)/$", out.stdout, re.M))
    return sites, output


def in_browser(check: Callable[[Any], None]) -> None:
    """Run *check(browser)* with a headless Chromium, in a thread of its own: the test
    session runs Twisted's asyncio reactor, and Playwright's sync API needs a thread with
    no event loop running."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")

    def run() -> None:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                check(browser)
            finally:
                browser.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result(timeout=300)


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    assert errors == []
    assert requests == [path.as_uri()]  # one self-contained file: nothing else is loaded
    return page


def shown_urls(page) -> list[str]:
    return page.eval_on_selector_all(
        "#urls tbody tr:not([hidden]):not(.rest) td:nth-child(2)",
        "cells => cells.map(c => c.textContent)",
    )


def test_example_report_in_chromium(example, tmp_path):
    in_browser(lambda browser: check_example_report(browser, example, tmp_path))


def check_example_report(browser, example, tmp_path):
    sites, output = example
    page = open_page(browser, output / "report.html")
    # Each section renders, with its marks laid out.
    for section in ("facts", "legend", "flow", "why", "time", "origins", "explorer"):
        assert page.locator(f"#{section}").is_visible(), section
    assert int(page.get_attribute("body", "data-rendered-bars")) > 10
    facts = page.inner_text("#facts")
    assert "ExampleAIBot" in facts and "train-ai" in facts and "cc-cr" in facts
    # The flow diagram's numbers are the totals table's numbers, key by key.
    drawn = page.eval_on_selector_all(
        "#flow rect.seg", "rs => rs.map(r => [r.dataset.key, r.dataset.count])"
    )
    table = dict(
        page.eval_on_selector_all(
            "#flow .totals td[data-key]", "cs => cs.map(c => [c.dataset.key, c.textContent])"
        )
    )
    names = {"kept": "items_kept", "dropped": "items_dropped", "tagged": "items_tagged"}
    assert len(drawn) >= 8
    for key, count in drawn:
        assert table[names.get(key, key)] == count, key
    # ... and the audit log's own response lines.
    responses = [
        json.loads(x)
        for x in (output / "audit.jsonl").read_text().splitlines()
        if '"stage": "response"' in x
    ]
    decided = [r for r in responses if r.get("decision") in ("allow", "deny")]
    expected = (
        sum(1 for r in decided if r["decision"] == "allow" and not r.get("conditions")),
        sum(1 for r in decided if r["decision"] == "allow" and r.get("conditions")),
        sum(1 for r in decided if r["decision"] == "deny"),
    )
    assert (table["allowed"], table["conditional"], table["denied"]) == tuple(map(str, expected))
    assert expected[1] > 0 and expected[2] > 0
    # The per-origin table agrees with the totals.
    for key in ("allowed", "conditional", "denied", "forbidden"):
        cells = page.eval_on_selector_all(
            f"#origins tr.origin td[data-key={key}]", "cs => cs.map(c => +c.textContent)"
        )
        assert sum(cells) == int(table[key]), key
    # An origin row opens to its held-back URLs.
    portfolio = page.locator("tr.origin", has_text="portfolio")
    detail = page.locator(f"#{portfolio.locator('button.toggle').get_attribute('aria-controls')}")
    assert not detail.is_visible()
    portfolio.locator("button.toggle").click()
    assert detail.is_visible() and "/work/tide" in detail.inner_text()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 50_000

    # The explorer: every forbidden (4 edit links, forum, mirror) and denied URL.
    everything = shown_urls(page)
    assert len(everything) == 6 + expected[2]
    page.select_option("#f-origin", sites["portfolio"])
    assert sorted(u.rsplit("/", 1)[1] for u in shown_urls(page)) == ["", "orchard", "tide"]
    page.select_option("#f-origin", "")
    page.select_option("#f-family", "tdmrep")
    tdm = shown_urls(page)
    assert sorted(u.rsplit("/", 1)[1] for u in tdm) == [
        "election-night",
        "harbour-budget",
        "novel.epub",
        "report.pdf",
        "storm-warning",
    ]
    page.select_option("#f-family", "")
    page.select_option("#f-outcome", "forbidden")
    assert len(shown_urls(page)) == 6
    page.fill("#f-text", "lighthouse")
    assert [u.rsplit("=", 1)[1] for u in shown_urls(page)] == ["lighthouse"]
    page.fill("#f-text", "")
    page.select_option("#f-outcome", "")
    page.fill("#f-text", "ExampleAIBot")  # searches reasons too
    assert sorted(shown_urls(page)) == sorted(
        [sites["forum"] + "/", sites["pressroom"] + "/release/budget"]
    )
    assert page.inner_text("#f-count") == "2 URLs shown"
    page.close()


def test_origin_report_in_chromium(example, tmp_path):
    sites, output = example
    report = tmp_path / "news.html"
    out = subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", "ccsignals-report", str(output / "audit.jsonl"),
         "--origin", sites["news"] + "/any/page", "--html", str(report)],
        capture_output=True, text=True, timeout=300, env=ENV, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    # The text lists the origin's own held-back URLs with the rule that held each back.
    assert "denied (3):" in out.stdout and "/articles/storm-warning" in out.stdout
    assert sites["portfolio"] not in out.stdout
    in_browser(lambda browser: check_origin_report(browser, sites, report, tmp_path))


def check_origin_report(browser, sites, report, tmp_path):
    page = open_page(browser, report)
    assert sites["news"] in page.inner_text("h1")
    assert page.locator("tr.origin").count() == 1
    urls = shown_urls(page)
    assert len(urls) == 3 and all(u.startswith(sites["news"] + "/articles/") for u in urls)
    assert "tdm-reservation" in page.inner_text("#explorer")
    assert page.inner_text("#flow .totals td[data-key=allowed]") == "2"
    page.screenshot(path=str(tmp_path / "origin.png"), full_page=True)
    page.close()
