"""Evidence for the one-shot family on the NB201 supernet: docs/results/oneshot.

Part 1, cell search. Eight methods, ``--seeds`` seeds each, every search under the
same budget of *CPU seconds* (``time.process_time`` of this process, torch on one
thread), because wall-clock time on a shared machine is noisy: DARTS (first and
second order), GDAS, UNAS (REBAR estimator) without and with the measured-latency
term, RADARS (controller pruning, then DARTS on what is left), AdvantageNAS, and
uniformly random cells (no search: the floor any search must clear). Every derived
cell is then trained from scratch with one fixed recipe (seeded), and looked up in
the NB201 table (test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120 after 200
epochs), its parameter-free edges (skip, pool, none) are counted and its
HW-NAS-Bench-360 latency (Pi 5, LiteRT) read.

Part 2, differentiable pruning: accuracy against kept complexity over several
lambdas, against magnitude pruning and random subsets of the same size
(:mod:`nasgym_agents.pruning`).

    OMP_NUM_THREADS=1 python docs/oneshot_evidence.py   # full run, CPU; README: time
    python docs/oneshot_evidence.py --quick --out-dir /tmp/os       # smoke run
    python docs/oneshot_evidence.py --render                        # README only
    python docs/oneshot_evidence.py --dataset cifar10 --data-dir D --device cuda

Needs the NB201 and HW-NAS-Bench-360 tables imported (``nasgym data import nb201
DIR`` and ``nasgym data import hw-nas-bench-360 DIR``). Progress is written to
``results.json`` after every run, so an interrupted run started again skips the
finished (method, seed) pairs. The README and the "Evidence" section of
docs/methods/README.md are generated from that file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "results" / "oneshot"
DOC = HERE / "methods" / "README.md"
START, END = "<!-- oneshot-evidence:start -->", "<!-- oneshot-evidence:end -->"

#: Methods in report order, with their labels.
METHODS: dict[str, str] = {
    "darts": "DARTS (1st order)",
    "darts2": "DARTS (2nd order)",
    "gdas": "GDAS",
    "unas": "UNAS (REBAR)",
    "unas_lat": "UNAS (REBAR) + latency",
    "radars": "RADARS (prune, then DARTS)",
    "advantagenas": "AdvantageNAS",
    "random": "random cell (no search)",
}
NB201_KEYS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "IN16"}
#: Settings that must match for a resumed results file.
FIXED = ("dataset", "budget_s", "epochs", "channels", "num_cells", "clock", "quick")
LATENCY_DEVICE = "pi5-litert"
UNAS_LATENCY_WEIGHT = 0.2
UNAS_LATENCY_TARGET_MS = 3.0

# -- budget ---------------------------------------------------------------------------


class Clock:
    """CPU seconds of this process (CPU runs) or synchronised wall seconds (CUDA)."""

    def __init__(self, device: str) -> None:
        import torch

        self.cuda = device.startswith("cuda")
        self.name = "wall" if self.cuda else "cpu"
        self._sync = torch.cuda.synchronize if self.cuda else (lambda: None)

    def now(self) -> float:
        """The current reading."""
        if self.cuda:
            self._sync()
            return time.perf_counter()
        return time.process_time()


class Budget:
    """A search budget of ``seconds`` on ``clock``, started at construction."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds
        self.start = clock.now()

    def used(self) -> float:
        """Seconds spent so far."""
        return self.clock.now() - self.start

    def over(self) -> bool:
        """Whether the budget is spent."""
        return self.used() >= self.seconds


# -- the searches ---------------------------------------------------------------------

Search = Callable[[int, int, Budget], tuple[tuple[int, ...], int]]


def _darts(method: str, args: argparse.Namespace) -> Search:
    def run(seed: int, steps: int, budget: Budget) -> tuple[tuple[int, ...], int]:
        from nasgym_agents.darts import DartsConfig, DartsSearch

        search = DartsSearch(
            DartsConfig(method=method, steps=steps, seed=seed, **_shape(args))
        )
        budget.start = budget.clock.now()  # data and model set-up are not charged
        while search.step < steps and not budget.over():
            search.search_step()
        return search.derive(), search.step

    return run


def _unas(latency: bool, args: argparse.Namespace) -> Search:
    def run(seed: int, steps: int, budget: Budget) -> tuple[tuple[int, ...], int]:
        from nasgym_agents.darts.search import PAPER_STEPS
        from nasgym_agents.unas import UnasConfig, UnasSearch

        config = UnasConfig(
            estimator="rebar",
            steps=steps,
            seed=seed,
            # the paper's 1e-3 scaled to the search length, as DARTS's default is
            arch_lr=1e-3 * min(100.0, max(1.0, PAPER_STEPS / steps)),
            latency_weight=UNAS_LATENCY_WEIGHT if latency else 0.0,
            latency_target_ms=UNAS_LATENCY_TARGET_MS,
            latency_device=LATENCY_DEVICE,
            **_shape(args),
        )
        search = UnasSearch(config)
        budget.start = budget.clock.now()
        while search.step < steps and not budget.over():
            search.search_step()
        return search.derive(), search.step

    return run


def _radars(args: argparse.Namespace, darts_step_s: float) -> Search:
    def run(seed: int, steps: int, budget: Budget) -> tuple[tuple[int, ...], int]:
        import dataclasses

        from nasgym_agents.radars import RadarsConfig, RadarsSearch

        shape = _shape(args)
        shape.pop("eval_batch_size")
        search = RadarsSearch(
            RadarsConfig(
                seed=seed,
                warmup_steps=2 if args.quick else 20,
                controller_steps=2 if args.quick else 30,
                **shape,
            )
        )
        budget.start = budget.clock.now()
        search.prune()
        left = max(0.0, budget.seconds - budget.used())
        darts_steps = max(1, int(left / darts_step_s))
        search.config = dataclasses.replace(search.config, darts_steps=darts_steps)
        darts = search.start_darts()
        while darts.step < darts_steps and not budget.over():
            darts.search_step()
        return darts.derive(), steps_of(search) + darts.step

    def steps_of(search: Any) -> int:
        return int(search.supernet.weight_steps)

    return run


def _advantagenas(args: argparse.Namespace) -> Search:
    def run(seed: int, steps: int, budget: Budget) -> tuple[tuple[int, ...], int]:
        from nasgym.oneshot.supernet import Supernet
        from nasgym_agents.advantagenas.agent import AdvantageNASConfig, OneShotSearch

        shape = _shape(args)
        supernet = Supernet(
            shape["dataset"],
            data_dir=shape["data_dir"],
            channels=shape["channels"],
            num_cells=shape["num_cells"],
            batch_size=64,
            device=shape["device"],
            seed=seed,
        )
        method = OneShotSearch(AdvantageNASConfig.scaled(steps), seed)
        budget.start = budget.clock.now()
        result = method.run(supernet, steps, after_arch_step=lambda _: budget.over())
        return result.arch, int(result.arch_steps)

    return run


def _random(seed: int, steps: int, budget: Budget) -> tuple[tuple[int, ...], int]:
    rng = np.random.default_rng(10_000 + seed)
    return tuple(int(k) for k in rng.integers(0, 5, 6)), 0


def _shape(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "dataset": args.dataset,
        "data_dir": args.data_dir,
        "channels": args.channels,
        "num_cells": args.num_cells,
        "eval_batch_size": 256,
        "device": args.device,
    }


def searches(args: argparse.Namespace, darts_step_s: float) -> dict[str, Search]:
    """The search function of every method."""
    return {
        "darts": _darts("darts", args),
        "darts2": _darts("darts2", args),
        "gdas": _darts("gdas", args),
        "unas": _unas(False, args),
        "unas_lat": _unas(True, args),
        "radars": _radars(args, darts_step_s),
        "advantagenas": _advantagenas(args),
        "random": _random,
    }


#: Methods whose step count is sized from a probe (RADARS reuses DARTS's).
STEPPED = ("darts", "darts2", "gdas", "unas", "unas_lat", "advantagenas")


def calibrate(
    args: argparse.Namespace, clock: Clock, probe_steps: int
) -> dict[str, float]:
    """Seconds per search step of each stepped method (a short probe, seed 999)."""
    table = searches(args, 1.0)
    wanted = set(args.methods) | ({"darts"} if "radars" in args.methods else set())
    out: dict[str, float] = {}
    for method in (m for m in STEPPED if m in wanted):
        budget = Budget(clock, math.inf)
        _, done = table[method](999, probe_steps, budget)
        out[method] = budget.used() / max(1, done)
        print(f"calibration {method}: {out[method]:.4f} s/step", file=sys.stderr)
    return out


# -- retraining and look-ups ----------------------------------------------------------


def retrain(cell: Sequence[int], args: argparse.Namespace, seed: int) -> float:
    """Train ``cell`` from scratch; validation accuracy (%). One recipe for all.

    NB201Network(C=``channels``, N=``num_cells``) on the training split of the
    fixed split (seed 0); Nesterov SGD lr 0.1 cosine to 0, momentum 0.9, weight decay
    5e-4, batch 64, gradient clip 1, ``epochs`` epochs; weights and batch order from
    ``seed``; bfloat16 autocast on CUDA.
    """
    import torch

    from nasgym.oneshot.nn.nb201 import NB201Network
    from nasgym.oneshot.supernet import load_split, resolve_auto_device
    from nasgym.spaces.nb201 import NB201Arch

    dev = resolve_auto_device(args.device)
    split = load_split(args.dataset, data_dir=args.data_dir, split_seed=0)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        net = NB201Network(
            NB201Arch(tuple(cell)),
            C=args.channels,
            N=args.num_cells,
            in_channels=int(split.x_train.shape[1]),
            num_classes=split.num_classes,
        ).to(dev)
    x = torch.tensor(np.asarray(split.x_train), device=dev)
    y = torch.tensor(np.asarray(split.y_train), device=dev)
    per_epoch = math.ceil(len(y) / 64)
    opt = torch.optim.SGD(
        net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs * per_epoch)
    rng = np.random.default_rng(seed)
    cast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda")
    net.train()
    for _ in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(y))).to(dev)
        for k in range(per_epoch):
            idx = order[k * 64 : (k + 1) * 64]
            opt.zero_grad()
            with cast:
                logits = net(x[idx])
            loss = torch.nn.functional.cross_entropy(logits.float(), y[idx])
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
    net.eval()
    correct = 0
    with torch.no_grad(), cast:
        for start in range(0, len(split.y_val), 512):
            xv = torch.tensor(np.asarray(split.x_val[start : start + 512]), device=dev)
            pred = net(xv).float().argmax(1).cpu().numpy()
            correct += int((pred == split.y_val[start : start + 512]).sum())
    return 100.0 * correct / len(split.y_val)


def describe(cell: Sequence[int], latency: Any) -> dict[str, Any]:
    """NB201 string, table accuracies, parameter-free edges and latency of a cell."""
    from nasgym.spaces.nb201 import NB201Arch
    from nasgym_agents.darts.standalone import cell_summary, nb201_lookup

    table = nb201_lookup(tuple(cell))
    if table is None:
        from nasgym.error import BenchmarkDataMissingError

        raise BenchmarkDataMissingError(
            "the NB201 table is not imported; run `nasgym data import nb201 DIR` "
            "(see docs/data.md) and start again"
        )
    summary = cell_summary(tuple(cell))
    return {
        "arch": NB201Arch(tuple(cell)).to_str(),
        "nb201_test": {k: table[k]["test@200"] for k in NB201_KEYS},
        "skip": summary["skip_edges"],
        "pool": summary["pool_edges"],
        "none": summary["none_edges"],
        "parameter_free": summary["parameter_free_edges"],
        "latency_ms": latency.latency(tuple(cell)),
    }


# -- the pruning curve ----------------------------------------------------------------


def pruning_curve(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """One :class:`PruningRun` over ``args.lambdas``: kept fraction and accuracies."""
    from nasgym_agents.pruning import PruningConfig, PruningRun

    small = (
        {
            "pretrain_steps": 4,
            "search_steps": 3,
            "retrain_steps": 3,
            "random_draws": 1,
        }
        if args.quick
        else {"random_draws": args.random_draws}
    )
    config = PruningConfig(lambdas=tuple(args.lambdas), seed=seed, **small)
    report = PruningRun(config, device=args.device).run()
    rows = []
    for res in report["results"]:
        by = {m["method"]: m for m in res["methods"]}
        randoms = [m["target_accuracy"] for k, m in by.items() if k.startswith("rand")]
        rows.append(
            {
                "lambda": res["lambda"],
                "kept_fraction": by["gates"]["kept_fraction"],
                "gates": by["gates"]["target_accuracy"],
                "magnitude": by["magnitude"]["target_accuracy"],
                "random": float(np.mean(randoms)),
            }
        )
    full = report["full"]
    return {
        "seed": seed,
        "full_target_accuracy": full["target_accuracy"],
        "rows": rows,
    }


# -- statistics -----------------------------------------------------------------------


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle half (25 % trimmed each side)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    cut = math.floor(0.25 * len(x))
    return float(x[cut : len(x) - cut].mean())


def bootstrap_ci(
    values: Sequence[float],
    stat: Callable[[Any], float] = lambda v: float(np.median(v)),
    reps: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of ``stat`` over the values (seeded)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    draws = [stat(x[rng.integers(0, len(x), len(x))]) for _ in range(reps)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def median_diff_ci(
    a: Sequence[float], b: Sequence[float]
) -> tuple[float, float, float]:
    """Median of ``a`` minus median of ``b`` with a 95 % bootstrap interval."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(1)
    draws = [
        float(
            np.median(x[rng.integers(0, len(x), len(x))])
            - np.median(y[rng.integers(0, len(y), len(y))])
        )
        for _ in range(2000)
    ]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(np.median(x) - np.median(y)), float(low), float(high)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Per-method statistics over seeds, the comparisons with random, the curve."""
    runs = results["runs"]
    methods: dict[str, Any] = {}
    for method in METHODS:
        mine = [r for r in runs if r["method"] == method]
        if not mine:
            continue
        acc = [r["retrained_accuracy"] for r in mine]
        row: dict[str, Any] = {
            "n": len(mine),
            "retrained_median": float(np.median(acc)),
            "retrained_ci": bootstrap_ci(acc),
            "retrained_iqm": iqm(acc),
            "retrained_mean": float(np.mean(acc)),
            "search_s_mean": float(np.mean([r["search_s"] for r in mine])),
            "steps_mean": float(np.mean([r["steps"] for r in mine])),
            "parameter_free_mean": float(np.mean([r["parameter_free"] for r in mine])),
            "all_parameter_free": sum(r["parameter_free"] == 6 for r in mine),
            "edges": {k: sum(r[k] for r in mine) for k in ("skip", "pool", "none")},
            "latency_median": float(np.median([r["latency_ms"] for r in mine])),
            "distinct_cells": len({r["arch"] for r in mine}),
        }
        for key in NB201_KEYS:
            vals = [r["nb201_test"][key] for r in mine]
            row[f"nb201_{key}_median"] = float(np.median(vals))
            row[f"nb201_{key}_ci"] = bootstrap_ci(vals)
        methods[method] = row
    versus: dict[str, Any] = {}
    base = [r for r in runs if r["method"] == "random"]
    if base:
        for method in methods:
            if method == "random":
                continue
            mine = [r for r in runs if r["method"] == method]
            versus[method] = {
                "retrained": median_diff_ci(
                    [r["retrained_accuracy"] for r in mine],
                    [r["retrained_accuracy"] for r in base],
                ),
                "nb201_cifar10": median_diff_ci(
                    [r["nb201_test"]["cifar10"] for r in mine],
                    [r["nb201_test"]["cifar10"] for r in base],
                ),
            }
    curve = []
    seeds = results.get("pruning", [])
    if seeds:
        for j, first in enumerate(seeds[0]["rows"]):
            at = [s["rows"][j] for s in seeds]
            entry: dict[str, Any] = {"lambda": first["lambda"], "n": len(at)}
            for key in ("kept_fraction", "gates", "magnitude", "random"):
                vals = [a[key] for a in at]
                entry[key] = float(np.median(vals))
                entry[f"{key}_ci"] = bootstrap_ci(vals)
            curve.append(entry)
    full = [s["full_target_accuracy"] for s in seeds]
    return {
        "methods": methods,
        "versus_random": versus,
        "pruning_curve": curve,
        "pruning_full_median": float(np.median(full)) if full else None,
    }


# -- rendering ------------------------------------------------------------------------


def _ci(row: dict[str, Any], key: str) -> str:
    low, high = row[f"{key}_ci"]
    return f"{row[f'{key}_median']:.1f} [{low:.1f}, {high:.1f}]"


def _verdict(diff: Sequence[float]) -> str:
    mid, low, high = diff
    word = "above" if low > 0 else "below" if high < 0 else "not distinguishable from"
    return f"{mid:+.1f} [{low:+.1f}, {high:+.1f}] ({word} random)"


def render(results: dict[str, Any]) -> str:
    """The README of docs/results/oneshot, from the results file alone."""
    cfg, summary = results["config"], summarise(results)
    methods = summary["methods"]
    lines = [
        "# One-shot family on the NB201 supernet: evidence",
        "",
        "Generated by `docs/oneshot_evidence.py` from `results.json`; do not edit.",
        "",
        f"Search dataset `{cfg['dataset']}`, device `{cfg['device']}`, "
        f"{cfg['seeds']} seeds per method. Every search got the same budget of "
        f"**{cfg['budget_s']:g} {cfg['clock'].upper()} seconds** "
        "(process CPU time with torch on one thread: this machine is shared, and "
        "wall-clock time there is noisy; data and model set-up are not charged). "
        f"Supernets and retrained networks have C={cfg['channels']}, "
        f"N={cfg['num_cells']}. Every derived cell was retrained from scratch with "
        f"one recipe ({cfg['epochs']} epochs, Nesterov SGD, cosine lr from 0.1, "
        "seeded by the run's seed) and scored on the validation split. NB201 "
        "columns are the table's 200-epoch test accuracy of the same cell on "
        "another dataset (for information: the search never saw it). Cells are "
        "medians with 95 % bootstrap intervals over seeds.",
        "",
        "| method | retrained acc. % | IQM | NB201 CIFAR-10 | NB201 CIFAR-100 | "
        "NB201 IN16-120 | param-free edges / 6 | all-param-free cells | "
        "skip / pool / none edges | distinct cells | steps | search s | latency ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method, row in methods.items():
        e = row["edges"]
        lines.append(
            f"| {METHODS[method]} | {_ci(row, 'retrained')} | "
            f"{row['retrained_iqm']:.1f} | {_ci(row, 'nb201_cifar10')} | "
            f"{_ci(row, 'nb201_cifar100')} | {_ci(row, 'nb201_ImageNet16-120')} | "
            f"{row['parameter_free_mean']:.1f} | {row['all_parameter_free']}/"
            f"{row['n']} | {e['skip']} / {e['pool']} / {e['none']} | "
            f"{row['distinct_cells']} | {row['steps_mean']:.0f} | "
            f"{row['search_s_mean']:.1f} | {row['latency_median']:.2f} |"
        )
    lines += [
        "",
        "Latency: median HW-NAS-Bench-360 latency of the derived cells "
        f"({LATENCY_DEVICE}); UNAS + latency penalises "
        f"{UNAS_LATENCY_WEIGHT:g} per ms above {UNAS_LATENCY_TARGET_MS:g} ms. "
        "Steps: search steps reached in the budget (RADARS: supernet weight steps "
        "of the pruning phase plus DARTS steps; random: none); each search's step "
        "count was sized from a short probe, so a search ends at that count or at "
        "the budget, whichever comes first. Search s: mean seconds a search used.",
        "",
        "## Against random cells",
        "",
        "Median difference to the random cells, with a 95 % bootstrap interval.",
        "",
        "| method | retrained acc. (points) | NB201 CIFAR-10 (points) |",
        "|---|---|---|",
    ]
    for method, diff in summary["versus_random"].items():
        lines.append(
            f"| {METHODS[method]} | {_verdict(diff['retrained'])} | "
            f"{_verdict(diff['nb201_cifar10'])} |"
        )
    curve = summary["pruning_curve"]
    if curve:
        lines += [
            "",
            "## Differentiable pruning: accuracy against kept complexity",
            "",
            f"`nasgym_agents.pruning` (pretrain on MNIST-5k, gates, retrain on "
            f"few-shot digits), {curve[0]['n']} seeds; the unpruned network "
            f"retrained the same way reaches {summary['pruning_full_median']:.1f} % "
            "(median). Baselines keep as many units: the largest-norm ones "
            f"(magnitude) and random subsets (mean of {cfg['random_draws']} draws per "
            "seed). "
            "Target accuracy %, median [95 % bootstrap interval].",
            "",
            "| lambda | kept complexity | gates | magnitude | random |",
            "|---:|---:|---:|---:|---:|",
        ]
        for c in curve:
            lines.append(
                f"| {c['lambda']:g} | {c['kept_fraction']:.2f} | "
                + " | ".join(_ci(_flat(c, k), k) for k in ("gates", "magnitude"))
                + f" | {_ci(_flat(c, 'random'), 'random')} |"
            )
    host = results.get("host", {})
    lines += [
        "",
        f"Run: {results.get('wall_s', 0.0) / 60:.0f} min wall-clock in total on "
        f"{host.get('cpus')} CPUs (torch {host.get('torch')}); calibration "
        "(seconds per step): "
        + ", ".join(f"{k} {v:.3f}" for k, v in results["calibration"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def _flat(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {f"{key}_median": entry[key], f"{key}_ci": entry[f"{key}_ci"]}


def render_section(results: dict[str, Any]) -> str:
    """The generated body of the "Evidence" section of docs/methods/README.md."""
    cfg, summary = results["config"], summarise(results)
    m, versus = summary["methods"], summary["versus_random"]

    names = {"skip": "skip", "pool": "avg-pool", "none": "none"}

    def free(method: str) -> str:
        row = m[method]
        edges = row["edges"]
        top = max(edges, key=lambda k: edges[k])
        return (
            f"{row['parameter_free_mean']:.1f} of 6 parameter-free edges on average "
            f"(mostly {names[top]}: {edges[top]} of {sum(edges.values())}), "
            f"{row['all_parameter_free']} of {row['n']} cells entirely parameter-free"
        )

    above = [METHODS[k] for k, v in versus.items() if v["retrained"][1] > 0]
    below = [METHODS[k] for k, v in versus.items() if v["retrained"][2] < 0]
    needed = {"darts", "darts2", "gdas", "random"} - set(m)
    if needed:
        raise SystemExit(
            f"the Evidence section needs runs of {sorted(needed)}; run them or "
            "pass --no-doc"
        )
    c10 = {k: _ci(m[k], "nb201_cifar10") for k in ("darts", "darts2", "random")}
    lines = [
        START,
        f"Generated by `docs/oneshot_evidence.py` from "
        f"[results/oneshot](../results/oneshot/README.md): {cfg['seeds']} seeds per "
        f"method, {cfg['budget_s']:g} {cfg['clock'].upper()} seconds per search, on "
        f"`{cfg['dataset']}`.",
        "",
        f"- Collapse: DARTS (1st order) derived {free('darts')}; DARTS (2nd "
        f"order) {free('darts2')}; GDAS {free('gdas')}; random cells "
        f"{free('random')}.",
        f"- In the NB201 table (CIFAR-10 test accuracy, median [95 % interval]) "
        f"the DARTS cells score {c10['darts']} % (1st order) and {c10['darts2']} % "
        f"(2nd order), random cells {c10['random']} %; on CIFAR-10 itself the NB201 "
        "paper's DARTS-V1/V2 collapse to all-skip cells of about 54 %.",
        "- Retrained accuracy clearly above random cells (bootstrap interval of the "
        "median difference above 0): "
        + (", ".join(above) if above else "none")
        + "; clearly below: "
        + (", ".join(below) if below else "none")
        + ".",
    ]
    if "unas_lat" in m and "unas" in m:
        lines.append(
            f"- The latency term: UNAS cells' median latency "
            f"{m['unas']['latency_median']:.2f} ms without it, "
            f"{m['unas_lat']['latency_median']:.2f} ms with it "
            f"(target {UNAS_LATENCY_TARGET_MS:g} ms)."
        )
    lines.append(END)
    return "\n".join(lines)


def write_docs(results: dict[str, Any], out_dir: Path, doc: Path | None) -> None:
    """Write the README and (when ``doc`` is given) the doc section."""
    (out_dir / "README.md").write_text(render(results))
    if doc is not None:
        text = doc.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            raise SystemExit(f"{doc} has no {START} ... {END} block to fill in")
        doc.write_text(pattern.sub(lambda _: render_section(results), text))


# -- the run --------------------------------------------------------------------------


def save(path: Path, results: dict[str, Any]) -> None:
    """Write ``results`` atomically."""
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(temp, path)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line (bad combinations exit with a message)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--data-dir", default=None, help="CIFAR directory (torchvision)")
    p.add_argument(
        "--device", default="auto", help="auto (CUDA when present), cpu or cuda"
    )
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--budget", type=float, default=15.0, help="seconds per search")
    p.add_argument("--epochs", type=int, default=None, help="retraining epochs")
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--num-cells", type=int, default=None)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--pruning-seeds", type=int, default=3)
    p.add_argument("--lambdas", default="0.1,0.5,1,2", help="pruning penalties")
    p.add_argument("--random-draws", type=int, default=3, help="random subsets")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--quick", action="store_true", help="a tiny smoke run")
    p.add_argument("--render", action="store_true", help="only regenerate the docs")
    p.add_argument("--no-doc", action="store_true", help="leave the methods page")
    args = p.parse_args(argv)
    from nasgym.oneshot.supernet import SUPERNET_DATASETS

    if args.dataset not in SUPERNET_DATASETS:
        p.error(f"--dataset must be one of {', '.join(SUPERNET_DATASETS)}")
    cifar = args.dataset.startswith("cifar")
    if cifar and args.data_dir is None:
        p.error(
            f"--dataset {args.dataset} reads CIFAR from a local directory: pass "
            "--data-dir DIR (torchvision format, e.g. DIR/cifar-10-batches-py)"
        )
    if cifar and args.data_dir is not None and not Path(args.data_dir).is_dir():
        p.error(f"--data-dir {args.data_dir} is not a directory")
    unknown = [m for m in args.methods.split(",") if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; valid: {', '.join(METHODS)}")
    args.methods = args.methods.split(",")
    args.lambdas = [float(x) for x in args.lambdas.split(",")]
    # NB201's network on CIFAR; a CPU-sized one on the offline sets
    args.channels = args.channels or (16 if cifar else 8)
    args.num_cells = args.num_cells or (5 if cifar else 1)
    if args.epochs is None:
        args.epochs = 1 if args.quick else (20 if cifar else 4)
    if args.quick:
        args.seeds, args.budget, args.pruning_seeds = min(args.seeds, 2), 1.0, 1
        args.lambdas, args.random_draws = args.lambdas[:2], 1
        args.channels, args.num_cells = 2, 1
    if args.out_dir is None:
        args.out_dir = OUT_DIR
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or resume) the evidence run and write the results and docs."""
    args = parse(argv)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    doc = None if args.no_doc or args.quick else DOC
    if args.render:
        write_docs(json.loads(path.read_text()), out_dir, doc)
        return 0
    import torch

    from nasgym.oneshot.supernet import resolve_auto_device
    from nasgym_agents.unas import LatencyTable

    torch.set_num_threads(1)
    args.device = str(resolve_auto_device(args.device))  # clear error without CUDA
    clock = Clock(args.device)
    config = {
        "dataset": args.dataset,
        "device": args.device,
        "seeds": args.seeds,
        "budget_s": args.budget,
        "clock": clock.name,
        "epochs": args.epochs,
        "channels": args.channels,
        "num_cells": args.num_cells,
        "quick": args.quick,
        "lambdas": args.lambdas,
        "random_draws": args.random_draws,
        "pruning_seeds": args.pruning_seeds,
    }
    results: dict[str, Any] = {"config": config, "runs": [], "pruning": []}
    if path.exists():
        old = json.loads(path.read_text())
        differ = [k for k in FIXED if old["config"].get(k) != config[k]]
        if differ:
            raise SystemExit(
                f"{path} holds a run with other settings ({', '.join(differ)}); "
                "use another --out-dir or delete the file"
            )
        results = old
        results["config"]["seeds"] = max(old["config"]["seeds"], args.seeds)
    results["host"] = {"cpus": os.cpu_count(), "torch": torch.__version__}
    started = time.perf_counter() - float(results.get("wall_s", 0.0))
    latency = LatencyTable.load(LATENCY_DEVICE)
    describe((1,) * 6, latency)  # fail early without the NB201 table
    if "calibration" not in results:
        results["calibration"] = calibrate(args, clock, 2 if args.quick else 8)
        save(path, results)
    missing = [
        m for m in args.methods if m in STEPPED and m not in results["calibration"]
    ]
    if missing:  # methods added to a resumed run
        more = argparse.Namespace(**{**vars(args), "methods": missing})
        results["calibration"].update(calibrate(more, clock, 2 if args.quick else 8))
    table = searches(args, results["calibration"].get("darts", 1.0))
    done = {(r["method"], r["seed"]) for r in results["runs"]}
    for seed in range(args.seeds):
        for method in args.methods:
            if (method, seed) in done:
                continue
            per_step = results["calibration"].get(method, 1.0)
            steps = max(1, int(args.budget / per_step))
            budget = Budget(clock, args.budget)
            cell, reached = table[method](seed, steps, budget)
            spent = budget.used() if method != "random" else 0.0
            tick = clock.now()
            accuracy = retrain(cell, args, seed)
            row = {
                "method": method,
                "seed": seed,
                "steps": reached,
                "search_s": spent,
                "retrain_s": clock.now() - tick,
                "retrained_accuracy": accuracy,
                **describe(cell, latency),
            }
            results["runs"].append(row)
            results["wall_s"] = time.perf_counter() - started
            save(path, results)
            print(json.dumps(row), file=sys.stderr, flush=True)
    have = {s["seed"] for s in results["pruning"]}
    for seed in range(args.pruning_seeds):
        if seed not in have:
            results["pruning"].append(pruning_curve(args, seed))
            results["wall_s"] = time.perf_counter() - started
            save(path, results)
            print(f"pruning seed {seed} done", file=sys.stderr, flush=True)
    results["wall_s"] = time.perf_counter() - started
    save(path, results)
    write_docs(results, out_dir, doc)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
