"""Summary tables of the NB201 agent leaderboards (docs/results/nb201-agents).

Reads the ``leaderboard.csv`` files that ``nasgym leaderboard report`` wrote for the
budget-300 and budget-100 leaderboards and prints Markdown: mean test accuracy of
the incumbent ± standard error per agent and dataset, at the end of each budget, and
the budget-300 runs' value at 100 queries (anytime performance).

    cd docs/results/nb201-agents
    python summarize.py b300/leaderboard.csv b100/leaderboard.csv --runs LB300

With ``--runs`` (the budget-300 leaderboard directory) it also prints, per agent and
dataset, how many runs found the benchmark optimum (regret 0) within the budget and
the median number of queries they needed.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
ORDER = (
    "random",
    "rea",
    "ls",
    "reinforce",
    "l2nas",
    "sac",
    "td3",
    "ppo",
    "maskable_ppo",
    "apex",
)
Cell = tuple[float, float, int]


def read(path: Path) -> dict[tuple[str, int, str], Cell]:
    """``(dataset, checkpoint, agent) -> (test mean, s.e., n)``."""
    table: dict[tuple[str, int, str], Cell] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            dataset = row["env_key"].split("dataset=", 1)[1].split("_", 1)[0]
            key = (dataset, int(row["checkpoint"]), row["agent"])
            table[key] = (float(row["test_mean"]), float(row["test_se"]), int(row["n"]))
    return table


def agents_of(*tables: dict[tuple[str, int, str], Cell]) -> list[str]:
    """Agents of the tables: the known ones in :data:`ORDER`, then the others."""
    names = {agent for table in tables for (_, _, agent) in table}
    known = [a for a in ORDER if a in names]
    return known + sorted(names - set(known))


def fmt(cell: Cell | None, best: float) -> str:
    """``mean ± s.e.``, bold when it is the column's best; ``-`` when missing."""
    if cell is None:
        return "-"
    mean, se, _ = cell
    text = f"{mean:.2f} ± {se:.2f}"
    return f"**{text}**" if mean >= best - 1e-9 else text


def queries_to_optimum(root: Path) -> dict[tuple[str, str], list[int | None]]:
    """``(dataset, agent) -> [queries until regret 0, or None, per run]``."""
    from nasgym.leaderboard.store import find_run_files, read_run

    found: dict[tuple[str, str], list[int | None]] = {}
    for path in find_run_files(root):
        run = read_run(path)
        dataset = str(run.header["env"]["kwargs"]["dataset"])
        hit = next(
            (
                int(r["query"])
                for r in run.records
                if r["regret"] is not None and r["regret"] <= 1e-9
            ),
            None,
        )
        found.setdefault((dataset, path.parent.name), []).append(hit)
    return found


def print_optimum_table(found: dict[tuple[str, str], list[int | None]]) -> None:
    """Runs that reached the optimum, and the median queries they needed."""
    agents = agents_of({(d, 0, a): (0.0, 0.0, 0) for d, a in found})
    print("\n### Runs that found the optimum within 300 queries (median queries)\n")
    print("| agent | " + " | ".join(DATASETS) + " |")
    print("|---|" + "---:|" * len(DATASETS))
    for agent in agents:
        cells = []
        for dataset in DATASETS:
            hits = found.get((dataset, agent), [])
            done = [q for q in hits if q is not None]
            median = f" ({statistics.median(done):.0f})" if done else ""
            cells.append(f"{len(done)}/{len(hits)}{median}" if hits else "-")
        print(f"| {agent} | " + " | ".join(cells) + " |")


def main() -> None:
    """Print one table per dataset."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("b300", type=Path)
    parser.add_argument("b100", type=Path)
    parser.add_argument("--runs", type=Path, default=None, metavar="LB300")
    args = parser.parse_args()
    b300, b100 = read(args.b300), read(args.b100)
    agents = agents_of(b300, b100)
    for dataset in DATASETS:
        rows = []
        cols = [
            ("budget 100", b100, 100),
            ("budget 300, after 100 queries", b300, 100),
            ("budget 300", b300, 300),
        ]
        best = {
            title: max(
                (v[0] for (d, q, _), v in data.items() if d == dataset and q == point),
                default=float("inf"),
            )
            for title, data, point in cols
        }
        n = {v[2] for (d, _, _), v in b300.items() if d == dataset}
        print(f"\n### {dataset} (seeds per agent: {', '.join(map(str, sorted(n)))})\n")
        print("| agent | " + " | ".join(title for title, _, _ in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for agent in agents:
            cells = [
                fmt(data.get((dataset, point, agent)), best[title])
                for title, data, point in cols
            ]
            rows.append(f"| {agent} | " + " | ".join(cells) + " |")
        print("\n".join(rows))
    if args.runs is not None:
        print_optimum_table(queries_to_optimum(args.runs))


if __name__ == "__main__":
    main()
