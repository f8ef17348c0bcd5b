"""BOHB (nasgym_agents.mf.bohb): the model, its fallback to random, its densities."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from test_mf_drivers import ToyFidelity, run_async, run_sequential

from nasgym.error import UnknownOptionError
from nasgym_agents.mf import BOHB, Hyperband
from nasgym_agents.mf.bohb import aitchison_aitken_pdf, categorical_bandwidths


class Spy(BOHB):
    """Records, at each new configuration, whether a model was available."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ready: list[bool] = []
        self.counts: list[dict[int, int]] = []

    def draw(self, fidelity: int) -> tuple[int, ...]:
        self.ready.append(self.model_fidelity() is not None)
        self.counts.append({b: len(d) for b, d in self.observations.items()})
        return super().draw(fidelity)


def test_random_until_a_fidelity_has_enough_points() -> None:
    bench = ToyFidelity()
    bohb = Spy(nvec=bench.nvec, fidelities=bench.fidelities, seed=0, random_fraction=0)
    run_sequential(bohb, bench, 200)
    assert bohb.min_points_in_model == len(bench.nvec) + 1 == 4
    first = bohb.ready.index(True)
    assert first > 0
    # Before: every fidelity had fewer than N_min + 2 results, and all draws were
    # random; after: with random_fraction=0, every draw came from the model.
    assert all(
        all(n < bohb.min_points_in_model + 2 for n in c.values())
        for c in bohb.counts[:first]
    )
    assert bohb.sampled == {"random": first, "model": len(bohb.ready) - first}
    assert bohb.sampled["model"] > 0
    # The model is the one of the largest fidelity with enough results.
    assert max(bohb.model_fidelities) == 27 and min(bohb.model_fidelities) == 1


def test_random_fraction_one_is_hyperband() -> None:
    bench = ToyFidelity()
    bohb = BOHB(nvec=bench.nvec, fidelities=bench.fidelities, seed=0, random_fraction=1)
    log = run_sequential(bohb, bench, 150)
    assert bohb.sampled["model"] == 0
    assert [len(b.history[0][1]) for b in bohb.brackets if b.history][:4] == [
        27,
        12,
        6,
        4,
    ]
    assert len(log.results) == 150


def test_the_model_beats_random_sampling_on_a_learnable_benchmark() -> None:
    bench = ToyFidelity(nvec=(6,) * 4)

    def mean_top(cls: Any) -> float:
        tops = []
        for seed in range(6):
            opt = cls(nvec=bench.nvec, fidelities=bench.fidelities, seed=seed)
            log = run_sequential(opt, bench, 300)
            tops.append(np.mean([s for j, s in log.results if j.fidelity == 27]))
        return float(np.mean(tops))

    assert mean_top(BOHB) > mean_top(Hyperband) + 2.0


def test_bohb_runs_asynchronously() -> None:
    bench = ToyFidelity()
    bohb = BOHB(nvec=bench.nvec, fidelities=bench.fidelities, seed=0)
    log = run_async(bohb, bench, 200, workers=8, seed=0)
    assert log.nones_while_pending == 0 and bohb.sampled["model"] > 0


def test_aitchison_aitken_density_sums_to_one() -> None:
    nvec = np.array([3, 4, 1])
    rng = np.random.default_rng(0)
    data = rng.integers(0, nvec, size=(5, 3))
    lam = categorical_bandwidths(5, nvec, 1e-3)
    assert np.all(lam <= (nvec - 1) / nvec) and lam[2] == 0
    grid = np.array(list(itertools.product(*(range(n) for n in nvec))))
    pdf = aitchison_aitken_pdf(grid, data, lam, nvec)
    assert pdf.sum() == pytest.approx(1.0)
    # Points of the data are denser than points far from all of it.
    assert pdf[[int(np.ravel_multi_index(d, nvec)) for d in data]].min() > pdf.min()


def test_bandwidths_shrink_with_more_points() -> None:
    nvec = np.array([5] * 6)
    small, large = (categorical_bandwidths(n, nvec, 1e-3) for n in (5, 500))
    assert np.all(large < small)
    assert np.all(categorical_bandwidths(10**30, nvec, 0.05) == 0.05)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("top_n_fraction", 0.0),
        ("random_fraction", 1.5),
        ("bandwidth_factor", 0.5),
        ("num_samples", 0),
        ("min_points_in_model", 0),
    ],
)
def test_bad_bohb_settings_raise(option: str, value: Any) -> None:
    with pytest.raises(UnknownOptionError, match=option):
        BOHB(nvec=(4,), fidelities=(1, 3), seed=0, **{option: value})
