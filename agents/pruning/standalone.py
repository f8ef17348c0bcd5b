"""Command line of ``python -m nasgym_agents.pruning``.

``python -m agents.pruning`` runs the same from a source checkout.

``python -m nasgym_agents.pruning --lambdas 0 0.5 2 --seed 0 --json out.json
--checkpoint run.pt`` pretrains the gated CNN on MNIST-5k, searches the gates once
per lambda, thresholds them, retrains the kept sub-network and its two baselines
(magnitude pruning, random subsets of the same size) on few-shot digits, prints a
summary and writes the JSON report (with wall-clock seconds). ``--resume`` continues
an interrupted run from its checkpoint, with identical results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .method import PruningConfig

_DEFAULTS = PruningConfig()


def _parser() -> argparse.ArgumentParser:
    d = _DEFAULTS
    p = argparse.ArgumentParser(
        prog="python -m nasgym_agents.pruning",
        description="Differentiable architecture pruning of a CNN pretrained on "
        "MNIST-5k, retrained on few-shot digits, against magnitude pruning and "
        "random subsets of the same size.",
    )
    p.add_argument("--lambdas", type=float, nargs="+", default=list(d.lambdas))
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--source", default=d.source, help="pretraining/search image set")
    p.add_argument("--target", default=d.target, help="few-shot target image set")
    p.add_argument("--shots", type=int, default=d.shots, help="images per class")
    p.add_argument("--image-size", type=int, default=d.image_size)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--stages", type=int, default=d.stages)
    p.add_argument("--blocks-per-stage", type=int, default=d.blocks_per_stage)
    p.add_argument("--granularity", default=d.granularity, help="channel or block")
    p.add_argument("--cost", default=d.cost, help="params or flops")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--pretrain-steps", type=int, default=d.pretrain_steps)
    p.add_argument("--search-steps", type=int, default=d.search_steps)
    p.add_argument("--retrain-steps", type=int, default=d.retrain_steps)
    p.add_argument("--theta-lr", type=float, default=d.theta_lr)
    p.add_argument("--weight-lr", type=float, default=d.weight_lr)
    p.add_argument("--tau-sample", type=float, nargs=2, default=list(d.tau_sample))
    p.add_argument("--tau-grad", type=float, nargs=2, default=list(d.tau_grad))
    p.add_argument("--schedule", default=d.schedule, help="exponential or linear")
    p.add_argument("--threshold", type=float, default=d.threshold)
    p.add_argument("--random-draws", type=int, default=d.random_draws)
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many steps (checkpoint saved; then --resume)",
    )
    p.add_argument("--log-every", type=int, default=50, help="progress lines (0: off)")
    p.add_argument("--json", type=Path, default=None, help="write the report")
    return p


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines of a :meth:`PruningRun.run` report."""
    cfg = report["config"]
    lines = [
        f"pruning {cfg['granularity']}s of a CNN pretrained on {cfg['source']} "
        f"(seed {cfg['seed']}, {report['device']}); target {cfg['target']} "
        f"{cfg['shots']}-shot",
        f"  pretrained source val accuracy "
        f"{report['pretrain']['source_val_accuracy']:.2f} %; full network on the "
        f"target {report['full']['target_accuracy']:.2f} %",
    ]
    for row in report["results"]:
        by = {m["method"]: m for m in row["methods"]}
        rand = [m["target_accuracy"] for k, m in by.items() if k.startswith("random")]
        lines.append(
            f"  lambda {row['lambda']:g}: kept {row['kept_units']}/{row['num_units']} "
            f"units; target accuracy gates {by['gates']['target_accuracy']:.2f} %, "
            f"magnitude {by['magnitude']['target_accuracy']:.2f} %"
            + (f", random {sum(rand) / len(rand):.2f} % (mean)" if rand else "")
        )
    lines.append(f"  wall-clock {report['wall_s']:.1f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    from nasgym.error import Error

    from .method import PruningRun, RunInterrupted

    try:
        if args.resume and args.checkpoint is None:
            raise ValueError("--resume needs --checkpoint FILE")
        config = PruningConfig(
            source=args.source,
            target=args.target,
            image_size=args.image_size,
            shots=args.shots,
            width=args.width,
            hidden=args.hidden,
            stages=args.stages,
            blocks_per_stage=args.blocks_per_stage,
            granularity=args.granularity,
            cost=args.cost,
            lambdas=tuple(args.lambdas),
            batch_size=args.batch_size,
            pretrain_steps=args.pretrain_steps,
            search_steps=args.search_steps,
            theta_lr=args.theta_lr,
            weight_lr=args.weight_lr,
            tau_sample=tuple(args.tau_sample),
            tau_grad=tuple(args.tau_grad),
            schedule=args.schedule,
            threshold=args.threshold,
            retrain_steps=args.retrain_steps,
            random_draws=args.random_draws,
            seed=args.seed,
        )
        run = PruningRun(config, device=args.device, threads=args.threads)
        start = time.perf_counter()

        def progress(
            stage: str, step: int, total: int, values: dict[str, float]
        ) -> None:
            if args.log_every and (step % args.log_every == 0 or step == total):
                shown = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
                print(
                    f"[{time.perf_counter() - start:7.1f} s] {stage} {step}/{total}: "
                    f"{shown}",
                    file=sys.stderr,
                    flush=True,
                )

        report = run.run(
            checkpoint=args.checkpoint,
            resume=args.resume,
            checkpoint_every=args.checkpoint_every,
            stop_after_steps=args.stop_after,
            progress=progress,
        )
    except RunInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 3
    except (Error, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0
