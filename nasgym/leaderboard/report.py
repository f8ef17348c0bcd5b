"""``nasgym leaderboard report``: tables, CSV and plots of a results directory.

For every env and checkpoint (a number of queries) the report compares the agents on
the incumbent's test accuracy (the test accuracy of the best-validation architecture
found so far) and on regret (benchmark optimum minus that test accuracy):

* mean ± standard error over runs (seeds),
* the interquartile mean (IQM) with a 95% stratified-bootstrap confidence interval,
  computed with rliable (``get_interval_estimates`` with ``aggregate_iqm``; a fixed
  seed per agent, so a report is reproducible and an agent's interval does not
  depend on which other agents are present).

Files written to ``REPORTDIR`` (default ``DIR/report``): ``report.md`` (also printed),
``leaderboard.csv``, ``regret-<env key>.png`` per env (IQM regret against queries on a
log axis, with pointwise 95% bootstrap bands) and, for two or more envs,
``performance-profile.png``: rliable performance profiles at the full budget of the
normalized score ``test accuracy / optimum`` (``= 1 - regret / optimum``; 1 means the
optimum was found), pooled over envs.

Envs made with ``objectives=[...]`` also get hypervolume, hypervolume regret against
the benchmark's true Pareto front, constrained-run statistics, ``pareto-<env key>.png``,
``hv-regret-<env key>.png`` and ``multi-objective.csv`` (see
:mod:`nasgym.leaderboard.mo_report`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from nasgym import __version__
from nasgym.error import require
from nasgym.leaderboard.config import EnvConfig, LeaderboardConfig
from nasgym.leaderboard.errors import (
    ConfigMismatchError,
    CorruptRunFileError,
    LeaderboardError,
)
from nasgym.leaderboard.execute import now_iso
from nasgym.leaderboard.store import (
    RunFile,
    atomic_write,
    check_header,
    find_run_files,
    read_manifest,
    read_run,
)

#: Seed of every bootstrap (per agent and statistic).
BOOTSTRAP_SEED = 0
#: Points of the regret curves' query grid (log-spaced).
CURVE_POINTS = 40
#: The multi-objective statistics (see :mod:`nasgym.leaderboard.mo_report`).
MO_CSV_NAME = "multi-objective.csv"

Logger = Callable[[str], None]

CSV_COLUMNS = (
    "env_key",
    "env_id",
    "env_kwargs",
    "optimum",
    "checkpoint",
    "agent",
    "n",
    "test_mean",
    "test_se",
    "regret_mean",
    "regret_se",
    "test_iqm",
    "test_iqm_ci_low",
    "test_iqm_ci_high",
    "regret_iqm",
    "regret_iqm_ci_low",
    "regret_iqm_ci_high",
)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Estimate:
    """Summary statistics of one sample of runs."""

    n: int
    mean: float
    se: float
    iqm: float
    ci_low: float
    ci_high: float


@dataclass
class Row:
    """One agent at one checkpoint of one env."""

    agent: str
    test: Estimate
    regret: Estimate
    short_seeds: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class ReportResult:
    """What ``leaderboard report`` produced."""

    markdown: str
    files: list[Path]
    warnings: list[str]


@dataclass
class EnvRuns:
    """The valid runs of one env, by agent."""

    env: EnvConfig
    optimum: float
    benchmark: dict[str, Any]
    runs: dict[str, list[RunFile]]


# ------------------------------------------------------------------ loading
def load_runs(
    root: Path, log: Logger = _stderr
) -> tuple[LeaderboardConfig, list[EnvRuns], list[str], dict[str, Any]]:
    """Read every run of a leaderboard directory; damaged files become warnings.

    Returns:
        The configuration, the runs per env (in manifest order), the warnings and the
        manifest.

    Raises:
        LeaderboardError: ``root`` is not a directory, not a leaderboard directory,
            or holds no finished run.
    """
    if not root.exists():
        raise LeaderboardError(f"no such directory: {root}")
    if not root.is_dir():
        raise LeaderboardError(f"{root} is not a directory")
    manifest = read_manifest(root)
    if manifest is None:
        raise LeaderboardError(
            f"{root} holds no leaderboard results (no leaderboard.json); create them "
            f"with: nasgym leaderboard run ... --out {root}"
        )
    try:
        config = LeaderboardConfig.from_json(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise LeaderboardError(
            f"{root}/leaderboard.json is malformed ({exc!r})"
        ) from None
    notes: list[str] = []

    def warn(message: str) -> None:
        notes.append(message)
        log(f"nasgym: warning: {message}")

    envs = {env.key: env for env in config.envs}
    by_env: dict[str, dict[str, list[RunFile]]] = {key: {} for key in envs}
    for path in find_run_files(root):
        try:
            run = read_run(path)
            check_header(path, run.header, envs, config.budget)
        except CorruptRunFileError as exc:
            warn(f"skipping corrupted run file {exc}")
            continue
        except ConfigMismatchError as exc:
            warn(f"skipping {exc}")
            continue
        by_env[path.parent.parent.name].setdefault(path.parent.name, []).append(run)
    if not any(by_env.values()):
        raise LeaderboardError(
            f"{root} holds no finished runs yet; run (or resume) the "
            "'nasgym leaderboard run' command that writes to it"
        )
    order = [str(a) for a in manifest.get("agents", [])]
    result = []
    for key, env in envs.items():
        agents = by_env[key]
        if not agents:
            warn(f"{env.label}: no finished runs")
            continue
        first = next(iter(agents.values()))[0].header
        benchmark = dict(first.get("benchmark") or {})
        optimum = benchmark.get("optimum")
        if optimum is None:
            record = first_record(next(iter(agents.values()))[0])
            optimum = record["best_test"] + record["regret"] if record else math.nan
        ranked = sorted(
            agents,
            key=lambda a: (a not in order, order.index(a) if a in order else 0, a),
        )
        result.append(
            EnvRuns(env, float(optimum), benchmark, {a: agents[a] for a in ranked})
        )
    missing = _missing_runs(config, manifest, by_env)
    if missing:
        example = ", ".join(missing[:3])
        warn(
            f"{len(missing)} requested run(s) have no valid result (e.g. {example}): "
            "run the same 'nasgym leaderboard run' command again to (re)do them"
        )
    return config, result, notes, manifest


def first_record(run: RunFile) -> dict[str, Any] | None:
    """The first query record of a run (``None`` for an empty run)."""
    return run.records[0] if run.records else None


def _missing_runs(
    config: LeaderboardConfig,
    manifest: Mapping[str, Any],
    found: Mapping[str, Mapping[str, Sequence[RunFile]]],
) -> list[str]:
    """Runs the manifest says were asked for that have no valid run file."""
    requested = manifest.get("requested")
    if not isinstance(requested, Mapping):
        seeds = int(manifest.get("seeds", 0))
        requested = {str(agent): seeds for agent in manifest.get("agents", [])}
    missing: list[str] = []
    for env in config.envs:
        for agent, seeds in requested.items():
            have = {int(r.header["seed"]) for r in found[env.key].get(agent, [])}
            missing.extend(
                f"{env.key}/{agent}/seed-{seed}"
                for seed in range(int(seeds))
                if seed not in have
            )
    return missing


# ------------------------------------------------------------------ statistics
@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


#: Most resampled values held in memory at once by :func:`stratified_bootstrap`.
_CHUNK_VALUES = 4_000_000


def stratified_bootstrap(
    scores: np.ndarray,
    func: Callable[[np.ndarray], np.ndarray],
    reps: int,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate and 95% percentile CI of ``func`` on a ``(runs, tasks)`` matrix.

    The stratified bootstrap of rliable (Agarwal et al., 2021, "Deep RL at the edge
    of the statistical precipice"; ``rliable.library.get_interval_estimates`` with
    ``method="percentile"``): every replicate resamples the runs of each task (column)
    with replacement, independently per task, and the interval is the 2.5 and 97.5
    percentiles of ``func`` over the replicates. Vectorised: ``func`` takes a stack of
    matrices ``(reps, runs, tasks)`` and returns ``(reps, k)``, so thousands of
    replicates cost a few array operations instead of thousands of calls.

    Args:
        scores: ``(runs, tasks)`` values.
        func: The statistic, batched as above.
        reps: Bootstrap replicates.
        seed: Seed of the resampling (a report is reproducible).

    Returns:
        ``point`` of shape ``(k,)`` (``func`` of ``scores`` itself) and ``interval``
        of shape ``(2, k)`` (low, high).
    """
    scores = np.asarray(scores, dtype=float)
    runs, tasks = scores.shape
    point = np.asarray(func(scores[None]), dtype=float)[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_VALUES // max(1, runs * tasks))
    stats = []
    columns = np.arange(tasks)[None, None, :]
    for start in range(0, reps, chunk):
        size = min(chunk, reps - start)
        index = rng.integers(0, runs, size=(size, runs, tasks))
        stats.append(np.asarray(func(scores[index, columns]), dtype=float))
    with _quiet():
        interval = np.percentile(np.concatenate(stats), [2.5, 97.5], axis=0)
    return point, np.asarray(interval, dtype=float)


def _trimmed_mean(values: np.ndarray, axis: int) -> np.ndarray:
    """25% trimmed mean along ``axis`` (scipy's ``trim_mean``); NaN if any is NaN."""
    n = values.shape[axis]
    cut = int(0.25 * n)
    ordered = np.sort(values, axis=axis)
    kept = np.take(ordered, np.arange(cut, n - cut), axis=axis)
    with _quiet():
        result: np.ndarray = kept.mean(axis=axis)
    nan = np.isnan(values).any(axis=axis)
    return np.where(nan, np.nan, result)


def iqm_batch(stack: np.ndarray) -> np.ndarray:
    """Rliable's ``aggregate_iqm`` (IQM over all runs and tasks) of each matrix.

    ``(reps, runs, tasks)`` -> ``(reps, 1)``.
    """
    flat = stack.reshape(stack.shape[0], -1)
    return _trimmed_mean(flat, axis=1)[:, None]


def iqm_columns_batch(stack: np.ndarray) -> np.ndarray:
    """IQM of every column of each matrix: ``(reps, runs, tasks) -> (reps, tasks)``."""
    return _trimmed_mean(stack, axis=1)


def score_distribution_batch(
    taus: np.ndarray,
) -> Callable[[np.ndarray], np.ndarray]:
    """Rliable's ``score_distributions`` (share of scores ``> tau``), batched."""

    def func(stack: np.ndarray) -> np.ndarray:
        flat = np.sort(stack.reshape(stack.shape[0], -1), axis=1)
        n = flat.shape[1]
        above = [n - np.searchsorted(row, taus, side="right") for row in flat]
        shares: np.ndarray = np.asarray(above, dtype=float) / n
        return shares

    return func


def iqm_columns(scores: np.ndarray) -> np.ndarray:
    """IQM of every column: rliable's ``aggregate_iqm`` (a 25% trimmed mean) per column.

    Example:
        >>> iqm_columns(np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [100.0, 1.0]]))
        array([1.5, 1. ])
    """
    n = scores.shape[0]
    cut = int(0.25 * n)
    ordered = np.sort(scores, axis=0)
    result: np.ndarray = ordered[cut : n - cut].mean(axis=0)
    return result


def estimate(values: np.ndarray, reps: int) -> Estimate:
    """Mean, standard error, and the IQM with its 95% stratified-bootstrap CI."""
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return Estimate(0, *([math.nan] * 5))
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    point, interval = stratified_bootstrap(values.reshape(-1, 1), iqm_batch, reps)
    return Estimate(n, mean, se, float(point[0]), *map(float, interval[:, 0]))


def _column(runs: Sequence[RunFile], key: str, query: int) -> np.ndarray:
    return np.array(
        [run.records[query - 1][key] for run in runs if len(run.records) >= query],
        dtype=float,
    )


def checkpoint_rows(env_runs: EnvRuns, checkpoint: int, reps: int) -> list[Row]:
    """One :class:`Row` per agent at ``checkpoint`` queries."""
    rows = []
    for agent, runs in env_runs.runs.items():
        short = [
            (int(run.header["seed"]), len(run.records))
            for run in runs
            if len(run.records) < checkpoint
        ]
        rows.append(
            Row(
                agent,
                estimate(_column(runs, "best_test", checkpoint), reps),
                estimate(_column(runs, "regret", checkpoint), reps),
                short,
            )
        )
    return rows


# ------------------------------------------------------------------ Markdown
def _num(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}"


def _mean_se(est: Estimate) -> str:
    return "n/a" if est.n == 0 else f"{_num(est.mean)} ± {_num(est.se)}"


def _iqm(est: Estimate) -> str:
    if est.n == 0:
        return "n/a"
    return f"{_num(est.iqm)} [{_num(est.ci_low)}, {_num(est.ci_high)}]"


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: str
) -> str:
    """A pipe table whose columns line up in a terminal too.

    Args:
        header: Column titles.
        rows: Cells (strings).
        align: One letter per column: ``l`` (left) or ``r`` (right).

    Example:
        >>> print(markdown_table(["a", "n"], [["x", "10"], ["yy", "2"]], "lr"))
        | a   |   n |
        | :-- | --: |
        | x   |  10 |
        | yy  |   2 |
    """
    widths = [
        max(3, len(title), *(len(row[i]) for row in rows))
        for i, title in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if how == "r" else cell.ljust(width)
            for cell, width, how in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        ":" + "-" * (w - 1) if how == "l" else "-" * (w - 1) + ":"
        for w, how in zip(widths, align, strict=True)
    ]
    return "\n".join([line(header), line(rule), *(line(row) for row in rows)])


TABLE_HEADER = (
    "agent",
    "n",
    "test acc. mean ± s.e.",
    "regret mean ± s.e.",
    "test acc. IQM [95% CI]",
    "regret IQM [95% CI]",
)


def _env_heading(env_runs: EnvRuns) -> list[str]:
    bench = env_runs.benchmark
    seeds = sorted(
        {int(r.header["seed"]) for runs in env_runs.runs.values() for r in runs}
    )
    details = [f"Optimum {optimum_text(env_runs.optimum)}"]
    if bench.get("name"):
        details.append(f"benchmark {bench['name']}")
    if bench.get("reward_metric"):
        details.append(f"reward metric {bench['reward_metric']}")
    if bench.get("report_metric"):
        details.append(f"reported metric {bench['report_metric']}")
    if bench.get("reward_split") == "test":
        details.append(
            f"rewards use TEST-split numbers ({bench['reward_split_reason']})"
        )
    details.append(
        f"{sum(len(r) for r in env_runs.runs.values())} runs, seeds {_ranges(seeds)}"
    )
    return [f"## {env_runs.env.label}", "", "; ".join(details) + ".", ""]


def agent_label(env_runs: EnvRuns, agent: str) -> str:
    """``agent``, or ``agent (on <env id>)`` when the harness ran it on another mode.

    An agent with an ``env_mode`` (e.g. ``sac``: Continuous) runs on the sibling env
    of the space in that mode; its runs record that env as ``run_env_id``.
    """
    ran_on = sorted(
        {
            str(run.header.get("run_env_id") or env_runs.env.id)
            for run in env_runs.runs.get(agent, [])
        }
        - {env_runs.env.id}
    )
    if not ran_on:
        return agent
    return f"{agent} (on {', '.join(i.split('/')[-1] for i in ran_on)})"


def optimum_text(value: float) -> str:
    """An optimum at the tables' precision (4 decimals: no float32 noise)."""
    return "n/a" if not math.isfinite(value) else f"{value:.4f}".rstrip("0").rstrip(".")


#: The header fields of a run that say where and with what software it ran.
PROVENANCE_FIELDS = ("python", "os", "os_release", "machine")


def _provenance_key(run: RunFile) -> tuple[tuple[str, str], ...]:
    header = run.header
    host = header.get("host") or {}
    versions = header.get("versions")
    items = [(f, str(host.get(f, "not recorded"))) for f in PROVENANCE_FIELDS]
    if isinstance(versions, Mapping):
        items.extend((str(k), str(v)) for k, v in versions.items())
    else:  # written before run headers recorded package versions
        items.append(("nasgym", str(header.get("nasgym_version", "not recorded"))))
        items.append(("packages", "not recorded"))
    return tuple(items)


def provenance_section(envs: Sequence[EnvRuns]) -> tuple[list[str], list[str]]:
    """The report's "Provenance" section, and a warning when runs differ.

    Lists the Python, OS, machine and package versions (nasgym, numpy, torch,
    gymnasium, stable-baselines3, onnxruntime; ``None``: not installed) that the
    runs' headers record, one table row per distinct combination.
    """
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for env_runs in envs:
        for agent, runs in env_runs.runs.items():
            for run in runs:
                name = f"{env_runs.env.key}/{agent}/seed-{run.header.get('seed')}"
                groups.setdefault(_provenance_key(run), []).append(name)
    if not groups:
        return [], []
    fields = list(dict.fromkeys(k for key in groups for k, _ in key))
    rows = []
    for key, names in groups.items():
        values = dict(key)
        rows.append([str(len(names)), *(values.get(f, "-") for f in fields)])
    lines = ["## Provenance", ""]
    warnings_: list[str] = []
    if len(groups) == 1:
        lines.append("Every run recorded the same platform and package versions:")
    else:
        differing = [f for f in fields if len({dict(key).get(f) for key in groups}) > 1]
        message = (
            f"runs of this leaderboard ran with {len(groups)} different platforms or "
            f"package versions (differing: {', '.join(differing)}); results may "
            "differ in the last digits across them (e.g. "
            + "; ".join(names[0] for names in groups.values())
            + ")"
        )
        warnings_.append(message)
        lines.append(f"**Warning:** {message}.")
    lines.extend(
        ["", markdown_table(["runs", *fields], rows, "r" + "l" * len(fields)), ""]
    )
    return lines, warnings_


def _ranges(values: Sequence[int]) -> str:
    parts, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(v) if v == start else f"{start}-{v}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------ plots
#: Line styles and markers cycled over the agents of a plot (with colours), so
#: overlapping curves stay distinguishable, also in greyscale.
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def line_style(index: int, points: int) -> dict[str, Any]:
    """Matplotlib keyword arguments of the ``index``-th line of a plot.

    Line style and marker both change from one agent to the next (the marker cycle
    is coprime with the style cycle, so 32 agents get distinct pairs); about eight
    markers per line, offset per agent so markers of coincident curves do not hide
    each other.
    """
    every = max(1, points // 8)
    return {
        "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
        "marker": MARKERS[index % len(MARKERS)],
        "markevery": (index % every, every),
        "markersize": 5,
        "linewidth": 1.6,
    }


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    return buffer.getvalue()


def curve_plot(
    env_runs: EnvRuns,
    budget: int,
    reps: int,
    curve: Callable[[RunFile, np.ndarray], Sequence[float]],
    ylabel: str,
    title: str,
) -> bytes:
    """PNG of the IQM of ``curve(run, grid)`` against queries (log x), 95% CI bands.

    ``grid`` holds :data:`CURVE_POINTS` log-spaced query counts from 1 to ``budget``;
    each agent's runs that reached ``budget`` make one line.
    """
    grid = np.unique(np.round(np.geomspace(1, budget, CURVE_POINTS)).astype(int))
    curves: dict[str, np.ndarray] = {}
    for agent, runs in env_runs.runs.items():
        full = [run for run in runs if len(run.records) >= budget]
        if full:
            curves[agent] = np.array([curve(run, grid) for run in full], dtype=float)
    return band_plot(
        env_runs,
        grid,
        curves,
        reps,
        "queries",
        ylabel,
        f"{env_runs.env.label}: {title}",
    )


def band_plot(
    env_runs: EnvRuns,
    grid: np.ndarray,
    curves: Mapping[str, np.ndarray],
    reps: int,
    xlabel: str,
    ylabel: str,
    title: str,
) -> bytes:
    """PNG of each agent's IQM curve (rows: runs) over ``grid``, log x, 95% CIs."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for agent, values in curves.items():
        point, interval = stratified_bootstrap(values, iqm_columns_batch, reps)
        (line,) = ax.plot(
            grid,
            point,
            label=f"{agent_label(env_runs, agent)} (n={len(values)})",
            **line_style(len(ax.get_lines()), len(grid)),
        )
        ax.fill_between(
            grid, interval[0], interval[1], color=line.get_color(), alpha=0.2
        )
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _png(fig)


def regret_plot(env_runs: EnvRuns, budget: int, reps: int) -> bytes:
    """PNG of IQM regret against queries (log x), with pointwise 95% CI bands."""
    return curve_plot(
        env_runs,
        budget,
        reps,
        lambda run, grid: [run.records[q - 1]["regret"] for q in grid],
        "regret (optimum - test accuracy of incumbent)",
        "IQM regret, 95% bootstrap CI",
    )


def performance_profile(
    envs: Sequence[EnvRuns], budget: int, reps: int
) -> tuple[bytes | None, list[str]]:
    """PNG of rliable performance profiles of ``test / optimum`` at ``budget``.

    Each agent contributes the seeds it has finished in every env, as a
    ``(runs, envs)`` score matrix. Agents missing from some env are left out (the
    returned notes say so).
    """
    from matplotlib.figure import Figure

    notes = []
    scores: dict[str, np.ndarray] = {}
    agents = list(dict.fromkeys(a for env in envs for a in env.runs))
    for agent in agents:
        per_env = []
        for env in envs:
            runs = env.runs.get(agent, [])
            per_env.append(
                {
                    int(r.header["seed"]): r.records[budget - 1]["best_test"]
                    / env.optimum
                    for r in runs
                    if len(r.records) >= budget
                }
            )
        common = sorted(set.intersection(*(set(d) for d in per_env)))
        if not common:
            notes.append(
                f"performance profile: {agent} has no seed finished in every env"
            )
            continue
        scores[agent] = np.array([[d[s] for d in per_env] for s in common], dtype=float)
    if not scores:
        return None, notes
    low = min(float(v.min()) for v in scores.values())
    low = math.floor(min(low, 0.99) * 100) / 100
    taus = np.linspace(low, 1.0, 101)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for agent, matrix in scores.items():
        point, interval = stratified_bootstrap(
            matrix, score_distribution_batch(taus), reps
        )
        (line,) = ax.plot(
            taus,
            point,
            label=f"{agent} ({matrix.shape[0]} seeds x {matrix.shape[1]} envs)",
            **line_style(len(ax.get_lines()), len(taus)),
        )
        ax.fill_between(
            taus, interval[0], interval[1], color=line.get_color(), alpha=0.2
        )
    ax.set_xlabel(r"normalized score $\tau$ (test accuracy / optimum)")
    ax.set_ylabel(r"fraction of runs with score $> \tau$")
    ax.set_title(
        f"Performance profiles after {budget} queries, {len(envs)} envs", fontsize=10
    )
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _png(fig), notes


# ------------------------------------------------------------------ the report
def _csv_row(env_runs: EnvRuns, checkpoint: int, row: Row) -> dict[str, Any]:
    return {
        "env_key": env_runs.env.key,
        "env_id": env_runs.env.id,
        "env_kwargs": json.dumps(dict(env_runs.env.kwargs), sort_keys=True),
        "optimum": round(env_runs.optimum, 4),
        "checkpoint": checkpoint,
        "agent": row.agent,
        "n": row.test.n,
        "test_mean": row.test.mean,
        "test_se": row.test.se,
        "regret_mean": row.regret.mean,
        "regret_se": row.regret.se,
        "test_iqm": row.test.iqm,
        "test_iqm_ci_low": row.test.ci_low,
        "test_iqm_ci_high": row.test.ci_high,
        "regret_iqm": row.regret.iqm,
        "regret_iqm_ci_low": row.regret.ci_low,
        "regret_iqm_ci_high": row.regret.ci_high,
    }


def require_report() -> None:
    """Check that the ``report`` extra (rliable, pandas, matplotlib, moocore) is in.

    Raises:
        MissingExtraError: One of them is missing; the message names the extra.
    """
    for module in ("rliable", "pandas", "matplotlib", "moocore"):
        require(module, extra="report", purpose="nasgym leaderboard report")


def build_report(
    root: Path, reps: int = 2000, log: Logger = _stderr
) -> tuple[str, list[dict[str, Any]], dict[str, bytes], list[str]]:
    """Compute the report: Markdown, CSV rows, other files by name, warnings.

    The other files are the PNG plots and, when some env has objectives,
    :data:`MO_CSV_NAME`.

    Raises:
        MissingExtraError: rliable, matplotlib or moocore is missing (the
            ``report`` extra).
    """
    require_report()
    config, envs, notes, _ = load_runs(root, log)
    lines = [
        "# nasgym leaderboard",
        "",
        f"Results in `{root}`: budget {config.budget} {_budget_unit(envs)} per "
        "run; report "
        f"generated {now_iso()[:19].replace('T', ' ')} UTC by nasgym {__version__}.",
        "",
        "Test accuracy is that of the incumbent (the architecture with the best "
        "rewarded metric so far: validation accuracy, or the proxy on a zc: env) "
        "after the given number of queries; regret is the "
        "benchmark optimum minus it. n: runs (seeds). Mean ± standard error over "
        "runs; IQM: interquartile mean with a 95% stratified-bootstrap confidence "
        f"interval (the stratified bootstrap of rliable, {reps} samples). An agent "
        "marked '(on <env>)' was run by the harness on that env, the same space in "
        "the action interface the agent needs (its env_mode).",
        "",
        "A regret curve can rise: the incumbent is chosen on validation accuracy, and "
        "a later architecture with better validation accuracy can have worse test "
        "accuracy, so the test regret of the validation-best architecture is not "
        "monotone in the number of queries (validation accuracy of the incumbent "
        "never falls).",
        "",
    ]
    from nasgym.leaderboard.mo_report import MO_CSV_COLUMNS, mo_section
    from nasgym.leaderboard.time_report import query_plot_budget, time_section

    csv_rows: list[dict[str, Any]] = []
    mo_csv: list[dict[str, Any]] = []
    images: dict[str, bytes] = {}
    for env_runs in envs:
        lines.extend(_env_heading(env_runs))
        unit = env_runs.env.budget_unit
        # Under an epochs or seconds budget the query count of a run is not fixed:
        # its table is the incumbent at the end of the budget (time_section).
        for checkpoint in config.checkpoints if unit == "queries" else ():
            rows = checkpoint_rows(env_runs, checkpoint, reps)
            lines.append(f"### {env_runs.env.label}, {checkpoint} queries")
            lines.append("")
            cells = [
                [
                    agent_label(env_runs, r.agent),
                    str(r.test.n),
                    _mean_se(r.test),
                    _mean_se(r.regret),
                    _iqm(r.test),
                    _iqm(r.regret),
                ]
                for r in rows
            ]
            lines.append(markdown_table(TABLE_HEADER, cells, "lrrrrr"))
            lines.append("")
            for row in rows:
                if row.short_seeds:
                    seeds = ", ".join(
                        f"seed {s} ({q} queries)" for s, q in row.short_seeds
                    )
                    message = (
                        f"{env_runs.env.label}, {checkpoint} queries: "
                        f"{len(row.short_seeds)} run(s) of {row.agent} stopped before "
                        f"{checkpoint} queries and are left out: {seeds}"
                    )
                    lines.extend([f"Note: {message}.", ""])
                    notes.append(message)
                    log(f"nasgym: warning: {message}")
                csv_rows.append(_csv_row(env_runs, checkpoint, row))
        time_lines, time_images = time_section(env_runs, unit, config.budget, reps)
        lines.extend(time_lines)
        plot_budget = query_plot_budget([env_runs], config.budget, unit)
        images[f"regret-{env_runs.env.key}.png"] = regret_plot(
            env_runs, plot_budget, reps
        )
        images.update(time_images)
        mo_lines, mo_rows, mo_images, mo_notes = mo_section(
            env_runs, config.checkpoints, plot_budget, reps
        )
        lines.extend(mo_lines)
        mo_csv.extend(mo_rows)
        images.update(mo_images)
        for message in mo_notes:
            notes.append(message)
            log(f"nasgym: warning: {message}")
    if len(envs) >= 2:
        units = {e.env.budget_unit for e in envs}
        png, profile_notes = performance_profile(
            envs, query_plot_budget(envs, config.budget, units.pop()), reps
        )
        for message in profile_notes:
            notes.append(message)
            log(f"nasgym: warning: {message}")
        if png is not None:
            images["performance-profile.png"] = png
    provenance, provenance_notes = provenance_section(envs)
    lines.extend(provenance)
    for message in provenance_notes:
        notes.append(message)
        log(f"nasgym: warning: {message}")
    lines.append("## Plots")
    lines.append("")
    for name in images:
        lines.append(f"![{name}]({quote(name)})")
    lines.append("")
    if mo_csv:  # multi-objective envs: their statistics in a CSV of their own
        images[MO_CSV_NAME] = _csv_text(mo_csv, MO_CSV_COLUMNS).encode()
    if notes:
        lines.extend(["## Warnings", ""])
        lines.extend(f"* {message}" for message in notes)
        lines.append("")
    return "\n".join(lines), csv_rows, images, notes


def _budget_unit(envs: Sequence[EnvRuns]) -> str:
    units = {e.env.budget_unit for e in envs}
    return "queries" if not units else ", ".join(sorted(units))


def _csv_text(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = CSV_COLUMNS
) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: ("" if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue()


def write_report(
    root: Path, out: Path | None = None, reps: int = 2000, log: Logger = _stderr
) -> ReportResult:
    """Write ``report.md``, ``leaderboard.csv`` and the PNG plots to ``out``.

    Args:
        root: The results directory of ``leaderboard run``.
        out: Report directory (default ``root/report``).
        reps: Bootstrap samples per confidence interval.
        log: Where warnings go (default stderr).

    Raises:
        LeaderboardError: ``root`` missing, not a leaderboard, or without results.
    """
    root = root.expanduser()
    markdown, rows, images, notes = build_report(root, reps, log)
    target = (out or root / "report").expanduser()
    files = [target / "report.md", target / "leaderboard.csv"]
    atomic_write(files[0], markdown.encode())
    atomic_write(files[1], _csv_text(rows).encode())
    for name, data in images.items():
        atomic_write(target / name, data)
        files.append(target / name)
    for stale in [
        *target.glob("regret-*.png"),
        *target.glob("pareto-*.png"),
        *target.glob("hv-regret-*.png"),
        target / "performance-profile.png",
        target / MO_CSV_NAME,
    ]:
        if stale.name not in images:  # from an earlier report of other envs
            stale.unlink(missing_ok=True)
    return ReportResult(markdown, files, notes)
