"""Settings of the Ape-X agent (docs/methods/cassimon.md#ape-x-learner)."""

from __future__ import annotations

import dataclasses
import math

from ..baselines.common import check_positive_int

#: The execution backends of :func:`nasgym_agents.apex.train`.
BACKENDS = ("inline", "local", "ray")


@dataclasses.dataclass(frozen=True)
class ApexConfig:
    """Every setting of Ape-X training and search; defaults: docs/methods/cassimon.md.

    Attributes:
        d_model: Embedding width of the Q-network (128, 1.8 [I]).
        num_layers: Pre-LN transformer encoder layers (4).
        num_heads: Attention heads (4).
        ffn_dim: Feed-forward width of each encoder layer (256).
        head_hidden: Hidden sizes of the dueling value and advantage MLPs ((128,),
            [I]).
        gamma: Discount (0.99, 1.9 [I]).
        n_step: Length of the n-step returns (3, 1.9 [S]).
        lr: Adam step size (5e-5, [S]).
        grad_clip: Gradient-norm clip (40, [S]).
        target_update_period: Env steps between copies of the online network into
            the target network (8,192, [S]).
        batch_size: Learner minibatch (512, [I]).
        learning_starts: Env steps collected before the first update (10,000, [I]).
        buffer_capacity: Prioritized replay capacity (25,000, [S]).
        per_alpha: Priority exponent (0.6, [S]).
        per_beta: Importance-sampling exponent (0.4, [S]).
        per_eps: Added to ``|TD error|`` before the exponent (1e-6).
        huber_delta: Threshold of the Huber TD loss (1.0; RLlib's DQN loss, [I]).
        env_steps_per_update: Env steps per learner update; the learner catches up
            to this ratio whatever the backend, so runs learn the same amount (4,
            [I]).
        num_actors: Actors N; actor i explores with
            ``epsilon_i = epsilon_base ** (1 + epsilon_alpha * i / (N - 1))`` (16).
        epsilon_base: 0.4 (Ape-X).
        epsilon_alpha: 7 (Ape-X).
        rollout_steps: Env steps an actor takes per batch it sends (16, [I]).
        weight_sync_period: Env steps of an actor between weight broadcasts to it
            (400, RLlib's ``max_weight_sync_delay``).
        backend: ``"inline"`` (one process, actors stepped round-robin; exactly
            reproducible), ``"local"`` (one process per actor, queues) or
            ``"ray"`` (Ray actors).
        ray_address: Address of a running Ray cluster; ``None`` joins the one
            running, else starts a local cluster (and stops it afterwards).
        mp_start_method: Start method of the local backend's processes
            (``"spawn"``).
        search_epsilon: Exploration of :meth:`ApexSearcher.search` (0.01, 1.10 [I]).
        max_steps_per_query: A search fails with :class:`RuntimeError` after this
            many env steps per query of its budget without spending it (100).
        num_threads: Torch threads while training and searching (1: reproducible
            CPU runs); ``None`` leaves the setting as it is.
        init_from: A file written by :meth:`ApexSearcher.save`. Training starts from
            its weights; the leaderboard agent only searches with it.
    """

    d_model: int = 128
    num_layers: int = 4
    num_heads: int = 4
    ffn_dim: int = 256
    head_hidden: tuple[int, ...] = (128,)
    gamma: float = 0.99
    n_step: int = 3
    lr: float = 5e-5
    grad_clip: float = 40.0
    target_update_period: int = 8192
    batch_size: int = 512
    learning_starts: int = 10_000
    buffer_capacity: int = 25_000
    per_alpha: float = 0.6
    per_beta: float = 0.4
    per_eps: float = 1e-6
    huber_delta: float = 1.0
    env_steps_per_update: int = 4
    num_actors: int = 16
    epsilon_base: float = 0.4
    epsilon_alpha: float = 7.0
    rollout_steps: int = 16
    weight_sync_period: int = 400
    backend: str = "inline"
    ray_address: str | None = None
    mp_start_method: str = "spawn"
    search_epsilon: float = 0.01
    max_steps_per_query: int = 100
    num_threads: int | None = 1
    init_from: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "head_hidden", tuple(self.head_hidden))
        for name in (
            "d_model",
            "num_layers",
            "num_heads",
            "ffn_dim",
            "n_step",
            "target_update_period",
            "batch_size",
            "buffer_capacity",
            "env_steps_per_update",
            "num_actors",
            "rollout_steps",
            "weight_sync_period",
            "max_steps_per_query",
        ):
            check_positive_int(name, getattr(self, name))
        for size in self.head_hidden:
            check_positive_int("head_hidden sizes", size)
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by num_heads="
                f"{self.num_heads}"
            )
        if isinstance(self.learning_starts, bool) or not isinstance(
            self.learning_starts, int
        ):
            raise ValueError(
                f"learning_starts must be an int, got {self.learning_starts!r}"
            )
        if self.learning_starts < 0:
            raise ValueError(
                f"learning_starts must be >= 0, got {self.learning_starts}"
            )
        if self.num_threads is not None:
            check_positive_int("num_threads", self.num_threads)
        _check("gamma", self.gamma, 0.0, 1.0)
        _check("per_alpha", self.per_alpha, 0.0, math.inf)
        _check("per_beta", self.per_beta, 0.0, 1.0)
        _check("epsilon_base", self.epsilon_base, 0.0, 1.0)
        _check("search_epsilon", self.search_epsilon, 0.0, 1.0)
        for name in ("lr", "grad_clip", "huber_delta", "per_eps", "epsilon_alpha"):
            _check(name, getattr(self, name), 0.0, math.inf, open_low=True)
        if self.backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )

    def epsilons(self) -> list[float]:
        """Exploration rate of each actor (a lone actor gets ``epsilon_base``)."""
        n = self.num_actors
        if n == 1:
            return [self.epsilon_base]
        return [
            self.epsilon_base ** (1.0 + self.epsilon_alpha * i / (n - 1))
            for i in range(n)
        ]


def _check(
    name: str, value: object, low: float, high: float, *, open_low: bool = False
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        x = float(value)  # type: ignore[arg-type]
        ok = not math.isnan(x) and (x > low if open_low else x >= low) and x <= high
    if not ok:
        lo = "(" if open_low else "["
        raise ValueError(f"{name} must lie in {lo}{low}, {high}], got {value!r}")
