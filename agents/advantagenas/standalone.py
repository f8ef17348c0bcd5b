"""Standalone AdvantageNAS / REINFORCE searches with a wall-clock report.

``python -m nasgym_agents.advantagenas --dataset digits --channels 8 --num-cells 1
--arch-steps 200`` builds a :class:`nasgym.oneshot.supernet.Supernet`, searches,
evaluates the output cell on the whole validation split with the shared weights and
prints (or writes as JSON) the report of :func:`search_report`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cli import report_main
from .agent import AdvantageNASConfig, OneShotSearch


def benchmark_accuracy(
    arch: Sequence[int], dataset: str | None, path: str | None = None
) -> dict[str, float] | None:
    """NB201 ``valid@12`` / ``test@200`` of a cell, ``None`` without the table.

    Args:
        arch: One op index per edge.
        dataset: NB201 dataset (``cifar10``, ``cifar100``, ``ImageNet16-120``) or
            ``None``.
        path: The NB201 table (default: nasgym's data search path).
    """
    if dataset is None:
        return None
    import numpy as np

    from nasgym.benchmarks.nb201 import NB201Benchmark
    from nasgym.error import BenchmarkDataMissingError
    from nasgym.spaces.nb201 import NB201Space

    try:
        bench = NB201Benchmark(dataset, path=path)
        code = int(NB201Space().vectors_to_codes(np.asarray([list(arch)]))[0])
        return {
            "valid@12": float(bench.table("valid@12")[code]),
            "test@200": float(bench.table("test@200")[code]),
        }
    except BenchmarkDataMissingError:
        return None


def search_report(
    *,
    dataset: str = "digits",
    data_dir: str | None = None,
    channels: int = 8,
    num_cells: int = 1,
    batch_size: int = 64,
    arch_steps: int = 200,
    seed: int = 0,
    device: str = "auto",
    benchmark_dataset: str | None = None,
    **config: Any,
) -> dict[str, Any]:
    """Run one search and return its report.

    Args:
        dataset: Supernet dataset keyword (:func:`nasgym.oneshot.supernet.load_split`).
        data_dir: CIFAR directory.
        channels: Supernet channels ``C``.
        num_cells: Cells per stage ``N``.
        batch_size: Images per weight and architecture step.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        arch_steps: Architecture steps (warm-up from ``warmup_ratio``).
        seed: Seeds the supernet and the sampling.
        benchmark_dataset: NB201 dataset to report the output cell's accuracy on
            (default: the dataset itself for ``cifar10``/``cifar100``).
        **config: :class:`AdvantageNASConfig` fields (``arch_lr`` defaults to
            :meth:`AdvantageNASConfig.scaled`).

    Returns:
        Wall-clock seconds (setup, search), training images/s, the output cell, its
        supernet validation accuracy and, when the NB201 table is present, its
        benchmark accuracies.
    """
    from nasgym.oneshot.supernet import Supernet
    from nasgym.spaces.nb201 import NB201Arch

    tick = time.perf_counter()
    supernet = Supernet(
        dataset,
        data_dir=data_dir,
        channels=channels,
        num_cells=num_cells,
        batch_size=batch_size,
        device=device,
        seed=seed,
    )
    setup_s = time.perf_counter() - tick
    method = OneShotSearch(AdvantageNASConfig.scaled(arch_steps, **config), seed)
    result = method.run(supernet, arch_steps)
    tick = time.perf_counter()
    valid = float(supernet.evaluate([result.arch])[0])
    eval_s = time.perf_counter() - tick
    if benchmark_dataset is None and dataset in ("cifar10", "cifar100"):
        benchmark_dataset = dataset
    return {
        "estimator": method.config.estimator,
        "dataset": dataset,
        "device": str(supernet.device),
        "channels": channels,
        "num_cells": num_cells,
        "seed": seed,
        "warmup_steps": result.warmup_steps,
        "arch_steps": result.arch_steps,
        "weight_steps": result.weight_steps,
        "setup_s": setup_s,
        "search_s": result.wall_s,
        "eval_s": eval_s,
        "train_images_per_s": result.train_images_per_s,
        "arch": NB201Arch(result.arch).to_str(),
        "arch_ops": list(result.arch),
        "supernet_valid_accuracy": valid,
        "benchmark_dataset": benchmark_dataset,
        "benchmark": benchmark_accuracy(result.arch, benchmark_dataset),
        "probabilities": result.probabilities.round(4).tolist(),
    }


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines of a :func:`search_report`."""
    bench = report["benchmark"]
    lines = [
        f"{report['estimator']} on {report['dataset']} ({report['device']}, "
        f"C={report['channels']}, N={report['num_cells']}, seed {report['seed']})",
        f"  steps: {report['warmup_steps']} warm-up + {report['arch_steps']} "
        f"architecture ({report['weight_steps']} weight steps)",
        f"  wall-clock: setup {report['setup_s']:.1f} s, search "
        f"{report['search_s']:.1f} s, final evaluation {report['eval_s']:.1f} s",
        f"  training throughput: {report['train_images_per_s']:,.0f} images/s",
        f"  output cell: {report['arch']}",
        f"  supernet validation accuracy: {report['supernet_valid_accuracy']:.2f} %",
    ]
    if bench is not None:
        lines.append(
            f"  NB201 {report['benchmark_dataset']}: valid@12 "
            f"{bench['valid@12']:.2f} %, test@200 {bench['test@200']:.2f} %"
        )
    elif report["benchmark_dataset"] is not None:
        lines.append(
            f"  NB201 {report['benchmark_dataset']}: table not imported "
            "(nasgym data import nb201 PATH)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m nasgym_agents.advantagenas``."""
    parser = argparse.ArgumentParser(
        prog="python -m nasgym_agents.advantagenas",
        description="AdvantageNAS (or its REINFORCE baseline) on the NB201 "
        "weight-sharing supernet, with a wall-clock report.",
    )
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--num-cells", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--arch-steps", type=int, default=200)
    parser.add_argument("--warmup-steps", type=int, default=None)
    parser.add_argument("--estimator", choices=("advantage", "reinforce"))
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--no-zero-op", action="store_true")
    parser.add_argument(
        "--arch-lr",
        type=float,
        default=None,
        help="default: 3e-4 scaled to the number of architecture steps",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--benchmark-dataset", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the report")
    args = parser.parse_args(argv)

    def run() -> dict[str, Any]:
        return search_report(
            dataset=args.dataset,
            data_dir=args.data_dir,
            channels=args.channels,
            num_cells=args.num_cells,
            batch_size=args.batch_size,
            arch_steps=args.arch_steps,
            seed=args.seed,
            device=args.device,
            benchmark_dataset=args.benchmark_dataset,
            estimator=args.estimator or "advantage",
            baseline=args.baseline,
            zero_op=not args.no_zero_op,
            warmup_steps=args.warmup_steps,
            **({} if args.arch_lr is None else {"arch_lr": args.arch_lr}),
        )

    return report_main(run, format_report, args.json)
