"""Check that a budget-100 run repeats the first 100 queries of the budget-300 run.

For agents whose behaviour does not depend on the budget, the budget-300 runs' value
at 100 queries *is* the budget-100 result. This compares, for every run of the
``SHORT`` leaderboard directory, its query records (architecture, validation and test
accuracy, in order) with the first records of the same (env, agent, seed) in
``LONG``, and prints one line per (agent) with the number of runs that agree.

    python check_prefix.py LONG SHORT
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from nasgym.leaderboard.store import find_run_files, read_run

KEYS = ("arch", "valid", "test")


def main() -> None:
    """Compare every run of SHORT with the prefix of its twin in LONG."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("long", type=Path)
    parser.add_argument("short", type=Path)
    args = parser.parse_args()
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for path in find_run_files(args.short):
        twin = args.long / path.relative_to(args.short)
        agent = path.parent.name
        if not twin.is_file():
            print(f"missing in {args.long}: {path.relative_to(args.short)}")
            continue
        short = [tuple(r[k] for k in KEYS) for r in read_run(path).records]
        long = [tuple(r[k] for k in KEYS) for r in read_run(twin).records]
        total[agent] += 1
        agree[agent] += short == long[: len(short)]
    for agent in sorted(total):
        print(f"{agent}: {agree[agent]} of {total[agent]} runs repeat the prefix")


if __name__ == "__main__":
    main()
