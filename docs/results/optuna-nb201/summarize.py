"""Summary tables of the Optuna leaderboard on NB201 CIFAR-100.

The numbers of docs/results/optuna-nb201/README.md.

Reads the ``leaderboard.csv`` that ``nasgym leaderboard report`` wrote and the run
files of the leaderboard directory, and prints the Markdown tables of README.md:

* mean test accuracy of the incumbent ± standard error per agent at 50, 150 and 300
  queries (from ``leaderboard.csv``);
* paired differences in that accuracy between agents, seed by seed (every agent of
  a seed searches the same env seed), mean ± standard error of the differences, and
  how many seeds the first agent won, tied and lost;
* mean validation accuracy of the incumbent (what the agents maximise) per
  checkpoint, and how many runs ended on the best validation accuracy any run found
  (with the test accuracies of the cells they ended on);
* wall-clock time per query (``agent.run()`` time over the budget), and
  the restarts of each run (:class:`nasgym_agents.asktell.AskTellAgent` restarts an
  optimizer that only proposes known architectures).

    cd docs/results/optuna-nb201
    python summarize.py leaderboard.csv --runs LB
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path
from typing import Any

ORDER = ("optuna-tpe", "optuna-cmaes", "optuna-random", "rea", "random")
CHECKPOINTS = (50, 150, 300)
#: (first, second) agent pairs of the paired-difference table.
PAIRS = (
    ("optuna-tpe", "rea"),
    ("optuna-tpe", "random"),
    ("optuna-tpe", "optuna-random"),
    ("optuna-cmaes", "rea"),
    ("optuna-cmaes", "optuna-tpe"),
    ("optuna-random", "random"),
)


def read_csv(path: Path) -> dict[tuple[int, str], tuple[float, float, int]]:
    """``(checkpoint, agent) -> (test mean, s.e., n)``."""
    table: dict[tuple[int, str], tuple[float, float, int]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = (int(row["checkpoint"]), row["agent"])
            table[key] = (float(row["test_mean"]), float(row["test_se"]), int(row["n"]))
    return table


def read_runs(root: Path) -> dict[str, dict[int, dict[str, Any]]]:
    """``agent -> seed -> run``: best test per checkpoint, wall, queries, restarts."""
    runs: dict[str, dict[int, dict[str, Any]]] = {}
    for path in sorted(root.glob("runs/*/*/seed-*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        header, records, summary = lines[0], lines[1:-1], lines[-1]
        run: dict[str, Any] = {
            c: records[c - 1]["best_test"] for c in CHECKPOINTS if c <= len(records)
        }
        run["valid"] = {
            c: records[c - 1]["best_valid"] for c in CHECKPOINTS if c <= len(records)
        }
        run["wall"] = float(summary["wall_time_s"])
        run["queries"] = int(summary["queries"])
        run["restarts"] = header["agent"]["config"].get("restarts")
        runs.setdefault(header["agent"]["name"], {})[int(header["seed"])] = run
    return runs


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    if len(values) < 2:
        return values[0], float("nan")
    return statistics.fmean(values), statistics.stdev(values) / len(values) ** 0.5


def accuracy_table(
    table: dict[tuple[int, str], tuple[float, float, int]], agents: list[str]
) -> str:
    """Mean ± s.e. per checkpoint (rows) and agent (columns); best in bold."""
    lines = [
        "| queries | " + " | ".join(agents) + " |",
        "|--:|" + "--:|" * len(agents),
    ]
    for checkpoint in CHECKPOINTS:
        cells = [table.get((checkpoint, a)) for a in agents]
        best = max(c[0] for c in cells if c is not None)
        row = []
        for cell in cells:
            if cell is None:
                row.append("-")
                continue
            text = f"{cell[0]:.2f} ± {cell[1]:.2f}"
            row.append(f"**{text}**" if cell[0] == best else text)
        lines.append(f"| {checkpoint} | " + " | ".join(row) + " |")
    n = {table[k][2] for k in table}
    lines.append("")
    lines.append(f"(n = {', '.join(map(str, sorted(n)))} seeds per agent)")
    return "\n".join(lines)


def paired_table(runs: dict[str, dict[int, dict[str, Any]]]) -> str:
    """Seed-by-seed differences of the :data:`PAIRS` per checkpoint."""
    lines = [
        "| difference | " + " | ".join(f"{c} queries" for c in CHECKPOINTS) + " |",
        "|---|" + "--:|" * len(CHECKPOINTS),
    ]
    for first, second in PAIRS:
        if first not in runs or second not in runs:
            continue
        seeds = sorted(set(runs[first]) & set(runs[second]))
        cells = []
        for checkpoint in CHECKPOINTS:
            diffs = [
                runs[first][s][checkpoint] - runs[second][s][checkpoint] for s in seeds
            ]
            mean, se = mean_se(diffs)
            won = sum(d > 0 for d in diffs)
            tied = sum(d == 0 for d in diffs)
            lost = len(diffs) - won - tied
            cells.append(f"{mean:+.2f} ± {se:.2f} ({won}/{tied}/{lost})")
        lines.append(f"| {first} - {second} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def validation_table(
    runs: dict[str, dict[int, dict[str, Any]]], agents: list[str]
) -> str:
    """Mean incumbent validation accuracy (the searched metric) per checkpoint.

    Also the runs whose incumbent has the best validation accuracy any run found,
    compared at two decimals (NB201 has cells that tie there), and their cells'
    test accuracies.
    """
    top = max(
        r["valid"][c] for a in runs.values() for r in a.values() for c in r["valid"]
    )
    last = CHECKPOINTS[-1]
    head = " | ".join(f"{c} queries" for c in CHECKPOINTS)
    lines = [
        f"| agent | {head} | runs at {top:.2f} after {last} | their test acc. |",
        "|---|" + "--:|" * (len(CHECKPOINTS) + 2),
    ]
    for agent in agents:
        cells = []
        for c in CHECKPOINTS:
            mean, se = mean_se([r["valid"][c] for r in runs[agent].values()])
            cells.append(f"{mean:.2f} ± {se:.2f}")
        at_top = [
            r
            for r in runs[agent].values()
            if round(r["valid"][last], 2) == round(top, 2)
        ]
        tests = sorted({f"{r[last]:.2f}" for r in at_top})
        lines.append(
            f"| {agent} | " + " | ".join(cells) + f" | {len(at_top)} of "
            f"{len(runs[agent])} | {', '.join(tests) or '-'} |"
        )
    return "\n".join(lines)


def timing_table(runs: dict[str, dict[int, dict[str, Any]]], agents: list[str]) -> str:
    """Milliseconds per query and optimizer restarts per agent."""
    lines = [
        "| agent | ms per query, mean (min to max) | runs restarted "
        "| restarts per run, mean (max) |",
        "|---|--:|--:|--:|",
    ]
    for agent in agents:
        per = [1000.0 * r["wall"] / r["queries"] for r in runs[agent].values()]
        restarts = [r["restarts"] for r in runs[agent].values()]
        if any(r is None for r in restarts):
            restart_cells = "- | -"
        else:
            restart_cells = (
                f"{sum(r > 0 for r in restarts)} of {len(restarts)} | "
                f"{statistics.fmean(restarts):.1f} ({max(restarts)})"
            )
        spread = f"{min(per):.2f} to {max(per):.2f}"
        lines.append(
            f"| {agent} | {statistics.fmean(per):.2f} ({spread}) | {restart_cells} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("csv", type=Path, help="leaderboard.csv of the report")
    parser.add_argument("--runs", type=Path, required=True, help="leaderboard dir")
    args = parser.parse_args()
    table = read_csv(args.csv)
    runs = read_runs(args.runs)
    names = {a for _, a in table} | set(runs)
    agents = [a for a in ORDER if a in names] + sorted(names - set(ORDER))
    print("### Mean test accuracy of the incumbent (± s.e.)\n")
    print(accuracy_table(table, agents))
    print("\n### Paired differences (mean ± s.e.; seeds won/tied/lost)\n")
    print(paired_table(runs))
    print("\n### Validation accuracy of the incumbent (the searched metric, ± s.e.)\n")
    print(validation_table(runs, agents))
    print("\n### Time per query in the leaderboard runs, and optimizer restarts\n")
    print(timing_table(runs, agents))


if __name__ == "__main__":
    main()
