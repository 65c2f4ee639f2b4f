"""Instructions per response of ``bench.usegate``'s cases, counted by valgrind's callgrind:
a measure that, unlike time, does not move with the machine's load, so two versions of the
code can be compared while other work runs.

Each case runs in two processes under ``valgrind --tool=callgrind``, one making *warm*
calls and one making *warm* + *calls* calls; the difference divided by *calls* is the
count per call (start-up, imports and warm-up cancel out). Valgrind counts instructions,
not time: its own ``memchr`` and its software SHA-256 make substring searches and hashing
weigh more than on the CPU, so read these beside ``python -m bench.usegate``.

String hashes are randomised per process, and with them the layout of dicts and sets: the
same code counts up to ~10 % apart between two processes. So each count is made with a
fixed ``PYTHONHASHSEED``, one per *seed* (``--seeds``), and the median over seeds printed.

    python -m bench.instructions                      # both pages of bench.usegate
    python -m bench.instructions --steps --calls 64   # and each step of them
    python -m bench.instructions --steps --only "8 KB: item"   # one step
    python -m bench.instructions --seeds 5            # median over 5 hash seeds
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

_RUN = (
    "import sys; from bench.usegate import cases; "
    "func = cases(steps=True)[sys.argv[1]]; "
    "[func() for _ in range(int(sys.argv[2]))]"
)


def collected(case: str, calls: int, seed: int = 0) -> int:
    """Instructions of one process making *calls* calls of *case*, with hash *seed*."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _RUN,
            case,
            str(calls),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONHASHSEED=str(seed)),
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind for {case!r}")
    return int(found.group(1))


def per_call(case: str, calls: int, warm: int, seed: int = 0) -> float:
    """Instructions per call of *case*, start-up and *warm* calls taken out."""
    return (collected(case, warm + calls, seed) - collected(case, warm, seed)) / calls


def main() -> None:
    from bench.usegate import cases

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=128, help="calls measured per case")
    parser.add_argument("--warm", type=int, default=64, help="calls made first, not counted")
    parser.add_argument("--steps", action="store_true", help="each step of the pages too")
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    parser.add_argument("--seeds", type=int, default=1, help="hash seeds (median printed)")
    args = parser.parse_args()
    for name in cases(steps=args.steps):
        if args.only not in name:
            continue
        counts = [per_call(name, args.calls, args.warm, seed) for seed in range(args.seeds)]
        spread = (
            f" (seeds: {min(counts) / 1000:.1f}-{max(counts) / 1000:.1f})" if args.seeds > 1 else ""
        )
        print(
            f"{name:<32} {statistics.median(counts) / 1000:9.1f} thousand instructions per call"
            + spread
        )


if __name__ == "__main__":
    main()
