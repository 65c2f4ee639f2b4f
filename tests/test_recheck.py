"""``scrapy ccsignals-recheck``: a dataset crawled by the plugin, sites that change their minds
afterwards, and the re-check that withdraws exactly the items they now reserve. Real crawls
against the loopback test server; the command runs as a user runs it, in a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from scrapy.exporters import CsvItemExporter, JsonItemExporter
from twisted.internet import defer

from scrapy_ccsignals.records.recheck import FeedError, provenance_of, read_feeds
from tests.crawling import page, run_crawl, text
from tests.scrapy_cli import ROOT, _entry_points_dir, run_scrapy

USER_AGENT = "TestBot/1.0 (+http://127.0.0.1)"
# ``python -m scrapy`` that also reports the process's peak RSS on exit (VmHWM: ru_maxrss
# would carry the forking pytest's peak over exec).
MEASURED = """
import atexit, runpy, sys
def _peak():
    status = open("/proc/self/status").read()
    print("VMHWM_KB=" + status.split("VmHWM:")[1].split()[0], file=sys.stderr)
atexit.register(_peak)
sys.argv[0] = "scrapy"
runpy.run_module("scrapy", run_name="__main__")
"""


def recheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_scrapy(["ccsignals-recheck", *args, "-s", f"USER_AGENT={USER_AGENT}"], cwd)


def recheck_measured(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """The command as :func:`recheck` runs it, and its peak RSS in MB."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [
            str(_entry_points_dir(cwd / ".entry-points")),
            str(ROOT),
            *filter(None, [env.get("PYTHONPATH")]),
        ]
    )
    command = ["ccsignals-recheck", *args, "-s", f"USER_AGENT={USER_AGENT}"]
    out = subprocess.run(
        [sys.executable, "-c", MEASURED, *command],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return out, int(out.stderr.rsplit("VMHWM_KB=", 1)[1].split()[0]) / 1024


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_url(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["url"]: item for item in items}


ALLOW_ALL = text("User-agent: *\nAllow: /\n")


def news_routes(robots: dict[str, Any]) -> dict[str, Any]:
    return {
        "/robots.txt": robots,
        "/": {"body": page("News", '<a href="/open/1">o</a><a href="/private/1">p</a>'
                                   '<a href="/private/2">q</a>')},
        "/open/1": {"body": page("Open")},
        "/private/*": {"body": page("Private")},
    }  # fmt: skip


def blog_routes(tdmrep: dict[str, Any]) -> dict[str, Any]:
    meta_zero = '<meta name="tdm-reservation" content="0">'
    return {
        "/robots.txt": ALLOW_ALL,
        "/.well-known/tdmrep.json": tdmrep,
        "/": {"body": page("Blog", '<a href="/articles/1">1</a><a href="/articles/2">2</a>'
                                   '<a href="/articles/3">3</a><a href="/about">a</a>')},
        "/articles/1": {"body": page("One")},
        "/articles/2": {"body": page("Two")},
        # The page's own statement overrides tdmrep.json (TDMRep cascade).
        "/articles/3": {"body": page("Three", head=meta_zero)},
        "/about": {"body": page("About")},
    }  # fmt: skip


def shop_routes(c1_headers: dict[str, str]) -> dict[str, Any]:
    return {
        "/robots.txt": ALLOW_ALL,
        "/": {"body": page("Shop", '<a href="/c1">c1</a>')},
        "/c1": {"body": page("C1"), "headers": {"Content-Type": "text/html", **c1_headers}},
    }


def museum_routes(robots: dict[str, Any]) -> dict[str, Any]:
    return {"/robots.txt": robots, "/": {"body": page("Museum")}}


@pytest.fixture
def web(server, tmp_path):
    """Four origins crawled into a JSON-lines feed; returns their URLs and the feed."""
    sites = {
        "news": server.add_origin(news_routes(ALLOW_ALL)),
        "blog": server.add_origin(blog_routes(text("[]"))),
        "shop": server.add_origin(shop_routes({})),
        "museum": server.add_origin(museum_routes(ALLOW_ALL)),
    }
    feed = tmp_path / "items.jsonl"
    pytest_twisted.blockon(
        defer.ensureDeferred(
            run_crawl(
                [f"{u}/" for u in sites.values()],
                {"FEEDS": {str(feed): {"format": "jsonlines"}}, "LOG_LEVEL": "WARNING"},
            )
        )
    )
    items = lines(feed)
    assert len(items) == 12
    assert all(item["ccsignals"]["decision"] == "allow" for item in items)
    return sites, feed


def test_recheck_withdraws_exactly_the_items_sites_now_reserve(server, web, tmp_path):
    sites, feed = web
    # Nothing changed yet: everything is kept, exit 0.
    out = recheck(str(feed), "-o", "kept0.jsonl", "--withdrawn", "w0.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert len(lines(tmp_path / "kept0.jsonl")) == 12
    assert lines(tmp_path / "w0.jsonl") == []

    news, blog, museum = sites["news"], sites["blog"], sites["museum"]
    server.set_routes(news, news_routes(text("User-agent: *\nDisallow: /private/\n")))
    reserve = json.dumps([{"location": "/articles/*", "tdm-reservation": 1}])
    server.set_routes(
        blog, blog_routes({"body": reserve, "headers": {"Content-Type": "application/json"}})
    )
    server.set_routes(museum, museum_routes({"status": 503, "body": "busy"}))
    out = recheck(
        str(feed), "-o", "kept.jsonl", "--withdrawn", "withdrawn.jsonl",
        "--audit", "recheck-audit.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    withdrawn = by_url(lines(tmp_path / "withdrawn.jsonl"))
    kept = by_url(lines(tmp_path / "kept.jsonl"))
    assert set(withdrawn) == {
        f"{news}/private/1",
        f"{news}/private/2",
        f"{blog}/articles/1",
        f"{blog}/articles/2",
        f"{museum}/",
    }
    assert len(kept) == 7 and not set(kept) & set(withdrawn)
    for url in (f"{news}/private/1", f"{news}/private/2"):
        record = withdrawn[url]["ccsignals"]
        assert record["decision"] == "forbidden"
        assert record["reasons"] == [f"disallowed by robots.txt group '*': {news}/robots.txt"]
        assert record["recheck"]["previous"]["decision"] == "allow"
    for url in (f"{blog}/articles/1", f"{blog}/articles/2"):
        record = withdrawn[url]["ccsignals"]
        assert record["decision"] == "deny"
        assert record["reasons"] == [
            f"deny by tdmrep tdmrep.json {blog}/.well-known/tdmrep.json: "
            '{"location": "/articles/*", "tdm-reservation": 1, "tdm-policy": null}'
        ]
        tdm = next(p for p in record["policies"] if p["kind"] == "tdmrep.json")
        assert tdm["outcome"] == "found" and tdm["cached"] is False
    museum_record = withdrawn[f"{museum}/"]["ccsignals"]
    assert museum_record["decision"] == "forbidden"
    assert museum_record["reasons"][0].startswith("cannot verify: robots.txt unreachable (503)")
    # The page's own tdm-reservation=0 still overrides the new tdmrep.json.
    three = kept[f"{blog}/articles/3"]["ccsignals"]
    assert three["decision"] == "allow"
    assert any(
        "(overridden)" in s["value"] for s in three["signals"] if s["layer"] == "tdmrep.json"
    )
    for item in kept.values():
        assert item["ccsignals"]["rechecked_at"] >= item["ccsignals"]["fetched_at"]
    # What changed, per origin and why.
    assert f"{news}: 2 kept, 2 withdrawn (2 newly withdrawn, 0 newly kept)" in out.stdout
    assert "robots.txt: CHANGED" in out.stdout and "tdmrep.json: CHANGED" in out.stdout
    assert "Total: 12 items, 7 kept, 5 withdrawn (5 newly withdrawn)" in out.stdout
    # The audit log: each policy file fetched again, each withdrawn item with its reason.
    audit = lines(tmp_path / "recheck-audit.jsonl")
    fetched = {(a["policy"]["kind"], a["origin"]) for a in audit if a["stage"] == "policy"}
    assert len(fetched) == 8
    assert {a["url"] for a in audit if a["stage"] == "recheck"} == set(withdrawn)
    # The policy files were requested once more each, and no page was.
    assert server.paths(news).count("/robots.txt") == 3

    # The kept items re-checked again: nothing more to withdraw.
    again = recheck("kept.jsonl", "-o", "kept2.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(lines(tmp_path / "kept2.jsonl")) == 7


def test_refetch_pages_sees_a_changed_header(server, web, tmp_path):
    sites, feed = web
    shop = sites["shop"]
    server.set_routes(shop, shop_routes({"X-Robots-Tag": "noai"}))
    stored = recheck(str(feed), "--withdrawn", "w.jsonl", cwd=tmp_path)
    assert stored.returncode == 0, stored.stderr  # the stored headers said nothing
    before = len(server.paths(shop))
    out = recheck(
        str(feed), "--refetch-pages", "-o", "k.jsonl", "--withdrawn", "w.jsonl", cwd=tmp_path
    )
    assert out.returncode == 1, out.stderr
    withdrawn = by_url(lines(tmp_path / "w.jsonl"))
    assert set(withdrawn) == {f"{shop}/c1"}
    record = withdrawn[f"{shop}/c1"]["ccsignals"]
    assert record["decision"] == "deny"
    assert record["reasons"] == [f"deny by noai header {shop}/c1: X-Robots-Tag: noai"]
    assert record["recheck"]["refetched"] is True
    kept = lines(tmp_path / "k.jsonl")
    assert len(kept) == 11 and all(i["ccsignals"]["recheck"]["refetched"] for i in kept)
    # Each page once, plus its origin's policy files.
    assert sorted(server.paths(shop)[before:]) == [
        "/",
        "/.well-known/tdmrep.json",
        "/c1",
        "/robots.txt",
    ]


def test_feeds_as_scrapy_writes_them(tmp_path):
    record = {"url": "http://a.example/x", "decision": "allow", "signals": []}
    items = [{"url": "http://a.example/x", "ccsignals": record, "n": i} for i in range(3)]
    as_json = io.BytesIO()
    exporter = JsonItemExporter(as_json)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    (tmp_path / "a.json").write_bytes(as_json.getvalue())
    assert list(read_feeds([tmp_path / "a.json"])) == items
    (tmp_path / "b.json").write_text(json.dumps(items, indent=4))  # pretty-printed
    assert list(read_feeds([tmp_path / "b.json"])) == items
    as_csv = io.BytesIO()
    exporter = CsvItemExporter(as_csv)  # writes a dict as its Python repr
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    (tmp_path / "c.csv").write_bytes(as_csv.getvalue())
    rows = list(read_feeds([tmp_path / "c.csv"]))
    assert [provenance_of(r, "ccsignals") for r in rows] == [record] * 3
    (tmp_path / "d.csv").write_text(
        'url,ccsignals\nhttp://a.example/x,"' + json.dumps(record).replace('"', '""') + '"\n'
    )
    assert provenance_of(next(read_feeds([tmp_path / "d.csv"])), "ccsignals") == record


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"a": 1}\n{"a": \n', "bad.jsonl: 1 entries are not items"),
        ("bad.json", '[{"a": 1}, {"a": ', "bad.json: 1 entries are not items"),
        ("list.jsonl", "[1, 2]\n3\n", "list.jsonl: 2 entries are not items"),
    ],
)
def test_bad_feed_is_one_line_and_exit_2(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(FeedError, match=message):
        list(read_feeds([tmp_path / name]))
    out = recheck(name, cwd=tmp_path)
    assert out.returncode == 2
    errors = out.stderr.splitlines()
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in out.stderr


def test_missing_file_and_bad_setting_exit_2(tmp_path):
    out = recheck("nothing.jsonl", cwd=tmp_path)
    assert out.returncode == 2 and "nothing.jsonl: cannot open" in out.stderr
    (tmp_path / "e.jsonl").write_text("")
    out = recheck("e.jsonl", "-s", "CCSIGNALS_DEFAULT=maybe", cwd=tmp_path)
    assert out.returncode == 2 and "CCSIGNALS_DEFAULT" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_large_feed_rechecks_in_bounded_memory(server, web, tmp_path):
    sites, feed = web
    template = next(i for i in lines(feed) if i["url"] == f"{sites['shop']}/c1")
    pad = "x" * 800

    def write(path: Path, count: int) -> None:
        with path.open("w") as out:
            for n in range(count):
                url = f"{sites['shop']}/c1?n={n}"
                record = dict(template["ccsignals"], url=url)
                out.write(json.dumps({"url": url, "text": pad, "ccsignals": record}) + "\n")

    write(tmp_path / "small.jsonl", 1_000)
    write(tmp_path / "large.jsonl", 100_000)
    small, small_mb = recheck_measured("small.jsonl", "-o", "small-kept.jsonl", cwd=tmp_path)
    large, large_mb = recheck_measured("large.jsonl", "-o", "large-kept.jsonl", cwd=tmp_path)
    assert small.returncode == 0 and large.returncode == 0, large.stderr
    with (tmp_path / "large-kept.jsonl").open() as kept:
        assert sum(1 for _ in kept) == 100_000
    size_mb = (tmp_path / "large.jsonl").stat().st_size / 2**20
    assert size_mb > 100
    # Streaming: 100 times the items, nearly the same peak (loosely: 40 MB).
    print(f"peak RSS {small_mb:.0f} MB for 1,000 items, {large_mb:.0f} MB for 100,000")
    assert large_mb - small_mb < 40, (small_mb, large_mb)


def test_a_policy_file_that_cannot_be_fetched_now_is_not_called_changed():
    """An origin that is down during the re-check: its robots.txt did not change, it could
    not be read; the line says so, with the hash the items rest on."""
    from scrapy_ccsignals.records.recheck import policy_change

    before = {"59406d6c608f" + "0" * 52}
    down = {"outcome": "unreachable", "status": None, "sha256": None, "detail": "refused"}
    line = policy_change("robots.txt", before, down)
    assert "CHANGED" not in line
    assert line == (
        "robots.txt: could not be fetched now (unreachable, status None, refused); "
        "the items rest on sha256 59406d6c608f"
    )
    changed = {"outcome": "parsed", "status": 200, "sha256": "1946a9bc" + "0" * 56}
    assert "CHANGED sha256 59406d6c608f -> 1946a9bc0000" in policy_change(
        "robots.txt", before, changed
    )
