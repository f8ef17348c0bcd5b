"""REINFORCE with a factorised categorical policy (NAS-Bench-201's RL baseline)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from .common import (
    BudgetedSearch,
    IntArray,
    check_positive_int,
    multidiscrete_nvec,
    sample_vector,
    valid_accuracy,
)

FloatArray = NDArray[np.float64]

OPTIMIZERS = ("adam", "sgd")


class Reinforce:
    """REINFORCE (Williams, 1992) as in the NAS-Bench-201 paper's baseline.

    The policy is one independent categorical distribution per slot of the
    ``MultiDiscrete`` action, with logits initialised to zero (uniform). Each step
    samples a whole architecture and queries it; the reward is its validation
    accuracy as a fraction (``info["valid_accuracy"] / 100``; test accuracy is never
    read). The baseline is a bias-corrected exponential moving average of the rewards
    (momentum ``baseline_momentum``), updated with the current reward *before* the
    advantage ``reward - baseline`` is taken, as in the NAS-Bench-201 code. One
    gradient step on ``-advantage * log pi(architecture)`` follows every evaluated
    architecture, with Adam (PyTorch's update rule) or plain SGD.

    Revisits: an architecture evaluated before costs no query but still returns its
    validation accuracy, so it is a valid reward sample and the policy is updated on
    it too; only the budget does not move. Invalid proposals: a vector the env
    rejects (``info["invalid_action"]``) gives no reward; the update is skipped and a
    new architecture is sampled (the rejection itself costs nothing).

    A policy that has collapsed onto architectures already evaluated would propose
    only free revisits and never spend its budget. So after ``max_revisits`` steps in
    a row without a new query, the next proposal is drawn uniformly at random instead
    of from the policy (no update on it: it is not an on-policy sample). At the
    default learning rate the policy stays close to uniform over budgets of hundreds
    of queries, so this does not trigger there.

    Works on every ``...Query-v0`` env.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with ``max_queries``.
        seed: Seeds the env's ``reset`` and the agent's generator.
        learning_rate: Step size. Default 0.01, the setting of NATS-Bench's published
            REINFORCE runs; the NAS-Bench-201 paper used 0.001, which at a few hundred
            queries leaves the policy nearly uniform (indistinguishable from random
            search: +0.05 +- 0.06 points at 150 queries on CIFAR-10 over 100 seeds,
            against +0.19 +- 0.06 with 0.01).
        optimizer: ``"adam"`` (default) or ``"sgd"``.
        betas: Adam's moment decay rates.
        eps: Adam's denominator constant.
        baseline_momentum: Momentum of the reward moving average (0.9).
        max_revisits: Steps without a new query before a uniform proposal.

    Raises:
        ValueError: No query budget, not ``MultiDiscrete`` actions, or a setting out
            of range.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        learning_rate: float = 0.01,
        optimizer: str = "adam",
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        baseline_momentum: float = 0.9,
        max_revisits: int = 100,
    ) -> None:
        name = type(self).__name__
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}"
            )
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if not all(0.0 <= b < 1.0 for b in (*betas, baseline_momentum)):
            raise ValueError(
                f"betas and baseline_momentum must lie in [0, 1), got {betas!r} and "
                f"{baseline_momentum!r}"
            )
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.env = env
        self.seed = int(seed)
        self.learning_rate = float(learning_rate)
        self.optimizer = optimizer
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.baseline_momentum = float(baseline_momentum)
        self.max_revisits = check_positive_int("max_revisits", max_revisits)
        self._search = BudgetedSearch(env, name)
        self._nvec = multidiscrete_nvec(env, name)
        #: Logits of the last run, shape ``(slots, max choices)``; -inf pads slots
        #: with fewer choices.
        self.logits: FloatArray = self._initial_logits()

    def _initial_logits(self) -> FloatArray:
        nvec = self._nvec
        logits = np.zeros((nvec.size, int(nvec.max())))
        logits[np.arange(logits.shape[1])[None, :] >= nvec[:, None]] = -np.inf
        return logits

    def probabilities(self) -> FloatArray:
        """The policy's per-slot choice probabilities (zero on padding)."""
        shifted = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        probs: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
        return probs

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        rng = np.random.default_rng(self.seed)
        search, nvec = self._search, self._nvec
        self.logits = logits = self._initial_logits()
        rows = np.arange(nvec.size)
        last = nvec - 1
        m1 = np.zeros_like(logits)
        m2 = np.zeros_like(logits)
        b1, b2 = self.betas
        lr, adam = self.learning_rate, self.optimizer == "adam"
        momentum = self.baseline_momentum
        numerator = denominator = 0.0
        updates = stale = 0
        search.start(self.seed)
        while not search.exhausted:
            if stale >= self.max_revisits:
                vector: IntArray = sample_vector(rng, nvec)
                info = search.step(vector)
                stale = 0 if info["new_query"] else stale
                continue
            probs = self.probabilities()
            cdf = np.cumsum(probs, axis=1)
            draw = rng.random((nvec.size, 1))
            vector = np.minimum((draw >= cdf).sum(axis=1), last)
            info = search.step(vector)
            stale = 0 if info["new_query"] else stale + 1
            accuracy = valid_accuracy(info)
            if accuracy is None:
                continue
            reward = accuracy / 100.0
            numerator = momentum * numerator + (1.0 - momentum) * reward
            denominator = momentum * denominator + (1.0 - momentum)
            advantage = reward - numerator / denominator
            # d(-advantage * log pi)/d logits = -advantage * (onehot - probs)
            grad = probs * advantage
            grad[rows, vector] -= advantage
            if adam:
                updates += 1
                m1 *= b1
                m1 += (1.0 - b1) * grad
                m2 *= b2
                m2 += (1.0 - b2) * grad * grad
                step = m1 / (1.0 - b1**updates)
                step /= np.sqrt(m2 / (1.0 - b2**updates)) + self.eps
                logits -= lr * step
            else:
                logits -= lr * grad
