"""Measure the Supernet201 env and AdvantageNAS on the CPU (or CUDA): docs/supernet.md.

Part 1, throughput: supernet weight steps (training images/s) at two sizes,
batched against one-at-a-time evaluation (subnetworks/s), and env queries/s.
Part 2, search: AdvantageNAS, its REINFORCE baseline and random sampling of a
uniformly trained supernet (same weight steps, same number of evaluated cells) on
digits over several seeds; every output cell is then trained from scratch (same
recipe for all) and its stand-alone validation accuracy compared. When the NB201
table is imported, the cells' NB201 CIFAR-10 accuracies are listed too (another
dataset: for information only), and the supernet's Spearman rank correlation with
them on random cells.

    python docs/supernet_evidence.py --out /tmp/supernet.json        # ~8 min CPU
    python docs/supernet_evidence.py --quick                         # smoke run
    python docs/supernet_evidence.py --device cuda --out gpu.json    # on a GPU

Results go to stdout (Markdown tables) and, with ``--out``, to a JSON file (not
committed: it holds NB201 values).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def throughput(device: str, quick: bool) -> list[dict[str, Any]]:
    """Training images/s, evaluation subnetworks/s and env queries/s."""
    import gymnasium as gym
    import torch

    import nasgym  # noqa: F401
    from nasgym.oneshot.supernet import Supernet

    rows: list[dict[str, Any]] = []
    steps = 4 if quick else 30
    rng = np.random.default_rng(0)
    sizes = [(8, 1)] if quick else [(8, 1), (16, 5)]
    for channels, cells in sizes:
        net = Supernet(
            "digits", channels=channels, num_cells=cells, device=device, seed=0
        )
        archs = [tuple(int(o) for o in rng.integers(0, 5, 6)) for _ in range(steps)]
        for arch in archs[:2]:
            net.train_step(arch)
        sync = torch.cuda.synchronize if net.device.type == "cuda" else (lambda: None)
        sync()
        tick = time.perf_counter()
        for arch in archs:
            net.train_step(arch)
        sync()
        dt = time.perf_counter() - tick
        rows.append(
            {
                "what": f"weight steps, C={channels} N={cells}, batch 64, 16x16",
                "value": steps * 64 / dt,
                "unit": "train images/s",
            }
        )
        cands = archs[:8]
        for batched in (True, False):
            tick = time.perf_counter()
            if batched:
                net.evaluate(cands, max_batch=8)
            else:
                for arch in cands:
                    net.evaluate([arch])
            sync()
            dt = time.perf_counter() - tick
            n_val = len(net.split.y_val)
            how = "8 per forward" if batched else "one by one"
            rows.append(
                {
                    "what": f"evaluation ({how}), C={channels} N={cells}, "
                    f"{n_val} val images",
                    "value": len(cands) / dt,
                    "unit": "subnetworks/s",
                }
            )
    env = gym.make(
        "nasgym/Supernet201Query-v0",
        channels=8,
        num_cells=1,
        eval_batches=1,
        device=device,
    )
    env.reset(seed=0)
    n = 4 if quick else 30
    tick = time.perf_counter()
    for _ in range(n):
        env.step(env.action_space.sample())
    rows.append(
        {
            "what": "Supernet201Query-v0 steps (1 weight step, 256-image eval), C=8",
            "value": n / (time.perf_counter() - tick),
            "unit": "queries/s",
        }
    )
    return rows


def retrain(
    arch: tuple[int, ...], device: str, epochs: int, seed: int
) -> tuple[float, float]:
    """Train ``arch`` from scratch on digits' training split; validation accuracy.

    :func:`supernet_compare.retrain` with NB201Network(C=8, N=1) on digits' split 0.
    Returns ``(accuracy %, seconds)``.
    """
    from supernet_compare import retrain as train_cell

    tick = time.perf_counter()
    acc = train_cell(
        arch,
        dataset="digits",
        channels=8,
        epochs=epochs,
        seed=seed,
        split_seed=0,
        device=device,
    )
    return acc, time.perf_counter() - tick


def random_sampling(
    device: str, arch_steps: int, warmup: int, seed: int
) -> tuple[tuple[int, ...], float, float]:
    """Uniformly trained supernet; best of ``arch_steps`` random cells on it."""
    from nasgym.oneshot.supernet import Supernet

    tick = time.perf_counter()
    net = Supernet("digits", channels=8, num_cells=1, device=device, seed=seed)
    net.set_schedule(warmup + arch_steps)
    rng = np.random.default_rng(seed)
    for _ in range(warmup + arch_steps):
        net.train_step(tuple(int(o) for o in rng.integers(0, 5, 6)))
    cells = [tuple(int(o) for o in rng.integers(0, 5, 6)) for _ in range(arch_steps)]
    acc = net.evaluate(cells)
    best = int(np.argmax(acc))
    return cells[best], float(acc[best]), time.perf_counter() - tick


def nb201_lookup() -> Any:
    """``cell -> (valid@12, test@200)`` on NB201 CIFAR-10, or ``None`` without data."""
    from nasgym.benchmarks.nb201 import NB201Benchmark
    from nasgym.error import BenchmarkDataMissingError
    from nasgym.spaces.nb201 import NB201Space

    try:
        bench = NB201Benchmark("cifar10")
        valid, test = bench.table("valid@12"), bench.table("test@200")
    except BenchmarkDataMissingError:
        return None
    space = NB201Space()

    def lookup(cell: tuple[int, ...]) -> tuple[float, float]:
        code = int(space.vectors_to_codes(np.asarray([cell]))[0])
        return float(valid[code]), float(test[code])

    return lookup


def search(
    device: str,
    seeds: int,
    arch_steps: int,
    epochs: int,
    warmup_steps: int | None = None,
    methods: tuple[str, ...] = ("advantage", "reinforce", "random"),
) -> list[dict[str, Any]]:
    """AdvantageNAS, REINFORCE and random sampling, then stand-alone retraining."""
    from nasgym.spaces.nb201 import NB201Arch
    from nasgym_agents.advantagenas.standalone import search_report

    lookup = nb201_lookup()
    warmup = round(1.25 * arch_steps) if warmup_steps is None else warmup_steps
    runs: list[dict[str, Any]] = []
    for seed in range(seeds):
        for method in methods:
            if method == "random":
                cell, supernet_acc, wall = random_sampling(
                    device, arch_steps, warmup, seed
                )
            else:
                report = search_report(
                    dataset="digits",
                    channels=8,
                    num_cells=1,
                    arch_steps=arch_steps,
                    seed=seed,
                    device=device,
                    estimator=method,
                    warmup_steps=warmup,
                )
                cell = tuple(report["arch_ops"])
                supernet_acc = report["supernet_valid_accuracy"]
                wall = report["setup_s"] + report["search_s"] + report["eval_s"]
            alone, retrain_s = retrain(cell, device, epochs, seed)
            row = {
                "method": method,
                "seed": seed,
                "arch": NB201Arch(cell).to_str(),
                "supernet_valid": supernet_acc,
                "search_s": wall,
                "standalone_valid": alone,
                "retrain_s": retrain_s,
            }
            if lookup is not None:
                row["nb201_c10_valid12"], row["nb201_c10_test200"] = lookup(cell)
            print(json.dumps(row), flush=True)
            runs.append(row)
    return runs


def correlation(device: str, n: int) -> dict[str, Any] | None:
    """Spearman rho of supernet (digits) vs NB201 CIFAR-10 valid@12 on random cells."""
    from scipy.stats import spearmanr

    from nasgym.oneshot.supernet import Supernet

    lookup = nb201_lookup()
    if lookup is None:
        return None
    net = Supernet("digits", channels=8, num_cells=1, device=device, seed=0)
    rng = np.random.default_rng(1)
    for _ in range(300):
        net.train_step(tuple(int(o) for o in rng.integers(0, 5, 6)))
    cells = [tuple(int(o) for o in rng.integers(0, 5, 6)) for _ in range(n)]
    acc = net.evaluate(cells)
    bench = [lookup(c)[0] for c in cells]
    rho = spearmanr(acc, bench).statistic
    return {"cells": n, "weight_steps": 300, "spearman": float(rho)}


def main() -> int:
    """Run the measurements and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--arch-steps", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1: a shared machine thrashes with more)",
    )
    parser.add_argument(
        "--warmup-steps", type=int, default=None, help="default: 1.25 x arch steps"
    )
    parser.add_argument(
        "--methods", default="advantage,reinforce,random", help="comma-separated"
    )
    parser.add_argument(
        "--search-only", action="store_true", help="skip throughput and correlation"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.arch_steps, args.epochs = 1, 4, 1
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "host": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_avg_1min": os.getloadavg()[0],
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name() if args.device != "cpu" else None,
        },
        "config": vars(args) | {"out": str(args.out)},
    }
    if not args.search_only:
        results["throughput"] = throughput(args.device, args.quick)
        print("| what | value | unit |\n|---|---:|---|")
        for row in results["throughput"]:
            print(f"| {row['what']} | {row['value']:,.1f} | {row['unit']} |")
        results["correlation"] = correlation(args.device, 12 if args.quick else 50)
        print("correlation:", results["correlation"])
    methods = tuple(args.methods.split(","))
    results["runs"] = runs = search(
        args.device,
        args.seeds,
        args.arch_steps,
        args.epochs,
        args.warmup_steps,
        methods,
    )
    print(
        "\n| method | stand-alone valid % (mean ± sd) | supernet valid % | search s |"
    )
    print("|---|---:|---:|---:|")
    for method in methods:
        mine = [r for r in runs if r["method"] == method]
        alone = [r["standalone_valid"] for r in mine]
        sd = statistics.stdev(alone) if len(alone) > 1 else 0.0
        print(
            f"| {method} | {statistics.mean(alone):.2f} ± {sd:.2f} | "
            f"{statistics.mean(r['supernet_valid'] for r in mine):.2f} | "
            f"{statistics.mean(r['search_s'] for r in mine):.1f} |"
        )
    results["wall_s"] = time.perf_counter() - started
    results["host"]["load_avg_1min_end"] = os.getloadavg()[0]
    print(f"\nwall-clock {results['wall_s']:.0f} s; host {results['host']}")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
