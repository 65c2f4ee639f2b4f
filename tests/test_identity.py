"""Issue #27 item 12: the crawler says who it is. A warning at start-up when USER_AGENT names
no page describing the crawler (``+https://...``), and ``ccsignals-summary --crawler-page``
covers what the crawler best-practices draft (draft-illyes-webbotauth-cbcp, "Crawlers MUST
explain how the crawled data is used and how the crawler can be blocked") asks that page to
say: purpose and data use, contact, a robots.txt example that blocks the crawler and how to
check one, exemptions with their reasons, the token, and how it backs off."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser

import pytest
import pytest_twisted

from scrapy_ccsignals.records.crawler_page import render_crawler_page
from scrapy_ccsignals.records.summary import Crawler
from tests.crawling import run_crawl, stats
from tests.scrapy_cli import run_scrapy


@pytest.mark.parametrize(
    ("user_agent", "warned"),
    [
        ("ExampleBot/1.0", True),
        ("ExampleBot/1.0 (bots@example.org)", True),
        ("ExampleBot/1.0 (+ftp://example.org/bot)", True),
        ("ExampleBot/1.0 (https://example.org/bot)", True),  # the draft's form has the "+"
        ("ExampleBot/1.0 (+https://example.org/bot)", False),
        ("Mozilla/5.0 (compatible; ExampleBot/1.0; +http://example.org/bot.html)", False),
    ],
)
@pytest_twisted.ensureDeferred
async def test_warning_when_user_agent_names_no_page(caplog, user_agent, warned):
    with caplog.at_level(logging.WARNING):
        crawler, _ = await run_crawl(["data:,x"], {"USER_AGENT": user_agent}, follow=False)
    messages = [r.getMessage() for r in caplog.records if "USER_AGENT" in r.getMessage()]
    if warned:
        assert len(messages) == 1
        assert user_agent in messages[0] and "--crawler-page" in messages[0]
        assert stats(crawler)["ccsignals/warnings/user_agent"] == 1
    else:
        assert messages == []
        assert "ccsignals/warnings/user_agent" not in stats(crawler)


def text_of(page: str) -> str:
    """The page's text, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_crawler_page_covers_the_best_practices_draft():
    crawler = Crawler(
        user_agent="ExampleBot/1.0 (+https://example.org/bot)",
        token="ExampleBot",
        purpose="train-ai",
        contact="bots@example.org",
        data_use="Pages kept are used to train the Example language models.",
        exemptions=("Does not publish its IP ranges yet: it runs from a university network.",),
        client_ranges="https://example.org/bot-ranges.json",
    )
    page = render_crawler_page(crawler)
    HTMLParser().feed(page)
    text = text_of(page)
    # The token and the user agent, and that the crawler is recognised by both.
    assert "<h1>ExampleBot</h1>" in page
    assert "ExampleBot/1.0 (+https://example.org/bot)" in text
    # Purpose and data use.
    assert "train-ai" in text
    assert "Pages kept are used to train the Example language models." in text
    # Contact.
    assert "bots@example.org" in text
    # A robots.txt that blocks it, one that keeps it to part of the site, and how to check.
    assert "User-agent: ExampleBot\nDisallow: /" in page
    assert "User-agent: ExampleBot\nDisallow: /drafts/" in page
    assert "Content-Usage: train-ai=n" in text
    assert "RFC 9309" in text and "case-insensitive" in text
    # Exemptions, with their reason.
    assert "Does not publish its IP ranges yet" in text
    # Whether pages are rendered, how it backs off, where its ranges are published.
    assert "JavaScript" in text
    assert "Retry-After" in text and "Crawl-delay" in text
    assert '<link rel="client-ranges" href="https://example.org/bot-ranges.json">' in page


def test_crawler_page_placeholders_say_what_is_missing():
    text = text_of(render_crawler_page(Crawler(token="ExampleBot")))
    for missing in ("how the crawled data is used", "exemptions", "contact address"):
        assert f"[PROVIDER: {missing}" in text


def test_crawler_page_options(tmp_path):
    audit = tmp_path / "audit.jsonl"
    start = {
        "stage": "crawl",
        "action": "started",
        "token": "ExampleBot",
        "user_agent": "ExampleBot/1.0 (+https://example.org/bot)",
        "purpose": "search",
    }
    audit.write_text(json.dumps(start) + "\n")
    done = run_scrapy(
        ["ccsignals-summary", str(audit), "-o", "summary.md", "--crawler-page", "bot.html",
         "--contact", "bots@example.org", "--data-use", "A search index of museums.",
         "--exemption", "First reason.", "--exemption", "Second reason.",
         "--client-ranges", "https://example.org/ranges.json", "--rendered"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = text_of((tmp_path / "bot.html").read_text())
    assert "A search index of museums." in text
    assert "First reason." in text and "Second reason." in text
    assert "https://example.org/ranges.json" in text
    assert "runs the pages' JavaScript" in text
    assert "[PROVIDER" not in text


def test_protocols_include_the_r3_families():
    """The page and the summary name every family that can withhold content, with its
    specification: DisallowAITraining (ai-control) and noindex for search."""
    from scrapy_ccsignals.records.report import summarise
    from scrapy_ccsignals.records.summary import measures

    page = text_of(render_crawler_page(Crawler(token="ExampleBot")))
    assert "draft-canel-robots-ai-control" in page and "noindex" in page
    assert "use=" in page
    line = {"stage": "response", "origin": "http://a:80", "url": "http://a:80/x",
            "decision": "deny", "families": ["ai-control"]}  # fmt: skip
    rows = {name: spec for name, spec, *_ in measures(summarise([json.dumps(line)]))}
    assert "ai-control" not in rows  # named by its protocol, not its family key
    assert any("draft-canel-robots-ai-control" in spec for spec in rows.values())
