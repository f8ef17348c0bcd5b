"""GDAS as a leaderboard agent on ``nasgym/Supernet201Query-v0``.

:mod:`nasgym_agents.darts.search` runs GDAS on its own dense supernet; this module
runs the same method on the env's sparse weight-sharing supernet
(``env.unwrapped.supernet``, :class:`nasgym.oneshot.supernet.Supernet`), so that
GDAS competes with AdvantageNAS, REINFORCE and the tabular searchers under the
leaderboard's query budget:

1. ``alpha`` of shape ``(6, 5)`` (edge x op), initialised to
   ``alpha_init_std * N(0, 1)``;
2. per architecture step, a Gumbel-softmax sample per edge at temperature ``tau``
   (linear from ``tau_max`` to ``tau_min`` over the budget):
   ``y = softmax((log_softmax(alpha) + G) / tau)``, ``k* = argmax y``, with the
   straight-through hard weights ``h = onehot(k*) - sg[y] + y``;
3. the forward runs only ``k*`` on each edge, scaled by ``h[k*]`` (value 1), and
   adds ``h[k]`` (value 0) for every other op, exactly as the dense implementation
   does; so ``dL/dh[k*] = <dL/dy_e, o_k*(x)>`` and ``dL/dh[k] = sum(dL/dy_e)``,
   both read from one backward pass
   (:meth:`~nasgym.oneshot.supernet.Supernet.edge_gradients`), and the chain rule
   through ``y`` gives ``dL/dalpha`` (every op's ``alpha`` gets a gradient);
4. Adam on ``alpha`` (NB201's settings: betas (0.5, 0.999), L2 weight decay 1e-3,
   lr ``3e-4`` scaled to the budget like :class:`~nasgym_agents.darts.DartsConfig`);
5. one weight step of a fresh sample (the supernet's optimiser and schedule), then
   the next architecture step. Each architecture step spends one query: the agent
   steps the env with ``argmax alpha`` (``query="argmax"``, default) or the sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from ..advantagenas.agent import NUM_EDGES, NUM_OPS, QUERIES, _env_supernet, softmax
from ..baselines.common import BudgetedSearch
from .search import PAPER_STEPS

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GDASAgentConfig:
    """Settings of the GDAS leaderboard agent (module doc).

    Attributes:
        arch_lr: Adam learning rate of ``alpha``; ``None`` scales NB201's 3e-4 to
            the budget: ``3e-4 * PAPER_STEPS / max_queries`` (at most x100) [I].
        arch_betas: Adam betas.
        arch_weight_decay: Adam weight decay (L2, added to the gradient).
        alpha_init_std: ``alpha`` starts as ``alpha_init_std * N(0, 1)``.
        tau_max: First temperature.
        tau_min: Last temperature.
        warmup_steps: Weight-only steps of uniformly sampled cells before the
            search (cost no query) [I].
        query: What each query evaluates: ``"argmax"`` (``argmax alpha`` after the
            step) or ``"sample"`` (the cell just sampled).
    """

    arch_lr: float | None = None
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    alpha_init_std: float = 1e-3
    tau_max: float = 10.0
    tau_min: float = 0.1
    warmup_steps: int = 0
    query: str = "argmax"

    def check(self) -> None:
        """Raise :class:`ValueError` naming the first bad setting."""
        if self.query not in QUERIES:
            raise ValueError(f"query must be one of {QUERIES}, got {self.query!r}")
        numbers = {
            "arch_weight_decay": self.arch_weight_decay,
            "alpha_init_std": self.alpha_init_std,
        }
        if self.arch_lr is not None:
            numbers["arch_lr"] = self.arch_lr
        for name, value in numbers.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value)) or (
                value < 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 < self.tau_min <= self.tau_max < math.inf:
            raise ValueError(
                f"temperatures must satisfy 0 < tau_min <= tau_max, got "
                f"tau_min={self.tau_min!r}, tau_max={self.tau_max!r}"
            )
        if not all(0.0 <= b < 1.0 for b in self.arch_betas):
            raise ValueError(f"arch_betas must lie in [0, 1), got {self.arch_betas!r}")
        if (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or self.warmup_steps < 0
        ):
            raise ValueError(
                f"warmup_steps must be an int >= 0, got {self.warmup_steps!r}"
            )

    def lr_for(self, arch_steps: int) -> float:
        """The architecture learning rate of a search of ``arch_steps`` steps."""
        if self.arch_lr is not None:
            return float(self.arch_lr)
        return 3e-4 * min(100.0, max(1.0, PAPER_STEPS / arch_steps))

    def tau(self, step: int, arch_steps: int) -> float:
        """Temperature at ``step`` (0-based): linear from ``tau_max`` to ``tau_min``."""
        frac = min(1.0, step / max(1, arch_steps - 1))
        return self.tau_max - (self.tau_max - self.tau_min) * frac


@dataclass
class GDASResult:
    """What a run returns.

    Attributes:
        arch: ``argmax alpha``: one op index per edge.
        alpha: Final ``alpha`` ``(6, 5)``.
        probabilities: ``softmax(alpha)``.
        arch_steps: Architecture steps run (= queries spent).
        weight_steps: Weight steps run (warm-up included).
        history: Per architecture step: temperature, validation loss, sampled
            cell and the argmax after the step.
    """

    arch: tuple[int, ...]
    alpha: FloatArray
    probabilities: FloatArray
    arch_steps: int
    weight_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)


def gdas_alpha_grad(
    alpha: FloatArray,
    gumbel: FloatArray,
    tau: float,
    pick: NDArray[np.intp],
    grad_sampled: FloatArray,
    grad_other: FloatArray,
) -> FloatArray:
    """``dL/dalpha`` of GDAS's straight-through weights (module doc, step 3).

    Args:
        alpha: ``(6, 5)`` logits.
        gumbel: ``(6, 5)`` Gumbel noise of the sample.
        tau: Temperature.
        pick: ``(6,)`` sampled op per edge (``argmax`` of the relaxed sample).
        grad_sampled: ``(6,)`` ``dL/dh[k*]`` per edge.
        grad_other: ``(6,)`` ``dL/dh[k]`` of the unsampled ops per edge.

    Returns:
        The ``(6, 5)`` gradient.

    Example:
        >>> alpha, g = np.zeros((6, 5)), np.zeros((6, 5))
        >>> pick = np.zeros(6, dtype=np.intp)
        >>> grad = gdas_alpha_grad(alpha, g, 1.0, pick, np.ones(6), np.ones(6))
        >>> bool(np.allclose(grad, 0.0))  # equal dL/dh on every op: no signal
        True
        >>> grad = gdas_alpha_grad(alpha, g, 1.0, pick, -np.ones(6), np.zeros(6))
        >>> bool((grad[:, 0] < 0).all() and (grad[:, 1:] > 0).all())
        True
    """
    upstream = np.repeat(grad_other[:, None], alpha.shape[1], axis=1)
    rows = np.arange(alpha.shape[0])
    upstream[rows, pick] = grad_sampled
    z = alpha - alpha.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = softmax((logp + gumbel) / tau)
    # through y = softmax(u / tau), u = log_softmax(alpha) + G:
    # dL/du = y * (g - <g, y>) / tau, and dL/dalpha = dL/du - p * sum(dL/du)
    du = y * (upstream - (upstream * y).sum(axis=1, keepdims=True)) / tau
    p = np.exp(logp)
    grad: FloatArray = du - p * du.sum(axis=1, keepdims=True)
    return grad


class GDAS:
    """GDAS as a leaderboard agent on ``nasgym/Supernet201Query-v0`` (module doc).

    Make the env with ``max_queries`` (the number of architecture steps),
    ``train_steps_per_query=0`` (the agent does the weight steps) and a small
    ``eval_batches`` to keep queries cheap.

    Args:
        env: A ``nasgym/Supernet201Query-v0`` env made with ``max_queries``.
        seed: Seeds ``env.reset`` (and so the supernet's weights), ``alpha`` and
            the Gumbel noise.
        **config: :class:`GDASAgentConfig` fields.

    Attributes:
        result: The :class:`GDASResult` of the last run.
    """

    def __init__(self, env: gym.Env[Any, Any], *, seed: int, **config: Any) -> None:
        name = type(self).__name__
        self.env = env
        self.seed = int(seed)
        self.supernet = _env_supernet(env, name)
        self._search = BudgetedSearch(env, name)
        self.config = GDASAgentConfig(**config)
        self.config.check()
        extra = int(getattr(env.unwrapped, "train_steps_per_query", 0))
        if extra > 0:
            import warnings

            warnings.warn(
                f"{name}: the env runs {extra} extra weight step(s) per query on top "
                f"of the agent's; make it with train_steps_per_query=0 for the "
                f"method's schedule",
                stacklevel=2,
            )
        self.result: GDASResult | None = None

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        import torch

        cfg, search, supernet = self.config, self._search, self.supernet
        search.start(self.seed)
        steps = search.max_queries
        rng = np.random.default_rng(self.seed)
        alpha = torch.tensor(
            cfg.alpha_init_std * rng.standard_normal((NUM_EDGES, NUM_OPS)),
            dtype=torch.float64,
            requires_grad=True,
        )
        optimizer = torch.optim.Adam(
            [alpha],
            lr=cfg.lr_for(steps),
            betas=cfg.arch_betas,
            weight_decay=cfg.arch_weight_decay,
        )
        supernet.set_schedule(supernet.weight_steps + cfg.warmup_steps + steps)
        steps0 = supernet.weight_steps

        def sample(tau: float) -> tuple[NDArray[np.intp], FloatArray]:
            a = alpha.detach().numpy()
            gumbel = -np.log(-np.log(np.clip(rng.random(a.shape), 1e-20, None)))
            z = a - a.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return ((logp + gumbel) / tau).argmax(axis=1), gumbel

        for _ in range(cfg.warmup_steps):
            supernet.train_step(tuple(int(k) for k in rng.integers(0, NUM_OPS, 6)))
        history: list[dict[str, Any]] = []
        done = 0
        for step in range(steps):
            tau = cfg.tau(step, steps)
            pick, gumbel = sample(tau)
            cell = tuple(int(k) for k in pick)
            grad_a, grad_s, loss = supernet.edge_gradients(cell)
            grad = gdas_alpha_grad(
                alpha.detach().numpy(), gumbel, tau, pick, grad_a, grad_s
            )
            optimizer.zero_grad(set_to_none=False)
            alpha.grad = torch.from_numpy(grad)
            optimizer.step()
            arch = tuple(int(k) for k in alpha.detach().numpy().argmax(axis=1))
            history.append(
                {
                    "step": step,
                    "tau": tau,
                    "val_loss": loss,
                    "sample": cell,
                    "argmax": arch,
                }
            )
            done += 1
            queried = arch if cfg.query == "argmax" else cell
            search.step(np.asarray(queried, dtype=np.int64))
            if search.exhausted:
                break
            weight_pick, _ = sample(tau)
            supernet.train_step(tuple(int(k) for k in weight_pick))
        final = alpha.detach().numpy().copy()
        self.result = GDASResult(
            arch=tuple(int(k) for k in final.argmax(axis=1)),
            alpha=final,
            probabilities=softmax(final),
            arch_steps=done,
            weight_steps=supernet.weight_steps - steps0,
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
