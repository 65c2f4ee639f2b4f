"""Instructions per page of whole crawls, counted by valgrind's callgrind: the crawl-level
comparison that the machine's load does not move (CPU seconds of one crawl moved by up to
30 % between rounds on a quiet machine; instruction counts of the same crawl repeat within
0.6 %).

Starts a small signal-rich web (bench/web.py; ``--plain``: many-pages' plain pages), then
runs bench/crawl.py under ``valgrind --tool=callgrind --instr-atstart=no`` once per
configuration, counting only from ``spider_opened`` to ``spider_closed`` (start-up and
imports left out), in parallel, with a fixed hash seed.
A crawl of 100 pages takes ~3 minutes under valgrind on a quiet machine (~50 x slower).

    python bench/crawlinstr.py                                   # scrapy vs plugin
    python bench/crawlinstr.py --plain                           # on many-pages' plain pages
    python bench/crawlinstr.py --variant no-audit:CCSIGNALS_AUDIT_LOG=None
    python bench/crawlinstr.py --origins 2 --pages 50 --keep /tmp/cg   # keep the profiles
    python bench/crawlinstr.py --baseline /path/to/old/checkout   # + that checkout's plugin

``--keep DIR`` keeps each run's callgrind file (``callgrind_annotate DIR/plugin.out``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from run import start_web  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=2)
    parser.add_argument("--pages", type=int, default=50, help="pages per origin")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:SETTING=VALUE[,SETTING=VALUE]",
        help="a further plugin crawl with these settings (None for None)",
    )
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the callgrind files")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the many-pages web (no signals) instead of signal-rich",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="CHECKOUT",
        help="also count the plugin of this checkout (e.g. an older commit)",
    )
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    spec: dict[str, object] = {"origins": args.origins, "pages": args.pages, "size": 8192}
    if not args.plain:
        spec["rich"] = 1
    web = start_web(spec, env)
    out_dir = Path(args.keep or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        assert web.stdout is not None
        origins = json.loads(web.stdout.readline())["origins"]
        urls = out_dir / "urls.txt"
        urls.write_text("\n".join(f"{o}/p/0" for o in origins))
        runs: dict[str, list[str]] = {
            "scrapy": ["--config", "scrapy"],
            "plugin": ["--config", "plugin", "--no-own"],
        }
        for spec in args.variant:
            name, _, settings = spec.partition(":")
            sets = [f"--set={s}" for s in settings.split(",") if s]
            runs[name] = ["--config", "plugin", "--no-own", *sets]
        envs = dict.fromkeys(runs, env)
        if args.baseline:
            runs["baseline"] = ["--config", "plugin", "--no-own"]
            envs["baseline"] = dict(env, PYTHONPATH=str(Path(args.baseline).resolve()))
        procs = {
            name: subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={out_dir / name}.out",
                    sys.executable,
                    str(ROOT / "bench" / "crawl.py"),
                    "--urls",
                    str(urls),
                    "--callgrind",
                    *extra,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=envs[name],
            )
            for name, extra in runs.items()
        }
        results = {}
        for name, proc in procs.items():
            stdout, stderr = proc.communicate()
            found = re.search(r"Collected : (\d+)", stderr)
            if proc.returncode != 0 or found is None:
                raise RuntimeError(f"{name} crawl failed:\n{stderr[-3000:]}")
            crawl = json.loads(stdout.strip().splitlines()[-1])
            results[name] = (crawl["pages"], crawl["items"], int(found.group(1)))
    finally:
        web.kill()
    base = results["scrapy"][2] / max(1, results["scrapy"][0])
    print(f"{'config':<12} {'pages':>6} {'items':>6} {'M instr/page':>13} {'vs scrapy':>10}")
    for name, (pages, items, instructions) in results.items():
        per_page = instructions / max(1, pages)
        print(f"{name:<12} {pages:>6} {items:>6} {per_page / 1e6:>13.2f} {per_page / base:>10.3f}")


if __name__ == "__main__":
    main()
