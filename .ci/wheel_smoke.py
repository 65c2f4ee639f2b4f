"""CI: the built wheel, installed in a clean virtual environment, crawls with the add-on
and runs every command, from a folder outside the source tree. A module, package data
file or entry point missing from the wheel fails here, not for the first user.

Run by .ci/run as ``VENV/bin/python .ci/wheel_smoke.py WORKDIR``."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

import scrapy_ccsignals
from scrapy_ccsignals import schemas
from scrapy_ccsignals.testing.files import CC_BY, jpeg_with_xmp, xmp
from scrapy_ccsignals.testing.server import TestServer

BIN = Path(sys.executable).parent
SPIDER = """
import scrapy


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, url="", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [url]

    def parse(self, response):
        yield {"url": response.url}
        if isinstance(response, scrapy.http.TextResponse):
            for href in response.css("a::attr(href), img::attr(src)").getall():
                yield response.follow(href)
"""


def run(*args: str, cwd: Path, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run([str(BIN / "scrapy"), *args], cwd=cwd, capture_output=True, text=True)
    print(f"  scrapy {' '.join(args)} -> {done.returncode}")
    if done.returncode not in ok:
        sys.exit(f"wheel smoke: scrapy {args[0]} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def main(work: Path) -> None:
    here = Path(scrapy_ccsignals.__file__).resolve()
    assert "site-packages" in here.parts, f"scrapy_ccsignals imported from {here}, not the wheel"
    print(f"scrapy-ccsignals {scrapy_ccsignals.__version__} from {here.parent}")
    photo = jpeg_with_xmp(xmp(data_mining="DMI-PROHIBITED-AIMLTRAINING", title="Gulls"))
    routes = {
        "/robots.txt": {
            "body": "User-agent: SmokeBot\nDisallow: /private\n",
            "headers": {"Content-Type": "text/plain"},
        },
        "/": {
            "body": f'<html><head><title>Home</title><link rel="license" href="{CC_BY}"></head>'
            '<body><a href="/private">p</a> <a href="/noai">n</a> <img src="/gulls.jpg"></body>'
            "</html>"
        },
        "/noai": {"body": "<title>No</title>", "headers": {"X-Robots-Tag": "noai"}},
        "/private": {"body": "<title>Private</title>"},
        "/gulls.jpg": {
            "body_b64": base64.b64encode(photo).decode(),
            "headers": {"Content-Type": "image/jpeg"},
        },
    }
    with TestServer() as server:
        site = server.add_origin(routes)
        run("startproject", "smoke", cwd=work)
        project = work / "smoke"
        settings = project / "smoke" / "settings.py"
        text = settings.read_text()
        assert "ADDONS = {}" in text, "scrapy startproject no longer writes ADDONS = {}"
        settings.write_text(
            text.replace("ADDONS = {}", 'ADDONS = {"scrapy_ccsignals.Addon": 100}')
            + '\nUSER_AGENT = "SmokeBot/1.0 (+https://example.org/bot)"\n'
            + 'CCSIGNALS_AUDIT_LOG = "audit.jsonl"\n'
        )
        (project / "smoke" / "spiders" / "site.py").write_text(SPIDER)
        run("crawl", "site", "-a", f"url={site}/", "-O", "items.jsonl", cwd=project)
        items = [json.loads(line) for line in (project / "items.jsonl").read_text().splitlines()]
        audit = [json.loads(line) for line in (project / "audit.jsonl").read_text().splitlines()]
        assert [i["url"] for i in items] == [site + "/"], items
        assert items[0]["ccsignals"]["license"]["id"] == "CC-BY-4.0"
        decided = {line["url"]: line["decision"] for line in audit if line.get("decision")}
        assert decided[site + "/private"] == "forbidden", decided
        assert decided[site + "/noai"] == "deny" and decided[site + "/gulls.jpg"] == "deny"
        # The schemas are package data: read from the installed wheel, they fit its output.
        for name, docs in (("provenance", [i["ccsignals"] for i in items]), ("audit-line", audit)):
            validator = jsonschema.Draft202012Validator(schemas.load(name))
            for doc in docs:
                validator.validate(doc)

        report = run("ccsignals-report", "audit.jsonl", "--html", "report.html", cwd=project)
        assert "robots.txt" in report and (project / "report.html").stat().st_size > 1000
        run("ccsignals-check", f"{site}/", cwd=project)
        run("ccsignals-check", f"{site}/noai", cwd=project, ok=(1,))
        run("ccsignals-credits", "items.jsonl", "-o", "credits.md", cwd=project)
        assert "CC BY 4.0" in (project / "credits.md").read_text()
        run(
            "ccsignals-card",
            "items.jsonl",
            "--audit",
            "audit.jsonl",
            "-o",
            "card.json",
            cwd=project,
        )
        assert json.loads((project / "card.json").read_text())["@type"] == "sc:Dataset"
        run("ccsignals-summary", "audit.jsonl", "-o", "summary.md", cwd=project)
        assert "robots.txt" in (project / "summary.md").read_text()
        run("ccsignals-recheck", "items.jsonl", "-o", "kept.jsonl", cwd=project)
        assert len((project / "kept.jsonl").read_text().splitlines()) == 1
    print("wheel smoke: the installed wheel crawled and ran every command")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
