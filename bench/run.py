"""Benchmarks: scrapy-ccsignals against Scrapy's own robots.txt middleware and against no
politeness middleware, measured side by side in one run.

Each scenario starts the fixture web (bench/web.py), then runs the same link-following
spider (bench/crawl.py) in a fresh process per measurement, rotating the order of the three
configurations every round. Prints medians and the ratios the targets are stated in.

    python bench/run.py                      # both scenarios, 3 rounds
    python bench/run.py --scenario many-pages --rounds 5 --json
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
SCENARIOS = {
    "many-pages": {"origins": 20, "pages": 200, "size": 8192},
    "many-origins": {"origins": 2000, "pages": 5, "size": 8192},
}
TARGETS = {
    "many-pages": {"vs_scrapy": 1.00, "vs_none": 0.90},
    "many-origins": {"vs_scrapy": 0.85, "rss_over_scrapy_mb": 30.0},
}
USEGATE_TARGET_US = 50.0


def run_scenario(name: str, rounds: int) -> dict[str, Any]:
    spec = SCENARIOS[name]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    web = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "web.py"), *(f"--{k}={v}" for k, v in spec.items())],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert web.stdout is not None
        origins = json.loads(web.stdout.readline())["origins"]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as urls:
            urls.write("\n".join(f"{o}/p/0" for o in origins))
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in CONFIGS}
        for round_no in range(rounds):
            order = CONFIGS[round_no % 3 :] + CONFIGS[: round_no % 3]
            for config in order:
                out = subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "crawl.py"),
                        "--config",
                        config,
                        "--urls",
                        urls.name,
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=1800,
                )
                if out.returncode != 0:
                    raise RuntimeError(f"{config} crawl failed:\n{out.stderr[-3000:]}")
                results[config].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(
                    f"  {name} round {round_no + 1} {config}: {results[config][-1]['pages_per_s']:.0f} pages/s",
                    file=sys.stderr,
                )
        os.unlink(urls.name)
    finally:
        web.terminate()
        web.wait()
    medians = {
        config: {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "config"}
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
    ratios = {
        "vs_scrapy": statistics.median(per_round["scrapy"]),
        "vs_none": statistics.median(per_round["none"]),
        "vs_scrapy_of_medians": medians["plugin"]["pages_per_s"] / medians["scrapy"]["pages_per_s"],
        "vs_none_of_medians": medians["plugin"]["pages_per_s"] / medians["none"]["pages_per_s"],
        "rss_over_scrapy_mb": medians["plugin"]["peak_rss_mb"] - medians["scrapy"]["peak_rss_mb"],
    }
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
        ok = value <= target if key.startswith("rss") else value >= target
        sign = "<=" if key.startswith("rss") else ">="
        lines.append(
            f"{'PASS' if ok else 'FAIL'} {name} {key} = {value:.2f} (target {sign} {target:.2f})"
        )
    return lines


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\n{report['scenario']}: {report['origins']} origins x {report['pages']} pages x {report['size']} B, medians of {report['rounds']} rounds"
    )
    print(
        f"{'config':<8} {'pages':>7} {'pages/s':>9} {'cpu s':>7} {'peak RSS MB':>12} {'policy req/origin':>18}"
    )
    for config in CONFIGS:
        m = report["medians"][config]
        print(
            f"{config:<8} {m['pages']:>7.0f} {m['pages_per_s']:>9.0f} {m['cpu_s']:>7.2f} {m['peak_rss_mb']:>12.1f} {m['policy_requests_per_origin']:>18.2f}"
        )
    r = report["ratios"]
    print(
        f"plugin/scrapy-robots pages/s: {r['vs_scrapy']:.2f} (ratio of medians {r['vs_scrapy_of_medians']:.2f})   "
        f"plugin/no-middleware pages/s: {r['vs_none']:.2f} (ratio of medians {r['vs_none_of_medians']:.2f})   "
        f"plugin RSS - scrapy RSS: {r['rss_over_scrapy_mb']:+.1f} MB"
    )
    print("  (ratios: median over rounds of the ratio measured within each round)")
    for other, values in report["per_round_ratios"].items():
        print(f"  plugin/{other} per round: " + " ".join(f"{v:.2f}" for v in values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.usegate import measure

    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    reports = [run_scenario(name, args.rounds) for name in names]
    usegate = {"license_page_us": measure(5), "plain_page_us": measure(0)}
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
    print(
        f"\nuse gate: {usegate['plain_page_us']:.1f} us (plain 8 KB page), {usegate['license_page_us']:.1f} us (page with licence and JSON-LD)"
    )
    verdicts = [
        line for report in reports for line in check_targets(report["scenario"], report["ratios"])
    ]
    ok = usegate["license_page_us"] <= USEGATE_TARGET_US
    verdicts.append(
        f"{'PASS' if ok else 'FAIL'} use gate = {usegate['license_page_us']:.1f} us (target <= {USEGATE_TARGET_US:.0f})"
    )
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
