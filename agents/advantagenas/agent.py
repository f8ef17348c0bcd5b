"""AdvantageNAS (Sato, Sakuma, Akimoto, AAAI 2021) and its REINFORCE baseline.

docs/methods/advantagenas.md, on :class:`nasgym.oneshot.supernet.Supernet`:

1. per edge ``e`` logits ``theta_e`` (initialised to 1), ``p_e = softmax(theta_e)``;
   a one-hot ``a_e`` is drawn from ``p_e`` with the Gumbel-max trick;
2. only the sampled op runs, its output scaled by ``a_e`` (a differentiable 1);
3. the per-edge advantage is ``A_e = dL/da_e = <dL/dy_e, o_k(x)>`` of the validation
   loss (:meth:`~nasgym.oneshot.supernet.Supernet.edge_advantages`);
4. zero op: a per-(edge, op) EMA (coefficient 0.05) of the observed ``A``, updated for
   the sampled op only (``none``'s is 0); when ``none`` is sampled its advantage is
   the largest EMA on that edge, ``none``'s 0 included (the official ``adv_grad``);
5. ``g_theta_e = A_e (a_e - p_e)``, minimised with Adam (lr 3e-4 cosine-annealed
   over the architecture steps, betas (0.5, 0.999), weight decay 3e-3, gradient-norm
   clip 1.0); variant ``baseline=True`` subtracts a per-edge EMA of ``A``;
6. schedule: ``warmup_steps`` weight-only steps, then alternate one architecture
   step (validation batch) with one weight step (training batch; the supernet's
   Nesterov SGD, lr 0.1 cosine over all weight steps, momentum 0.9, weight decay
   5e-4, clip 1.0); the output is ``argmax theta`` per edge.
7. the REINFORCE baseline (``estimator="reinforce"``) replaces ``A_e`` by the same
   scalar ``L - EMA(L)`` on every edge; everything else is shared.

The paper's 50 warm-up epochs and 40 alternating epochs of 25k/25k images give
``warmup_ratio = 50 / 40 = 1.25`` weight-only steps per architecture step [I]: budgets
are counted in architecture steps here, so the warm-up scales with them.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from ..baselines.common import BudgetedSearch, check_positive_int

if TYPE_CHECKING:
    from nasgym.oneshot.supernet import Supernet

FloatArray = NDArray[np.float64]

ESTIMATORS = ("advantage", "reinforce")
QUERIES = ("argmax", "sample")
NUM_EDGES = 6
NUM_OPS = 5
#: Index of ``none`` in NB201's op order.
ZERO_OP = 0
#: Architecture steps of the paper's search: 40 epochs x ceil(25,000 / 64).
PAPER_ARCH_STEPS = 40 * 391


@dataclass(frozen=True)
class AdvantageNASConfig:
    """Settings of AdvantageNAS and its REINFORCE baseline (docs/methods).

    Attributes:
        estimator: ``"advantage"`` (AdvantageNAS) or ``"reinforce"``
            (docs/methods/advantagenas.md#reinforce-baseline).
        theta_init: Initial logits.
        arch_lr: Adam learning rate of ``theta``, cosine-annealed to
            ``arch_lr_min`` over the architecture steps.
        arch_lr_min: Final architecture learning rate.
        arch_betas: Adam betas.
        arch_weight_decay: Adam (L2) weight decay of ``theta``.
        arch_grad_clip: Gradient-norm clip of ``theta`` (``None``: off).
        zero_op: Apply the zero-op rule (when the space has ``none``).
        zero_ema: EMA coefficient of the zero-op rule.
        baseline: The "with baseline" variant: subtract a per-edge EMA of ``A``.
        baseline_ema: Its EMA coefficient [I].
        reinforce_ema: EMA coefficient of REINFORCE's loss baseline [I].
        warmup_ratio: Weight-only warm-up steps per architecture step [I].
        warmup_steps: Fixed warm-up length (overrides ``warmup_ratio``).
        query: What a leaderboard query evaluates after each architecture step:
            ``"argmax"`` (the current output, ``argmax theta``) or ``"sample"`` (the
            cell just sampled).
    """

    estimator: str = "advantage"
    theta_init: float = 1.0
    arch_lr: float = 3e-4
    arch_lr_min: float = 0.0
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 3e-3
    arch_grad_clip: float | None = 1.0
    zero_op: bool = True
    zero_ema: float = 0.05
    baseline: bool = False
    baseline_ema: float = 0.05
    reinforce_ema: float = 0.05
    warmup_ratio: float = 1.25
    warmup_steps: int | None = None
    query: str = "argmax"

    def check(self) -> None:
        """Raise :class:`ValueError` naming the first bad setting."""
        if self.estimator not in ESTIMATORS:
            raise ValueError(
                f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}"
            )
        if self.query not in QUERIES:
            raise ValueError(f"query must be one of {QUERIES}, got {self.query!r}")
        for name in ("arch_lr", "warmup_ratio", "arch_weight_decay", "arch_lr_min"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)) or (
                value < 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("zero_ema", "baseline_ema", "reinforce_ema"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
        if not all(0.0 <= b < 1.0 for b in self.arch_betas):
            raise ValueError(f"arch_betas must lie in [0, 1), got {self.arch_betas!r}")
        if self.warmup_steps is not None and (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or self.warmup_steps < 0
        ):
            raise ValueError(
                f"warmup_steps must be an int >= 0 or None, got {self.warmup_steps!r}"
            )

    @classmethod
    def scaled(cls, arch_steps: int, **overrides: Any) -> AdvantageNASConfig:
        """The paper's defaults with ``arch_lr`` scaled to a shorter search [I].

        The paper takes ``PAPER_ARCH_STEPS`` architecture steps (40 alternating
        epochs of 25k validation images in batches of 64) at lr 3e-4; Adam moves
        each logit by about ``lr`` per step, so a search of ``arch_steps`` steps
        uses ``arch_lr = 3e-4 * PAPER_ARCH_STEPS / arch_steps`` to let ``theta``
        move as far. Everything else keeps its default unless overridden.
        """
        steps = check_positive_int("arch_steps", arch_steps)
        lr = cls.arch_lr * max(PAPER_ARCH_STEPS / steps, 1.0)
        return cls(**{"arch_lr": lr, **overrides})

    def warmup_for(self, arch_steps: int) -> int:
        """Weight-only warm-up steps before ``arch_steps`` architecture steps."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return round(self.warmup_ratio * arch_steps)


@dataclass
class SearchResult:
    """What a search returns.

    Attributes:
        arch: ``argmax theta``: one op index per edge.
        theta: Final logits ``(6, 5)``.
        probabilities: ``softmax(theta)``.
        warmup_steps: Weight-only steps run.
        arch_steps: Architecture steps run.
        weight_steps: Weight steps run (warm-up included).
        wall_s: Search wall-clock seconds.
        train_images_per_s: Training images per second of weight-step time.
        history: Per architecture step: validation loss and argmax cell.
    """

    arch: tuple[int, ...]
    theta: FloatArray
    probabilities: FloatArray
    warmup_steps: int
    arch_steps: int
    weight_steps: int
    wall_s: float
    train_images_per_s: float
    history: list[dict[str, Any]] = field(default_factory=list)


def softmax(theta: FloatArray) -> FloatArray:
    """Row-wise softmax."""
    shifted = np.exp(theta - theta.max(axis=1, keepdims=True))
    probs: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return probs


def zero_op_credit(
    advantage: FloatArray,
    pick: NDArray[np.int64],
    ema: FloatArray,
    coefficient: float,
) -> FloatArray:
    """The zero-op rule (docs/methods/advantagenas.md#zero-op); updates ``ema``.

    ``ema[e, k]`` is an exponential moving average (``ema += c * (A - ema)``) of the
    advantages observed for op ``k`` on edge ``e``, updated only where ``k`` was
    sampled. ``none``'s observed ``dL/da`` is identically 0 (its output is zero), so
    its own average stays 0. Where ``none`` was sampled, the advantage becomes the
    largest average on that edge, ``none``'s 0 included: ``max(0, max_k ema[e, k])``,
    as the official code's ``adv_grad`` does (``worst = max(eadv, axis=1)`` over all
    candidates). So removing an edge is credited as its worst op, or as neutral when
    every op helps, and never rewarded. (Before this was matched, the max excluded
    ``none``'s 0, so on an edge whose ops all lowered the loss ``none`` got a
    *negative* advantage and was reinforced.) Pass ``coefficient=1`` on the first
    architecture step: the official EMA starts from its first observation.

    Args:
        advantage: ``(6,)`` observed ``dL/da_e``.
        pick: ``(6,)`` sampled op per edge.
        ema: ``(6, 5)`` running averages.
        coefficient: EMA coefficient (0.05).

    Returns:
        The advantages to use.

    Example:
        >>> ema = np.zeros((6, 5))
        >>> pick = np.array([3, 3, 0, 1, 2, 4])
        >>> float(zero_op_credit(np.arange(6.0), pick, ema, 0.5)[2])  # max EMA: 0
        0.0
        >>> float(ema[0, 3]), float(ema[1, 3])
        (0.0, 0.5)
        >>> float(zero_op_credit(np.zeros(6), np.array([0] * 6), ema, 0.5)[1])
        0.5
        >>> ema[5] = -1.0  # every op on edge 5 lowers the loss: none is neutral
        >>> ema[5, ZERO_OP] = 0.0
        >>> float(zero_op_credit(np.zeros(6), np.array([0] * 6), ema, 0.5)[5])
        0.0
    """
    out = np.array(advantage, dtype=np.float64)
    rows = np.arange(len(pick))
    zero = pick == ZERO_OP
    out[zero] = 0.0  # dL/da of a zero output
    ema[rows, pick] += coefficient * (out - ema[rows, pick])
    if zero.any():
        out[zero] = ema[zero].max(axis=1)
    return out


class OneShotSearch:
    """The search loop of AdvantageNAS / REINFORCE on a supernet (see module doc).

    Args:
        config: The method's settings.
        seed: Seeds sampling (the supernet has its own seed).
    """

    def __init__(self, config: AdvantageNASConfig, seed: int) -> None:
        config.check()
        self.config = config
        self.seed = int(seed)
        self.theta: FloatArray = np.full((NUM_EDGES, NUM_OPS), config.theta_init)

    def _sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        """Gumbel-max: ``argmax(log p + G)`` per edge."""
        logp = np.log(softmax(self.theta))
        gumbel = -np.log(-np.log(rng.random(self.theta.shape)))
        return tuple(int(k) for k in (logp + gumbel).argmax(axis=1))

    def argmax(self) -> tuple[int, ...]:
        """The current output cell."""
        return tuple(int(k) for k in self.theta.argmax(axis=1))

    def run(
        self,
        supernet: Supernet,
        arch_steps: int,
        *,
        after_arch_step: Callable[[tuple[int, ...]], bool] | None = None,
    ) -> SearchResult:
        """Search: warm-up, then ``arch_steps`` alternating arch/weight steps.

        Args:
            supernet: The supernet to train (already reset by the caller).
            arch_steps: Architecture steps.
            after_arch_step: Called with the just-sampled cell after every
                architecture step; returning ``True`` stops the search.

        Returns:
            The search result.
        """
        import torch

        cfg = self.config
        arch_steps = check_positive_int("arch_steps", arch_steps)
        rng = np.random.default_rng(self.seed)
        warmup = cfg.warmup_for(arch_steps)
        # The weight lr is cosine-annealed over the supernet's whole training: steps
        # it already had (a shared warm-up, say), then this search's.
        supernet.set_schedule(supernet.weight_steps + warmup + arch_steps)
        theta = torch.tensor(self.theta, requires_grad=True)
        optimizer = torch.optim.Adam(
            [theta],
            lr=cfg.arch_lr,
            betas=cfg.arch_betas,
            weight_decay=cfg.arch_weight_decay,
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=arch_steps, eta_min=cfg.arch_lr_min
        )
        ema = np.zeros((NUM_EDGES, NUM_OPS))
        edge_baseline = np.zeros(NUM_EDGES)
        loss_baseline: float | None = None
        rows = np.arange(NUM_EDGES)
        started = time.perf_counter()
        train_s = 0.0
        images0 = supernet.images_trained
        steps0 = supernet.weight_steps

        def weight_step() -> None:
            nonlocal train_s
            tick = time.perf_counter()
            supernet.train_step(self._sample(rng))
            train_s += time.perf_counter() - tick

        for _ in range(warmup):
            weight_step()
        history: list[dict[str, Any]] = []
        done = 0
        for step in range(arch_steps):
            a = self._sample(rng)
            pick = np.array(a)
            if cfg.estimator == "advantage":
                advantage, loss = supernet.edge_advantages(a)
                if cfg.zero_op:
                    coefficient = cfg.zero_ema if step > 0 else 1.0
                    advantage = zero_op_credit(advantage, pick, ema, coefficient)
                if cfg.baseline:
                    centred = advantage - edge_baseline
                    edge_baseline = (
                        1 - cfg.baseline_ema
                    ) * edge_baseline + cfg.baseline_ema * advantage
                    advantage = centred
            else:
                loss = supernet.validation_loss(a)
                if loss_baseline is None:
                    loss_baseline = loss
                reward = loss - loss_baseline
                loss_baseline = (
                    1 - cfg.reinforce_ema
                ) * loss_baseline + cfg.reinforce_ema * loss
                advantage = np.full(NUM_EDGES, reward)
            probs = softmax(theta.detach().double().numpy())
            onehot = np.zeros_like(probs)
            onehot[rows, pick] = 1.0
            grad = advantage[:, None] * (onehot - probs)
            optimizer.zero_grad(set_to_none=False)
            theta.grad = torch.from_numpy(grad).to(theta.dtype)
            if cfg.arch_grad_clip is not None:
                torch.nn.utils.clip_grad_norm_([theta], cfg.arch_grad_clip)
            optimizer.step()
            schedule.step()
            self.theta = theta.detach().double().numpy().copy()
            history.append({"step": step, "val_loss": loss, "argmax": self.argmax()})
            done += 1
            if after_arch_step is not None and after_arch_step(a):
                break
            weight_step()
        images = supernet.images_trained - images0
        return SearchResult(
            arch=self.argmax(),
            theta=self.theta.copy(),
            probabilities=softmax(self.theta),
            warmup_steps=warmup,
            arch_steps=done,
            weight_steps=supernet.weight_steps - steps0,
            wall_s=time.perf_counter() - started,
            train_images_per_s=images / train_s if train_s > 0 else math.nan,
            history=history,
        )


def _env_supernet(env: gym.Env[Any, Any], name: str) -> Supernet:
    from nasgym.oneshot.supernet import Supernet

    supernet = getattr(env.unwrapped, "supernet", None)
    if not isinstance(supernet, Supernet):
        raise ValueError(
            f"{name} trains a weight-sharing supernet and needs a nasgym "
            f"Supernet201 env (env.unwrapped.supernet), e.g. "
            f"gym.make('nasgym/Supernet201Query-v0', max_queries=100); got "
            f"{env.unwrapped!r}"
        )
    space = env.action_space
    if not (
        isinstance(space, gym.spaces.MultiDiscrete)
        and space.nvec.tolist() == [NUM_OPS] * NUM_EDGES
    ):
        raise ValueError(
            f"{name} queries whole cells: use nasgym/Supernet201Query-v0 (got the "
            f"action space {space!r})"
        )
    return supernet


class AdvantageNAS:
    """AdvantageNAS as a leaderboard agent on ``nasgym/Supernet201Query-v0``.

    The agent trains ``env.unwrapped.supernet`` itself (warm-up weight steps, then
    alternating architecture and weight steps, module doc) and *each architecture
    step spends one query*: after it, the agent steps the env with the current
    output ``argmax theta`` (``query="argmax"``, default) or the sampled cell, so
    the env evaluates it with the shared weights and tracks the incumbent. The
    query budget ``max_queries`` is therefore the number of architecture steps; the
    warm-up costs no query. Make the env with ``train_steps_per_query=0`` (the agent
    does the weight steps; a positive value adds the env's own interleaved training
    on top, with a warning) and a small ``eval_batches`` to keep queries cheap.

    Args:
        env: A ``nasgym/Supernet201Query-v0`` env made with ``max_queries``.
        seed: Seeds ``env.reset`` (and so the supernet's weights) and sampling.
        **config: :class:`AdvantageNASConfig` fields; ``arch_lr`` defaults to
            :meth:`AdvantageNASConfig.scaled` for the budget (3e-4 from
            ``PAPER_ARCH_STEPS`` queries on).

    Attributes:
        result: The :class:`SearchResult` of the last run.
    """

    estimator = "advantage"

    def __init__(self, env: gym.Env[Any, Any], *, seed: int, **config: Any) -> None:
        name = type(self).__name__
        config.setdefault("estimator", self.estimator)
        self.env = env
        self.seed = int(seed)
        self.supernet = _env_supernet(env, name)
        self._search = BudgetedSearch(env, name)
        self.config = AdvantageNASConfig.scaled(self._search.max_queries, **config)
        self.config.check()
        extra = int(getattr(env.unwrapped, "train_steps_per_query", 0))
        if extra > 0:
            warnings.warn(
                f"{name}: the env runs {extra} extra "
                f"weight step(s) per query on top of the agent's; make it with "
                f"train_steps_per_query=0 for the method's schedule",
                stacklevel=2,
            )
        self.result: SearchResult | None = None

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        search = self._search
        search.start(self.seed)
        method = OneShotSearch(self.config, self.seed)

        def query(sampled: tuple[int, ...]) -> bool:
            cell = method.argmax() if self.config.query == "argmax" else sampled
            search.step(np.asarray(cell, dtype=np.int64))
            return search.exhausted

        self.result = method.run(
            self.supernet, search.max_queries, after_arch_step=query
        )

    def summary(self) -> dict[str, Any]:
        """The last result as plain JSON-ready values."""
        if self.result is None:
            raise RuntimeError("run() first")
        out = asdict(self.result)
        out["theta"] = self.result.theta.tolist()
        out["probabilities"] = self.result.probabilities.tolist()
        return out


class ReinforceSupernet(AdvantageNAS):
    """The REINFORCE baseline of AdvantageNAS (docs/methods/advantagenas.md).

    Identical to :class:`AdvantageNAS` (sampling, schedule, optimisers, queries)
    except the estimator: every edge gets ``A = L - EMA(L)`` of the sampled cell's
    validation loss instead of the per-edge ``dL/da``.
    """

    estimator = "reinforce"
