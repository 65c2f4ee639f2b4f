"""ccsignals-credits: feeds in every format Scrapy writes, credits per collection and per
work, what is not credited, hostile text, and the real command."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from scrapy_ccsignals.records.credits import license_name, origin_label, write_credits
from scrapy_ccsignals.records.feeds import FeedStats, iter_items
from tests.scrapy_cli import run_scrapy


def as_json(paths, **kwargs):
    out = io.StringIO()
    write_credits([str(p) for p in paths], out, "json", **kwargs)
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("spdx", "name"),
    [("CC-BY-4.0", "CC BY 4.0"), ("CC-BY-NC-SA-3.0-DE", "CC BY-NC-SA 3.0 DE"), ("CC0-1.0", "CC0 1.0"),
     ("CC-PDM-1.0", "Public Domain Mark 1.0"), ("CC-SA-1.0", "CC SA 1.0"), ("MIT", "MIT"), (None, "")],
)  # fmt: skip
def test_license_names(spdx, name):
    assert license_name(spdx) == name


@pytest.mark.parametrize(
    ("url", "origin"),
    [("http://a.example/x", "http://a.example"), ("HTTPS://A.example:8443/", "https://a.example:8443"),
     ("http://[::1]:80/p", "http://[::1]:80"), ("not a url", "?"), ("http://a.example:99999/", "?")],
)  # fmt: skip
def test_origin_label(url, origin):
    assert origin_label(url) == origin


def allowed_items(crawled):
    lines = (crawled["dir"] / "items.jsonl").read_text().splitlines()
    return [i for i in map(json.loads, lines) if i["ccsignals"]["decision"] == "allow"]


def collections(crawled) -> int:
    """The origins the credited items come from."""
    return len({re.match(r"https?://[^/]+", i["url"]).group(0) for i in allowed_items(crawled)})


def test_the_three_feed_formats_give_the_same_credits(crawled):
    folder = crawled["dir"]
    results = [as_json([folder / name]) for name in ("items.jsonl", "items.json", "items.csv")]
    assert results[0]["credited"] == len(allowed_items(crawled)) > 10
    for other in results[1:]:
        assert other["collections"] == results[0]["collections"]
        assert sorted(w["attribution"] for w in other["works"]) == sorted(
            w["attribution"] for w in results[0]["works"]
        )


def test_collections_and_works_from_a_real_crawl(crawled):
    sites = crawled["sites"]
    result = as_json([crawled["dir"] / "items.jsonl"])
    by_origin = {c["origin"]: c for c in result["collections"]}
    assert by_origin[sites["blog"]]["site_name"] == "Field Notes"
    assert by_origin[sites["encyclopedia"]]["licenses"] == {
        "CC-BY-SA-4.0": 5
    }  # home and 4 articles
    assert by_origin[sites["research"]]["conditions"] == {"cc-cr": 3}
    assert sites["forum"] not in by_origin and sites["portfolio"] not in by_origin
    assert sum(c["works"] for c in result["collections"]) == result["credited"]
    heron = next(w for w in result["works"] if w["url"].endswith("/posts/heron"))
    assert heron["attribution"] == (
        f'"The heron\'s patience" by Ada Lund, from Field Notes ({heron["url"]}), licensed '
        "under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); © 2026 Ada Lund."
    )


def test_markdown_escapes_titles_and_links_only_http(tmp_path):
    feed = tmp_path / "items.jsonl"
    records = [
        {"url": "http://a.example/1", "decision": "allow",
         "attribution": {"title": "Moss [x](javascript:alert(1)) | *b*", "creator": "<img src=x>",
                         "attribution_url": "javascript:alert(1)"}},
        {"url": "http://a.example/2", "decision": "allow", "conditions": ["cc-cr"],
         "license": {"id": "CC-BY-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}},
    ]  # fmt: skip
    feed.write_text("".join(json.dumps({"ccsignals": r}) + "\n" for r in records))
    out = io.StringIO()
    write_credits([str(feed)], out, "md")
    text = out.getvalue()
    assert not re.search(r"(?<!\\)\]\(javascript", text)  # no link to it, escaped or not
    assert "Moss \\[x\\](javascript:alert(1)) \\| \\*b\\*" in text
    assert "\\<img src=x\\>" in text
    assert "- [Untitled work](http://a.example/2), from http://a.example, licensed under " \
           "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/) (conditions: cc-cr)." in text  # fmt: skip
    assert "| http://a.example | - | 2 | none (1), CC BY 4.0 (1) | cc-cr (1) |" in text


def test_denied_and_unprovenanced_items_are_counted_not_credited(tmp_path):
    feed = tmp_path / "items.jsonl"
    feed.write_text(
        json.dumps({"ccsignals": {"url": "http://a.example/", "decision": "allow"}}) + "\n"
        + json.dumps({"ccsignals": {"url": "http://a.example/x", "decision": "deny"}}) + "\n"
        + json.dumps({"url": "http://a.example/y"}) + "\n"
        + "{torn line\n[1, 2]\n"
    )  # fmt: skip
    result = as_json([feed])
    assert (result["credited"], result["denied"], result["without_provenance"]) == (1, 1, 1)
    assert result["unreadable"] == 2
    assert [w["url"] for w in result["works"]] == ["http://a.example/"]
    out = io.StringIO()
    write_credits([str(feed)], out, "md")
    assert "Not credited: 1 item marked `deny` in its provenance; 1 item without " \
           "provenance; 2 unreadable entries." in out.getvalue()  # fmt: skip


def test_csv_has_collection_rows_then_work_rows(crawled):
    out = io.StringIO()
    write_credits([str(crawled["dir"] / "items.jsonl")], out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    kinds = [r["record"] for r in rows]
    assert kinds == sorted(kinds)  # "collection" rows first
    assert kinds.count("collection") == collections(crawled) and kinds.count("work") == len(
        allowed_items(crawled)
    )
    assert {r["conditions"] for r in rows if r["origin"] == crawled["sites"]["research"]} == {
        "cc-cr (3)", "cc-cr"}  # fmt: skip


def test_custom_provenance_field(tmp_path):
    feed = tmp_path / "items.jsonl"
    feed.write_text(json.dumps({"prov": {"url": "http://a.example/", "decision": "allow"}}) + "\n")
    assert as_json([feed])["credited"] == 0
    assert as_json([feed], field_name="prov")["credited"] == 1


@pytest.mark.parametrize(
    ("text", "items", "bad"),
    [
        ('[\n{"a": 1},\n{"b": 2}\n]', 2, 0),
        ('[{"a": 1}, {"b": {"c": [1, 2]}}]', 2, 0),
        (json.dumps([{"a": i} for i in range(3)], indent=4), 3, 0),
        ('[{"a": 1}, {"b": ', 1, 1),  # torn: what came before is kept
        ('[{"a": 1}', 1, 0),  # no closing bracket
        ("[]", 0, 0),
        ('{"not": "an array"}', 0, 1),
        ("", 0, 1),
        ('[1, "x", {"a": 1}]', 1, 2),
    ],
)
def test_json_array_feeds_stream(tmp_path, text, items, bad, monkeypatch):
    import scrapy_ccsignals.records.feeds as feeds

    monkeypatch.setattr(feeds, "_CHUNK", 5)  # elements cut across reads
    path = tmp_path / "items.json"
    path.write_text(text)
    stats = FeedStats()
    assert len(list(iter_items([str(path)], stats))) == items
    assert (stats.items, stats.bad) == (items, bad)


def test_command(crawled, tmp_path):
    items = str(crawled["dir"] / "items.jsonl")
    done = run_scrapy(["ccsignals-credits", items], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Credits\n")
    assert "by Ada Lund, from Field Notes" in done.stdout
    done = run_scrapy(
        ["ccsignals-credits", items, str(crawled["dir"] / "items.csv"), "--format", "json", "-o",
         "credits.json"], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    works = 2 * len(allowed_items(crawled))
    assert json.loads((tmp_path / "credits.json").read_text())["credited"] == works
    assert (
        f"Credits for {works} works from {collections(crawled)} collections written to credits.json"
        in done.stderr
    )
    missing = run_scrapy(["ccsignals-credits", "nope.jsonl"], tmp_path)
    assert missing.returncode == 2 and "no such file: nope.jsonl" in missing.stderr
