"""Pretrain an Ape-X transformer Q-learning searcher on a graph-edit env and save it.

The saved file is a reusable searcher: the ``apex`` leaderboard agent searches with
it, without training, when given ``init_from``::

    python examples/apex_pretrain.py --env nasgym/NB301Edit-v0 --steps 40000 \\
        --out apex-nb301.pt
    nasgym leaderboard run --env nasgym/NB301Query-v0 \\
        --agents random,rea,trained=apex \\
        --agent-kwargs trained:init_from=apex-nb301.pt \\
        --seeds 30 --budget 100 --out lb-nb301

Training queries are not counted by the later searches: they are the (amortised)
cost of making the searcher, reported here with the training speed. NB201 and NB301
need their data (see README); ``--ci`` trains a tiny network on the embedded
NAS-Bench-Graph.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import nasgym  # noqa: F401  (registers the envs)
from nasgym.leaderboard.config import kwarg_argument
from nasgym_agents.apex import train

#: A CPU-sized run (the paper's settings suit a GPU learner; see docs/agents.md).
CPU_CONFIG: dict[str, Any] = {
    "d_model": 64,
    "num_layers": 2,
    "ffn_dim": 128,
    "batch_size": 64,
    "learning_starts": 2_000,
    "buffer_capacity": 50_000,
    "target_update_period": 2_000,
    "env_steps_per_update": 4,
    "lr": 2.5e-4,
    "num_actors": 8,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="nasgym/NBGraphEdit-v0", metavar="ID")
    parser.add_argument(
        "--env-kwargs", nargs="+", type=kwarg_argument, default=[], metavar="KEY=VALUE"
    )
    parser.add_argument("--steps", type=int, default=20_000, help="env steps in all")
    parser.add_argument(
        "--config",
        nargs="+",
        type=kwarg_argument,
        default=[],
        metavar="KEY=VALUE",
        help="ApexConfig fields over the CPU-sized defaults of this script",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="apex-searcher.pt", metavar="PATH")
    parser.add_argument("--ci", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be positive, got {args.steps}")
    config = {**CPU_CONFIG, **dict(args.config)}
    env_kwargs = dict(args.env_kwargs)
    if isinstance(env_kwargs.get("objectives"), str):  # as `leaderboard run` reads it
        env_kwargs["objectives"] = env_kwargs["objectives"].split(",")
    steps = args.steps
    if args.ci:
        config.update(d_model=16, num_layers=1, ffn_dim=32, learning_starts=64)
        config.update(batch_size=16, num_actors=2)
        steps, out = 300, Path(args.out).with_suffix(".ci.pt")
    else:
        out = Path(args.out)
    if args.env not in gym.registry:
        parser.error(f"--env {args.env!r} is not a registered env id (nasgym list)")

    clock = time.perf_counter()
    searcher, stats = train(
        args.env, steps, env_kwargs=env_kwargs, seed=args.seed, **config
    )
    wall = time.perf_counter() - clock
    searcher.save(out)
    report = {
        "env": args.env,
        "env_kwargs": env_kwargs,
        "config": config,
        "seed": args.seed,
        "env_steps": stats.env_steps,
        "updates": stats.updates,
        "wall_s": round(wall, 1),
        "env_steps_per_s": round(stats.env_steps / wall, 1),
        "final_loss": stats.losses[-1] if stats.losses else None,
        "saved": str(out),
    }
    print(json.dumps(report, indent=2))
    if args.ci:
        out.unlink()


if __name__ == "__main__":
    main()
