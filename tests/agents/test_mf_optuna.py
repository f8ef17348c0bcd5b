"""optuna-hb: Optuna's TPE sampler and Hyperband pruner through ask/tell."""

from __future__ import annotations

from collections import defaultdict

import pytest
from test_mf_drivers import ToyFidelity, run_async, run_sequential

pytest.importorskip("optuna")

from nasgym_agents.mf import OptunaHyperband, optuna_rungs


def _make(bench: ToyFidelity, seed: int = 0, **config: object) -> OptunaHyperband:
    return OptunaHyperband(
        nvec=bench.nvec, fidelities=bench.fidelities, seed=seed, **config
    )


def test_optuna_rungs_follow_the_pruner_steps() -> None:
    assert optuna_rungs(tuple(range(1, 99)), 3, 1, 98) == (1, 3, 9, 27, 81, 98)
    assert optuna_rungs((1, 3, 9, 27), 3, 1, 27) == (1, 3, 9, 27)
    assert optuna_rungs((12, 200), 3, 12, 200) == (12, 200)


def test_trials_climb_the_rungs_until_pruned_or_complete() -> None:
    bench = ToyFidelity()
    opt = _make(bench)
    assert opt.n_brackets == 4
    log = run_async(opt, bench, 300, workers=4, seed=0)
    assert log.nones_while_pending == 0 and len(log.asked) == 300
    trials = opt.study.get_trials(deepcopy=False)
    state = type(trials[0].state)
    done = [t for t in trials if t.state in (state.PRUNED, state.COMPLETE)]
    assert opt.pruned == sum(t.state == state.PRUNED for t in trials) > 0
    assert opt.completed == sum(t.state == state.COMPLETE for t in trials) > 0
    for trial in done:
        steps = sorted(trial.intermediate_values)
        # Reported at consecutive rungs from the lowest; a completed trial
        # reached the top rung, a pruned one stopped below it.
        assert steps == list(opt.rungs[: len(steps)])
        assert (steps[-1] == 27) == (trial.state == state.COMPLETE)
    # Every job was a rung of one trial: vectors repeat only up the rungs.
    per_vector = defaultdict(list)
    for job in log.asked:
        per_vector[job.vector].append(job.fidelity)
    assert all(set(f) <= set(opt.rungs) for f in per_vector.values())


def test_optuna_hb_sequential_prunes_most_trials() -> None:
    bench = ToyFidelity()
    opt = _make(bench, seed=1)
    log = run_sequential(opt, bench, 200)
    counts = defaultdict(int)
    for fidelity in log.fidelities():
        counts[fidelity] += 1
    assert counts[1] > counts[27]
    assert opt.pruned > opt.completed
    assert opt.config()["rungs"] == [1, 3, 9, 27]
