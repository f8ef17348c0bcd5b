"""``python -m nasgym_agents.l2nas``: one L2NAS search, optionally saved or fine-tuned.

Train on one dataset and save the policy, then fine-tune it on another with a small
query budget (transfer, docs/methods/l2nas.md#transfer)::

    python -m nasgym_agents.l2nas --env-kwargs dataset=cifar10 --budget 300 \
        --save c10.pt
    python -m nasgym_agents.l2nas --env-kwargs dataset=cifar100 --budget 50 \
        --init-from c10.pt

The same fine-tuning runs as a leaderboard agent with
``--agents l2nas-ft=l2nas --agent-kwargs l2nas-ft:init_from=c10.pt``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym

from nasgym.error import Error


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    import nasgym  # noqa: F401  (registers the envs)
    from nasgym.leaderboard.config import kwarg_argument

    from .agent import L2NAS

    parser = argparse.ArgumentParser(
        prog="python -m nasgym_agents.l2nas",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", default="nasgym/NB201Continuous-v0", metavar="ID")
    parser.add_argument(
        "--env-kwargs", nargs="+", type=kwarg_argument, default=[], metavar="KEY=VALUE"
    )
    parser.add_argument("--budget", type=int, default=300, help="query budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--init-from", default=None, metavar="FILE", help="start from a saved policy"
    )
    parser.add_argument("--save", default=None, metavar="FILE", help="save the policy")
    parser.add_argument(
        "--config",
        nargs="+",
        type=kwarg_argument,
        default=[],
        metavar="KEY=VALUE",
        help="L2NASConfig fields",
    )
    parser.add_argument("--json", default=None, metavar="FILE", help="write the report")
    args = parser.parse_args(argv)
    if args.budget < 1:
        parser.error(f"--budget must be positive, got {args.budget}")
    if args.env not in gym.registry:
        parser.error(f"--env {args.env!r} is not a registered env id (nasgym list)")
    if args.init_from is not None and not Path(args.init_from).is_file():
        parser.error(f"--init-from {args.init_from}: no such file")
    env_kwargs = dict(args.env_kwargs)
    config = dict(args.config)
    try:
        env = gym.make(args.env, max_queries=args.budget, **env_kwargs)
        if args.init_from is not None:
            agent = L2NAS.load(args.init_from, env, seed=args.seed, **config)
        else:
            agent = L2NAS(env, seed=args.seed, **config)
        start = time.perf_counter()
        agent.run()
        wall = time.perf_counter() - start
    except (Error, ValueError, TypeError) as exc:
        print(f"python -m nasgym_agents.l2nas: error: {exc}", file=sys.stderr)
        return 1
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    if args.save is not None:
        agent.save(args.save)
    report = {
        "env": args.env,
        "env_kwargs": env_kwargs,
        "budget": args.budget,
        "seed": args.seed,
        "init_from": args.init_from,
        "queries": int(info["queries"]),
        "best_arch": str(info["best_arch"]),
        "best_valid_accuracy": float(info["best_valid_accuracy"]),
        "best_test_accuracy": float(info["best_test_accuracy"]),
        "regret": float(info["regret"]),
        "wall_s": round(wall, 2),
        "saved": args.save,
    }
    text = json.dumps(report, indent=2)
    if args.json is not None:
        Path(args.json).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
