"""UNAS's latency term on measured NB201 latencies (HW-NAS-Bench-360).

:class:`LatencyTable` holds the measured median latency (ms) of every NB201 cell on
one HW-NAS-Bench-360 device, indexed by nasgym's NB201 code (the op index per edge
read as base-5 digits; :meth:`nasgym.spaces.nb201.NB201Space.code`). The file is in
official NATS-Bench index order, so mapping it to codes needs the imported NB201
table as well (:meth:`nasgym.benchmarks.nb201.NB201Benchmark.cost_table`).

:class:`LinearLatencySurrogate` is the continuous relaxation UNAS uses for the
relaxed architectures: ``lat(w) = b + sum_{e,o} a[e, o] w[e, o]`` for a point ``w`` of
the per-edge simplex (a one-hot ``w`` is a discrete cell). It is fitted by least
squares on cells sampled uniformly from the table, 80 % for the fit and 20 % held
out; :attr:`LinearLatencySurrogate.fit` reports both splits (R^2, RMSE, MAE and the
Spearman rank correlation). Discrete cells always use the measured value; the
surrogate only gives the relaxations a differentiable latency.

The penalty is ``c * relu(lat - target)``, ``c`` ramping linearly from 0 to its
maximum over a configurable number of steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError, require, unknown_option
from nasgym.spaces.nb201 import EDGES, OPS

try:
    import torch
    from torch import Tensor
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="UNAS")
    raise

FloatArray = NDArray[np.float64]

#: Number of NB201 cells.
NUM_CELLS = len(OPS) ** len(EDGES)


def _codes(vectors: NDArray[np.int64]) -> NDArray[np.int64]:
    from nasgym.spaces.nb201 import NB201Space

    codes: NDArray[np.int64] = NB201Space().vectors_to_codes(vectors)
    return codes


@dataclass(frozen=True)
class LatencyTable:
    """Measured latency (ms) of every NB201 cell on one device.

    Attributes:
        device: HW-NAS-Bench-360 device/runtime (e.g. ``"pi5-litert"``).
        values: ``(15625,)`` latencies indexed by NB201 code (read-only).
    """

    device: str
    values: FloatArray

    @classmethod
    def load(
        cls,
        device: str = "pi5-litert",
        *,
        nb201_path: str | None = None,
        hw_path: str | None = None,
    ) -> LatencyTable:
        """Read ``device``'s latencies from the imported tables.

        Args:
            device: One of :data:`nasgym.benchmarks.hw360.DEVICES`.
            nb201_path: The NB201 table (default: nasgym's data search path).
            hw_path: ``hw360.npz`` (default: nasgym's data search path).

        Raises:
            UnknownOptionError: An unknown device.
            BenchmarkDataMissingError: A table is not imported (the message says how).
        """
        from nasgym.benchmarks import hw360
        from nasgym.benchmarks.nb201 import NB201Benchmark

        if device not in hw360.DEVICES:
            raise unknown_option(
                "HW-NAS-Bench-360 latency device", device, hw360.DEVICES
            )
        bench = NB201Benchmark("cifar10", path=nb201_path, hw_path=hw_path)
        values = np.array(bench.cost_table(f"latency:{device}"), dtype=np.float64)
        values.setflags(write=False)
        return cls(device, values)

    def __post_init__(self) -> None:
        if self.values.shape != (NUM_CELLS,) or not np.isfinite(self.values).all():
            raise UnknownOptionError(
                f"a latency table needs {NUM_CELLS} finite values (one per NB201 "
                f"code), got shape {self.values.shape}"
            )

    def latency(self, arch: Sequence[int]) -> float:
        """Measured latency (ms) of one cell (one op index per edge)."""
        return float(self.values[int(_codes(np.asarray([list(arch)]))[0])])

    def latencies(self, archs: NDArray[np.int64]) -> FloatArray:
        """Measured latencies of a ``(n, 6)`` array of cells."""
        return np.asarray(self.values[_codes(np.asarray(archs))], dtype=np.float64)

    def expected(self, probabilities: FloatArray) -> float:
        """``E_q[lat]`` under a factorised ``(6, 5)`` distribution, exactly."""
        from nasgym.spaces.nb201 import NB201Space

        vectors = NB201Space().codes_to_vectors(np.arange(NUM_CELLS))
        prob = np.ones(NUM_CELLS)
        for e in range(len(EDGES)):
            prob = prob * probabilities[e, vectors[:, e]]
        return float(prob @ self.values)

    def quantiles(self, qs: Sequence[float]) -> list[float]:
        """Quantiles of the table's latencies (ms)."""
        return [float(v) for v in np.quantile(self.values, list(qs))]


@dataclass(frozen=True)
class SurrogateFit:
    """How well the linear surrogate fits, on its fit and held-out cells."""

    samples: int
    train_size: int
    test_size: int
    train_r2: float
    test_r2: float
    test_rmse_ms: float
    test_mae_ms: float
    test_spearman: float

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _r2(y: FloatArray, pred: FloatArray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else float("nan")


def _spearman(a: FloatArray, b: FloatArray) -> float:
    def ranks(x: FloatArray) -> FloatArray:
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        # average ties
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return np.asarray(sums[inverse] / counts[inverse], dtype=np.float64)

    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


@dataclass(frozen=True)
class LinearLatencySurrogate:
    """``lat(w) = bias + sum(weights * w)`` over a ``(6, 5)`` edge/op point ``w``.

    Attributes:
        weights: ``(6, 5)`` ms per unit weight of each op on each edge.
        bias: Intercept (ms).
        fit: Fit figures (:class:`SurrogateFit`).
    """

    weights: FloatArray
    bias: float
    fit: SurrogateFit

    @classmethod
    def fit_table(
        cls,
        table: LatencyTable,
        *,
        samples: int = 10_000,
        train_fraction: float = 0.8,
        seed: int = 0,
    ) -> LinearLatencySurrogate:
        """Least squares on ``samples`` distinct cells drawn uniformly from ``table``.

        Raises:
            UnknownOptionError: ``samples`` outside 10..15625 or a fraction outside
                (0, 1) that leaves either split empty.
        """
        if not 10 <= samples <= NUM_CELLS:
            raise UnknownOptionError(
                f"latency_fit_samples must be in 10..{NUM_CELLS}, got {samples!r}"
            )
        n_train = round(train_fraction * samples)
        if not 0 < train_fraction < 1 or not 0 < n_train < samples:
            raise UnknownOptionError(
                "train_fraction must leave both splits non-empty, got "
                f"{train_fraction!r}"
            )
        from nasgym.spaces.nb201 import NB201Space

        rng = np.random.default_rng(seed)
        codes = rng.choice(NUM_CELLS, size=samples, replace=False)
        vectors = NB201Space().codes_to_vectors(codes)
        features = np.zeros((samples, len(EDGES) * len(OPS) + 1))
        features[:, -1] = 1.0
        for e in range(len(EDGES)):
            features[np.arange(samples), e * len(OPS) + vectors[:, e]] = 1.0
        y = table.values[codes]
        tr, te = slice(0, n_train), slice(n_train, samples)
        coef, *_ = np.linalg.lstsq(features[tr], y[tr], rcond=None)
        pred = features @ coef
        fit = SurrogateFit(
            samples=samples,
            train_size=n_train,
            test_size=samples - n_train,
            train_r2=_r2(y[tr], pred[tr]),
            test_r2=_r2(y[te], pred[te]),
            test_rmse_ms=float(np.sqrt(np.mean((y[te] - pred[te]) ** 2))),
            test_mae_ms=float(np.mean(np.abs(y[te] - pred[te]))),
            test_spearman=_spearman(y[te], pred[te]),
        )
        weights = coef[:-1].reshape(len(EDGES), len(OPS))
        return cls(np.asarray(weights, dtype=np.float64), float(coef[-1]), fit)

    def predict(self, archs: NDArray[np.int64]) -> FloatArray:
        """Surrogate latency of a ``(n, 6)`` array of cells."""
        archs = np.asarray(archs)
        rows = np.arange(len(EDGES))
        return np.asarray(self.bias + self.weights[rows, archs].sum(axis=1))

    def relaxed(self, w: Tensor) -> Tensor:
        """Differentiable surrogate latency of a ``(6, 5)`` relaxed cell ``w``."""
        weights = torch.as_tensor(self.weights, dtype=w.dtype, device=w.device)
        return self.bias + (weights * w).sum()


def penalty_weight(step: int, *, weight: float, ramp_steps: int) -> float:
    """``c`` at ``step`` (0-based): linear from 0 to ``weight`` over ``ramp_steps``.

    ``ramp_steps == 0`` applies the full weight from the first step.
    """
    if ramp_steps <= 0:
        return float(weight)
    return float(weight) * min(1.0, step / ramp_steps)


def relu_penalty(latency: Tensor | float, target: float, c: float) -> Tensor:
    """``c * relu(latency - target)`` as a tensor."""
    lat = torch.as_tensor(latency)
    return c * torch.relu(lat - target)


def check_target(target: float) -> None:
    """Raise :class:`UnknownOptionError` unless ``target`` is a finite positive ms."""
    if not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise UnknownOptionError(
            f"latency_target_ms must be a positive number of milliseconds, got "
            f"{target!r}"
        )


__all__ = [
    "NUM_CELLS",
    "LatencyTable",
    "LinearLatencySurrogate",
    "SurrogateFit",
    "check_target",
    "penalty_weight",
    "relu_penalty",
]
