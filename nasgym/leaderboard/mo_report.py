"""The multi-objective part of ``leaderboard report`` (envs made with ``objectives``).

For an env whose runs recorded objectives (see :mod:`nasgym.leaderboard.objectives`)
the report adds, per agent and checkpoint:

* **Hypervolume** of the architectures a run has queried so far, measured in the
  objectives of the run with the accuracy objective as *test* accuracy (the accuracy
  nasgym reports; the agents only ever see validation accuracy) and the costs raw.
  Every objective is normalised with the benchmark's own range (0 best, 1 worst;
  :class:`nasgym.pareto.Bounds`) and the reference point is
  :data:`nasgym.pareto.REFERENCE_POINT` (1.1) in every objective, so the largest
  possible value is ``1.1 ** k``. Computed by moocore.
* **Hypervolume regret** ``HV(true front) - HV(found)`` (same normalisation), where
  the true front is the exact Pareto front of the benchmark's table recorded in the
  run header. 0 means the run found the whole true front. Benchmarks without a table
  (NB301) get hypervolume only, normalised with the range of every queried point of
  the env (all agents and seeds), and a note.
* **Constrained runs** (``mo_reward="constrained"``): the best accuracy under the
  constraint (the test accuracy of the feasible query with the best validation
  accuracy, the incumbent among queries that satisfied every ``cost_threshold``),
  its regret against the best feasible test accuracy of the benchmark (from the true
  front), and the share of queries that violated the constraint.

Hypervolume regret and the feasible accuracy are given as mean ± standard error over
runs and as the rliable IQM with a 95% stratified-bootstrap CI (as the rest of the
report); hypervolume (the mirror image of its regret; with a CI where there is no
regret) and the violation share as mean ± standard error (the CSV adds their IQM).
Files: a
``multi-objective.csv`` of those numbers, ``pareto-<env key>.png`` (per agent: the
true front, the non-dominated points every seed found and their median (50%)
attainment surface, moocore's EAF; for two objectives, else the accuracy against the
first cost) and ``hv-regret-<env key>.png`` (IQM hypervolume regret against queries).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasgym.leaderboard.report import (
    EnvRuns,
    Estimate,
    _png,
    curve_plot,
    estimate,
    iqm_columns,
    markdown_table,
)
from nasgym.leaderboard.store import RunFile
from nasgym.pareto import (
    ACCURACY_OBJECTIVES,
    REFERENCE_POINT,
    Bounds,
    FloatArray,
    TrueFront,
    pareto_front,
)

#: Decimals of hypervolume (regret) in the Markdown tables.
HV_DIGITS = 4

MO_CSV_COLUMNS = (
    "env_key",
    "checkpoint",
    "agent",
    "n",
    "objectives",
    "reference_point",
    "true_hv",
    "hv_mean",
    "hv_se",
    "hv_iqm",
    "hv_iqm_ci_low",
    "hv_iqm_ci_high",
    "hv_regret_mean",
    "hv_regret_se",
    "hv_regret_iqm",
    "hv_regret_iqm_ci_low",
    "hv_regret_iqm_ci_high",
    "feasible_test_mean",
    "feasible_test_se",
    "feasible_test_iqm",
    "feasible_test_iqm_ci_low",
    "feasible_test_iqm_ci_high",
    "feasible_optimum",
    "violation_share_mean",
    "violation_share_se",
    "violation_share_iqm",
    "violation_share_iqm_ci_low",
    "violation_share_iqm_ci_high",
)


@dataclass
class MOSetup:
    """What the multi-objective statistics of one env are measured against."""

    names: list[str]
    bounds: Bounds
    true: TrueFront | None
    constrained: bool
    thresholds: list[float] | None
    notes: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """Axis label of an objective, with its unit where known."""
        if name in ACCURACY_OBJECTIVES:
            return "test accuracy (%)"
        unit = self.units.get(name)
        return f"{name} ({unit})" if unit else name

    @property
    def feasible_optimum(self) -> float:
        """Best test accuracy of the benchmark under the cost thresholds (or NaN)."""
        if self.true is None or self.thresholds is None:
            return math.nan
        acc, costs = _split(self.names)
        front = self.true.front
        ok = (front[:, costs] <= np.array(self.thresholds)).all(axis=1)
        return float(front[ok, acc].max()) if ok.any() else math.nan


@dataclass
class MORow:
    """One agent at one checkpoint: hypervolume and constrained statistics."""

    agent: str
    hv: Estimate
    hv_regret: Estimate | None
    feasible_test: Estimate | None = None
    violation_share: Estimate | None = None
    no_feasible: int = 0


def _split(names: Sequence[str]) -> tuple[int, list[int]]:
    acc = next(i for i, n in enumerate(names) if n in ACCURACY_OBJECTIVES)
    return acc, [i for i, n in enumerate(names) if i != acc]


def run_points(run: RunFile, names: Sequence[str], queries: int) -> FloatArray:
    """The objective values of the first ``queries`` queries of a run, one row each.

    The accuracy objective is the query's *test* accuracy; costs are raw. Queries
    with a missing value are left out.
    """
    rows = []
    for record in run.records[:queries]:
        objectives = record.get("objectives") or {}
        row = [
            record["test"] if name in ACCURACY_OBJECTIVES else objectives.get(name)
            for name in names
        ]
        values = [math.nan if v is None else float(v) for v in row]
        if all(math.isfinite(v) for v in values):
            rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, len(names))


def _thresholds(kwargs: Mapping[str, Any], costs: int) -> list[float] | None:
    value = kwargs.get("cost_threshold")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)] * costs
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [float(v) for v in value]
    return None


def mo_setup(env_runs: EnvRuns) -> MOSetup | None:
    """The setup of an env's multi-objective statistics; ``None`` without objectives.

    Uses the first run header with objectives (every run of a leaderboard env has the
    same env configuration, so the same objectives and true front).
    """
    runs = [run for runs in env_runs.runs.values() for run in runs]
    headers = [run.header for run in runs if run.header.get("objectives")]
    if not headers:
        return None
    names = [str(n) for n in headers[0]["objectives"]]
    notes = []
    if not any(n in ACCURACY_OBJECTIVES for n in names) or len(names) < 2:
        return None
    true_json = headers[0].get("true_front")
    true = TrueFront.from_json(true_json) if true_json else None
    if true is not None:
        bounds = true.bounds
    else:
        points = np.vstack([run_points(run, names, len(run.records)) for run in runs])
        bounds = Bounds.of(names, points)
        why = headers[0].get("true_front_error") or "no objective table"
        notes.append(
            f"{env_runs.env.label}: no true Pareto front ({why}); hypervolume is "
            "normalised with the range of every queried point of this env and no "
            "hypervolume regret is reported"
        )
    kwargs = dict(env_runs.env.kwargs)
    constrained = kwargs.get("mo_reward") == "constrained" or any(
        "constraint_violated" in record for run in runs[:1] for record in run.records
    )
    return MOSetup(
        names,
        bounds,
        true,
        constrained,
        _thresholds(kwargs, len(names) - 1) if constrained else None,
        notes,
        {str(k): str(v) for k, v in (headers[0].get("objective_units") or {}).items()},
    )


def run_hypervolume(run: RunFile, setup: MOSetup, queries: int) -> float:
    """Normalised hypervolume of the first ``queries`` queries of a run."""
    return setup.bounds.hypervolume(run_points(run, setup.names, queries))


def _feasible(run: RunFile, queries: int) -> tuple[float, float]:
    """Test accuracy of the best-validation feasible query, and the violation share."""
    records = run.records[:queries]
    if not records:
        return math.nan, math.nan
    violated = [bool(r.get("constraint_violated")) for r in records]
    feasible = [r for r, bad in zip(records, violated, strict=True) if not bad]
    share = sum(violated) / len(records)
    if not feasible:
        return math.nan, share
    best = max(feasible, key=lambda r: r["valid"])  # first of ties
    return float(best["test"]), share


def mo_rows(
    env_runs: EnvRuns, setup: MOSetup, checkpoint: int, reps: int
) -> list[MORow]:
    """One :class:`MORow` per agent at ``checkpoint`` queries (full runs only)."""
    rows = []
    for agent, runs in env_runs.runs.items():
        full = [run for run in runs if len(run.records) >= checkpoint]
        hv = np.array([run_hypervolume(r, setup, checkpoint) for r in full])
        row = MORow(
            agent,
            # with a true front, HV regret carries the bootstrap CI; HV is its mirror
            estimate(hv, reps) if setup.true is None else summary(hv),
            None if setup.true is None else estimate(setup.true.hypervolume - hv, reps),
        )
        if setup.constrained:
            pairs = np.array([_feasible(r, checkpoint) for r in full]).reshape(-1, 2)
            found = pairs[:, 0][np.isfinite(pairs[:, 0])]
            row.feasible_test = estimate(found, reps)
            row.violation_share = summary(pairs[:, 1])
            row.no_feasible = int(len(full) - found.size)
        rows.append(row)
    return rows


def summary(values: np.ndarray) -> Estimate:
    """Mean, standard error and IQM without a bootstrap (the CI fields are NaN)."""
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return Estimate(0, *([math.nan] * 5))
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    iqm = float(iqm_columns(values.reshape(-1, 1))[0])
    return Estimate(n, float(values.mean()), se, iqm, math.nan, math.nan)


def _fmt(value: float, digits: int) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _mean_se(est: Estimate, digits: int) -> str:
    if est.n == 0:
        return "n/a"
    return f"{_fmt(est.mean, digits)} ± {_fmt(est.se, digits)}"


def _iqm(est: Estimate, digits: int) -> str:
    if est.n == 0:
        return "n/a"
    low, high = _fmt(est.ci_low, digits), _fmt(est.ci_high, digits)
    return f"{_fmt(est.iqm, digits)} [{low}, {high}]"


# ------------------------------------------------------------------ plots
def pareto_plot(env_runs: EnvRuns, setup: MOSetup, budget: int) -> bytes:
    """PNG: per agent, the true front, every seed's found front and their median."""
    import moocore
    from matplotlib.figure import Figure

    acc, costs = _split(setup.names)
    cost = costs[0]
    agents = list(env_runs.runs)
    fig = Figure(figsize=(4.2 * len(agents), 4.0))
    axes = fig.subplots(1, len(agents), sharex=True, sharey=True, squeeze=False)[0]
    flags = [True, False]
    for ax, agent in zip(axes, agents, strict=True):
        runs = [r for r in env_runs.runs[agent] if len(r.records) >= budget]
        if setup.true is not None:
            true = pareto_front(setup.true.front[:, [acc, cost]], flags)
            ax.step(
                true[:, 1], true[:, 0], where="post", color="black", lw=1.2,
                label=f"true front ({len(setup.true.front)} archs)",
            )  # fmt: skip
        sets = []
        for i, run in enumerate(runs):
            pts = run_points(run, setup.names, budget)[:, [acc, cost]]
            front = pareto_front(pts, flags)
            ax.scatter(
                front[:, 1], front[:, 0], s=6, alpha=0.25, color="tab:blue",
                label="found, non-dominated (each seed)" if i == 0 else None,
            )  # fmt: skip
            sets.append(
                np.column_stack([front[:, 1], -front[:, 0], np.full(len(front), i)])
            )
        if sets:
            data = np.vstack(sets)
            median = moocore.eaf(data[:, :2], data[:, 2], percentiles=[50])
            if len(median):
                order = np.argsort(median[:, 0])
                ax.step(
                    median[order, 0], -median[order, 1], where="post",
                    color="tab:red", lw=1.5, label="median attainment (found)",
                )  # fmt: skip
        ax.set_title(f"{agent} (n={len(runs)})", fontsize=10)
        ax.set_xlabel(setup.label(setup.names[cost]))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(setup.label(setup.names[acc]))
    cut = ""
    if setup.true is not None and len(setup.true.front) >= 3:
        # the cheapest corner of a front is often a degenerate network (e.g. all
        # skip/none ops, ~1% accuracy) that would squash the rest: when one gap
        # between the front's accuracies spans over half their range, the axis
        # starts 5 points below the gap's top end
        levels = np.sort(np.unique(setup.true.front[:, acc]))
        gaps = np.diff(levels)
        j = int(np.argmax(gaps))
        bottom = float(levels[j + 1]) - 5.0
        if gaps[j] > 0.5 * float(np.ptp(levels)) and bottom > float(levels[j]):
            axes[0].set_ylim(bottom=bottom)
            cut = f"; accuracy axis from {bottom:.1f}, the cheapest front points below"
    axes[0].legend(fontsize=8, loc="lower right")
    title = f"{env_runs.env.label}: Pareto fronts after {budget} queries"
    if len(setup.names) > 2:
        title += f" (projection on {setup.names[cost]})"
    title += cut
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def hv_regret_plot(env_runs: EnvRuns, setup: MOSetup, budget: int, reps: int) -> bytes:
    """PNG of IQM hypervolume regret against queries (log x), 95% CI bands."""
    true = setup.true
    assert true is not None
    return curve_plot(
        env_runs,
        budget,
        reps,
        lambda run, grid: [
            true.hypervolume - run_hypervolume(run, setup, int(q)) for q in grid
        ],
        "hypervolume regret (normalised)",
        "IQM hypervolume regret, 95% bootstrap CI",
    )


# ------------------------------------------------------------------ section
def _cells(row: MORow, setup: MOSetup) -> list[str]:
    cells = [row.agent, str(row.hv.n), _mean_se(row.hv, HV_DIGITS)]
    if setup.true is not None:
        assert row.hv_regret is not None
        cells += [_mean_se(row.hv_regret, HV_DIGITS), _iqm(row.hv_regret, HV_DIGITS)]
    else:
        cells.append(_iqm(row.hv, HV_DIGITS))
    if setup.constrained:
        assert row.feasible_test is not None and row.violation_share is not None
        cells += [_iqm(row.feasible_test, 2), _mean_se(row.violation_share, 3)]
    return cells


def _csv(env_key: str, checkpoint: int, row: MORow, setup: MOSetup) -> dict[str, Any]:
    out: dict[str, Any] = {
        "env_key": env_key,
        "checkpoint": checkpoint,
        "agent": row.agent,
        "n": row.hv.n,
        "objectives": ";".join(setup.names),
        "reference_point": REFERENCE_POINT,
        "true_hv": setup.true.hypervolume if setup.true is not None else math.nan,
        "feasible_optimum": setup.feasible_optimum,
    }
    for prefix, est in (
        ("hv", row.hv),
        ("hv_regret", row.hv_regret),
        ("feasible_test", row.feasible_test),
        ("violation_share", row.violation_share),
    ):
        for key, value in (
            ("mean", "mean"), ("se", "se"), ("iqm", "iqm"),
            ("iqm_ci_low", "ci_low"), ("iqm_ci_high", "ci_high"),
        ):  # fmt: skip
            out[f"{prefix}_{key}"] = math.nan if est is None else getattr(est, value)
    return out


def mo_section(
    env_runs: EnvRuns, checkpoints: Sequence[int], budget: int, reps: int
) -> tuple[list[str], list[dict[str, Any]], dict[str, bytes], list[str]]:
    """Markdown lines, CSV rows, PNGs and notes of one env (all empty without MO)."""
    setup = mo_setup(env_runs)
    if setup is None:
        return [], [], {}, []
    notes = list(setup.notes)
    label = env_runs.env.label
    lines = [
        f"### {label}: multi-objective",
        "",
        f"Objectives {', '.join(setup.names)}; fronts use test accuracy. Hypervolume "
        f"(HV) of every queried architecture, normalised with the benchmark's range "
        f"(0 best, 1 worst per objective), reference point {REFERENCE_POINT} in each; "
        f"the largest possible HV is {REFERENCE_POINT ** len(setup.names):.3f}.",
    ]
    if setup.true is not None:
        lines[-1] += (
            f" True front: {len(setup.true.front)} of {setup.true.archs} "
            f"architectures, HV {setup.true.hypervolume:.4f}; HV regret = HV(true "
            "front) - HV(found)."
        )
    if setup.constrained:
        lines[-1] += (
            f" Constrained (cost_threshold={setup.thresholds}): feasible test acc. "
            "is the test accuracy of the best-validation query within the threshold"
            + (
                f" (benchmark best within it: {setup.feasible_optimum:.2f})"
                if math.isfinite(setup.feasible_optimum)
                else ""
            )
            + "; violations: share of queries over it."
        )
    lines.append("")
    header = ["agent", "n", "HV mean ± s.e."]
    header += (
        ["HV regret mean ± s.e.", "HV regret IQM [95% CI]"]
        if setup.true is not None
        else ["HV IQM [95% CI]"]
    )
    if setup.constrained:
        header += ["feasible test acc. IQM [95% CI]", "violations mean ± s.e."]
    csv_rows = []
    for checkpoint in checkpoints:
        rows = mo_rows(env_runs, setup, checkpoint, reps)
        lines += [f"#### {label}: multi-objective, {checkpoint} queries", ""]
        table = [_cells(row, setup) for row in rows]
        lines += [markdown_table(header, table, "l" + "r" * (len(header) - 1)), ""]
        for row in rows:
            csv_rows.append(_csv(env_runs.env.key, checkpoint, row, setup))
            if row.no_feasible:
                notes.append(
                    f"{label}, {checkpoint} queries: {row.no_feasible} run(s) of "
                    f"{row.agent} queried no feasible architecture and are left out "
                    "of the feasible test accuracy"
                )
    images = {f"pareto-{env_runs.env.key}.png": pareto_plot(env_runs, setup, budget)}
    if setup.true is not None:
        images[f"hv-regret-{env_runs.env.key}.png"] = hv_regret_plot(
            env_runs, setup, budget, reps
        )
    return lines, csv_rows, images, notes
