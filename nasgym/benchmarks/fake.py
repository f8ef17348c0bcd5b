"""A deterministic synthetic benchmark, for unit tests, doctests and examples.

The values are a smooth function of the choice vector plus hash noise: they are *not*
measurements and must never be reported as results. Real-data backends live beside
this module.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.spaces.base import ArchT, CategoricalSearchSpace


class FakeBenchmark(TabularBenchmark[ArchT]):
    """Synthetic ``valid``/``test``/``train_time_s`` tables over any categorical space.

    Example:
        >>> from nasgym.spaces.nb201 import NB201Space
        >>> bench = FakeBenchmark(NB201Space(), seed=0)
        >>> 0.0 < bench.optimum("valid") <= 100.0
        True
    """

    metrics = ("valid", "test", "train_time_s", "latency_s")
    cost_metrics = ("latency_s",)
    time_metric = "train_time_s"
    cost_objectives = {
        "latency": ("latency_s", "s", "synthetic latency"),
        "train_time": ("train_time_s", "s", "synthetic training time"),
    }

    def __init__(self, space: CategoricalSearchSpace[ArchT], *, seed: int = 0) -> None:
        super().__init__(space, "fake", reward_metric="valid", report_metric="test")
        self.seed = seed

    def _load(self) -> Mapping[str, FloatArray]:
        rng = np.random.default_rng(self.seed)
        vectors = self.space.codes_to_vectors(np.arange(self.space.size))
        weights = rng.normal(size=(self.space.num_slots, self.space.max_choices))
        score = weights[np.arange(self.space.num_slots), vectors].sum(axis=1)
        score = (score - score.min()) / max(float(np.ptp(score)), 1e-12)
        valid = 40.0 + 50.0 * score + rng.normal(scale=1.0, size=score.size)
        test = valid + rng.normal(scale=1.0, size=score.size)
        invalid = ~self.space.valid_mask
        tables = {
            "valid": np.clip(valid, 0.0, 100.0),
            "test": np.clip(test, 0.0, 100.0),
            "train_time_s": 100.0 + 900.0 * rng.random(score.size),
            "latency_s": 0.001 + 0.01 * rng.random(score.size),
        }
        for table in tables.values():
            table[invalid] = np.nan
        return tables
