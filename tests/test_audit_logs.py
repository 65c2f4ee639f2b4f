"""Issue 28 items 1-2 and issue 29 item 4: the audit log is on by default, one file per
crawl; every line names its crawl and no command counts two crawls as one; gzip, rotation,
globs and several files read as one set of crawls."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest_twisted
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapy_ccsignals.records.audit import AuditLog
from scrapy_ccsignals.records.crawls import select_crawls
from scrapy_ccsignals.records.inputs import ReadStats, expand_paths, iter_lines
from tests.crawling import page, run_crawl, text
from tests.scrapy_cli import run_scrapy
from tests.test_config_errors import runspider


def lines_of(path: Path) -> list[dict]:
    with gzip.open(path) if path.name.endswith(".gz") else path.open("rb") as handle:
        return [json.loads(raw) for raw in handle if raw.strip()]


def site(server, pages: int) -> str:
    links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(pages))
    return server.add_origin(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private\n"),
            "/": {"body": page("Home", links + '<a href="/private">x</a>')},
            "/p*": {"body": page("P")},
        }
    )


def report(tmp_path: Path, *args: str) -> tuple[dict, str]:
    result = run_scrapy(["ccsignals-report", "--json", *args], tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_audit_log_is_on_by_default_one_file_per_crawl(tmp_path):
    result = runspider(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    logs = list((tmp_path / "audit").glob("*.jsonl"))  # beside it: the evidence WARC
    assert len(logs) == 1
    assert re.fullmatch(r"s-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.jsonl", logs[0].name), logs
    lines = lines_of(logs[0])
    assert [lines[0]["action"], lines[-1]["action"]] == ["started", "finished"]
    crawl = lines[0]["crawl"]
    assert crawl and all(line["crawl"] == crawl for line in lines)
    # the id comes first, so a reader can tell crawls apart without parsing the line
    assert logs[0].read_text().startswith('{"crawl": "' + crawl + '", ')
    assert str(logs[0].relative_to(tmp_path)) in result.stderr  # the start-up line says where


@pytest_twisted.ensureDeferred
async def test_audit_log_none_turns_it_off(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    origin = server.add_origin({"/robots.txt": text(""), "/p": {"body": page("P")}})
    await run_crawl([origin + "/p"], {"CCSIGNALS_AUDIT_LOG": None})
    await run_crawl([origin + "/p"], {"CCSIGNALS_AUDIT_LOG": ""})
    assert list(tmp_path.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_two_crawls_in_one_log_are_never_counted_as_one(server, tmp_path):
    log = tmp_path / "audit.jsonl"
    small, big = site(server, 1), site(server, 3)
    await run_crawl([small + "/"], {"CCSIGNALS_AUDIT_LOG": str(log)})
    await run_crawl([big + "/"], {"CCSIGNALS_AUDIT_LOG": str(log)})
    ids = list(dict.fromkeys(line["crawl"] for line in lines_of(log)))
    assert len(ids) == 2

    latest, notice = report(tmp_path, str(log))
    assert latest["overall"]["requests"] == 5  # home, 3 pages, /private
    assert latest["crawls_in_logs"] == 2 and latest["selected_crawls"] == [ids[1]]
    assert "2 crawls" in notice and ids[1] in notice and "--all-crawls" in notice
    first, _ = report(tmp_path, str(log), "--crawl", ids[0])
    assert first["overall"]["requests"] == 3
    text = run_scrapy(["ccsignals-report", str(log)], tmp_path).stdout
    assert f"Crawl id: {ids[1]} (the logs hold 2 crawls)" in text
    both, notice = report(tmp_path, str(log), "--all-crawls")
    assert both["overall"]["requests"] == 8 and both["selected_crawls"] is None
    assert "2 crawls" in notice

    unknown = run_scrapy(["ccsignals-report", str(log), "--crawl", "nope"], tmp_path)
    assert unknown.returncode == 2 and ids[0] in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1

    summary = run_scrapy(["ccsignals-summary", str(log)], tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert "2 crawls" in summary.stderr
    assert "Requests not sent because of robots.txt: 1" in summary.stdout or "1" in summary.stdout


@pytest_twisted.ensureDeferred
async def test_gzip_and_rotated_logs_give_the_report_of_one_plain_log(server, tmp_path):
    origin = site(server, 6)
    plain = tmp_path / "plain.jsonl"
    await run_crawl([origin + "/"], {"CCSIGNALS_AUDIT_LOG": str(plain)})
    parts = tmp_path / "parts"
    await run_crawl(
        [origin + "/"],
        {
            "CCSIGNALS_AUDIT_LOG": str(parts / "%(name)s-%(batch_id)d.jsonl.gz"),
            "CCSIGNALS_AUDIT_LOG_ROTATE_LINES": 4,
        },
    )
    files = sorted(parts.glob("*.jsonl.gz"))
    assert len(files) == -(-len(lines_of(plain)) // 4) > 2
    assert all(f.read_bytes()[:2] == b"\x1f\x8b" for f in files)
    assert all(len(lines_of(f)) <= 4 for f in files)
    assert len({line["crawl"] for f in files for line in lines_of(f)}) == 1

    one, _ = report(tmp_path, str(plain))
    rotated, notice = report(tmp_path, str(parts / "*.jsonl.gz"))
    assert "policy_files" not in one["overall"]  # an origin's facts are under that origin
    for data in (one, rotated):
        for tally in data["origins"].values():
            for policy in tally["policy_files"].values():
                policy.pop("fetched_at")  # the two crawls fetched robots.txt apart
    for key in ("overall", "origins", "items_kept"):
        assert rotated[key] == one[key], key
    assert "1 crawl:" in notice
    assert len(rotated["sources"]) == len(files)
    # the same parts given one by one, and a .gz piped into standard input
    listed, _ = report(tmp_path, *map(str, files))
    assert listed["overall"] == one["overall"]


def test_rotation_by_bytes_and_a_gzip_cut_short(tmp_path):
    template = str(tmp_path / "a-%(batch_id)d.jsonl.gz")
    log = AuditLog(
        Path(template % {"batch_id": 1}),
        crawl="c1",
        next_path=lambda n: Path(template % {"batch_id": n}),
        rotate_bytes=300,
    )
    for i in range(20):
        log.write({"stage": "request", "action": "error", "url": f"http://x/{i}"})
    log.close()
    assert len(log.paths) > 3
    sizes = [len(gzip.decompress(p.read_bytes())) for p in log.paths]
    assert all(size <= 300 for size in sizes), sizes
    read = [json.loads(raw) for _, raw in iter_lines(expand_paths([str(tmp_path / "*.gz")]))]
    assert [line["url"] for line in read] == [f"http://x/{i}" for i in range(20)]

    # a crawl killed mid-write: every flushed member stays readable, the cut is reported
    first = log.paths[0]
    whole = first.read_bytes() + gzip.compress(b'{"crawl": "c1", "stage": "x"}\n' * 50)
    first.write_bytes(whole[:-20])
    stats = ReadStats()
    assert len(list(iter_lines([str(first)], stats))) >= 1
    assert stats.truncated == [str(first)]
    assert len(select_crawls([str(first)]).found) == 1


def test_report_reads_gzip_from_standard_input(tmp_path):
    data = b"".join(
        json.dumps({"crawl": "c", "stage": "request", "action": "error", "url": f"http://a/{i}",
                    "origin": "http://a:80", "reasons": ["boom"]}).encode() + b"\n"
        for i in range(3)
    )  # fmt: skip
    out = run_scrapy(["ccsignals-report", "--json", "-"], tmp_path, stdin=gzip.compress(data))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["overall"]["errors"] == 3


def test_a_part_that_cannot_be_opened_is_one_error_and_the_writer_goes_on(tmp_path, caplog):
    (tmp_path / "blocked").write_text("a file where the next part's folder would be")
    log = AuditLog(
        tmp_path / "a-1.jsonl",
        crawl="c1",
        next_path=lambda n: tmp_path / "blocked" / f"a-{n}.jsonl",
        rotate_lines=2,
    )
    for i in range(10):
        log.write({"stage": "request", "action": "error", "url": f"http://x/{i}"})
    log.close()
    assert len(lines_of(tmp_path / "a-1.jsonl")) == 2
    errors = [r for r in caplog.records if "Cannot write the ccsignals audit log" in r.message]
    assert len(errors) == 1 and errors[0].levelname == "ERROR"


def test_a_line_is_its_record_as_json_dumps_writes_it(tmp_path):
    """The writer encodes with one encoder for the crawl (not a new one per line, as
    ``json.dumps`` with options builds): the same text, non-ASCII kept, a value JSON has no
    type for written as its ``str``."""
    from scrapy_ccsignals.records.audit import encode_line

    class Odd:
        def __str__(self) -> str:
            return "odd value"

    record = {
        "url": "http://x/é",
        "reasons": ["na\u00efve \u2013 \u201cquoted\u201d \u00e9", 'a "b" \\ c\n'],
        "signals": [{"family": "aipref", "conditions": ["cc-cr"], "n": 1.5, "ok": True}],
        "license": None,
        "odd": Odd(),
    }
    expected = json.dumps(record, ensure_ascii=False, default=str)
    assert encode_line(record) == expected
    log = AuditLog(tmp_path / "a.jsonl", crawl="c1")
    log.write(dict(record, time="t"))
    log.close()
    written = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert written == '{"crawl": "c1", ' + expected[1:-1] + ', "time": "t"}\n'


def test_a_lone_surrogate_does_not_stop_the_log(tmp_path):
    """A string Python holds but UTF-8 cannot (a lone surrogate, from a spider's own value)
    is written escaped; the line and every later line are still written."""
    log = AuditLog(tmp_path / "a.jsonl", crawl="c1")
    log.write({"url": "http://x/\ud800", "time": "t"})
    log.write({"url": "http://x/after", "time": "t"})
    log.close()
    lines = lines_of(tmp_path / "a.jsonl")
    assert [line["url"] for line in lines] == ["http://x/\ud800", "http://x/after"]


_PLAIN_FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: "e" not in repr(f)
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _PLAIN_FLOATS | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), _JSON, max_size=8))
def test_a_line_has_the_text_json_dumps_gives(record):
    """msgspec writes the line; for JSON's own types (and floats without an exponent) the
    text is the standard library's, byte for byte."""
    from scrapy_ccsignals.records.audit import encode_line

    assert encode_line(record) == json.dumps(record, ensure_ascii=False, default=str)
