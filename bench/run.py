"""Benchmarks: scrapy-ccsignals against Scrapy's own robots.txt middleware and against no
politeness middleware, measured side by side in one run.

Each scenario starts the fixture web (bench/web.py), then runs the same link-following
spider (bench/crawl.py) in a fresh process per measurement, rotating the order of the three
configurations every round. Prints medians and the ratios the targets are stated in.

    python bench/run.py                      # both scenarios, 3 rounds
    python bench/run.py --scenario many-pages --rounds 5 --json
    python bench/run.py --scenario signal-rich --rounds 5
    python bench/run.py --scenario broad --origins 5000 --rounds 3
    python bench/run.py --scenario slow-origin
    python bench/run.py --scenario signal-rich --baseline /path/to/old/checkout

``--baseline`` adds a fourth configuration, ``baseline``: the plugin as the given checkout
has it (its ``scrapy_ccsignals`` first on ``PYTHONPATH``; this checkout's harness), to
compare two versions in the same interleaved rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["none", "scrapy", "plugin"]
SCENARIOS: dict[str, dict[str, Any]] = {
    "many-pages": {"origins": 20, "pages": 200, "size": 8192},
    "many-origins": {"origins": 2000, "pages": 5, "size": 8192},
    # Issue 25: deep crawls of a signal-rich web (bench/web.py rich_routes): every family
    # at realistic frequencies, 10-30 links a page, 1 page in 20 of 64-128 KB.
    "signal-rich": {"origins": 20, "pages": 200, "size": 8192, "rich": 1},
    # Issue 20: AI crawls are broad, many sites and few pages each.
    # Servers close connections idle for 5 s (Apache's default): without it, Scrapy's pool
    # keeps every origin's connections open for 240 s, more files than a process may open
    # at 20,000 origins (20,000 here), and a cost real broad crawls do not have.
    "broad": {"origins": 5000, "pages": 3, "size": 8192, "idle-timeout": 5.0},
    # 50 fast origins and one whose robots.txt answers after 8 s, its 40 pages first in
    # the start list: are the fast ones done as soon as without it?
    "slow-origin": {"origins": 51, "pages": 3, "size": 8192, "slow-robots": 8.0, "slow-pages": 40},
}
TARGETS = {
    "many-pages": {"vs_scrapy": 1.00, "vs_none": 0.90, "cpu_vs_scrapy": 1.02},
    "many-origins": {"vs_scrapy": 0.85, "rss_over_scrapy_mb": 30.0},
    "signal-rich": {"cpu_vs_scrapy": 1.05, "vs_scrapy": 0.95},
    "broad": {"cpu_vs_scrapy": 1.10, "rss_slope_over_scrapy_kb": 2.0},
    "slow-origin": {"fast_done_vs_without": 1.5},
}
#: Lower is better for these ratios.
AT_MOST = ("rss", "cpu", "fast_done")
USEGATE_TARGET_US = 50.0


def crawl(config: str, urls: str, env: dict[str, str], extra: list[str]) -> dict[str, Any]:
    if config == "baseline":
        config, env = "plugin", dict(env, PYTHONPATH=env["CCSIGNALS_BASELINE"])
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "crawl.py"),
            "--config",
            config,
            "--urls",
            urls,
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{config} crawl failed:\n{out.stderr[-3000:]}")
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    result["load_1min"] = os.getloadavg()[0]  # at the end of the crawl
    return result


def start_web(spec: dict[str, Any], env: dict[str, str]) -> subprocess.Popen[str]:
    """The fixture web (bench/web.py) for a scenario, in a subprocess."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "web.py"), *(f"--{k}={v}" for k, v in spec.items())],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


#: Origins one fixture web process serves (each is a listening socket, and a process may
#: open at most `ulimit -n` files: 20,000 on the project's CI machine kind).
ORIGINS_PER_WEB = 8000


def start_webs(spec: dict[str, Any], env: dict[str, str]) -> tuple[list[Any], list[str]]:
    """The fixture web in as many processes as its origins need; their base URLs in order."""
    total = spec["origins"]
    webs = [
        start_web({**spec, "origins": min(total, first + ORIGINS_PER_WEB), "first": first}, env)
        for first in range(0, total, ORIGINS_PER_WEB)
    ]
    origins: list[str] = []
    for web in webs:
        assert web.stdout is not None
        origins += json.loads(web.stdout.readline())["origins"]
    return webs, origins


def run_slow_origin(spec: dict[str, Any], rounds: int) -> dict[str, Any]:
    """The fast origins' crawl time with and without the slow origin in the start list."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    web = start_web(spec, env)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        assert web.stdout is not None
        origins = json.loads(web.stdout.readline())["origins"]
        slow, fast = origins[0], origins[1:]
        files = {}
        for label, urls in (
            ("with", [f"{slow}/p/{i}" for i in range(spec["slow-pages"])]),
            ("without", []),
        ):
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write("\n".join(urls + [f"{o}/p/0" for o in fast]))
            files[label] = f.name
        for round_no in range(rounds):
            for config in ("scrapy", "plugin"):
                for label, path in files.items():
                    run = crawl(config, path, env, ["--slow", slow])
                    key = f"{config} {label} slow origin"
                    results.setdefault(key, {}).setdefault("fast_done_s", []).append(
                        run["fast_done_s"]
                    )
                    print(
                        f"  slow-origin round {round_no + 1} {key}: fast origins done in "
                        f"{run['fast_done_s']:.2f} s",
                        file=sys.stderr,
                    )
        for path in files.values():
            os.unlink(path)
    finally:
        web.terminate()
        web.wait()
    medians = {k: statistics.median(v["fast_done_s"]) for k, v in results.items()}
    ratios = {
        "fast_done_vs_without": medians["plugin with slow origin"]
        / medians["plugin without slow origin"],
        "scrapy_fast_done_vs_without": medians["scrapy with slow origin"]
        / medians["scrapy without slow origin"],
    }
    return {
        "scenario": "slow-origin",
        **spec,
        "rounds": rounds,
        "fast_done_s": medians,
        "runs": results,
        "ratios": ratios,
    }


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}" if len(values) > 1 else ""


def run_scenario(
    name: str, rounds: int, origins: int | None = None, baseline: str | None = None
) -> dict[str, Any]:
    spec = dict(SCENARIOS[name])
    if origins:
        spec["origins"] = origins
    if name == "slow-origin":
        return run_slow_origin(spec, rounds)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    configs = list(CONFIGS)
    if baseline:
        env["CCSIGNALS_BASELINE"] = str(Path(baseline).resolve())
        configs.append("baseline")
    webs, origins = start_webs(spec, env)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as urls:
            urls.write("\n".join(f"{o}/p/0" for o in origins))
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
        for round_no in range(rounds):
            turn = round_no % len(configs)
            order = configs[turn:] + configs[:turn]
            for config in order:
                results[config].append(crawl(config, urls.name, env, []))
                last = results[config][-1]
                own = last.get("plugin_own_us_per_page")
                print(
                    f"  {name} round {round_no + 1} {config}: {last['pages']} pages, "
                    f"{last['pages_per_s']:.0f} pages/s, {last['cpu_s']:.1f} cpu s "
                    f"({last['cpu_ms_per_page']:.2f} ms/page"
                    + (f", plugin's own {own:.0f} us/page" if own is not None else "")
                    + f"), {last['peak_rss_mb']:.0f} MB, load {last['load_1min']:.2f}",
                    file=sys.stderr,
                )
        os.unlink(urls.name)
    finally:
        for web in webs:
            web.terminate()
            web.wait()
    medians = {
        config: {
            key: statistics.median(r[key] for r in runs)
            for key in runs[0]
            if key != "config" and isinstance(runs[0][key], (int, float))
        }
        for config, runs in results.items()
    }

    # The machine's speed drifts between rounds; a ratio taken within each round, then
    # the median over rounds, cancels most of that drift.
    per_round = {
        other: [
            p["pages_per_s"] / o["pages_per_s"]
            for p, o in zip(results["plugin"], results[other], strict=True)
        ]
        for other in ("scrapy", "none")
    }
    # CPU per response: the configurations need not fetch the same pages (a robots.txt
    # Disallow is obeyed by two of them).
    cpu_per_round = [
        p["cpu_ms_per_page"] / o["cpu_ms_per_page"]
        for p, o in zip(results["plugin"], results["scrapy"], strict=True)
    ]
    ratios = {
        "vs_scrapy": statistics.median(per_round["scrapy"]),
        "vs_none": statistics.median(per_round["none"]),
        "vs_scrapy_of_medians": medians["plugin"]["pages_per_s"] / medians["scrapy"]["pages_per_s"],
        "vs_none_of_medians": medians["plugin"]["pages_per_s"] / medians["none"]["pages_per_s"],
        "rss_over_scrapy_mb": medians["plugin"]["peak_rss_mb"] - medians["scrapy"]["peak_rss_mb"],
        "cpu_vs_scrapy": statistics.median(cpu_per_round),
        # Per origin, above the RSS the process had when the spider opened.
        "rss_slope_over_scrapy_kb": medians["plugin"]["rss_per_origin_kb"]
        - medians["scrapy"]["rss_per_origin_kb"],
    }
    per_round["cpu per response plugin/scrapy"] = cpu_per_round
    if baseline:
        per_round["cpu per response plugin/baseline"] = [
            p["cpu_ms_per_page"] / b["cpu_ms_per_page"]
            for p, b in zip(results["plugin"], results["baseline"], strict=True)
        ]
        per_round["pages/s plugin/baseline"] = [
            p["pages_per_s"] / b["pages_per_s"]
            for p, b in zip(results["plugin"], results["baseline"], strict=True)
        ]
        per_round["cpu per response baseline/scrapy"] = [
            b["cpu_ms_per_page"] / o["cpu_ms_per_page"]
            for b, o in zip(results["baseline"], results["scrapy"], strict=True)
        ]
    return {
        "scenario": name,
        **spec,
        "rounds": rounds,
        "medians": medians,
        "ratios": ratios,
        "per_round_ratios": per_round,
        "runs": results,
    }


def check_targets(name: str, ratios: dict[str, float]) -> list[str]:
    lines = []
    for key, target in TARGETS[name].items():
        value = ratios[key]
        at_most = key.startswith(AT_MOST)
        ok = value <= target if at_most else value >= target
        sign = "<=" if at_most else ">="
        lines.append(
            f"{'PASS' if ok else 'FAIL'} {name} {key} = {value:.2f} (target {sign} {target:.2f})"
        )
    return lines


def print_table(report: dict[str, Any]) -> None:
    if report["scenario"] == "slow-origin":
        print(
            f"\nslow-origin: 50 fast origins + 1 whose robots.txt answers after "
            f"{report['slow-robots']:.0f} s ({report['slow-pages']} pages first in the start list), "
            f"medians of {report['rounds']} rounds; seconds until every fast origin was done"
        )
        for key, value in report["fast_done_s"].items():
            print(f"  {key:<28} {value:6.2f} s  ({spread(report['runs'][key]['fast_done_s'])})")
        r = report["ratios"]
        print(
            f"  plugin with/without: {r['fast_done_vs_without']:.2f}   "
            f"scrapy with/without: {r['scrapy_fast_done_vs_without']:.2f}"
        )
        return
    print(
        f"\n{report['scenario']}: {report['origins']} origins x {report['pages']} pages x {report['size']} B, medians of {report['rounds']} rounds"
    )
    print(
        f"{'config':<8} {'pages':>7} {'pages/s':>9} {'cpu s':>7} {'peak RSS MB':>12} {'policy req/origin':>18}"
    )
    configs = list(report["medians"])
    for config in configs:
        m = report["medians"][config]
        print(
            f"{config:<8} {m['pages']:>7.0f} {m['pages_per_s']:>9.0f} {m['cpu_s']:>7.2f} {m['peak_rss_mb']:>12.1f} {m['policy_requests_per_origin']:>18.2f}"
        )
    print(
        f"{'config':<8} {'cpu ms/page':>12} {'gen-2 GC s':>11} {'RSS/origin KB':>14}   spread (min-max): cpu s | pages/s | RSS MB"
    )
    for config in configs:
        m, runs = report["medians"][config], report["runs"][config]
        print(
            f"{config:<8} {m['cpu_ms_per_page']:>12.2f} {m['gc2_s']:>11.2f} {m['rss_per_origin_kb']:>14.2f}   "
            f"{spread([r['cpu_s'] for r in runs])} | {spread([r['pages_per_s'] for r in runs])} | "
            f"{spread([r['peak_rss_mb'] for r in runs])}"
        )
    r = report["ratios"]
    print(
        f"plugin/scrapy-robots pages/s: {r['vs_scrapy']:.2f} (ratio of medians {r['vs_scrapy_of_medians']:.2f})   "
        f"plugin/no-middleware pages/s: {r['vs_none']:.2f} (ratio of medians {r['vs_none_of_medians']:.2f})   "
        f"plugin RSS - scrapy RSS: {r['rss_over_scrapy_mb']:+.1f} MB"
    )
    print(
        f"plugin/scrapy CPU per response: {r['cpu_vs_scrapy']:.2f}   plugin - scrapy RSS per origin: "
        f"{r['rss_slope_over_scrapy_kb']:+.2f} KB"
    )
    for config in configs:
        own = report["medians"][config].get("plugin_own_us_per_page")
        if own is None:
            continue
        values = [r["plugin_own_us_per_page"] for r in report["runs"][config]]
        print(
            f"{config}'s own CPU per page (thread time in its methods): {own:.0f} us "
            f"({spread(values)})"
        )
    loads = [r["load_1min"] for runs in report["runs"].values() for r in runs]
    print(f"load average (1 min) at the end of each crawl: {spread(loads)}")
    print("  (ratios: median over rounds of the ratio measured within each round)")
    for other, values in report["per_round_ratios"].items():
        print(
            f"  {other if '/' in other else 'plugin/' + other} per round: "
            + " ".join(f"{v:.2f}" for v in values)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--origins", type=int, default=None, help="override the origin count")
    parser.add_argument(
        "--no-usegate", action="store_true", help="skip the use-gate micro-benchmark"
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="CHECKOUT",
        help="also run the plugin of this checkout (e.g. an older commit) in every round",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.usegate import measure

    names = ["many-pages", "many-origins"] if args.scenario == "all" else [args.scenario]
    reports = [run_scenario(name, args.rounds, args.origins, args.baseline) for name in names]
    usegate = (
        {"license_page_us": 0.0, "plain_page_us": 0.0}
        if args.no_usegate
        else {"license_page_us": measure(5), "plain_page_us": measure(0)}
    )
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    if args.json:
        print(json.dumps({"machine": machine, "scenarios": reports, "usegate": usegate}, indent=2))
        return 0
    print(f"machine: {machine}")
    for report in reports:
        print_table(report)
    if not args.no_usegate:
        print(
            f"\nuse gate: {usegate['plain_page_us']:.1f} us (plain 8 KB page), {usegate['license_page_us']:.1f} us (page with licence and JSON-LD)"
        )
    verdicts = [
        line for report in reports for line in check_targets(report["scenario"], report["ratios"])
    ]
    if not args.no_usegate:
        ok = usegate["license_page_us"] <= USEGATE_TARGET_US
        verdicts.append(
            f"{'PASS' if ok else 'FAIL'} use gate = {usegate['license_page_us']:.1f} us (target <= {USEGATE_TARGET_US:.0f})"
        )
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
