"""Evidence for the multi-fidelity optimizers: docs/results/mf.

Do Hyperband, BOHB, ASHA and successive halving find better architectures than
random search and regularized evolution (every job at the largest fidelity) under
the same simulated training budget, and more so at small budgets? Every optimizer
of :mod:`nasgym_agents.mf` runs through :func:`nasgym.mf.simulate.simulate` on

* NB201 CIFAR-10, CIFAR-100 and ImageNet16-120 at 12 and 200 epochs (the CSV
  tables have no training times, so the cost and the budget are in *epochs*: the
  epochs proxy),
* NB301 (surrogate epochs 1..98, resumable, the surrogate's runtime in seconds),
* NB101 as the EC-NAS table has it: one budget (4 epochs), so every
  multi-fidelity optimizer has a single rung there,

at a small and a large budget (multiples of the median cost of one full-fidelity
training, see :data:`BUDGETS`), ``--seeds`` seeds each, one simulated worker (and
four on a subset, :data:`PARALLEL`). Per run it records the incumbent's report value
(NB201/NB101: test accuracy at the largest fidelity; NB301: the surrogate's
98-epoch validation accuracy) on a grid of simulated times, the final value and the
jobs run. The README, the curves and the "Evidence" section of
docs/multifidelity.md are generated from ``results.json``; IQMs and their 95%
confidence intervals come from rliable's stratified bootstrap.

    OMP_NUM_THREADS=1 python docs/mf_evidence.py            # full run (resumes)
    python docs/mf_evidence.py --render                     # docs from results.json
    python docs/mf_evidence.py --tiny --out /tmp/mf         # data-free smoke run

Needs ``nasgym data import nb201 DIR`` and ``nasgym data import ecnas DIR`` and the
NB301 surrogate under ``$NASGYM_DATA_DIR``. ``results.json`` is written after every
run, so a run started again skips the finished ones.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasgym.mf.fidelity import FidelityBenchmark
    from nasgym.mf.protocol import MFOptimizer

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "results" / "mf"
DOC = HERE / "multifidelity.md"
START, END = "<!-- mf-evidence:start -->", "<!-- mf-evidence:end -->"

#: Optimizers in report order: key -> (class name in nasgym_agents.mf, label).
OPTIMIZERS: dict[str, tuple[str, str]] = {
    "hyperband": ("Hyperband", "Hyperband"),
    "bohb": ("BOHB", "BOHB"),
    "asha": ("ASHA", "ASHA"),
    "sh": ("SuccessiveHalving", "successive halving"),
    "optuna-hb": ("OptunaHyperband", "Optuna TPE + Hyperband pruner"),
    "rs-time": ("RandomSearchTime", "random search (largest fidelity)"),
    "rea-time": ("REATime", "REA (largest fidelity)"),
}
#: The single-fidelity controls every multi-fidelity optimizer is compared with.
CONTROLS = ("rs-time", "rea-time")
#: Benchmarks in report order: key -> label.
BENCHMARKS: dict[str, str] = {
    "nb201-cifar10": "NB201 CIFAR-10",
    "nb201-cifar100": "NB201 CIFAR-100",
    "nb201-ImageNet16-120": "NB201 ImageNet16-120",
    "nb301": "NB301 (surrogate)",
    "nb101-ecnas": "NB101 (EC-NAS, one budget)",
    "tiny": "TinyBenchmark (test fixture)",
}
REAL = tuple(k for k in BENCHMARKS if k != "tiny")
#: Budgets as multiples of the median cost of one full-fidelity training.
BUDGETS: dict[str, float] = {"small": 5.0, "large": 100.0}
#: Benchmarks also run with four simulated workers (at every budget).
PARALLEL = ("nb201-cifar10", "nb301")
#: The time grid: GRID_POINTS log-spaced multiples of the full cost, GRID_LOW to
#: the large budget.
GRID_POINTS, GRID_LOW = 25, 0.25
#: Architectures sampled (seed 0) for the median full-fidelity cost.
COST_SAMPLE = 64
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 0
#: Settings a resumed results file must share.
FIXED = ("budgets", "grid_points", "grid_low", "cost_sample", "parallel_workers")
PARALLEL_WORKERS = 4

# -- benchmarks -----------------------------------------------------------------------


def make_bench(key: str) -> FidelityBenchmark:
    """The fidelity benchmark of ``key`` (imported tables, or the test fixture)."""
    from nasgym.mf.fidelity import NB101Fidelity, NB201Fidelity, NB301Fidelity
    from nasgym.mf.testing import TinyBenchmark

    if key.startswith("nb201-"):
        return NB201Fidelity(key.removeprefix("nb201-"))
    if key == "nb301":
        return NB301Fidelity()
    if key == "nb101-ecnas":
        return NB101Fidelity("ecnas")
    if key == "tiny":
        return TinyBenchmark()
    raise SystemExit(f"unknown benchmark {key!r}; valid: {', '.join(BENCHMARKS)}")


def budget_unit(bench: FidelityBenchmark) -> str:
    """The ledger unit: simulated seconds, or epochs for the epochs proxy."""
    return "seconds" if bench.cost_unit == "s" else "epochs"


def full_cost(bench: FidelityBenchmark, sample: int) -> float:
    """Median from-scratch cost at the largest fidelity of ``sample`` random archs."""
    rng = np.random.default_rng(0)
    top = bench.fidelities[-1]
    costs = [
        bench.evaluate(rng.integers(0, np.asarray(bench.nvec)), top).cost
        for _ in range(sample)
    ]
    return float(np.median(costs))


def optimum(bench: FidelityBenchmark) -> float | None:
    """The best report value of the whole space, where a table has it (NB201)."""
    from nasgym.mf.fidelity import NB201Fidelity

    if isinstance(bench, NB201Fidelity):
        return float(np.max(bench.bench.tables[bench.bench.report_metric]))
    return None


def describe(key: str, bench: FidelityBenchmark, sample: int) -> dict[str, Any]:
    """What the results record about a benchmark: costs, unit, fidelities."""
    return {
        **bench.header(),
        "key": key,
        "unit": budget_unit(bench),
        "full_cost": full_cost(bench, sample),
        "optimum": optimum(bench),
        "n_fidelities": len(bench.fidelities),
        "fidelity_text": f"{bench.fidelities[0]}..{bench.fidelities[-1]}"
        if len(bench.fidelities) > 8
        else ", ".join(str(f) for f in bench.fidelities),
    }


def make_optimizer(key: str, bench: FidelityBenchmark, seed: int) -> MFOptimizer:
    """Optimizer ``key`` with its default settings, for ``bench``."""
    import nasgym_agents.mf as mf

    cls = getattr(mf, OPTIMIZERS[key][0])
    opt: MFOptimizer = cls(nvec=bench.nvec, fidelities=bench.fidelities, seed=seed)
    return opt


# -- one run --------------------------------------------------------------------------


def grid(config: dict[str, Any], full: float) -> list[float]:
    """The simulated times (in the benchmark's unit) the curves are sampled at."""
    high = max(config["budgets"].values())
    points = np.geomspace(config["grid_low"], high, config["grid_points"])
    return [float(p * full) for p in points]


def _value(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 6)


def run_one(
    bench: FidelityBenchmark,
    info: dict[str, Any],
    config: dict[str, Any],
    budget: str,
    workers: int,
    optimizer: str,
    seed: int,
) -> dict[str, Any]:
    """Simulate one optimizer run and summarise its trace."""
    from nasgym.mf.fidelity import Ledger
    from nasgym.mf.simulate import simulate

    amount = config["budgets"][budget] * info["full_cost"]
    ledger = Ledger(bench, budget=amount, unit=info["unit"])
    trace = simulate(
        make_optimizer(optimizer, bench, seed), bench, ledger, workers=workers
    )
    top = bench.fidelities[-1]
    by_fidelity: dict[str, int] = {}
    for row in trace.rows:
        by_fidelity[str(row.job.fidelity)] = (
            by_fidelity.get(str(row.job.fidelity), 0) + 1
        )
    final = trace.rows[-1].incumbent_report if trace.rows else math.nan
    return {
        "bench": info["key"],
        "budget": budget,
        "workers": workers,
        "optimizer": optimizer,
        "seed": seed,
        "final": _value(final),
        "final_fidelity": trace.rows[-1].incumbent_fidelity if trace.rows else None,
        "jobs": len(trace.rows),
        "top_jobs": by_fidelity.get(str(top), 0),
        "jobs_by_fidelity": by_fidelity,
        "used": round(ledger.used(), 6),
        "makespan": round(trace.makespan, 6),
        "stop_reason": trace.stop_reason,
        "curve": [
            _value(trace.incumbent_at(t))
            for t in grid(config, info["full_cost"])
            if t <= amount * (1 + 1e-9)
        ],
    }


# -- statistics -----------------------------------------------------------------------


@contextlib.contextmanager
def _seeded() -> Iterator[None]:
    """Seed numpy's global generator for one bootstrap, then restore it.

    rliable's ``StratifiedBootstrap`` draws its indices from ``np.random`` (the
    global generator), whatever ``random_state`` it is given, so a fixed interval
    needs the global seed; the caller's random state is put back afterwards.
    """
    import warnings

    state = np.random.get_state()
    np.random.seed(BOOTSTRAP_SEED)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arch: random_state
            yield
    finally:
        np.random.set_state(state)


def _rliable_iqm(values: np.ndarray) -> float:
    from rliable import metrics

    return float(metrics.aggregate_iqm(values))


def iqm_ci(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """IQM and its 95% stratified-bootstrap CI (rliable, fixed seed)."""
    from rliable import library

    scores = np.asarray(values, dtype=float)[:, None]
    with _seeded():
        point, interval = library.get_interval_estimates(
            {"x": scores},
            lambda x: np.array([_rliable_iqm(x)]),
            reps=BOOTSTRAP_REPS,
            random_state=np.random.RandomState(BOOTSTRAP_SEED),
        )
    return float(point["x"][0]), float(interval["x"][0, 0]), float(interval["x"][1, 0])


def iqm_diff_ci(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """IQM(a) - IQM(b) and its 95% CI (rliable's independent stratified bootstrap)."""
    from rliable import library

    x = np.asarray(a, dtype=float)[:, None]
    y = np.asarray(b, dtype=float)[:, None]
    with _seeded():
        boot = library.StratifiedIndependentBootstrap(
            x, y, random_state=np.random.RandomState(BOOTSTRAP_SEED)
        )
        interval = boot.conf_int(
            lambda u, v: _rliable_iqm(u) - _rliable_iqm(v),
            reps=BOOTSTRAP_REPS,
            size=0.95,
            method="percentile",
        )
    return (
        _rliable_iqm(x) - _rliable_iqm(y),
        float(interval[0, 0]),
        float(interval[1, 0]),
    )


def verdict(diff: Sequence[float]) -> str:
    """``above`` / ``below`` when the CI of a difference excludes 0, else ``tie``."""
    _, low, high = diff
    return "above" if low > 0 else "below" if high < 0 else "tie"


def _group(results: dict[str, Any]) -> dict[tuple[str, str, int, str], list[float]]:
    out: dict[tuple[str, str, int, str], list[tuple[int, float]]] = {}
    for r in results["runs"]:
        key = (r["bench"], r["budget"], r["workers"], r["optimizer"])
        out.setdefault(key, []).append((r["seed"], r["final"]))
    return {k: [v for _, v in sorted(rows)] for k, rows in out.items()}


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """IQMs with CIs per cell and the differences to the controls (K=1)."""
    cells: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    groups = _group(results)
    top_jobs: dict[tuple[str, str, int, str], list[int]] = {}
    all_jobs: dict[tuple[str, str, int, str], list[int]] = {}
    for r in results["runs"]:
        key = (r["bench"], r["budget"], r["workers"], r["optimizer"])
        top_jobs.setdefault(key, []).append(r["top_jobs"])
        all_jobs.setdefault(key, []).append(r["jobs"])
    for key, values in groups.items():
        arr = np.asarray(values, dtype=float)
        cells[key] = {
            "iqm": iqm_ci(arr),
            "mean": float(arr.mean()),
            "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
            "n": int(arr.size),
            "top_jobs": float(np.median(top_jobs[key])),
            "jobs": float(np.median(all_jobs[key])),
        }
    diffs: dict[tuple[str, str, str, str], tuple[float, float, float]] = {}
    for (bench, budget, workers, opt), values in groups.items():
        if workers != 1 or opt in CONTROLS:
            continue
        for control in CONTROLS:
            other = groups.get((bench, budget, 1, control))
            if other is not None:
                diffs[bench, budget, opt, control] = iqm_diff_ci(values, other)
    return {"cells": cells, "diffs": diffs}


# -- rendering ------------------------------------------------------------------------


def _benches(results: dict[str, Any]) -> list[str]:
    have = {r["bench"] for r in results["runs"]}
    return [b for b in BENCHMARKS if b in have]


def _opts(results: dict[str, Any]) -> list[str]:
    have = {r["optimizer"] for r in results["runs"]}
    return [o for o in OPTIMIZERS if o in have]


def _mf_opts(results: dict[str, Any]) -> list[str]:
    return [o for o in _opts(results) if o not in CONTROLS]


def _ci(cell: dict[str, Any]) -> str:
    point, low, high = cell["iqm"]
    return f"{point:.2f} [{low:.2f}, {high:.2f}]"


def _diff(diff: tuple[float, float, float]) -> str:
    text = f"{diff[0]:+.2f} [{diff[1]:+.2f}, {diff[2]:+.2f}]"
    return f"**{text}**" if verdict(diff) != "tie" else text


def _unit_word(info: dict[str, Any]) -> str:
    return "epochs (epochs proxy)" if info["unit"] == "epochs" else "simulated seconds"


def _fmt_amount(x: float) -> str:
    return f"{x:,.0f}"


def settings_text(results: dict[str, Any]) -> list[str]:
    """The run's settings, in words (budgets, seeds, workers)."""
    cfg = results["config"]
    lines = [
        "| benchmark | fidelities (epochs) | cost unit | full-fidelity cost "
        "(median of one training) | "
        + " | ".join(f"{b} budget" for b in cfg["budgets"])
        + " | seeds |",
        "|---|---|---|---|" + "---|" * len(cfg["budgets"]) + "---|",
    ]
    seeds = _seeds(results)
    for key in _benches(results):
        info = results["benchmarks"][key]
        amounts = " | ".join(
            f"{_fmt_amount(m * info['full_cost'])} ({m:g}x)"
            for m in cfg["budgets"].values()
        )
        lines.append(
            f"| {BENCHMARKS[key]} | {info['fidelity_text']} | {_unit_word(info)} | "
            f"{_fmt_amount(info['full_cost'])} | {amounts} | {seeds[key]} |"
        )
    return lines


def _seeds(results: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, values in _group(results).items():
        out[key[0]] = max(out.get(key[0], 0), len(values))
    return out


def bench_table(
    results: dict[str, Any], summary: dict[str, Any], bench: str, workers: int = 1
) -> list[str]:
    """Rows: optimizers; per budget the IQM [CI], median jobs and the differences."""
    budgets = list(results["config"]["budgets"])
    head = ["optimizer"]
    for b in budgets:
        head += [f"{b}: IQM [95% CI]", f"{b}: jobs (at top)"]
        if workers == 1:
            head += [f"{b}: vs RS", f"{b}: vs REA"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for opt in _opts(results):
        row = [OPTIMIZERS[opt][1]]
        for b in budgets:
            cell = summary["cells"].get((bench, b, workers, opt))
            if cell is None:
                row += ["-", "-"] + (["-", "-"] if workers == 1 else [])
                continue
            row += [_ci(cell), f"{cell['jobs']:g} ({cell['top_jobs']:g})"]
            if workers == 1:
                for control in CONTROLS:
                    d = summary["diffs"].get((bench, b, opt, control))
                    row.append(_diff(d) if d is not None else "-")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def nb201_table(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """NB201 paper style: mean +- std of the final test accuracy per dataset."""
    benches = [b for b in _benches(results) if b.startswith("nb201-")]
    if not benches:
        return []
    budgets = list(results["config"]["budgets"])
    head = ["budget", "optimizer"] + [
        BENCHMARKS[b].removeprefix("NB201 ") for b in benches
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for b in budgets:
        for opt in _opts(results):
            row = [b, OPTIMIZERS[opt][1]]
            for bench in benches:
                cell = summary["cells"].get((bench, b, 1, opt))
                row.append(
                    "-" if cell is None else f"{cell['mean']:.2f} ± {cell['std']:.2f}"
                )
            lines.append("| " + " | ".join(row) + " |")
    opt_row = ["", "optimal (best in the table)"] + [
        f"{results['benchmarks'][bench]['optimum']:.2f}" for bench in benches
    ]
    lines.append("| " + " | ".join(opt_row) + " |")
    return lines


def _count(
    summary: dict[str, Any], benches: Sequence[str], budget: str, opts: Sequence[str]
) -> dict[str, int]:
    counts = {"above": 0, "below": 0, "tie": 0}
    for bench in benches:
        for opt in opts:
            for control in CONTROLS:
                d = summary["diffs"].get((bench, budget, opt, control))
                if d is not None:
                    counts[verdict(d)] += 1
    return counts


def _multi(results: dict[str, Any]) -> list[str]:
    """Benchmarks with more than one fidelity (where multi-fidelity can help)."""
    return [
        b for b in _benches(results) if results["benchmarks"][b]["n_fidelities"] > 1
    ]


def rea_note(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """Where REA has not left its random initial population, it is random search."""
    from nasgym_agents.mf import REATime

    population = REATime(nvec=(2,), fidelities=(1,), seed=0).population_size
    out = []
    for b in results["config"]["budgets"]:
        cells = [
            summary["cells"][k]
            for k in summary["cells"]
            if k[1] == b and k[2] == 1 and k[3] == "rea-time"
        ]
        if cells and all(c["jobs"] <= population for c in cells):
            most = max(c["jobs"] for c in cells)
            out.append(
                f"At the {b} budget REA finishes at most {most:g} jobs (median per "
                f"benchmark), within its initial population of {population} random "
                "architectures: there it is random search (with the same seed it "
                "samples the same architectures as RS)."
            )
    return ["", *out] if out else []


def below_top_note(results: dict[str, Any]) -> list[str]:
    """Cells where most runs end with an incumbent below the largest fidelity."""
    counts: dict[tuple[str, str, str], list[bool]] = {}
    for r in results["runs"]:
        if r["workers"] != 1:
            continue
        top = results["benchmarks"][r["bench"]]["n_fidelities"]
        if top < 2:
            continue
        below = r["final_fidelity"] != _top_fidelity(results, r["bench"])
        counts.setdefault((r["bench"], r["budget"], r["optimizer"]), []).append(below)
    parts = [
        f"{OPTIMIZERS[o][1]} on {BENCHMARKS[b]} at the {budget} budget "
        f"({sum(v)} of {len(v)} runs)"
        for (b, budget, o), v in counts.items()
        if sum(v) * 2 > len(v)
    ]
    if not parts:
        return []
    return [
        "",
        "Most runs ended with an incumbent from below the largest fidelity (no job "
        "had reached it, so the incumbent is the best at the highest fidelity "
        "reached; its report value is still that architecture's largest-fidelity "
        f"value): {'; '.join(parts)}.",
    ]


def _top_fidelity(results: dict[str, Any], bench: str) -> int:
    text = results["benchmarks"][bench]["fidelity_text"]
    return int(re.split(r"\.\.|, ", text)[-1])


def findings(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """The claims the CIs support, computed (no hand-written comparison)."""
    multi = _multi(results)
    opts = _mf_opts(results)
    budgets = list(results["config"]["budgets"])
    lines = [
        "Computed from the CIs above (a comparison counts only where the 95% CI of "
        "the IQM difference excludes 0):",
        "",
    ]
    share: dict[str, float] = {}
    for b in budgets:
        c = _count(summary, multi, b, opts)
        total = sum(c.values())
        share[b] = c["above"] / total if total else 0.0
        lines.append(
            f"- {b} budget, benchmarks with several fidelities: of {total} "
            f"(multi-fidelity optimizer, control, benchmark) comparisons, "
            f"{c['above']} are above the control, {c['below']} below, "
            f"{c['tie']} not distinguishable."
        )
    for b in budgets:
        for bench in multi:
            wins = [
                OPTIMIZERS[o][1]
                for o in opts
                if all(
                    (d := summary["diffs"].get((bench, b, o, c))) is not None
                    and verdict(d) == "above"
                    for c in CONTROLS
                )
            ]
            losses = [
                OPTIMIZERS[o][1]
                for o in opts
                if any(
                    (d := summary["diffs"].get((bench, b, o, c))) is not None
                    and verdict(d) == "below"
                    for c in CONTROLS
                )
            ]
            lines.append(
                f"- {BENCHMARKS[bench]}, {b} budget: above both RS and REA: "
                f"{', '.join(wins) or 'none'}; below RS or REA: "
                f"{', '.join(losses) or 'none'}."
            )
    if len(budgets) == 2:
        small, large = budgets
        if share[small] > share[large]:
            trend = (
                f"a larger share of the comparisons favours multi-fidelity at the "
                f"{small} budget ({share[small]:.0%}) than at the {large} budget "
                f"({share[large]:.0%}), the direction the literature reports"
            )
        else:
            trend = (
                f"the share of comparisons favouring multi-fidelity is not larger at "
                f"the {small} budget ({share[small]:.0%}) than at the {large} budget "
                f"({share[large]:.0%}): the 'especially at small budgets' pattern of "
                "the literature does not show here"
            )
        lines += ["", f"Small against large budget: {trend}."]
    lines += rea_note(results, summary) + below_top_note(results)
    single = [b for b in _benches(results) if b not in multi]
    if single:
        per_budget = {b: _count(summary, single, b, opts) for b in budgets}
        parts = "; ".join(
            f"{b} budget: {v['above']} above, {v['below']} below, {v['tie']} not "
            "distinguishable"
            for b, v in per_budget.items()
        )
        lines += [
            "",
            f"Single-fidelity benchmarks ({', '.join(BENCHMARKS[b] for b in single)})"
            f", where every multi-fidelity optimizer has one rung: {parts}.",
        ]
    return lines


#: What the results do not show, per benchmark prefix ("" applies to every run).
CAVEATS: dict[str, list[str]] = {
    "": [
        "No network is trained: every job is a table lookup (NB201, NB101) or a "
        "surrogate prediction (NB301), and the time is simulated.",
    ],
    "nb201": [
        "NB201 costs are the **epochs proxy**: the CSV tables have no training "
        "times, so a job lasts its epochs and the budget is counted in epochs. "
        "With real seconds, a 12-epoch job of a slow architecture costs more than "
        "one of a fast architecture.",
        "NB201's 200-epoch *search score* is `test@200` (the CSV tables have no "
        "`valid@200`), the same number the report uses: at the largest fidelity "
        "every optimizer selects on test accuracy. Multi-fidelity and "
        "single-fidelity optimizers are treated alike, but absolute accuracies are "
        "optimistic.",
    ],
    "nb301": [
        "NB301's report value is the surrogate's 98-epoch *validation* accuracy "
        "(it predicts no test accuracy), and its costs are the surrogate's runtime "
        "predictions.",
    ],
    "nb101-ecnas": [
        "NB101 here is EC-NAS: one budget (4 epochs). Successive halving, "
        "Hyperband and ASHA have one rung there, so they are random search at 4 "
        "epochs, and BOHB and Optuna are TPE at 4 epochs; a multi-fidelity effect "
        "cannot show. The four-budget NB101 path (4/12/36/108) is exercised only by "
        "a unit test on a hand-made record file (`tests/mf/test_nb101_mf.py`).",
    ],
}
DEFAULTS_CAVEAT = (
    "Every optimizer runs with its default settings (`eta = 3`); nothing was tuned "
    "per benchmark, and one setting of each is one point of its range."
)


def caveats(results: dict[str, Any]) -> list[str]:
    """The caveats that apply to the benchmarks in ``results``."""
    benches = _benches(results)
    lines = ["What this does not show:", ""]
    for prefix, items in CAVEATS.items():
        if prefix == "" or any(b.startswith(prefix) for b in benches):
            lines += [f"- {item}" for item in items]
    return [*lines, f"- {DEFAULTS_CAVEAT}"]


def render_section(results: dict[str, Any], summary: dict[str, Any]) -> str:
    """The generated block of docs/multifidelity.md."""
    cfg = results["config"]
    lines = [
        START,
        "<!-- generated by docs/mf_evidence.py from docs/results/mf/results.json; "
        "do not edit -->",
        "",
        f"Every optimizer ran under `simulate()` with one simulated worker, "
        f"{max(_seeds(results).values())} seeds, at a small and a large budget "
        "(multiples of the median cost of one training at the largest fidelity). "
        "The report value is the incumbent's test accuracy at the largest fidelity "
        "(NB301: the surrogate's 98-epoch validation accuracy), in percent. Full "
        "tables, jobs and the runs with "
        f"{cfg['parallel_workers']} workers: "
        "[results/mf/README.md](results/mf/README.md); regenerate with "
        "`python docs/mf_evidence.py --render`.",
        "",
        *settings_text(results),
        "",
        "NB201, final test accuracy (mean ± std over seeds, as in the NB201 paper; "
        "budget in epochs, the epochs proxy):",
        "",
        *nb201_table(results, summary),
        "",
        "IQM of the final value with its 95% bootstrap CI (rliable), per "
        "benchmark; the last columns are the IQM difference to random search and "
        "to REA, bold where the CI excludes 0:",
        "",
    ]
    for bench in _benches(results):
        lines += [
            f"**{BENCHMARKS[bench]}**",
            "",
            *bench_table(results, summary, bench),
            "",
        ]
    lines += [*findings(results, summary), "", *caveats(results), "", "Curves:", ""]
    for bench in _benches(results):
        lines.append(
            f"- {BENCHMARKS[bench]}: [incumbent against simulated time]"
            f"(results/mf/{curve_name(bench, 1)})"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def render(results: dict[str, Any], summary: dict[str, Any]) -> str:
    """docs/results/mf/README.md."""
    cfg = results["config"]
    lines = [
        "# Multi-fidelity evidence",
        "",
        "<!-- generated by docs/mf_evidence.py from results.json; do not edit -->",
        "",
        "Generated by `docs/mf_evidence.py` from `results.json` (see its docstring "
        "for what is run). Final value: the incumbent's report value when the "
        "budget is spent, in percent. IQM and 95% CIs: rliable's stratified "
        f"bootstrap ({BOOTSTRAP_REPS} replicates, seed {BOOTSTRAP_SEED}). Jobs: the "
        "median number of jobs a run finished (in parentheses: at the largest "
        "fidelity).",
        "",
        *settings_text(results),
        "",
        f"Host: {results.get('host', {}).get('cpus', '?')} CPUs; the full run took "
        f"{results.get('wall_s', 0.0) / 60:.1f} minutes of wall time.",
        "",
    ]
    for bench in _benches(results):
        info = results["benchmarks"][bench]
        lines += [
            f"## {BENCHMARKS[bench]}",
            "",
            f"Cost: {info['cost_source']}; resumable: {info['resumable']} "
            f"({info['resumable_reason']}).",
            "",
            *bench_table(results, summary, bench),
            "",
            f"![curves]({curve_name(bench, 1)})",
            "",
        ]
        if any(k[0] == bench and k[2] > 1 for k in summary["cells"]):
            lines += [
                f"With {cfg['parallel_workers']} simulated workers (the same budget "
                "of total training; time on the curves is the simulated wall clock):",
                "",
                *bench_table(results, summary, bench, cfg["parallel_workers"]),
                "",
                f"![curves]({curve_name(bench, cfg['parallel_workers'])})",
                "",
            ]
    lines += ["## Findings", "", *findings(results, summary), "", *caveats(results)]
    return "\n".join(lines) + "\n"


def curve_name(bench: str, workers: int) -> str:
    """File name of a benchmark's curve figure."""
    return f"curve-{bench}-k{workers}.png"


def plot(results: dict[str, Any], out_dir: Path) -> None:
    """Incumbent IQM (95% CI band) against simulated time, log x, per benchmark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasgym.leaderboard.report import iqm_columns_batch, stratified_bootstrap

    cfg = results["config"]
    large = max(cfg["budgets"], key=lambda b: cfg["budgets"][b])
    combos = {(r["bench"], r["workers"]) for r in results["runs"]}
    for bench, workers in sorted(combos):
        info = results["benchmarks"][bench]
        times = np.asarray(grid(cfg, info["full_cost"]))
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for opt in _opts(results):
            rows = [
                r["curve"]
                for r in results["runs"]
                if (r["bench"], r["workers"], r["optimizer"], r["budget"])
                == (bench, workers, opt, large)
            ]
            if not rows:
                continue
            scores = np.asarray(
                [[math.nan if v is None else v for v in c] for c in rows], dtype=float
            )
            point, band = stratified_bootstrap(scores, iqm_columns_batch, 500)
            t = times[: scores.shape[1]]
            ax.plot(t, point, label=OPTIMIZERS[opt][1])
            ax.fill_between(t, band[0], band[1], alpha=0.15)
        for name, mult in cfg["budgets"].items():
            if name != large:
                ax.axvline(mult * info["full_cost"], color="grey", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(
            "simulated time, epochs (epochs proxy)"
            if info["unit"] == "epochs"
            else "simulated time (s)"
        )
        ax.set_ylabel("incumbent report value (%), IQM over seeds")
        ax.set_title(f"{BENCHMARKS[bench]}, {workers} worker(s)")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(out_dir / curve_name(bench, workers), dpi=110)
        plt.close(fig)


def write_docs(results: dict[str, Any], out_dir: Path, doc: Path | None) -> None:
    """Write the README, the curves and (when ``doc`` is given) the doc section."""
    summary = summarise(results)
    (out_dir / "README.md").write_text(render(results, summary))
    plot(results, out_dir)
    if doc is not None:
        text = doc.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END) + "\n", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{doc} has no {START} ... {END} block to fill in")
        doc.write_text(pattern.sub(lambda _: render_section(results, summary), text))


# -- the run --------------------------------------------------------------------------


def save(path: Path, results: dict[str, Any]) -> None:
    """Write ``results`` atomically."""
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(results, indent=None, separators=(",", ":")) + "\n")
    os.replace(temp, path)


def _names(
    text: str, valid: Sequence[str], what: str, p: argparse.ArgumentParser
) -> list[str]:
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in valid]
    if unknown:
        p.error(f"unknown {what} {unknown}; valid: {', '.join(valid)}")
    return names


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT_DIR, help="results directory")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--benchmarks", default=",".join(REAL))
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    p.add_argument(
        "--parallel",
        default=",".join(PARALLEL),
        help="benchmarks also run with 4 workers",
    )
    p.add_argument("--tiny", action="store_true", help="data-free smoke run (tiny)")
    p.add_argument("--render", action="store_true", help="only regenerate the docs")
    p.add_argument(
        "--stop-after", type=int, default=None, help="stop after N new runs (tests)"
    )
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    if args.tiny:
        args.benchmarks, args.parallel = "tiny", "tiny"
    args.benchmarks = _names(args.benchmarks, list(BENCHMARKS), "benchmark(s)", p)
    args.optimizers = _names(args.optimizers, list(OPTIMIZERS), "optimizer(s)", p)
    args.parallel = _names(args.parallel, list(BENCHMARKS), "benchmark(s)", p)
    return args


def _config() -> dict[str, Any]:
    return {
        "budgets": dict(BUDGETS),
        "grid_points": GRID_POINTS,
        "grid_low": GRID_LOW,
        "cost_sample": COST_SAMPLE,
        "parallel_workers": PARALLEL_WORKERS,
    }


def load(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The results file to resume, or a fresh one; other settings are refused."""
    if not path.exists():
        return {"config": config, "benchmarks": {}, "runs": []}
    old: dict[str, Any] = json.loads(path.read_text())
    differ = [k for k in FIXED if old["config"].get(k) != config[k]]
    if differ:
        raise SystemExit(
            f"{path} holds a run with other settings ({', '.join(differ)}); "
            "use another --out or delete the file"
        )
    return old


def plan(args: argparse.Namespace, bench: str) -> list[tuple[str, int, str, int]]:
    """Every (budget, workers, optimizer, seed) to run on ``bench``."""
    workers = [1] + ([PARALLEL_WORKERS] if bench in args.parallel else [])
    return [
        (budget, k, opt, seed)
        for budget in BUDGETS
        for k in workers
        for opt in args.optimizers
        for seed in range(args.seeds)
    ]


def execute(args: argparse.Namespace, results: dict[str, Any], path: Path) -> bool:
    """Run what is missing; ``False`` when ``--stop-after`` interrupted it."""
    started = time.perf_counter() - float(results.get("wall_s", 0.0))
    done = {
        (r["bench"], r["budget"], r["workers"], r["optimizer"], r["seed"])
        for r in results["runs"]
    }
    new = 0
    for key in args.benchmarks:
        todo = [p for p in plan(args, key) if (key, *p) not in done]
        if not todo and key in results["benchmarks"]:
            continue
        bench = make_bench(key)
        info = describe(key, bench, COST_SAMPLE)
        old = results["benchmarks"].get(key)
        if old is not None and old["full_cost"] != info["full_cost"]:
            raise SystemExit(f"{key}: the table changed since {path} was written")
        results["benchmarks"][key] = info
        for budget, workers, opt, seed in todo:
            if args.stop_after is not None and new >= args.stop_after:
                save(path, results)
                return False
            row = run_one(bench, info, results["config"], budget, workers, opt, seed)
            results["runs"].append(row)
            results["wall_s"] = round(time.perf_counter() - started, 3)
            save(path, results)
            new += 1
        print(f"{key}: done", file=sys.stderr, flush=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or resume) the evidence run and write the results and docs."""
    args = parse(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    doc = DOC if out.resolve() == OUT_DIR.resolve() else None
    if args.render:
        write_docs(json.loads(path.read_text()), out, doc)
        return 0
    results = load(path, _config())
    results["config"]["seeds"] = max(results["config"].get("seeds", 0), args.seeds)
    results["host"] = {"cpus": os.cpu_count()}
    if not execute(args, results, path):
        return 3
    results["runs"].sort(key=_order)
    save(path, results)
    write_docs(results, out, doc)
    return 0


def _order(r: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        list(BENCHMARKS).index(r["bench"]),
        list(BUDGETS).index(r["budget"]),
        r["workers"],
        list(OPTIMIZERS).index(r["optimizer"]),
        r["seed"],
    )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
