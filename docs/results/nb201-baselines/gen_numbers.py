"""Generate the numbers of this directory's README from its results.

The table and the sentences between ``<!-- numbers:NAME -->`` and
``<!-- /numbers:NAME -->`` in README.md are written by this script, never by hand:

* ``table`` and ``se-gap`` come from ``leaderboard.csv`` (the report of the runs);
* ``ls-seeds`` needs the per-seed run files (``--runs DIR``, the results directory of
  the README's ``nasgym leaderboard run`` command): in how many seeds local search
  ends on CIFAR-10 with the cell of best ``valid@12``, i.e. at regret (about) 0.

Usage::

    python docs/results/nb201-baselines/gen_numbers.py [--runs DIR] [--write]

Without ``--write`` it prints the blocks; ``tests/test_results_numbers.py`` checks that
the README's ``table`` and ``se-gap`` blocks equal what this script computes from the
committed CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = (("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100"), ("ImageNet16-120",
            "ImageNet16-120"))  # fmt: skip
AGENTS = ("random", "rea", "ls", "reinforce")
CHECKPOINTS = (150, 300)


def load(path: Path = HERE / "leaderboard.csv") -> dict[tuple[str, int, str], dict]:
    """``(dataset, checkpoint, agent) -> CSV row``."""
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            dataset = json.loads(row["env_kwargs"])["dataset"]
            rows[(dataset, int(row["checkpoint"]), row["agent"])] = row
    return rows


def table(rows: dict) -> str:
    """Mean ± s.e. of the incumbent's test accuracy; the best mean in bold."""
    lines = [
        "| dataset (optimum) | queries | random | REA | local search | REINFORCE |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for dataset, name in DATASETS:
        for checkpoint in CHECKPOINTS:
            cells = {a: rows[(dataset, checkpoint, a)] for a in AGENTS}
            best = max(AGENTS, key=lambda a: float(cells[a]["test_mean"]))
            texts = []
            for agent in AGENTS:
                row = cells[agent]
                text = f"{float(row['test_mean']):.2f} ± {float(row['test_se']):.2f}"
                texts.append(f"**{text}**" if agent == best else text)
            optimum = float(cells["random"]["optimum"])
            label = f"{name} ({optimum:.2f})" if checkpoint == CHECKPOINTS[0] else ""
            lines.append(f"| {label} | {checkpoint} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


def se_gap(rows: dict, checkpoint: int = 150) -> str:
    """How many standard errors of the difference REA and LS lead random search by."""
    gaps = []
    for dataset, _ in DATASETS:
        base = rows[(dataset, checkpoint, "random")]
        for agent in ("rea", "ls"):
            row = rows[(dataset, checkpoint, agent)]
            diff = float(row["test_mean"]) - float(base["test_mean"])
            se = math.hypot(float(row["test_se"]), float(base["test_se"]))
            gaps.append(diff / se)
    verdict = "beat" if min(gaps) > 2 else "do not all clearly beat"
    return (
        f"REA and local search {verdict} random search at {checkpoint} queries on all "
        f"three datasets, by {min(gaps):.1f} to {max(gaps):.1f} standard errors of "
        "the difference."
    )


def ls_seeds(runs: Path) -> str:
    """In how many seeds local search ends CIFAR-10 at regret 0 (300 queries)."""
    from nasgym.leaderboard.store import find_run_files, read_run

    ends = {}
    for path in find_run_files(runs):
        if path.parent.name == "ls" and "cifar10" in path.parent.parent.name:
            if "cifar100" in path.parent.parent.name:
                continue
            run = read_run(path)
            ends[int(run.header["seed"])] = float(run.records[-1]["regret"])
    hit = [s for s, r in ends.items() if r < 1e-9]
    missed = ", ".join(f"seed {s} ends at regret {r:.2f}" for s, r in sorted(
        ends.items()) if r >= 1e-9)  # fmt: skip
    tail = f" ({missed})" if missed else ""
    return (
        f"On CIFAR-10 it reaches the cell with the best `valid@12`, which is also "
        f"the `test@200` optimum, in {len(hit)} of {len(ends)} seeds by 300 "
        f"queries{tail}."
    )


def blocks(rows: dict, runs: Path | None) -> dict[str, str]:
    """The generated blocks by name."""
    out = {"table": table(rows), "se-gap": se_gap(rows)}
    if runs is not None:
        out["ls-seeds"] = ls_seeds(runs)
    return out


def replace_blocks(text: str, new: dict[str, str]) -> str:
    """``text`` with each named block's content replaced."""
    for name, content in new.items():
        pattern = re.compile(
            rf"(<!-- numbers:{re.escape(name)} -->\n).*?(<!-- /numbers:{name} -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no numbers:{name} block")
        text = pattern.sub(
            lambda m, body=content: m.group(1) + body + "\n" + m.group(2), text
        )
    return text


def read_blocks(text: str) -> dict[str, str]:
    """The content of every numbers block of ``text``."""
    found = re.findall(r"<!-- numbers:([\w-]+) -->\n(.*?)<!-- /numbers:\1 -->", text,
                       re.S)  # fmt: skip
    return {name: content.rstrip("\n") for name, content in found}


def main() -> None:
    """Print (or ``--write``) the README's generated blocks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=Path, default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    new = blocks(load(), args.runs)
    if args.write:
        readme = HERE / "README.md"
        readme.write_text(replace_blocks(readme.read_text(), new))
    for name, content in new.items():
        print(f"--- {name}\n{content}")


if __name__ == "__main__":
    main()
