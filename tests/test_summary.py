"""ccsignals-summary: the EU template's sections 2.3 and 3.1 from the audit log, with the
report's own numbers, sizes from the ``bytes`` audit field, placeholders for the rest, and
the crawler page."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest

from scrapy_ccsignals.records.report import summarise
from scrapy_ccsignals.records.summary import (
    Crawler,
    facts_of,
    read_audit,
    render_summary,
)
from tests.dataset_crawl import denied_by
from tests.scrapy_cli import run_scrapy


@pytest.fixture(scope="module")
def outputs(crawled, tmp_path_factory):
    folder = crawled["dir"]
    out = tmp_path_factory.mktemp("summary")
    audit = str(folder / "audit.jsonl")
    done = run_scrapy(
        ["ccsignals-summary", audit, "-o", "summary.md", "--crawler-page", "crawler.html",
         "--user-agent", "ExampleAIBot/1.0 (+https://example.org/bot)", "--purpose", "train-ai",
         "--contact", "bots@example.org"],
        out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = run_scrapy(["ccsignals-report", "--json", audit], out)
    assert report.returncode == 0, report.stderr
    return {
        "md": (out / "summary.md").read_text(),
        "page": (out / "crawler.html").read_text(),
        "report": json.loads(report.stdout),
        "audit": [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()],
    }


def table(md: str, header: str) -> list[list[str]]:
    lines = md[md.index(header) :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_numbers_equal_the_reports(outputs, crawled):
    md, overall = outputs["md"], outputs["report"]["overall"]
    facts = {
        "requests": r"- Requests: ([\d,]+)",
        "fetched": r"responses fetched: ([\d,]+)",
        "forbidden": r"because of robots.txt: ([\d,]+)",
        "ignored": r"other requests dropped: ([\d,]+)",
        "errors": r"errors: ([\d,]+)",
        "allowed_with_conditions": r"with accepted conditions: ([\d,]+)",
        "denied": r"withheld: ([\d,]+)",
        "items_dropped": r"Items withheld from the dataset: ([\d,]+)",
        "items_tagged": r"tagged as reserved: ([\d,]+)",
    }
    for key, pattern in facts.items():
        assert number(re.search(pattern, md).group(1)) == overall[key], key
    kept = number(re.search(r"was kept: ([\d,]+)", md).group(1))
    assert kept == overall["allowed"] + overall["allowed_with_conditions"]
    assert (
        number(re.search(r"opted out per request\): ([\d,]+)", md).group(1)) == overall["unchecked"]
    )
    assert f"{outputs['report']['period'][0]} to {outputs['report']['period'][1]}" in md
    assert number(re.search(r"Sites \(origins\): ([\d,]+)", md).group(1)) == len(
        outputs["report"]["origins"]
    )
    measures = table(md, "| protocol | specification |")
    by_name = {row[0]: (number(row[2]), number(row[3])) for row in measures}
    assert by_name["robots.txt"] == (overall["forbidden"], 0)
    assert (
        by_name["TDM Reservation Protocol"][1]
        == overall["denied_by_family"]["tdmrep"]
        == denied_by(crawled, "tdmrep")
        > 0
    )
    assert (
        by_name["noai / noimageai"][1]
        == overall["denied_by_family"]["noai"]
        == denied_by(crawled, "noai")
        > 0
    )
    assert sum(r for _, r in by_name.values()) == sum(overall["denied_by_family"].values())
    for reason, count in overall["forbidden_by"].items():
        assert f"{reason}: {count:,}" in md


def test_crawler_period_and_sizes(outputs):
    md, audit = outputs["md"], outputs["audit"]
    assert "| ExampleAIBot | ExampleAIBot/1.0 (+https://example.org/bot) | train-ai |" in md
    times = sorted(line["time"] for line in audit)
    assert f"**Period of data collection:** {times[0]} to {times[-1]}" in md
    responses = [line for line in audit if line["stage"] == "response"]
    assert responses and all(isinstance(line["bytes"], int) for line in responses)
    kept = {"127.0.0.1": 0, "127.0.0.2": 0}
    for line in responses:
        if line["decision"] == "allow":
            kept[line["origin"].split("//")[1].split(":")[0]] += line["bytes"]
    # The demo sites are on 127.0.0.1, the busy archive on 127.0.0.2 (a host of its own):
    # two domain names, the top 10 % of them is the first.
    share = kept["127.0.0.1"] / sum(kept.values())
    assert table(md, "| domain name |") == [
        ["127.0.0.1", f"{kept['127.0.0.1'] / 1000:,.1f} KB", f"{share:.1%}"]
    ]
    assert "top 10% of 2 domain names" in md


def test_unknowable_fields_are_marked_placeholders(outputs):
    md = outputs["md"]
    for field in ("name and contact of the provider", "yes / no", "paywalls, logins, CAPTCHAs"):
        assert f"[PROVIDER: {field}" in md


def test_top_ten_percent_of_domains_by_content_kept():
    lines = []
    for i in range(25):  # 25 domains: the top 10 % is 3 of them
        for decision, size in (("allow", (i + 1) * 100), ("deny", 10_000)):
            lines.append(json.dumps({"stage": "response", "origin": f"https://d{i}.example:443",
                                     "decision": decision, "bytes": size}))  # fmt: skip
    lines.append(
        json.dumps({"stage": "response", "origin": "https://old.example:443", "decision": "allow"})
    )
    facts = facts_of(lines)
    total = sum((i + 1) * 100 for i in range(25))
    assert facts.top_domains() == [
        ("d24.example", 2500, 2500 / total), ("d23.example", 2400, 2400 / total),
        ("d22.example", 2300, 2300 / total)]  # fmt: skip
    assert facts.responses_without_size == 1
    assert facts.total_bytes == total + 25 * 10_000


def test_an_old_log_without_sizes_says_so():
    out = io.StringIO()
    line = {"stage": "response", "origin": "http://a.example:80", "decision": "allow", "time": "t"}
    render_summary(summarise([json.dumps(line)]), facts_of([json.dumps(line)]), Crawler(), out)
    text = out.getvalue()
    assert "Responses without a recorded size: 1" in text
    assert "[PROVIDER: no response sizes in this log]" in text
    assert "[PROVIDER: robots.txt product token]" in text


def test_the_crawl_line_names_the_crawler(crawled, tmp_path):
    """The log's ``crawl`` start line names the crawler: no options needed."""
    done = run_scrapy(["ccsignals-summary", str(crawled["dir"] / "audit.jsonl")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "| ExampleAIBot | ExampleAIBot/1.0 (+https://example.org/bot) | train-ai |" in done.stdout
    )
    start = {"stage": "crawl", "action": "started", "token": "B", "user_agent": "B/2",
             "purpose": "search"}  # fmt: skip
    summary = summarise([json.dumps(start)])
    crawler = Crawler.from_summary(summary, contact="x@example.org")
    assert (crawler.user_agent, crawler.token, crawler.purpose) == ("B/2", "B", "search")
    assert Crawler.from_summary(summary, token="C").token == "C"


def test_crawler_page(outputs):
    page = outputs["page"]
    parser = HTMLParser()
    parser.feed(page)  # well-formed enough to parse
    assert "<h1>ExampleAIBot</h1>" in page
    assert "User-agent: ExampleAIBot\nDisallow: /" in page
    assert "bots@example.org" in page
    for protocol in ("RFC 9309", "W3C TDMRep", "draft-ietf-aipref-vocab", "cc-signals draft 0.1"):
        assert protocol in page


def test_hostile_text_is_escaped_in_the_page():
    from scrapy_ccsignals.records.crawler_page import render_crawler_page

    page = render_crawler_page(Crawler(user_agent="<script>x</script>", token="T"))
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_streams_several_logs(tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"a{n}.jsonl"
        path.write_text(json.dumps({"stage": "response", "origin": "http://a:80", "decision": "allow",
                                    "bytes": 10, "time": f"2026-01-0{n + 1}T00:00:00Z"}) + "\n")  # fmt: skip
        paths.append(str(path))
    summary, facts = read_audit(paths)
    assert summary.overall.fetched == 2 and facts.total_bytes == 20
    assert (summary.first_time, summary.last_time) == (
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
    )
    assert summary.sources == [(paths[0], 1), (paths[1], 1)]


def test_command_errors(tmp_path):
    done = run_scrapy(["ccsignals-summary", "missing.jsonl"], tmp_path)
    assert done.returncode == 2 and "no such file" in done.stderr
