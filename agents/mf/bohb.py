"""BOHB: Hyperband whose new configurations come from a TPE-style model.

Falkner, Klein and Hutter (2018), *BOHB: Robust and Efficient Hyperparameter
Optimization at Scale*. The brackets are Hyperband's; only the sampling of a
bracket's new configurations changes. Per fidelity ``b`` the results ``D_b`` are
kept. The model is fitted on the largest fidelity with
``|D_b| >= min_points_in_model + 2``: the best ``max(N_min, q |D_b|)`` results form
the *good* set, the worst ``max(N_min, |D_b| - n_good)`` the *bad* set, and one
kernel density estimate is fitted to each. A new configuration is the candidate,
among ``num_samples`` drawn from the good density with widened bandwidths, that
maximises ``l(x) / g(x)``. A ``random_fraction`` of configurations (and all of them
before any fidelity has enough results) are uniformly random.

Every slot of a nasgym architecture vector is categorical (an operation or a
choice index), so both densities are products of Aitchison-Aitken kernels:
``K(x, x_i) = 1 - lam`` where ``x == x_i``, else ``lam / (c - 1)``, for a slot
with ``c`` choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError
from nasgym.mf.protocol import Job

from .brackets import Hyperband
from .common import IntArray, check_fraction, check_int, check_optional_int

__all__ = ["BOHB", "aitchison_aitken_pdf", "categorical_bandwidths"]

FloatArray = NDArray[np.float64]


def categorical_bandwidths(n: int, nvec: IntArray, min_bandwidth: float) -> FloatArray:
    """Aitchison-Aitken bandwidths for ``n`` points over slots with ``nvec`` choices.

    ``lam_j = (c_j - 1) / c_j * n ** (-1 / (4 + d))``: the uniform kernel's
    ``(c - 1) / c`` shrunk at the rate of the normal reference rule, and at least
    ``min_bandwidth`` (a slot with one choice has bandwidth 0). ``[I]``: the
    normal reference rule needs a scale, which category codes do not have.

    Args:
        n: Points in the density.
        nvec: Choices per slot.
        min_bandwidth: Lower bound on every bandwidth (of a slot with choices).

    Returns:
        One bandwidth per slot, in ``[0, (c - 1) / c]``.
    """
    c = nvec.astype(np.float64)
    uniform = (c - 1.0) / c
    shrink = float(n) ** (-1.0 / (4.0 + nvec.size))
    lam: FloatArray = np.minimum(np.maximum(uniform * shrink, min_bandwidth), uniform)
    return lam


def aitchison_aitken_pdf(
    x: IntArray, data: IntArray, lam: FloatArray, nvec: IntArray
) -> FloatArray:
    """The product-kernel density of ``data`` at each row of ``x``.

    Args:
        x: Points, shape ``(m, d)``.
        data: The density's points, shape ``(n, d)``.
        lam: Bandwidth per slot, shape ``(d,)``.
        nvec: Choices per slot, shape ``(d,)``.

    Returns:
        Shape ``(m,)``: the mean over ``data`` of the product over slots.
    """
    other = lam / np.maximum(nvec - 1, 1)
    same = x[:, None, :] == data[None, :, :]
    kernel = np.where(same, 1.0 - lam, other)
    pdf: FloatArray = kernel.prod(axis=2).mean(axis=1)
    return pdf


class BOHB(Hyperband):
    """``bohb``: Hyperband with TPE-style density models per fidelity (Falkner 2018).

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        eta: See :class:`~.brackets.BracketSearch`.
        min_fidelity: See :class:`~.brackets.BracketSearch`.
        max_fidelity: See :class:`~.brackets.BracketSearch`.
        max_brackets: See :class:`~.brackets.BracketSearch`.
        max_active_brackets: See :class:`~.brackets.BracketSearch`.
        min_points_in_model: ``N_min`` (default ``None``: the number of slots plus
            one, the paper's ``d + 1``); a fidelity needs ``N_min + 2`` results
            before its model is used.
        top_n_fraction: ``q``, the share of results in the good set (default 0.15).
        num_samples: Candidates drawn from the good density per new configuration
            (default 64).
        random_fraction: Share of new configurations drawn uniformly at random
            (default 1/3).
        bandwidth_factor: Bandwidths are multiplied by this (and capped at the
            uniform kernel) when candidates are drawn (default 3).
        min_bandwidth: Lower bound on every bandwidth (default 1e-3).

    Attributes:
        observations: Per fidelity, the ``(vector, score)`` results so far.
        sampled: How many new configurations came from ``"random"`` and
            ``"model"``.
        model_fidelities: The fidelity of the model behind each model-based draw.

    Example:
        >>> bohb = BOHB(nvec=(5,) * 6, fidelities=(12, 200), seed=0)
        >>> bohb.min_points_in_model
        7
    """

    agent_name = "bohb"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        max_brackets: int | None = None,
        max_active_brackets: int | None = None,
        min_points_in_model: int | None = None,
        top_n_fraction: float = 0.15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(
            nvec=nvec,
            fidelities=fidelities,
            seed=seed,
            eta=eta,
            min_fidelity=min_fidelity,
            max_fidelity=max_fidelity,
            max_brackets=max_brackets,
            max_active_brackets=max_active_brackets,
        )
        n_min = check_optional_int("min_points_in_model", min_points_in_model, 1)
        self.min_points_in_model = len(self.nvec) + 1 if n_min is None else n_min
        self.top_n_fraction = check_fraction(
            "top_n_fraction", top_n_fraction, closed=False
        )
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.random_fraction = check_fraction("random_fraction", random_fraction)
        if (
            isinstance(bandwidth_factor, bool)
            or not isinstance(bandwidth_factor, (int, float))
            or not bandwidth_factor >= 1.0
        ):
            raise UnknownOptionError(
                f"bandwidth_factor must be a number >= 1, got {bandwidth_factor!r}"
            )
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = check_fraction("min_bandwidth", min_bandwidth)
        self.observations: dict[int, list[tuple[tuple[int, ...], float]]] = {}
        self.sampled = {"random": 0, "model": 0}
        self.model_fidelities: list[int] = []

    def observe(self, job: Job, score: float) -> None:
        """Add a result to ``D_b`` of its fidelity."""
        self.observations.setdefault(job.fidelity, []).append((job.vector, score))

    def model_fidelity(self) -> int | None:
        """The largest fidelity with ``min_points_in_model + 2`` results, if any."""
        ready = [
            b
            for b, d in self.observations.items()
            if len(d) >= self.min_points_in_model + 2
        ]
        return max(ready) if ready else None

    def draw(self, fidelity: int) -> tuple[int, ...]:
        """A random configuration, or the model's best candidate."""
        del fidelity
        # One draw decides random vs. model even before a model exists, so the
        # stream of random numbers does not depend on when the model appears.
        explore = self.rng.random() < self.random_fraction
        budget = self.model_fidelity()
        if explore or budget is None:
            self.sampled["random"] += 1
            return self.sample()
        self.sampled["model"] += 1
        self.model_fidelities.append(budget)
        return self._model_sample(self.observations[budget])

    def _model_sample(
        self, data: list[tuple[tuple[int, ...], float]]
    ) -> tuple[int, ...]:
        nvec = self._nvec_array
        ranked = sorted(range(len(data)), key=lambda i: (-data[i][1], i))
        n_min = self.min_points_in_model
        n_good = max(n_min, int(self.top_n_fraction * len(data)))
        n_bad = max(n_min, len(data) - n_good)
        vectors = np.asarray([v for v, _ in data], dtype=np.int64)
        good = vectors[ranked[:n_good]]
        bad = vectors[ranked[len(data) - n_bad :]]
        lam_good = categorical_bandwidths(len(good), nvec, self.min_bandwidth)
        lam_bad = categorical_bandwidths(len(bad), nvec, self.min_bandwidth)
        # Candidates: a good point, each slot kept with probability 1 - lam (lam
        # widened by bandwidth_factor) or else moved to a uniformly chosen other
        # value: a draw from the widened Aitchison-Aitken kernel.
        wide = np.minimum(lam_good * self.bandwidth_factor, (nvec - 1) / nvec)
        centres = good[self.rng.integers(0, len(good), size=self.num_samples)]
        move = self.rng.random(centres.shape) < wide
        offsets = self.rng.integers(1, np.maximum(nvec, 2), size=centres.shape)
        candidates: IntArray = np.where(move, (centres + offsets) % nvec, centres)
        l_pdf = aitchison_aitken_pdf(candidates, good, lam_good, nvec)
        g_pdf = aitchison_aitken_pdf(candidates, bad, lam_bad, nvec)
        ratio = np.maximum(l_pdf, 1e-32) / np.maximum(g_pdf, 1e-32)
        best = candidates[int(np.argmax(ratio))]
        return tuple(int(v) for v in best)

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {
            **super().config(),
            "min_points_in_model": self.min_points_in_model,
            "top_n_fraction": self.top_n_fraction,
            "num_samples": self.num_samples,
            "random_fraction": self.random_fraction,
            "bandwidth_factor": self.bandwidth_factor,
            "min_bandwidth": self.min_bandwidth,
        }
