"""SAC (stable-baselines3) on continuous architecture hyperparameters of NAS-Bench-201.

Needs the NB201 table: ``nasgym data import nb201 PATH`` once (see README).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import torch
from stable_baselines3 import SAC

import nasgym  # noqa: F401  (registers the envs)
from nasgym.sb3 import StopOnBudget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    budget = 30 if args.ci else args.budget

    torch.set_num_threads(1)  # much faster for these small policies on few cores
    env = gym.make(
        "nasgym/NB201Continuous-v0",
        dataset=args.dataset,
        horizon=50,
        max_queries=budget,
    )
    model = SAC("MlpPolicy", env, learning_starts=50, seed=args.seed, device="cpu")
    # Revisits are free, so steps outnumber queries; StopOnBudget ends learn().
    model.learn(total_timesteps=100 * budget, callback=StopOnBudget())
    info = env.unwrapped.search_info()
    print(
        f"best cell after {info['queries']} queries: {info['best_arch']} "
        f"(test {info['best_test_accuracy']:.2f}%, regret {info['regret']:.2f})"
    )


if __name__ == "__main__":
    main()
