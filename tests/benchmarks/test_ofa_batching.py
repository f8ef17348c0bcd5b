"""The OFA predictor gives a row the same bits whatever batch it is in."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from nasgym.benchmarks.ofa import mlp_forward


def _weights(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    sizes = [128, 400, 400, 400, 1]
    return [
        (rng.normal(size=(m, k)) / np.sqrt(k), rng.normal(size=m))
        for k, m in itertools.pairwise(sizes)
    ]


def test_mlp_rows_do_not_depend_on_the_batch() -> None:
    # A plain (N, 128) @ W.T rounds differently for N = 1, 3 and 64 on
    # OpenBLAS; this is what made a vector env differ from single envs.
    rng = np.random.default_rng(0)
    weights = _weights(rng)
    x = (rng.random((64, 128)) < 0.3).astype(np.float64)
    whole = mlp_forward(weights, x)
    singles = np.array([mlp_forward(weights, x[i : i + 1])[0] for i in range(64)])
    assert np.array_equal(whole, singles)
    assert np.array_equal(mlp_forward(weights, x[5:8]), singles[5:8])
    # ... and it is still the MLP.
    ref = x
    for i, (w, b) in enumerate(weights):
        ref = ref @ w.T + b
        if i < len(weights) - 1:
            ref = np.maximum(ref, 0.0)
    np.testing.assert_allclose(whole, ref[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.data
def test_real_predictor_rows_do_not_depend_on_the_batch(ofa_bench: Any) -> None:
    rng = np.random.default_rng(1)
    vectors = ofa_bench.space.canonical_vectors(ofa_bench.space.sample_vectors(40, rng))
    whole = ofa_bench.top1(vectors)
    singles = np.array([ofa_bench.top1(vectors[i : i + 1])[0] for i in range(40)])
    assert np.array_equal(whole, singles)
