"""AdvantageNAS on the NB201 weight-sharing supernet, offline on real digit images.

Two ways to run the same method (docs/supernet.md):

1. as a leaderboard agent on ``nasgym/Supernet201Query-v0``: the agent trains
   ``env.unwrapped.supernet`` and spends one query per architecture step, so the
   env tracks the incumbent;
2. as a standalone search with a wall-clock report (what
   ``python -m nasgym_agents.advantagenas`` prints).

``--ci`` runs a tiny version (C=4, 12 architecture steps) in seconds.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import torch

import nasgym  # noqa: F401  (registers the envs)
from nasgym_agents.advantagenas import AdvantageNAS
from nasgym_agents.advantagenas.standalone import format_report, search_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--arch-steps", type=int, default=150)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.ci:
        args.channels, args.arch_steps = 4, 12
        torch.set_num_threads(1)  # small nets: threads only contend on shared CPUs

    env = gym.make(
        "nasgym/Supernet201Query-v0",
        dataset=args.dataset,
        channels=args.channels,
        num_cells=1,
        train_steps_per_query=0,  # the agent does the weight steps itself
        eval_batches=1,
        max_queries=args.arch_steps,
        device=args.device,
    )
    agent = AdvantageNAS(env, seed=0)
    agent.run()
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert agent.result is not None
    print(
        f"leaderboard agent: {info['queries']} queries, "
        f"{agent.result.weight_steps} weight steps; incumbent {info['best_arch']} "
        f"({info['best_valid_accuracy']:.1f} % on one validation batch)"
    )
    report = search_report(
        dataset=args.dataset,
        channels=args.channels,
        arch_steps=args.arch_steps,
        device=args.device,
    )
    print(format_report(report))


if __name__ == "__main__":
    main()
