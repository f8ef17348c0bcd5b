"""Standalone DARTS / DARTS-2 / GDAS searches with a wall-clock report.

``python -m nasgym_agents.darts --method gdas --dataset mnist5k --steps 300`` runs one
search (:class:`~.search.DartsSearch`), prints its progress, evaluates the derived cell
with the shared weights on the whole validation split, looks it up in the NB201 table
(CIFAR-10, CIFAR-100 and ImageNet16-120 test accuracy, when the table is imported)
and prints (or writes as JSON) the report of :func:`search_report`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..cli import add_model_arguments, add_run_arguments, report_main
from .search import METHODS, DartsConfig, DartsSearch, StepLog

#: NB201 datasets every derived cell is looked up on.
NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: Parameter-free NB201 ops (a cell of only these is a collapse).
PARAMETER_FREE: frozenset[str] = frozenset({"none", "skip_connect", "avg_pool_3x3"})


def nb201_lookup(
    arch: Sequence[int], path: str | None = None
) -> dict[str, dict[str, float]] | None:
    """NB201 ``valid@12`` / ``test@200`` of a cell on each of :data:`NB201_DATASETS`.

    Args:
        arch: One op index per edge.
        path: The NB201 table (default: nasgym's data search path).

    Returns:
        ``{dataset: {"valid@12": ..., "test@200": ...}}``, or ``None`` when the table
        is not imported.
    """
    from ..advantagenas.standalone import benchmark_accuracy

    out: dict[str, dict[str, float]] = {}
    for dataset in NB201_DATASETS:
        accuracy = benchmark_accuracy(arch, dataset, path)
        if accuracy is None:
            return None
        out[dataset] = accuracy
    return out


def cell_summary(arch: Sequence[int]) -> dict[str, Any]:
    """Op counts of a cell and whether it collapsed to parameter-free ops."""
    from nasgym.spaces.nb201 import OPS

    names = [OPS[i] for i in arch]
    free = sum(name in PARAMETER_FREE for name in names)
    return {
        "skip_edges": names.count("skip_connect"),
        "pool_edges": names.count("avg_pool_3x3"),
        "none_edges": names.count("none"),
        "parameter_free_edges": free,
        "collapsed": free == len(names),
    }


def search_report(
    config: DartsConfig,
    *,
    progress: Callable[[StepLog], None] | None = None,
    checkpoint: str | None = None,
    checkpoint_every: int = 0,
    table_path: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) one search and return its report.

    Args:
        config: The search settings.
        progress: Called after every step.
        checkpoint: Checkpoint file; an existing one is resumed (same settings).
        checkpoint_every: Save every this many steps (0: only at the end).
        table_path: The NB201 table (default: nasgym's data search path).

    Returns:
        Settings, wall-clock seconds (setup, search, evaluation), training images/s,
        the derived cell, ``softmax(alpha)``, its supernet validation accuracy, its
        NB201 accuracies (``None`` without the table) and its op counts.
    """
    from nasgym.spaces.nb201 import NB201Arch

    tick = time.perf_counter()
    search = DartsSearch(config)
    resumed_from = 0
    if checkpoint is not None and Path(checkpoint).exists():
        search.load_checkpoint(checkpoint)
        resumed_from = search.step
    setup_s = time.perf_counter() - tick
    result = search.run(
        progress=progress, checkpoint=checkpoint, checkpoint_every=checkpoint_every
    )
    tick = time.perf_counter()
    valid = search.evaluate(result.arch)
    eval_s = time.perf_counter() - tick
    return {
        "method": config.method,
        "dataset": config.dataset,
        "device": str(search.device),
        "channels": config.channels,
        "num_cells": config.num_cells,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "steps": result.steps,
        "resumed_from": resumed_from,
        "arch_lr": config.resolved_arch_lr,
        "setup_s": setup_s,
        "search_s": result.wall_s,
        "eval_s": eval_s,
        "train_images_per_s": result.train_images_per_s,
        "arch": NB201Arch(result.arch).to_str(),
        "arch_ops": list(result.arch),
        "probabilities": result.probabilities.round(4).tolist(),
        "supernet_valid_accuracy": valid,
        "nb201": nb201_lookup(result.arch, table_path),
        **cell_summary(result.arch),
    }


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines of a :func:`search_report`."""
    lines = [
        f"{report['method']} on {report['dataset']} ({report['device']}, "
        f"C={report['channels']}, N={report['num_cells']}, seed {report['seed']})",
        f"  steps: {report['steps']} (resumed from {report['resumed_from']}), "
        f"arch lr {report['arch_lr']:.3g}",
        f"  wall-clock: setup {report['setup_s']:.1f} s, search "
        f"{report['search_s']:.1f} s, final evaluation {report['eval_s']:.1f} s",
        f"  training throughput: {report['train_images_per_s']:,.0f} images/s",
        f"  derived cell: {report['arch']}",
        f"  parameter-free edges: {report['parameter_free_edges']}/6 "
        f"(skip {report['skip_edges']}, pool {report['pool_edges']}, "
        f"none {report['none_edges']}){'  COLLAPSED' if report['collapsed'] else ''}",
        f"  supernet validation accuracy: {report['supernet_valid_accuracy']:.2f} %",
    ]
    nb201 = report["nb201"]
    if nb201 is None:
        lines.append("  NB201 table not imported (nasgym data import nb201 PATH)")
    else:
        for dataset, acc in nb201.items():
            lines.append(
                f"  NB201 {dataset}: test@200 {acc['test@200']:.2f} %, "
                f"valid@12 {acc['valid@12']:.2f} %"
            )
    return "\n".join(lines)


def _progress_printer(every: int, total: int) -> Callable[[StepLog], None]:
    def show(log: StepLog) -> None:
        if every > 0 and (log.step % every == 0 or log.step == total):
            from nasgym.spaces.nb201 import NB201Arch

            tau = "" if log.tau is None else f" tau {log.tau:.3f}"
            print(
                f"step {log.step}/{total}: train loss {log.train_loss:.4f}, "
                f"val loss {log.val_loss:.4f}{tau}, cell "
                f"{NB201Arch(tuple(log.arch)).to_str()}",
                file=sys.stderr,
                flush=True,
            )

    return show


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m nasgym_agents.darts``."""
    defaults = DartsConfig()
    p = argparse.ArgumentParser(
        prog="python -m nasgym_agents.darts",
        description="DARTS (first/second order) or GDAS on the NB201 supernet, with "
        "a wall-clock report and NB201 table look-ups of the derived cell.",
    )
    p.add_argument("--method", choices=METHODS, default=defaults.method)
    add_model_arguments(
        p,
        dataset=defaults.dataset,
        channels=defaults.channels,
        num_cells=defaults.num_cells,
        batch_size=defaults.batch_size,
    )
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--w-lr", type=float, default=defaults.w_lr)
    p.add_argument(
        "--arch-lr",
        type=float,
        default=None,
        help="default: 3e-4 scaled to the number of steps",
    )
    p.add_argument("--tau-max", type=float, default=defaults.tau_max)
    p.add_argument("--tau-min", type=float, default=defaults.tau_min)
    add_run_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 on bad input)."""
    args = build_parser().parse_args(argv)

    def run() -> dict[str, Any]:
        config = DartsConfig(
            method=args.method,
            steps=args.steps,
            dataset=args.dataset,
            data_dir=args.data_dir,
            channels=args.channels,
            num_cells=args.num_cells,
            batch_size=args.batch_size,
            image_size=args.image_size,
            w_lr=args.w_lr,
            arch_lr=args.arch_lr,
            tau_max=args.tau_max,
            tau_min=args.tau_min,
            seed=args.seed,
            device=args.device,
            amp=not args.no_amp,
        )
        return search_report(
            config,
            progress=_progress_printer(args.log_every, args.steps),
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            table_path=args.table,
        )

    return report_main(run, format_report, args.json)
