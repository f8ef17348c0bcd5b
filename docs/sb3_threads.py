"""Measure how much ``torch.set_num_threads(1)`` speeds up SB3 on a nasgym env.

The policies of the README's snippets are small MLPs: with several torch threads per
process, thread synchronisation costs more than the matrix products gain. This script
trains MaskablePPO (sb3-contrib; the settings of
examples/maskable_ppo_nb201.py) on ``NB201Edit-v0`` until the query budget is spent
(``nasgym.sb3.StopOnBudget``), once with one torch thread and once with torch's
default (one per core), alternating in fresh processes, and prints the wall-clock
ratio. Usage::

    python docs/sb3_threads.py [--budget 300] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHILD = """
import sys, time
import gymnasium as gym
import torch
from sb3_contrib import MaskablePPO
import nasgym
from nasgym.sb3 import StopOnBudget

threads, budget = int(sys.argv[1]), int(sys.argv[2])
if threads:
    torch.set_num_threads(threads)
env = gym.make("nasgym/NB201Edit-v0", dataset="cifar100", max_queries=budget)
model = MaskablePPO(
    "MultiInputPolicy", env, n_steps=64, batch_size=32, seed=0, device="cpu"
)
start = time.perf_counter()
model.learn(10**7, callback=StopOnBudget())
print(time.perf_counter() - start, torch.get_num_threads())
"""


def _run(threads: int, budget: int) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(threads), str(budget)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout.split()
    return float(out[-2]), int(out[-1])


def main() -> None:
    """Time both settings and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    one: list[float] = []
    default: list[float] = []
    n_default = 0
    for _ in range(args.repeats):
        one.append(_run(1, args.budget)[0])
        seconds, n_default = _run(0, args.budget)
        default.append(seconds)
    print(
        f"cores: {os.cpu_count()}; MaskablePPO, NB201Edit cifar100, "
        f"{args.budget} queries"
    )
    print(f"1 torch thread:  {statistics.median(one):.1f} s (median of {len(one)})")
    print(f"{n_default} torch threads: {statistics.median(default):.1f} s")
    print(f"ratio: {statistics.median(default) / statistics.median(one):.1f}x")


if __name__ == "__main__":
    main()
