"""Instructions per response of ``bench.usegate``'s cases, counted by valgrind's callgrind:
a measure that, unlike time, does not move with the machine's load, so two versions of the
code can be compared while other work runs.

Each case runs in two processes under ``valgrind --tool=callgrind``, one making *warm*
calls and one making *warm* + *calls* calls; the difference divided by *calls* is the
count per call (start-up, imports and warm-up cancel out). Valgrind counts instructions,
not time: its own ``memchr`` and its software SHA-256 make substring searches and hashing
weigh more than on the CPU, so read these beside ``python -m bench.usegate``.

    python -m bench.instructions                      # both pages of bench.usegate
    python -m bench.instructions --steps --calls 64   # and each step of them
    python -m bench.instructions --steps --only "8 KB: item"   # one step
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

_RUN = (
    "import sys; from bench.usegate import cases; "
    "func = cases(steps=True)[sys.argv[1]]; "
    "[func() for _ in range(int(sys.argv[2]))]"
)


def collected(case: str, calls: int) -> int:
    """Instructions of one process making *calls* calls of *case*."""
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
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind for {case!r}")
    return int(found.group(1))


def per_call(case: str, calls: int, warm: int) -> float:
    """Instructions per call of *case*, start-up and *warm* calls taken out."""
    return (collected(case, warm + calls) - collected(case, warm)) / calls


def main() -> None:
    from bench.usegate import cases

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=128, help="calls measured per case")
    parser.add_argument("--warm", type=int, default=64, help="calls made first, not counted")
    parser.add_argument("--steps", action="store_true", help="each step of the pages too")
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    args = parser.parse_args()
    for name in cases(steps=args.steps):
        if args.only not in name:
            continue
        count = per_call(name, args.calls, args.warm)
        print(f"{name:<32} {count / 1000:9.1f} thousand instructions per call")


if __name__ == "__main__":
    main()
