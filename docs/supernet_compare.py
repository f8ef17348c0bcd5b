"""Paired CPU comparison of AdvantageNAS, REINFORCE and random sampling of a supernet.

For every seed ``s`` (the split, the supernet's weights and the sampling all come
from ``s``; every method of a seed sees the same split, the same warm-up weights and
the same retraining initialisation, so the comparison is paired):

1. a supernet (``--dataset``, ``--channels`` C, one cell per stage) is trained for
   ``--warmup`` weight steps on uniformly random paths (shared warm-up), and the
   weights, optimiser and data streams are snapshot;
2. from the snapshot, each method gets the same search cost, ``--arch-steps`` A
   architecture steps / queries and A more weight steps (``W + A`` in all, the lr
   cosine-annealed over them for every method):

   * ``advantage``: AdvantageNAS (docs/methods/advantagenas.md), A architecture steps
     (one 64-image
     validation batch each) alternating with A weight steps on cells sampled from
     ``p``; output ``argmax theta``;
   * ``reinforce``: the same with REINFORCE's ``L - EMA(L)`` on every edge;
   * ``random``: *random sampling of the supernet*: A more weight steps on uniform
     paths, then A uniformly random cells are scored with the shared weights on one
     fixed ``--eval-images`` validation batch and the best is output;

3. a ``random cell`` row (one uniformly drawn cell, no search) gives the floor;
4. every output cell is trained from scratch by one fixed protocol (NB201Network C,
   N=1, ``--epochs`` epochs of the training split, Nesterov SGD lr 0.1 cosine, batch
   64, clip 1.0; init seeded by ``s``) and scored on the whole validation split.

    python docs/supernet_compare.py --out /tmp/compare.json      # ~15 min, 1 thread
    python docs/supernet_compare.py --quick                      # smoke run
    python docs/supernet_compare.py --diagnose 100               # dL/da per op
    python docs/supernet_compare.py --tables-from a.json b.json  # pool saved runs

Prints one JSON line per run, then a Markdown table (mean +- s.e. over seeds) and
paired differences (mean +- s.e., wins/ties/losses over seeds)
of the first ``--methods`` entry (AdvantageNAS by default) against each other one.
``--methods advantage_baseline,advantage,random`` adds the "with baseline" variant.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent

METHODS = ("advantage", "reinforce", "random", "random_cell")
#: Not run by default: AdvantageNAS's "with baseline" variant
#: (docs/methods/advantagenas.md#gradient-and-optimiser).
VARIANTS = ("advantage_baseline",)
LABELS = {
    "advantage": "AdvantageNAS",
    "advantage_baseline": "AdvantageNAS with baseline (per-edge EMA of A subtracted)",
    "reinforce": "REINFORCE (same harness)",
    "random": "random sampling of the supernet (best of A by supernet accuracy)",
    "random_cell": "one random cell, no search (floor)",
}


def uniform_cell(rng: np.random.Generator) -> tuple[int, ...]:
    """A uniformly random NB201 cell (op indices)."""
    return tuple(int(o) for o in rng.integers(0, 5, 6))


def retrain(
    cell: tuple[int, ...],
    *,
    dataset: str,
    channels: int,
    epochs: int,
    seed: int,
    split_seed: int | None = None,
    device: str = "cpu",
) -> float:
    """Train ``cell`` from scratch on the training split; validation accuracy %.

    NB201Network(C=``channels``, N=1), Nesterov SGD lr 0.1 cosine, momentum 0.9,
    weight decay 5e-4, batch 64, clip 1.0, ``epochs`` epochs; weights and batch
    order seeded by ``seed``, the split by ``split_seed`` (default ``seed``).
    """
    import torch

    from nasgym.oneshot.nn.nb201 import NB201Network
    from nasgym.oneshot.supernet import load_split, resolve_auto_device
    from nasgym.spaces.nb201 import NB201Arch

    dev = resolve_auto_device(device)
    split = load_split(dataset, split_seed=seed if split_seed is None else split_seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = NB201Network(
            NB201Arch(cell),
            C=channels,
            N=1,
            in_channels=int(split.x_train.shape[1]),
            num_classes=split.num_classes,
        ).to(dev)
    x = torch.tensor(split.x_train, device=dev)
    y = torch.tensor(split.y_train, device=dev)
    per_epoch = math.ceil(len(y) / 64)
    opt = torch.optim.SGD(
        net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * per_epoch)
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(y))).to(dev)
        for k in range(per_epoch):
            idx = order[k * 64 : (k + 1) * 64]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
    net.eval()  # running BN statistics of the stand-alone net
    with torch.no_grad():
        logits = net(torch.tensor(split.x_val, device=dev))
    return float((logits.argmax(1).cpu().numpy() == split.y_val).mean() * 100)


def run_seed(args: argparse.Namespace, seed: int) -> list[dict[str, Any]]:
    """All methods on one seed, from one shared warm-up."""
    from nasgym.oneshot.supernet import Supernet
    from nasgym.spaces.nb201 import NB201Arch
    from nasgym_agents.advantagenas import AdvantageNASConfig, OneShotSearch

    net = Supernet(
        args.dataset,
        channels=args.channels,
        num_cells=1,
        batch_size=64,
        eval_batch_size=args.eval_images,
        eval_batches=1,
        split_seed=seed,
        device="cpu",
        seed=seed,
    )
    arch_steps, warmup = args.arch_steps, args.warmup
    net.set_schedule(warmup + arch_steps)
    rng = np.random.default_rng([seed, 1])
    tick = time.perf_counter()
    for _ in range(warmup):
        net.train_step(uniform_cell(rng))
    warmup_s = time.perf_counter() - tick
    snapshot = copy.deepcopy(net.state_dict())  # CPU tensors share storage: copy
    out: list[dict[str, Any]] = []
    retrained: dict[tuple[int, ...], float] = {}
    for method in args.methods:
        tick = time.perf_counter()
        net.load_state_dict(copy.deepcopy(snapshot))
        supernet_acc: float | None
        if method in ("advantage", "advantage_baseline", "reinforce"):
            config = AdvantageNASConfig.scaled(
                arch_steps,
                estimator="reinforce" if method == "reinforce" else "advantage",
                baseline=method == "advantage_baseline",
                warmup_steps=0,
            )
            result = OneShotSearch(config, seed).run(net, arch_steps)
            cell = result.arch
            supernet_acc = float(net.evaluate([cell])[0])
        elif method == "random":
            picker = np.random.default_rng([seed, 2])
            for _ in range(arch_steps):
                net.train_step(uniform_cell(picker))
            cells = [uniform_cell(picker) for _ in range(arch_steps)]
            scores = net.evaluate(cells)  # one call: the same validation batch
            best = int(np.argmax(scores))
            cell, supernet_acc = cells[best], float(scores[best])
        elif method == "random_cell":
            cell = uniform_cell(np.random.default_rng([seed, 3]))
            supernet_acc = None
        else:
            raise ValueError(
                f"unknown method {method!r}; choose from {METHODS + VARIANTS}"
            )
        assert net.weight_steps == warmup + arch_steps or method == "random_cell"
        search_s = time.perf_counter() - tick
        tick = time.perf_counter()
        if cell not in retrained:
            retrained[cell] = retrain(
                cell,
                dataset=args.dataset,
                channels=args.channels,
                epochs=args.epochs,
                seed=seed,
            )
        row = {
            "method": method,
            "seed": seed,
            "arch": NB201Arch(cell).to_str(),
            "ops": list(cell),
            "supernet_valid": supernet_acc,
            "standalone_valid": retrained[cell],
            "warmup_s": warmup_s,
            "search_s": search_s,
            "retrain_s": time.perf_counter() - tick,
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def diagnose(args: argparse.Namespace, seed: int, samples: int = 100) -> str:
    """Mean ``dL/da`` per op after the warm-up and after 4x longer uniform training.

    On a seed outside the compared ones: ``samples`` uniform cells, raw advantages
    (no zero-op rule), averaged over edges and samples; positive means that keeping
    the op's output raises the validation loss to first order.
    """
    from nasgym.oneshot.supernet import Supernet
    from nasgym.spaces.nb201 import OPS

    net = Supernet(
        args.dataset,
        channels=args.channels,
        num_cells=1,
        split_seed=seed,
        device="cpu",
        seed=seed,
    )
    total = 4 * args.warmup
    net.set_schedule(total)
    rng = np.random.default_rng([seed, 1])
    lines = [
        f"| uniform weight steps | {' | '.join(OPS[1:])} |",
        "|---:|" + "---:|" * (len(OPS) - 1),
    ]
    for steps in (args.warmup, total):
        while net.weight_steps < steps:
            net.train_step(uniform_cell(rng))
        sums = np.zeros(len(OPS))
        counts = np.zeros(len(OPS))
        positive = np.zeros(len(OPS))
        for _ in range(samples):
            cell = uniform_cell(rng)
            adv, _ = net.edge_advantages(cell)
            for op, value in zip(cell, adv, strict=True):
                sums[op] += value
                counts[op] += 1
                positive[op] += value > 0
        cells = [
            f"{sums[k] / counts[k]:+.4f} ({positive[k] / counts[k]:.0%} > 0)"
            for k in range(1, len(OPS))
        ]
        lines.append(f"| {steps} | {' | '.join(cells)} |")
    return "\n".join(lines)


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    mean = statistics.mean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


def tables(runs: list[dict[str, Any]], methods: list[str]) -> str:
    """Markdown: per-method summary, then paired differences against ``methods[0]``."""
    by = {m: {r["seed"]: r for r in runs if r["method"] == m} for m in methods}
    lines = [
        "| method | retrained validation % (mean ± s.e.) | min-max | supernet "
        "validation % of the output | search s (mean) |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in methods:
        rows = list(by[m].values())
        acc = [r["standalone_valid"] for r in rows]
        mean, se = mean_se(acc)
        sup = [r["supernet_valid"] for r in rows if r["supernet_valid"] is not None]
        sup_text = f"{statistics.mean(sup):.1f}" if sup else "-"
        lines.append(
            f"| {LABELS[m]} | {mean:.2f} ± {se:.2f} | {min(acc):.1f}-{max(acc):.1f} | "
            f"{sup_text} | {statistics.mean(r['search_s'] for r in rows):.1f} |"
        )
    ref = methods[0]
    if len(methods) > 1:
        lines += [
            "",
            f"| paired: {LABELS[ref]} minus | mean difference ± s.e. (points) | "
            f"{LABELS[ref]} better / equal / worse (seeds) |",
            "|---|---:|---:|",
        ]
        for m in methods[1:]:
            seeds = sorted(set(by[ref]) & set(by[m]))
            diff = [
                by[ref][s]["standalone_valid"] - by[m][s]["standalone_valid"]
                for s in seeds
            ]
            mean, se = mean_se(diff)
            wins = sum(d > 1e-9 for d in diff)
            losses = sum(d < -1e-9 for d in diff)
            lines.append(
                f"| {LABELS[m]} | {mean:+.2f} ± {se:.2f} | {wins} / "
                f"{len(diff) - wins - losses} / {losses} |"
            )
    return "\n".join(lines)


def main() -> int:
    """Run the comparison and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist5k")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--arch-steps", type=int, default=200)
    parser.add_argument(
        "--warmup", type=int, default=None, help="default: 1.25 x arch steps (paper)"
    )
    parser.add_argument("--eval-images", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--methods",
        default=None,
        help=f"comma-separated, first = paired reference (default {','.join(METHODS)}; "
        f"with --tables-from: those of the first file)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--diagnose",
        type=int,
        default=None,
        metavar="SEED",
        help="only print the mean advantage per op on this (non-compared) seed",
    )
    parser.add_argument(
        "--tables-from",
        type=Path,
        nargs="+",
        default=None,
        help="only print the tables of saved --out files (their runs pooled)",
    )
    args = parser.parse_args()
    chosen = args.methods is not None
    args.methods = args.methods.split(",") if chosen else list(METHODS)
    if args.quick:
        args.seeds, args.arch_steps, args.epochs = 2, 6, 1
    if args.warmup is None:
        args.warmup = round(1.25 * args.arch_steps)
    import torch

    torch.set_num_threads(args.threads)
    if args.tables_from is not None:
        saved = [json.loads(path.read_text()) for path in args.tables_from]
        pooled = [run for one in saved for run in one["runs"]]
        print(tables(pooled, args.methods if chosen else saved[0]["config"]["methods"]))
        return 0
    if args.diagnose is not None:
        print(diagnose(args, args.diagnose))
        return 0
    started = time.perf_counter()
    load0 = os.getloadavg()[0]
    runs: list[dict[str, Any]] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        runs += run_seed(args, seed)
    wall = time.perf_counter() - started
    print()
    print(tables(runs, args.methods))
    host = {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_avg_1min": [load0, os.getloadavg()[0]],
        "torch": torch.__version__,
    }
    print(f"\nwall-clock {wall:.0f} s; host {host}")
    if args.out is not None:
        config = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        }
        args.out.write_text(
            json.dumps(
                {"config": config, "host": host, "wall_s": wall, "runs": runs}, indent=2
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
