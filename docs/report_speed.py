"""Time ``nasgym leaderboard report`` against rliable's per-replicate bootstrap.

The report's confidence intervals are rliable's stratified percentile bootstrap
(``rliable.library.get_interval_estimates``), computed vectorised in NumPy
(``nasgym.leaderboard.report.stratified_bootstrap``). This script builds a
leaderboard (4 agents x 10 seeds x 100 queries on NB201 CIFAR-10 by default), then
writes its report twice in this process, side by side: once as the report does it,
once with rliable itself computing every interval (its ``func`` called once per
replicate, as the report did before), and prints both times and the run time::

    python docs/report_speed.py [--seeds 10] [--budget 100] [--reps 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

from nasgym.cli import main as nasgym_main
from nasgym.leaderboard import report


def rliable_bootstrap(
    scores: np.ndarray,
    func: Callable[[np.ndarray], np.ndarray],
    reps: int,
    seed: int = report.BOOTSTRAP_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """The same intervals from rliable, as the report computed them before.

    rliable calls the statistic once per replicate: ``metrics.aggregate_iqm``
    (scipy's ``trim_mean``) for the tables, ``report.iqm_columns`` for the curves;
    other statistics (the performance profiles) go through their batched form.
    """
    from rliable import library, metrics

    if func is report.iqm_batch:
        one: Callable[[np.ndarray], np.ndarray] = lambda x: np.array(  # noqa: E731
            [metrics.aggregate_iqm(x)]
        )
    elif func is report.iqm_columns_batch:
        one = report.iqm_columns
    else:
        one = lambda x: func(x[None])[0]  # noqa: E731
    np.random.seed(seed)
    with report._quiet():
        point, interval = library.get_interval_estimates(
            {"x": scores},
            one,
            reps=reps,
            random_state=np.random.RandomState(seed),
        )
    return np.asarray(point["x"], dtype=float), np.asarray(interval["x"], dtype=float)


def main() -> None:
    """Build a leaderboard, time both reports, print the times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lb"
        start = time.perf_counter()
        nasgym_main(
            [
                "leaderboard", "run", "--env", "nasgym/NB201Query-v0",
                "--env-kwargs", "dataset=cifar10", "--agents",
                "random,rea,ls,reinforce", "--seeds", str(args.seeds),
                "--budget", str(args.budget), "--out", str(root), "--workers", "2",
                "--no-progress",
            ]
        )  # fmt: skip
        run_s = time.perf_counter() - start
        report.write_report(root, Path(tmp) / "warm", args.reps, log=lambda _: None)
        times = {}
        for name, boot in (
            ("vectorised (the report)", report.stratified_bootstrap),
            ("rliable per replicate", rliable_bootstrap),
        ):
            with mock.patch.object(report, "stratified_bootstrap", boot):
                start = time.perf_counter()
                report.write_report(
                    root, Path(tmp) / "r", args.reps, log=lambda _: None
                )
                times[name] = time.perf_counter() - start
    print(
        f"leaderboard run: {run_s:.1f} s (4 agents x {args.seeds} seeds x "
        f"{args.budget} queries, 2 workers)"
    )
    for name, seconds in times.items():
        print(f"report, {name}: {seconds:.1f} s ({args.reps} bootstrap samples)")


if __name__ == "__main__":
    main()
