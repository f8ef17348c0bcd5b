"""UNAS as a leaderboard agent on ``nasgym/Supernet201Query-v0``.

:mod:`nasgym_agents.unas.search` runs UNAS on its own dense supernet; this module runs
the method on the env's *sparse* weight-sharing supernet (``env.unwrapped.supernet``,
:class:`nasgym.oneshot.supernet.Supernet`), which only ever runs one op per edge, so
that UNAS competes with GDAS, AdvantageNAS and the tabular searchers under the
leaderboard's query budget. Per architecture step (one query each):

1. draw ``z ~ q`` (``q = softmax(alpha)`` per edge, Gumbel-max) and run it alone on a
   training and a validation batch; one backward pass each
   (:meth:`~nasgym.oneshot.supernet.Supernet.edge_gradients`) gives the losses
   ``L_train(z)``, ``L_val(z)`` and, per edge, the gradient of the sampled op's output
   scale and of an additive offset on the edge output;
2. ``f(z) = L_train + lambda |L_val - L_train| + c relu(lat(z) - target)`` with the
   *measured* HW-NAS-Bench-360 latency of ``z`` (only when ``latency_weight > 0``);
3. the ``"reinforce"`` estimator uses ``f(z)`` and an EMA baseline, exactly as the
   dense search does. The ``"rebar"`` (unified) estimator also needs ``f`` at relaxed
   cells ``zeta``, which a sparse supernet cannot run: the agent uses the first-order
   expansion of the sampled cell's objective in the per-edge op weights ``w``,
   ``f_z(w) = f(z) + <G, w - onehot(z)> + c relu(lat_lin(w) - target)``, where
   ``G[e, z_e]`` is the scale gradient, ``G[e, k != z_e]`` the offset gradient
   (combined over the two batches as the gap objective's chain rule says) and
   ``lat_lin`` the linear latency surrogate fitted on the table. Both relaxations of
   UNAS's estimator (``zeta`` and the conditional ``zeta_tilde``) have ``z`` as their
   argmax, so they share the expansion point; the expansion jumps across argmax
   boundaries, so unlike the dense search this REBAR estimate is not exactly unbiased
   (the same approximation GDAS's straight-through weights make);
4. Adam on ``alpha`` (learning rate scaled to the budget, see
   :meth:`UnasAgentConfig.lr_for`), then the env is stepped with ``argmax alpha``
   (``query="argmax"``, default) or with ``z``;
5. one weight step of a fresh ``z ~ q`` on the supernet's optimiser and schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError, require, unknown_option

try:
    import torch
    from torch import Tensor
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="UNAS")
    raise

from ..advantagenas.agent import NUM_EDGES, NUM_OPS, QUERIES, _env_supernet, softmax
from ..baselines.common import BudgetedSearch
from ..darts.search import PAPER_STEPS
from .estimators import ESTIMATORS, Estimate, rebar_estimate, reinforce_estimate
from .latency import LatencyTable, LinearLatencySurrogate, check_target, penalty_weight

FloatArray = NDArray[np.float64]

#: UNAS's architecture learning rate (Adam), which :meth:`UnasAgentConfig.lr_for`
#: scales to short searches.
PAPER_ARCH_LR = 1e-3


@dataclass(frozen=True)
class UnasAgentConfig:
    """Settings of the UNAS leaderboard agent (module doc). ``[I]``: nasgym default.

    Attributes:
        estimator: ``"rebar"`` (UNAS's unified estimator, first-order relaxation on
            the sparse supernet) or ``"reinforce"`` (EMA baseline).
        arch_lr: Adam learning rate of ``alpha``; ``None`` scales UNAS's 1e-3 to the
            budget: ``1e-3 * PAPER_STEPS / max_queries``, between x1 and x100 [I].
        arch_betas: Adam betas [I: PyTorch's].
        alpha_init_std: ``alpha`` starts as ``alpha_init_std * N(0, 1)``.
        gap_lambda: ``lambda`` of ``L_train + lambda |L_val - L_train|`` (UNAS: 0.5).
        tau: Temperature of the relaxations (``"rebar"``) [I: 1.0].
        baseline_decay: EMA decay of the ``"reinforce"`` baseline [I: 0.9].
        latency_weight: Final ``c`` of ``c relu(lat - target)`` per ms; 0 (default)
            turns the latency term off, and no latency table is needed [I].
        latency_ramp_steps: Architecture steps over which ``c`` ramps from 0
            (``None``: half the budget) [I].
        latency_target_ms: Latency target (ms) [I: 3.0].
        latency_device: HW-NAS-Bench-360 device/runtime [I: ``"pi5-litert"``].
        latency_fit_samples: Cells the linear latency surrogate is fitted on.
        warmup_steps: Weight-only steps of uniformly sampled cells before the
            search (cost no query) [I].
        query: What each query evaluates: ``"argmax"`` (``argmax alpha`` after the
            step) or ``"sample"`` (the architecture step's ``z``).
    """

    estimator: str = "rebar"
    arch_lr: float | None = None
    arch_betas: tuple[float, float] = (0.9, 0.999)
    alpha_init_std: float = 1e-3
    gap_lambda: float = 0.5
    tau: float = 1.0
    baseline_decay: float = 0.9
    latency_weight: float = 0.0
    latency_ramp_steps: int | None = None
    latency_target_ms: float = 3.0
    latency_device: str = "pi5-litert"
    latency_fit_samples: int = 10_000
    warmup_steps: int = 0
    query: str = "argmax"

    def check(self) -> None:
        """Raise :class:`UnknownOptionError` naming the first bad setting."""
        if self.estimator not in ESTIMATORS:
            raise unknown_option("UNAS estimator", self.estimator, ESTIMATORS)
        if self.query not in QUERIES:
            raise unknown_option("UNAS query", self.query, QUERIES)
        numbers: dict[str, object] = {
            "alpha_init_std": self.alpha_init_std,
            "gap_lambda": self.gap_lambda,
            "latency_weight": self.latency_weight,
        }
        for name, value in numbers.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise UnknownOptionError(
                    f"{name} must be a finite number >= 0, got {value!r}"
                )
        positive: dict[str, object] = {"tau": self.tau}
        if self.arch_lr is not None:
            positive["arch_lr"] = self.arch_lr
        for name, value in positive.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value > 0)
            ):
                raise UnknownOptionError(
                    f"{name} must be a positive number, got {value!r}"
                )
        if not 0 <= self.baseline_decay < 1:
            raise UnknownOptionError(
                f"baseline_decay must be in [0, 1), got {self.baseline_decay!r}"
            )
        if not all(0.0 <= b < 1.0 for b in self.arch_betas):
            raise UnknownOptionError(
                f"arch_betas must lie in [0, 1), got {self.arch_betas!r}"
            )
        for name in ("warmup_steps", "latency_ramp_steps"):
            value = getattr(self, name)
            if value is None and name == "latency_ramp_steps":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UnknownOptionError(f"{name} must be an int >= 0, got {value!r}")
        check_target(self.latency_target_ms)
        from nasgym.benchmarks.hw360 import DEVICES

        if self.latency_device not in DEVICES:
            raise unknown_option(
                "HW-NAS-Bench-360 latency device", self.latency_device, DEVICES
            )

    def lr_for(self, arch_steps: int) -> float:
        """The architecture learning rate of a search of ``arch_steps`` steps."""
        if self.arch_lr is not None:
            return float(self.arch_lr)
        return PAPER_ARCH_LR * min(100.0, max(1.0, PAPER_STEPS / max(1, arch_steps)))

    def c_at(self, step: int, arch_steps: int) -> float:
        """The latency weight ``c`` at architecture step ``step`` (0-based)."""
        ramp = self.latency_ramp_steps
        ramp = max(1, arch_steps // 2) if ramp is None else ramp
        return penalty_weight(step, weight=self.latency_weight, ramp_steps=ramp)


@dataclass
class UnasAgentResult:
    """What a run returns.

    Attributes:
        arch: ``argmax alpha``: one op index per edge.
        alpha: Final ``alpha`` ``(6, 5)``.
        probabilities: ``softmax(alpha)``.
        arch_steps: Architecture steps run (= queries spent).
        weight_steps: Weight steps run (warm-up included).
        latency_ms: Measured latency of ``arch`` (``None`` without the term).
        history: Per architecture step: ``f(z)``, the two losses, the latency
            weight and measured latency, the sample and the argmax after the step.
    """

    arch: tuple[int, ...]
    alpha: FloatArray
    probabilities: FloatArray
    arch_steps: int
    weight_steps: int
    latency_ms: float | None
    history: list[dict[str, Any]] = field(default_factory=list)


def linear_coefficients(
    z: tuple[int, ...], scale_grad: FloatArray, offset_grad: FloatArray
) -> FloatArray:
    """The ``(6, 5)`` gradient of one loss in the per-edge op weights at ``onehot(z)``.

    The sparse forward scales the sampled op's output by its weight and adds every
    other op's weight as a constant (GDAS's straight-through forward), so the sampled
    entry gets ``scale_grad[e]`` and the others ``offset_grad[e]``.

    Example:
        >>> g = linear_coefficients((1,) * 6, np.ones(6), np.zeros(6))
        >>> g[0].tolist()
        [0.0, 1.0, 0.0, 0.0, 0.0]
    """
    out = np.repeat(np.asarray(offset_grad, dtype=np.float64)[:, None], NUM_OPS, 1)
    out[np.arange(NUM_EDGES), list(z)] = scale_grad
    return out


class UNAS:
    """UNAS as a leaderboard agent on ``nasgym/Supernet201Query-v0`` (module doc).

    Make the env with ``max_queries`` (the number of architecture steps),
    ``train_steps_per_query=0`` (the agent does the weight steps) and a small
    ``eval_batches`` to keep queries cheap.

    Args:
        env: A ``nasgym/Supernet201Query-v0`` env made with ``max_queries``.
        seed: Seeds ``env.reset`` (and so the supernet's weights), ``alpha`` and the
            Gumbel noise.
        latency: The measured latency table (default: loaded from the imported NB201
            and HW-NAS-Bench-360 tables when ``latency_weight > 0``).
        **config: :class:`UnasAgentConfig` fields (any other keyword is a
            ``TypeError`` naming it).

    Raises:
        UnknownOptionError: A bad setting.
        ValueError: Not a Supernet201 Query env.
        BenchmarkDataMissingError: The latency term without the imported tables.

    Attributes:
        result: The :class:`UnasAgentResult` of the last run.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        latency: LatencyTable | None = None,
        **config: Any,
    ) -> None:
        name = type(self).__name__
        self.config = UnasAgentConfig(**config)
        self.config.check()
        self.env = env
        self.seed = int(seed)
        self.supernet = _env_supernet(env, name)
        self._search = BudgetedSearch(env, name)
        extra = int(getattr(env.unwrapped, "train_steps_per_query", 0))
        if extra > 0:
            import warnings

            warnings.warn(
                f"{name}: the env runs {extra} extra weight step(s) per query on top "
                f"of the agent's; make it with train_steps_per_query=0 for the "
                f"method's schedule",
                stacklevel=2,
            )
        if latency is None and self.config.latency_weight > 0:
            latency = LatencyTable.load(self.config.latency_device)
        self.latency_table = latency
        self.surrogate = (
            None
            if latency is None or self.config.latency_weight == 0
            else LinearLatencySurrogate.fit_table(
                latency, samples=self.config.latency_fit_samples, seed=self.seed
            )
        )
        self.result: UnasAgentResult | None = None

    def _estimate(
        self,
        alpha: Tensor,
        generator: torch.Generator,
        c: float,
        baseline: float,
        log: dict[str, Any],
    ) -> Estimate:
        cfg, supernet = self.config, self.supernet
        target = cfg.latency_target_ms
        coef: list[Tensor] = []

        def discrete(z: Sequence[int]) -> Tensor:
            cell = tuple(int(k) for k in z)
            a_t, s_t, train = supernet.edge_gradients(cell, split="train")
            a_v, s_v, val = supernet.edge_gradients(cell, split="val")
            sign = float(np.sign(val - train))
            g_t = linear_coefficients(cell, a_t, s_t)
            g_v = linear_coefficients(cell, a_v, s_v)
            grad = g_t + cfg.gap_lambda * sign * (g_v - g_t)
            coef[:] = [torch.from_numpy(grad), one_hot(cell)]
            f = train + cfg.gap_lambda * abs(val - train)
            log.update(train_loss=train, val_loss=val)
            if self.surrogate is not None:
                assert self.latency_table is not None
                lat = self.latency_table.latency(cell)
                log["latency_ms"] = lat
                f += c * max(0.0, lat - target)
            log["f_gen"] = train + cfg.gap_lambda * abs(val - train)
            return torch.tensor(f, dtype=torch.float64)

        def relaxed(w: Tensor) -> Tensor:
            grad, onehot = coef  # set by ``discrete``, which the estimator calls first
            value: Tensor = float(log["f_gen"]) + (grad * (w - onehot)).sum()
            if self.surrogate is not None:
                value = value + c * torch.relu(self.surrogate.relaxed(w) - target)
            return value

        if cfg.estimator == "rebar":
            return rebar_estimate(alpha, discrete, relaxed, generator, tau=cfg.tau)
        return reinforce_estimate(alpha, discrete, generator, baseline=baseline)

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        cfg, search, supernet = self.config, self._search, self.supernet
        search.start(self.seed)
        steps = search.max_queries
        rng = np.random.default_rng(self.seed)
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        alpha = torch.tensor(
            cfg.alpha_init_std * rng.standard_normal((NUM_EDGES, NUM_OPS)),
            dtype=torch.float64,
            requires_grad=True,
        )
        optimizer = torch.optim.Adam(
            [alpha], lr=cfg.lr_for(steps), betas=cfg.arch_betas
        )
        supernet.set_schedule(supernet.weight_steps + cfg.warmup_steps + steps)
        steps0 = supernet.weight_steps

        def sample() -> tuple[int, ...]:
            a = alpha.detach().numpy()
            z = a - a.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            u = np.clip(rng.random(a.shape), 1e-20, None)
            return tuple(int(k) for k in (logp - np.log(-np.log(u))).argmax(axis=1))

        for _ in range(cfg.warmup_steps):
            supernet.train_step(tuple(int(k) for k in rng.integers(0, NUM_OPS, 6)))
        ema, count = 0.0, 0
        history: list[dict[str, Any]] = []
        done = 0
        for step in range(steps):
            c = cfg.c_at(step, steps) if self.surrogate is not None else 0.0
            decay = cfg.baseline_decay
            baseline = ema / (1.0 - decay**count) if count else 0.0
            log: dict[str, Any] = {"step": step, "c": c}
            est = self._estimate(alpha, generator, c, baseline, log)
            (grad,) = torch.autograd.grad(est.surrogate, [alpha])
            optimizer.zero_grad(set_to_none=False)
            alpha.grad = grad.detach()
            optimizer.step()
            ema, count = decay * ema + (1 - decay) * est.f_z, count + 1
            arch = tuple(int(k) for k in alpha.detach().numpy().argmax(axis=1))
            log.pop("f_gen")
            log.update(objective=est.f_z, sample=tuple(est.z), argmax=arch)
            history.append(log)
            done += 1
            queried = arch if cfg.query == "argmax" else tuple(est.z)
            search.step(np.asarray(queried, dtype=np.int64))
            if search.exhausted:
                break
            supernet.train_step(sample())
        final = alpha.detach().numpy().copy()
        derived = tuple(int(k) for k in final.argmax(axis=1))
        self.result = UnasAgentResult(
            arch=derived,
            alpha=final,
            probabilities=softmax(final),
            arch_steps=done,
            weight_steps=supernet.weight_steps - steps0,
            latency_ms=(
                None
                if self.latency_table is None
                else self.latency_table.latency(derived)
            ),
            history=history,
        )

    def summary(self) -> dict[str, Any]:
        """The last result as plain JSON-ready values."""
        if self.result is None:
            raise RuntimeError("run() first")
        out = asdict(self.result)
        out["alpha"] = self.result.alpha.tolist()
        out["probabilities"] = self.result.probabilities.tolist()
        return out


def one_hot(cell: tuple[int, ...]) -> Tensor:
    """``onehot(cell)`` as a ``(6, 5)`` float64 tensor."""
    out = torch.zeros(NUM_EDGES, NUM_OPS, dtype=torch.float64)
    out[torch.arange(NUM_EDGES), torch.tensor(list(cell))] = 1.0
    return out


__all__ = [
    "PAPER_ARCH_LR",
    "UNAS",
    "UnasAgentConfig",
    "UnasAgentResult",
    "linear_coefficients",
]
