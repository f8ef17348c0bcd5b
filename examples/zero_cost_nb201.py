"""Zero-cost proxies on NAS-Bench-201, checked against real data, and FreeNAS search.

For the NAS-Bench-Suite-Zero architectures (``naslib-zc/zc_nasbench201.json.xz`` in
``$NASGYM_DATA_DIR``) this scores every cell with nasgym's proxies on a real batch of
MNIST images (``nasgym.oneshot.datasets``; CIFAR is not available offline) and prints
the Spearman rank correlation of each proxy with

* the NB201 12-epoch validation and 200-epoch test accuracy (nasgym's NB201 table;
  ``nasgym data import nb201 PATH`` once), and
* the reference score of the same proxy precomputed by NAS-Bench-Suite-Zero on CIFAR.

Then it runs FreeNAS (one FreeFlow pass over the all-ops supernet, argmax per edge)
and reports the picked cell's accuracy. ``--ci`` runs a tiny version in seconds.
See docs/zero_cost.md for the full run and its discussion.
"""

from __future__ import annotations

import argparse
import ast
import json
import lzma
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from nasgym.benchmarks.nb201 import NB201Benchmark
from nasgym.oneshot.datasets import load_images
from nasgym.oneshot.zero_cost import (
    PROXIES,
    FreeNASResult,
    freeflow_arch_scores,
    freenas_search,
    score_many,
)
from nasgym.spaces.nb201 import NB201Arch

NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
IMAGE_SIZE = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}


def reference_file() -> Path:
    root = os.environ.get("NASGYM_DATA_DIR")
    if not root:
        sys.exit("set NASGYM_DATA_DIR to the folder holding naslib-zc/")
    path = Path(root) / "naslib-zc" / "zc_nasbench201.json.xz"
    if not path.is_file():
        sys.exit(f"{path} not found")
    return path


def rho(a: np.ndarray, b: np.ndarray) -> float:
    mask = np.isfinite(a) & np.isfinite(b)
    # -inf scores (dead networks) rank lowest: replace them by a value below all.
    a = np.where(np.isneginf(a), np.nanmin(a[mask]) - 1.0, a)
    return float(spearmanr(a, b).statistic)


def report(done: int, total: int, start: float) -> None:
    if done % 25 == 0 or done == total:
        seconds = time.perf_counter() - start
        print(f"  {done}/{total} cells, {seconds:.0f} s", file=sys.stderr, flush=True)


def fmt(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:+.3f}"


def freenas_line(bench: NB201Benchmark, search: FreeNASResult, label: str) -> None:
    picked = search.arch
    picked_test = bench.query(picked, "test@200")
    better = float(np.mean(bench.table("test@200") > picked_test)) * 100
    print(f"\nFreeNAS, {label} ({search.seconds:.2f} s): {picked.to_str()}")
    print(
        f"  valid@12 {bench.query(picked, 'valid@12'):.2f}, test@200 "
        f"{picked_test:.2f} (optimum {bench.optimum('test@200'):.2f}; "
        f"{better:.1f}% of the 15,625 cells are better)"
    )


def proxy_tables(
    args: argparse.Namespace,
    dataset: str,
    refs: dict,
    bench: NB201Benchmark,
    batch: tuple[np.ndarray, np.ndarray],
    search: FreeNASResult,
) -> None:
    keys = list(refs)[: args.archs]
    archs = [NB201Arch.from_naslib(ast.literal_eval(k)) for k in keys]
    valid12 = np.array([bench.query(a, "valid@12") for a in archs])
    test200 = np.array([bench.query(a, "test@200") for a in archs])
    timings: dict[str, float] = {}
    start = time.perf_counter()
    scores = score_many(
        archs,
        args.proxies,
        batch=batch,
        device=args.device,
        seed=args.seed,
        C=args.C,
        N=args.N,
        num_classes=NUM_CLASSES[dataset],
        timings=timings,
        progress=lambda done: report(done, len(archs), start),
    )
    total = time.perf_counter() - start
    scores["freeflow"] = freeflow_arch_scores(archs, search.scores)
    timings["freeflow (supernet, once)"] = search.seconds

    print(f"\n{len(archs)} architectures (the first of the reference file)\n")
    print(
        "| proxy | valid@12 | test@200 | NASLib reference score | "
        "reference score vs test@200 |"
    )
    print("|---|---|---|---|---|")
    for name, values in scores.items():
        ref = np.array([refs[k].get(name, np.nan) for k in keys], dtype=float)
        has_ref = bool(np.isfinite(ref).all())
        print(
            f"| {name} | {fmt(rho(values, valid12))} | {fmt(rho(values, test200))} | "
            f"{fmt(rho(values, ref)) if has_ref else 'n/a'} | "
            f"{fmt(rho(ref, test200)) if has_ref else 'n/a'} |"
        )
    naslib_val = np.array([refs[k]["val_accuracy"] for k in keys])
    print(
        f"\nNASLib's own val_accuracy vs nasgym valid@12: "
        f"{fmt(rho(naslib_val, valid12))}, vs test@200: {fmt(rho(naslib_val, test200))}"
    )
    print(f"\nWall-clock (s) for {len(archs)} architectures, {total:.1f} s in all:\n")
    print("| proxy group | total s | s per architecture |")
    print("|---|---|---|")
    for key, seconds in timings.items():
        per = seconds if key.startswith("freeflow") else seconds / len(archs)
        print(f"| {key} | {seconds:.2f} | {per:.3f} |")


def run_dataset(args: argparse.Namespace, dataset: str, refs: dict) -> None:
    bench = NB201Benchmark(dataset)
    split = load_images(args.images, size=IMAGE_SIZE[dataset], seed=args.seed)
    batch = split.batch(args.batch, seed=args.seed)
    print(
        f"\n### {dataset}: batch {args.batch} {args.images} images at "
        f"{IMAGE_SIZE[dataset]}x{IMAGE_SIZE[dataset]}, C={args.C} N={args.N}, "
        f"seed {args.seed}"
    )
    kwargs = {
        "input_shape": batch[0].shape[1:],
        "num_classes": NUM_CLASSES[dataset],
        "device": args.device,
        "seed": args.seed,
        "C": args.C,
        "N": args.N,
    }
    search = freenas_search(**kwargs)
    if args.archs > 0:
        proxy_tables(args, dataset, refs, bench, batch, search)
    freenas_line(bench, search, "one supernet pass")
    pruned = freenas_search(iterative=True, **kwargs)
    freenas_line(bench, pruned, f"iterative pruning, {pruned.passes} passes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=list(NUM_CLASSES), choices=list(NUM_CLASSES)
    )
    parser.add_argument(
        "--archs",
        type=int,
        default=491,
        help="first N reference architectures per dataset (0: FreeNAS only)",
    )
    parser.add_argument("--proxies", nargs="+", default=list(PROXIES), choices=PROXIES)
    parser.add_argument("--images", default="mnist5k", choices=("mnist5k", "digits"))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default)"
    )
    parser.add_argument(
        "--ci", action="store_true", help="tiny run: 6 cells, C=8, N=1, cifar10 only"
    )
    args = parser.parse_args()
    if args.ci:
        args.datasets, args.archs, args.batch, args.C, args.N = ["cifar10"], 6, 8, 8, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    refs = json.loads(lzma.open(reference_file()).read())["nasbench201"]
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {platform.machine()}"
    )
    print("command: python examples/zero_cost_nb201.py " + " ".join(sys.argv[1:]))
    for dataset in args.datasets:
        run_dataset(args, dataset, refs[dataset])


if __name__ == "__main__":
    main()
