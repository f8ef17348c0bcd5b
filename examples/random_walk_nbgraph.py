"""A masked random walk on NAS-Bench-Graph: the env API in 30 lines (runs offline)."""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import nasgym  # noqa: F401  (registers the envs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    budget = 20 if args.ci else args.budget

    env = gym.make("nasgym/NBGraphEdit-v0", dataset=args.dataset, max_queries=budget)
    rng = np.random.default_rng(args.seed)
    _, info = env.reset(seed=args.seed)
    print(f"start: {info['arch']}  valid {info['valid_accuracy']:.2f}%")
    while not info["budget_exhausted"]:
        legal = np.flatnonzero(info["action_mask"])
        _, _, terminated, truncated, info = env.step(int(rng.choice(legal)))
        if terminated or truncated:
            _, info = env.reset()
    print(f"best:  {info['best_arch']}")
    print(
        f"       valid {info['best_valid_accuracy']:.2f}%"
        f"  test {info['best_test_accuracy']:.2f}%"
        f"  regret {info['regret']:.2f} after {info['queries']} queries"
    )


if __name__ == "__main__":
    main()
