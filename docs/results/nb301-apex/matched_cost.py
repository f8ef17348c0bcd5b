"""Matched-total-cost rows for the NB301 Ape-X comparison.

The trained Ape-X searcher spent 25,000 training queries on the NB301 surrogate
before its 25 to 100 budgeted queries. This script gives random search and REA the
same total: it runs them on ``NB301Query-v0`` with a budget of 25,100 queries and
prints the incumbent's predicted accuracy after 25,000 + 25, + 50 and + 100 queries
(mean ± standard error over seeds) as README table rows::

    python docs/results/nb301-apex/matched_cost.py --seeds 30 --out lb-nb301-matched

(about 47 s per run of 25,100 queries on one core of the 2-core machine).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from nasgym.cli import main as nasgym_main
from nasgym.leaderboard.store import find_run_files, read_run

TRAINING = 25_000
BUDGETS = (25, 50, 100)


def main() -> None:
    """Run (or resume) the leaderboard and print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("lb-nb301-matched"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    checkpoints = ",".join(str(TRAINING + b) for b in BUDGETS)
    nasgym_main(
        [
            "leaderboard", "run", "--env", "nasgym/NB301Query-v0",
            "--agents", "random,rea", "--seeds", str(args.seeds),
            "--budget", str(TRAINING + BUDGETS[-1]), "--checkpoints", checkpoints,
            "--out", str(args.out), "--workers", str(args.workers), "--no-progress",
        ]
    )  # fmt: skip
    names = {"random": "random search", "rea": "regularized evolution"}
    for agent, name in names.items():
        runs = [read_run(p) for p in find_run_files(args.out) if p.parent.name == agent]
        cells = []
        for budget in BUDGETS:
            values = [r.records[TRAINING + budget - 1]["best_test"] for r in runs]
            n = len(values)
            mean = sum(values) / n
            var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else math.nan
            cells.append(f"{mean:.2f} ± {math.sqrt(var / n):.2f}")
        print(
            f"| {name}, 25,000 + budget queries (matched total cost, {len(runs)} "
            f"seeds) | NB301Query | " + " | ".join(cells) + " |"
        )


if __name__ == "__main__":
    main()
