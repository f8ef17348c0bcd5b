"""MaskablePPO (sb3-contrib) searching NAS-Bench-201 by graph edits, under a budget.

Needs the NB201 table: ``nasgym data import nb201 PATH`` once (see README).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import torch
from sb3_contrib import MaskablePPO

import nasgym  # noqa: F401  (registers the envs)
from nasgym.sb3 import StopOnBudget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="cifar100")
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    budget = 30 if args.ci else args.budget

    torch.set_num_threads(1)  # much faster for these small policies on few cores
    env = gym.make("nasgym/NB201Edit-v0", dataset=args.dataset, max_queries=budget)
    model = MaskablePPO(
        "MultiInputPolicy", env, n_steps=64, batch_size=32, seed=args.seed, device="cpu"
    )
    model.learn(total_timesteps=50 * budget, callback=StopOnBudget())
    info = env.unwrapped.search_info()
    print(f"best cell: {info['best_arch']}")
    print(
        f"12-epoch valid {info['best_valid_accuracy']:.2f}%, 200-epoch test "
        f"{info['best_test_accuracy']:.2f}%, regret {info['regret']:.2f} "
        f"after {info['queries']} queries"
    )


if __name__ == "__main__":
    main()
