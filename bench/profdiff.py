"""Where two crawls' CPU differs, function by function: two cProfile files written by
``bench/crawl.py --profile``, each divided by its crawl's pages, diffed by function.

    python bench/profdiff.py scrapy.prof:800 plugin.prof:800 --top 30

Prints, per page, the functions whose own time (``tottime``) and whose call counts differ
most (B minus A), and the totals. Call counts do not move with the machine's load; times
do, so read the times of two crawls run one after the other, or several pairs.
"""

from __future__ import annotations

import argparse
import pstats
from typing import Any

Key = tuple[str, int, str]


def _name(key: Key) -> str:
    path, line, func = key
    for marker in ("site-packages/", "scrapy_ccsignals/", "lib/python3"):
        if marker in path:
            path = path[path.index(marker) :].removeprefix("site-packages/")
            break
    return f"{path}:{line}({func})" if line else func


def load(spec: str) -> tuple[dict[str, tuple[float, float, float]], int]:
    """{function: (calls, tottime s, cumtime s) per page}, and the pages, of "PATH:PAGES"."""
    path, pages = spec.rsplit(":", 1)
    per_page = int(pages)
    stats: dict[Key, Any] = pstats.Stats(path).stats  # type: ignore[attr-defined]
    out: dict[str, tuple[float, float, float]] = {}
    for key, (_cc, calls, tottime, cumtime, _callers) in stats.items():
        name = _name(key)
        prev = out.get(name, (0.0, 0.0, 0.0))
        out[name] = (
            prev[0] + calls / per_page,
            prev[1] + tottime / per_page,
            prev[2] + cumtime / per_page,
        )
    return out, per_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="PATH:PAGES of the first crawl (e.g. ROBOTSTXT_OBEY)")
    parser.add_argument("b", help="PATH:PAGES of the second crawl (e.g. the plugin)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose name contains this")
    args = parser.parse_args()
    a, _ = load(args.a)
    b, _ = load(args.b)
    names = [n for n in set(a) | set(b) if args.match in n]
    zero = (0.0, 0.0, 0.0)

    def diff(name: str, i: int) -> float:
        return b.get(name, zero)[i] - a.get(name, zero)[i]

    total = [sum(v[i] for v in d.values()) for d in (a, b) for i in (0, 1)]
    print(
        f"per page: calls {total[0]:,.0f} -> {total[2]:,.0f} ({total[2] - total[0]:+,.0f}); "
        f"profiled own time {1e6 * total[1]:,.0f} -> {1e6 * total[3]:,.0f} us "
        f"({1e6 * (total[3] - total[1]):+,.0f})"
    )
    for title, index, unit, scale in (
        ("own time (tottime) per page, B - A", 1, "us", 1e6),
        ("calls per page, B - A", 0, "", 1.0),
    ):
        print(f"\n{title}:")
        print(f"{'B - A':>9} {'A':>9} {'B':>9}  function")
        for name in sorted(names, key=lambda n: -abs(diff(n, index)))[: args.top]:
            print(
                f"{scale * diff(name, index):>+9.1f} {scale * a.get(name, zero)[index]:>9.1f} "
                f"{scale * b.get(name, zero)[index]:>9.1f}  {name} {unit}"
            )


if __name__ == "__main__":
    main()
