"""Wall-clock time per trial of the ask/tell agents, side by side in one process.

Runs each agent on NB201 CIFAR-100 (``max_queries`` = the budget) for a few seeds,
one after the other in this process, and prints the median milliseconds per query
of ``agent.run()``: the sampler's cost on top of the table look-ups that ``random``
also pays. Needs the NB201 table (``nasgym data import nb201 ...``).

    python time_trials.py --budget 300 --seeds 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym

import nasgym  # noqa: F401  (registers the envs)
from nasgym.leaderboard.protocol import load_agent

AGENTS = ("optuna-tpe", "optuna-cmaes", "optuna-random", "rea", "random")


def main() -> None:
    """Time every agent and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"| agent | ms per query, median of {args.seeds} runs (min to max) |")
    print("|---|--:|")
    for name in AGENTS:
        factory = load_agent(name)
        per: list[float] = []
        for seed in range(args.seeds):
            env = gym.make(
                "nasgym/NB201Query-v0", dataset="cifar100", max_queries=args.budget
            )
            agent = factory(env, seed=seed)
            start = time.perf_counter()
            agent.run()
            per.append(1000.0 * (time.perf_counter() - start) / args.budget)
        print(
            f"| {name} | {statistics.median(per):.2f} "
            f"({min(per):.2f} to {max(per):.2f}) |"
        )


if __name__ == "__main__":
    main()
