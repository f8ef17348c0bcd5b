"""SAC (stable-baselines3) on continuous architecture hyperparameters of NAS-Bench-201.

Needs the NB201 table: ``nasgym data import nb201 PATH`` once (see README).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
from stable_baselines3 import SAC

import nasgym  # noqa: F401  (registers the envs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    steps = 200 if args.ci else args.steps

    env = gym.make("nasgym/NB201Continuous-v0", dataset=args.dataset, horizon=50)
    model = SAC("MlpPolicy", env, learning_starts=50, seed=args.seed, device="cpu")
    model.learn(total_timesteps=steps)
    info = env.unwrapped.search_info()
    print(
        f"best cell after {info['queries']} queries: {info['best_arch']} "
        f"(test {info['best_test_accuracy']:.2f}%, regret {info['regret']:.2f})"
    )


if __name__ == "__main__":
    main()
