"""Issue 28 item 4: each command knows the kind of file it was given, output to a reader
that stops early ends quietly, counts read as English, the card is named after the crawl,
a refused connection names its error type once."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tests.crawling import page, text
from tests.test_report import ENV, SCRAPY, scrapy


def one_line_error(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("feed", ["items.jsonl", "items.json", "items.csv"])
def test_audit_commands_refuse_an_items_feed(crawled, feed):
    items = str(crawled["dir"] / feed)
    expected = "is an items feed; expected an audit log"
    one_line_error(scrapy("ccsignals-report", items), items, expected)
    one_line_error(scrapy("ccsignals-summary", items), items, expected)
    audit = str(crawled["dir"] / "audit.jsonl")
    one_line_error(scrapy("ccsignals-card", audit, "--audit", audit, "-o", "/dev/null"),
                   audit, "is an audit log; expected an items feed")  # fmt: skip
    one_line_error(scrapy("ccsignals-card", items, "--audit", items, "-o", "/dev/null"),
                   expected)  # fmt: skip


def test_item_commands_refuse_an_audit_log(crawled):
    audit = str(crawled["dir"] / "audit.jsonl")
    one_line_error(
        scrapy("ccsignals-credits", audit), audit, "is an audit log; expected an items feed"
    )
    one_line_error(
        scrapy("ccsignals-recheck", audit), audit, "is an audit log; expected an items feed"
    )


def test_inputs_that_name_no_file(crawled, tmp_path):
    one_line_error(scrapy("ccsignals-report", str(tmp_path / "none-*.jsonl")), "no such file")
    one_line_error(scrapy("ccsignals-credits", str(tmp_path / "x.jsonl")), "no such file")


def closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
    """A command whose reader has gone before it writes (as ``| head`` leaves it)."""
    proc = subprocess.Popen(
        [*SCRAPY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        stderr = proc.stderr.read()
    proc.wait(300)
    return subprocess.CompletedProcess(args, proc.returncode, "", stderr)


def test_output_to_a_reader_that_stops_early_is_no_traceback(crawled, server):
    site = server.add_origin({"/robots.txt": text(""), "/p": {"body": page("P", "x" * 20000)}})
    runs = [
        closed_stdout("ccsignals-check", "--json", site + "/p"),
        closed_stdout("ccsignals-report", "--json", str(crawled["dir"] / "audit.jsonl")),
        closed_stdout("ccsignals-credits", str(crawled["dir"] / "items.jsonl")),
    ]
    for run in runs:
        assert "BrokenPipeError" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert runs[0].returncode == 0 and runs[1].returncode == 0


def test_counts_of_one_are_singular(crawled, tmp_path):
    items = (crawled["dir"] / "items.jsonl").read_text().splitlines()
    one = tmp_path / "one.jsonl"
    one.write_text(next(i for i in items if '"decision": "allow"' in i) + "\n")
    credits = scrapy("ccsignals-credits", str(one), "-o", str(tmp_path / "c.md"))
    assert credits.returncode == 0, credits.stderr
    assert "Credits for 1 work from 1 collection written" in credits.stderr
    assert "holds 1 work from 1 collection (web sites)" in (tmp_path / "c.md").read_text()

    audit = tmp_path / "audit.jsonl"
    lines = (crawled["dir"] / "audit.jsonl").read_text().splitlines()
    audit.write_text("\n".join([lines[0], *[x for x in lines if '"stage": "request"' in x][:1]]))
    card = scrapy("ccsignals-card", str(one), "--audit", str(audit), "-o", str(tmp_path / "c.json"))
    assert card.returncode == 0, card.stderr
    assert "Croissant card for 1 item written" in card.stderr
    collection = json.loads((tmp_path / "c.json").read_text())["rai:dataCollection"]
    assert "1 request to 1 site" in collection and "holds 1 item," in collection
    report = scrapy("ccsignals-report", str(audit))
    assert report.returncode == 0, report.stderr
    assert f"{audit} (2 lines)" in report.stdout


def test_card_is_named_after_the_crawl(crawled, tmp_path):
    out = tmp_path / "croissant.json"
    folder = crawled["dir"]
    done = scrapy(
        "ccsignals-card", str(folder / "items.jsonl"), "--audit", str(folder / "audit.jsonl"),
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    started = json.loads((folder / "audit.jsonl").read_text().splitlines()[0])
    assert json.loads(out.read_text())["name"] == started["spider"] != "croissant"


def test_refused_connection_names_its_error_type_once(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    result = scrapy("ccsignals-check", f"http://127.0.0.1:{port}/x", cwd=tmp_path)
    assert result.returncode == 2
    decision = next(x for x in result.stdout.splitlines() if x.startswith("Decision:"))
    assert decision.count("ConnectionRefusedError") == 1, decision
    data = json.loads(scrapy("ccsignals-check", "--json", f"http://127.0.0.1:{port}/x").stdout)
    assert "ConnectionRefusedError" in data["error"]["type"]
    assert "ConnectionRefusedError" not in data["error"]["message"]
    assert "refused" in data["error"]["message"]


def test_items_feed_may_be_gzip(crawled, tmp_path):
    import gzip

    plain = crawled["dir"] / "items.jsonl"
    packed = tmp_path / "items.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a = scrapy("ccsignals-credits", "--format", "json", str(plain))
    b = scrapy("ccsignals-credits", "--format", "json", str(packed))
    assert b.returncode == 0, b.stderr
    assert json.loads(a.stdout)["works"] == json.loads(b.stdout)["works"]
