"""Standalone UNAS searches with a wall-clock report.

``python -m nasgym_agents.unas --dataset mnist5k --steps 300`` runs one search
(:class:`~.search.UnasSearch`), prints its progress, evaluates the derived cell with
the shared weights on the whole validation split, looks it up in the NB201 table
(CIFAR-10, CIFAR-100 and ImageNet16-120 test accuracy) and in HW-NAS-Bench-360
(measured latency), and prints (or writes as JSON) the report of
:func:`search_report`. :func:`run_unas` is the same as a Python call with a seed and
a step or wall-clock budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..cli import add_model_arguments, add_run_arguments, report_main
from ..darts.standalone import cell_summary, nb201_lookup
from .estimators import ESTIMATORS
from .latency import LatencyTable
from .search import StepLog, UnasConfig, UnasSearch

#: Points of the entropy / latency trace kept in a report.
TRACE_POINTS = 50


def _latency_for_report(
    search: UnasSearch, nb201_path: str | None, hw_path: str | None
) -> LatencyTable | None:
    if search.latency_table is not None:
        return search.latency_table
    from nasgym.error import BenchmarkDataMissingError

    try:
        return LatencyTable.load(
            search.config.latency_device, nb201_path=nb201_path, hw_path=hw_path
        )
    except BenchmarkDataMissingError:
        return None


def search_report(
    config: UnasConfig,
    *,
    time_budget_s: float | None = None,
    progress: Callable[[StepLog], None] | None = None,
    checkpoint: str | None = None,
    checkpoint_every: int = 0,
    table_path: str | None = None,
    hw_path: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) one search and return its report.

    Args:
        config: The search settings.
        time_budget_s: Wall-clock budget of the search (see :meth:`UnasSearch.run`).
        progress: Called after every step.
        checkpoint: Checkpoint file; an existing one is resumed (same settings).
        checkpoint_every: Save every this many steps (0: only at the end).
        table_path: The NB201 table (default: nasgym's data search path).
        hw_path: ``hw360.npz`` (default: nasgym's data search path).

    Returns:
        Settings, wall-clock seconds (setup, search, evaluation), images/s, the
        derived cell, ``softmax(alpha)``, its entropy, its supernet validation
        accuracy, its NB201 accuracies and measured latency (``None`` without the
        tables), ``E_q[latency]``, the latency surrogate's fit, op counts and a
        thinned trace of entropy, ``c`` and the sampled cells' latency.
    """
    from nasgym.spaces.nb201 import NB201Arch

    tick = time.perf_counter()
    search = UnasSearch(config, nb201_path=table_path, hw_path=hw_path)
    resumed_from = 0
    if checkpoint is not None and Path(checkpoint).exists():
        search.load_checkpoint(checkpoint)
        resumed_from = search.step
    setup_s = time.perf_counter() - tick
    result = search.run(
        time_budget_s=time_budget_s,
        progress=progress,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
    )
    tick = time.perf_counter()
    valid = search.evaluate(result.arch)
    eval_s = time.perf_counter() - tick
    table = _latency_for_report(search, table_path, hw_path)
    every = max(1, math.ceil(len(result.history) / TRACE_POINTS))
    trace = [
        {
            "step": log.step,
            "entropy": log.entropy,
            "c": log.c,
            "sample_latency_ms": log.latency_ms,
            "objective": log.objective,
        }
        for log in result.history[::every]
    ]
    return {
        "method": "unas",
        "estimator": config.estimator,
        "dataset": config.dataset,
        "device": str(search.device),
        "channels": config.channels,
        "num_cells": config.num_cells,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "steps": result.steps,
        "resumed_from": resumed_from,
        "stopped_by_budget": result.stopped_by_budget,
        "arch_lr": config.arch_lr,
        "gap_lambda": config.gap_lambda,
        "latency_term": config.uses_latency,
        "latency_weight": config.latency_weight,
        "latency_ramp_steps": config.resolved_ramp_steps,
        "latency_target_ms": config.latency_target_ms,
        "latency_device": config.latency_device,
        "setup_s": setup_s,
        "search_s": result.wall_s,
        "eval_s": eval_s,
        "train_images_per_s": result.train_images_per_s,
        "arch": NB201Arch(result.arch).to_str(),
        "arch_ops": list(result.arch),
        "probabilities": result.probabilities.round(4).tolist(),
        "entropy": search.entropy(),
        "supernet_valid_accuracy": valid,
        "nb201": nb201_lookup(result.arch, table_path),
        "latency_ms": None if table is None else table.latency(result.arch),
        "expected_latency_ms": (
            None if table is None else table.expected(result.probabilities)
        ),
        "latency_surrogate_fit": (
            None if search.surrogate is None else search.surrogate.fit.as_dict()
        ),
        **cell_summary(result.arch),
        "trace": trace,
    }


def run_unas(
    seed: int,
    *,
    steps: int | None = None,
    time_budget_s: float | None = None,
    latency: bool = True,
    config: UnasConfig | None = None,
    checkpoint: str | None = None,
    table_path: str | None = None,
    hw_path: str | None = None,
    progress: Callable[[StepLog], None] | None = None,
) -> dict[str, Any]:
    """One UNAS search as a Python call (for comparisons): its :func:`search_report`.

    Args:
        seed: The search's seed (replaces ``config.seed``).
        steps: Search steps (replaces ``config.steps``; the schedules follow it).
        time_budget_s: Stop after the first step past this many seconds of search;
            with a budget, pass ``steps`` large enough not to end first (the cosine
            and ramp schedules still follow ``steps``).
        latency: ``False`` turns the latency term off (``latency_weight = 0``).
        config: Base settings (default :class:`UnasConfig()`).
        checkpoint: Checkpoint file, resumed when it exists.
        table_path: The NB201 table (default: nasgym's data search path).
        hw_path: ``hw360.npz`` (default: nasgym's data search path).
        progress: Called after every step.
    """
    base = UnasConfig() if config is None else config
    changes: dict[str, Any] = {"seed": seed}
    if steps is not None:
        changes["steps"] = steps
    if not latency:
        changes["latency_weight"] = 0.0
    return search_report(
        dataclasses.replace(base, **changes),
        time_budget_s=time_budget_s,
        progress=progress,
        checkpoint=checkpoint,
        table_path=table_path,
        hw_path=hw_path,
    )


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines of a :func:`search_report`."""
    latency = (
        f"on, c up to {report['latency_weight']:g}/ms over "
        f"{report['latency_ramp_steps']} steps, target "
        f"{report['latency_target_ms']:g} ms ({report['latency_device']})"
        if report["latency_term"]
        else "off"
    )
    lines = [
        f"UNAS ({report['estimator']}) on {report['dataset']} ({report['device']}, "
        f"C={report['channels']}, N={report['num_cells']}, seed {report['seed']})",
        f"  steps: {report['steps']} (resumed from {report['resumed_from']})"
        + (", stopped by the time budget" if report["stopped_by_budget"] else ""),
        f"  latency term: {latency}",
        f"  wall-clock: setup {report['setup_s']:.1f} s, search "
        f"{report['search_s']:.1f} s, final evaluation {report['eval_s']:.1f} s",
        f"  training throughput: {report['train_images_per_s']:,.0f} images/s",
        f"  derived cell: {report['arch']} (entropy of q {report['entropy']:.3f} nats)",
        f"  parameter-free edges: {report['parameter_free_edges']}/6 "
        f"(skip {report['skip_edges']}, pool {report['pool_edges']}, "
        f"none {report['none_edges']}){'  COLLAPSED' if report['collapsed'] else ''}",
        f"  supernet validation accuracy: {report['supernet_valid_accuracy']:.2f} %",
    ]
    fit = report["latency_surrogate_fit"]
    if fit is not None:
        lines.append(
            f"  latency surrogate: held-out R^2 {fit['test_r2']:.3f}, RMSE "
            f"{fit['test_rmse_ms']:.3f} ms, Spearman {fit['test_spearman']:.3f} "
            f"({fit['train_size']}/{fit['test_size']} cells)"
        )
    if report["latency_ms"] is None:
        lines.append(
            "  latency table not imported (nasgym data import hw-nas-bench-360 PATH)"
        )
    else:
        lines.append(
            f"  measured latency: {report['latency_ms']:.3f} ms (E_q "
            f"{report['expected_latency_ms']:.3f} ms) on {report['latency_device']}"
        )
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

            lat = "" if log.latency_ms is None else f", sample {log.latency_ms:.2f} ms"
            print(
                f"step {log.step}/{total}: f {log.objective:.4f} (train "
                f"{log.train_loss:.4f}, val {log.val_loss:.4f}{lat}, c {log.c:.3g}), "
                f"entropy {log.entropy:.3f}, cell "
                f"{NB201Arch(tuple(log.arch)).to_str()}",
                file=sys.stderr,
                flush=True,
            )

    return show


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m nasgym_agents.unas``."""
    d = UnasConfig()
    p = argparse.ArgumentParser(
        prog="python -m nasgym_agents.unas",
        description="UNAS on the NB201 supernet (unified REBAR-style or REINFORCE "
        "estimator, generalisation-gap objective, HW-NAS-Bench-360 latency term), "
        "with a wall-clock report and NB201 table look-ups of the derived cell.",
    )
    p.add_argument("--estimator", choices=ESTIMATORS, default=d.estimator)
    add_model_arguments(
        p,
        dataset=d.dataset,
        channels=d.channels,
        num_cells=d.num_cells,
        batch_size=d.batch_size,
    )
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--time-budget", type=float, default=None, help="seconds")
    p.add_argument("--w-lr", type=float, default=d.w_lr)
    p.add_argument("--arch-lr", type=float, default=d.arch_lr)
    p.add_argument("--arch-lr-min", type=float, default=d.arch_lr_min)
    p.add_argument("--gap-lambda", type=float, default=d.gap_lambda)
    p.add_argument("--tau", type=float, default=d.tau)
    p.add_argument("--baseline-decay", type=float, default=d.baseline_decay)
    p.add_argument(
        "--latency-weight", type=float, default=d.latency_weight, help="c per ms"
    )
    p.add_argument("--no-latency", action="store_true", help="latency weight 0")
    p.add_argument(
        "--latency-ramp-steps", type=int, default=None, help="default: half the steps"
    )
    p.add_argument("--latency-target", type=float, default=d.latency_target_ms)
    p.add_argument("--latency-device", default=d.latency_device)
    p.add_argument("--latency-fit-samples", type=int, default=d.latency_fit_samples)
    add_run_arguments(p)
    p.add_argument("--hw-table", default=None, help="the hw360.npz file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 on bad input)."""
    args = build_parser().parse_args(argv)

    def run() -> dict[str, Any]:
        config = UnasConfig(
            estimator=args.estimator,
            steps=args.steps,
            dataset=args.dataset,
            data_dir=args.data_dir,
            channels=args.channels,
            num_cells=args.num_cells,
            batch_size=args.batch_size,
            image_size=args.image_size,
            w_lr=args.w_lr,
            arch_lr=args.arch_lr,
            arch_lr_min=args.arch_lr_min,
            gap_lambda=args.gap_lambda,
            tau=args.tau,
            baseline_decay=args.baseline_decay,
            latency_weight=0.0 if args.no_latency else args.latency_weight,
            latency_ramp_steps=args.latency_ramp_steps,
            latency_target_ms=args.latency_target,
            latency_device=args.latency_device,
            latency_fit_samples=args.latency_fit_samples,
            seed=args.seed,
            device=args.device,
            amp=not args.no_amp,
        )
        return search_report(
            config,
            time_budget_s=args.time_budget,
            progress=_progress_printer(args.log_every, args.steps),
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            table_path=args.table,
            hw_path=args.hw_table,
        )

    return report_main(run, format_report, args.json)


__all__ = ["build_parser", "format_report", "main", "run_unas", "search_report"]
