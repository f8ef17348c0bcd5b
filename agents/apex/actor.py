"""Ape-X actors: masked epsilon-greedy rollouts cut into n-step transitions.

An actor steps its own env with its own copy of the Q-network and epsilon. Every
step it records ``(s, mask(s), a, r)``; once ``n`` steps are pending it emits the
n-step transition of the oldest one, bootstrapping from ``s_{t+n}``. When an episode
is truncated (the horizon or the query budget) every pending step is emitted with
the partial return up to the end and bootstraps from the last state: truncation is
never treated as terminal (partial-episode bootstrapping,
docs/methods/cassimon.md#mdp-and-reward-shaping). Only a
``terminated`` step cuts the bootstrap (nasgym's edit envs never terminate). The
initial priority of each transition is its TD error under the actor's network.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from .config import ApexConfig
from .network import ObsLayout, QNetwork, stack_obs
from .replay import Batch, nstep_return

Weights = dict[str, np.ndarray]
#: ``(obs, mask, action, return, next_obs, next_mask, discount, priority)``.
Row = tuple[
    dict[str, np.ndarray],
    np.ndarray,
    int,
    float,
    dict[str, np.ndarray],
    np.ndarray,
    float,
    float,
]


def build_network(layout: ObsLayout, num_actions: int, config: ApexConfig) -> QNetwork:
    """The Q-network of ``config``'s sizes."""
    return QNetwork(
        layout,
        num_actions,
        d_model=config.d_model,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        ffn_dim=config.ffn_dim,
        head_hidden=config.head_hidden,
    )


def to_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """NumPy arrays to CPU tensors (no copy where possible)."""
    return {k: torch.as_tensor(v) for k, v in arrays.items()}


def get_weights(net: torch.nn.Module) -> Weights:
    """A picklable copy of ``net``'s parameters."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def set_weights(net: torch.nn.Module, weights: Weights) -> None:
    """Load weights made by :func:`get_weights`."""
    net.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})


def action_mask(info: Mapping[str, Any], num_actions: int) -> np.ndarray:
    """The step's legal actions, ``info["action_mask"]`` as a bool array."""
    mask = np.asarray(info["action_mask"], dtype=bool)
    if mask.shape != (num_actions,):
        raise ValueError(
            f"info['action_mask'] has shape {mask.shape}, expected ({num_actions},)"
        )
    return mask


def masked_epsilon_greedy(
    q: np.ndarray, mask: np.ndarray, epsilon: float, rng: np.random.Generator
) -> int:
    """A uniformly random legal action with probability ``epsilon``, else the best.

    Raises:
        RuntimeError: No action is legal.
    """
    legal = np.flatnonzero(mask)
    if legal.size == 0:
        raise RuntimeError("no legal action in this state (the action mask is empty)")
    if rng.random() < epsilon:
        return int(legal[rng.integers(legal.size)])
    return int(legal[np.argmax(q[legal])])


class Actor:
    """One Ape-X actor on its env.

    Args:
        env: The env (a graph-edit env; never stepped after its budget is spent).
        layout: Observation layout.
        num_actions: ``|A|``.
        config: Settings (``gamma``, ``n_step`` and the network sizes are used).
        epsilons: Exploration rates; episode k uses ``epsilons[k % len(epsilons)]``
            (one entry for a normal Ape-X actor).
        seed: Seeds the env's first reset and the actor's generator.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        layout: ObsLayout,
        num_actions: int,
        config: ApexConfig,
        epsilons: list[float],
        seed: int,
    ) -> None:
        self.env = env
        self.layout = layout
        self.num_actions = num_actions
        self.gamma = config.gamma
        self.n_step = config.n_step
        self.epsilons = list(epsilons)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.net = build_network(layout, num_actions, config)
        self.net.eval()
        self.episodes = 0
        self.steps = 0
        self.exhausted = False
        #: ``(state, mask, action)`` of every step taken (for tests; off by default).
        self.record = False
        self.history: list[tuple[int, np.ndarray]] = []
        self._obs: dict[str, np.ndarray] | None = None
        self._mask = np.zeros(num_actions, dtype=bool)
        self._q = np.zeros(num_actions)
        self._pending: deque[
            tuple[dict[str, np.ndarray], np.ndarray, int, float, float]
        ]
        self._pending = deque()

    @property
    def epsilon(self) -> float:
        """Exploration rate of the current episode."""
        return self.epsilons[self.episodes % len(self.epsilons)]

    def set_weights(self, weights: Weights) -> None:
        """Load the learner's weights."""
        set_weights(self.net, weights)

    def q_values(self, obs: Mapping[str, Any], mask: np.ndarray) -> np.ndarray:
        """Masked Q-values of one observation (``-inf`` where illegal)."""
        batch = to_tensors(stack_obs(self.layout, [obs]))
        with torch.no_grad():
            q = self.net(batch, torch.as_tensor(mask[None]))
        out: np.ndarray = q[0].double().numpy()
        return out

    def _observe(self, obs: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        self._obs = {k: np.asarray(obs[k], dtype=np.float32) for k in self.layout.keys}
        self._mask = action_mask(info, self.num_actions)
        self._q = self.q_values(self._obs, self._mask)

    def _start(self, seed: int | None) -> None:
        obs, info = self.env.reset(seed=seed)
        self._pending.clear()
        self._observe(obs, info)
        self.exhausted = bool(info.get("budget_exhausted", False))

    def rollout(self, steps: int) -> tuple[Batch, np.ndarray, int]:
        """Take up to ``steps`` env steps (fewer once the budget is spent).

        Returns:
            The completed n-step transitions, their initial priorities, and the
            number of env steps taken.
        """
        out: list[Row] = []
        taken = 0
        if self._obs is None:
            self._start(self.seed)
        while taken < steps and not self.exhausted:
            assert self._obs is not None
            action = masked_epsilon_greedy(self._q, self._mask, self.epsilon, self.rng)
            if self.record:
                self.history.append((action, self._mask.copy()))
            obs, reward, terminated, truncated, info = self.env.step(action)
            taken += 1
            self.steps += 1
            self._pending.append(
                (self._obs, self._mask, action, float(reward), float(self._q[action]))
            )
            self.exhausted = bool(info.get("budget_exhausted", False))
            self._observe(obs, info)
            end = bool(terminated or truncated or self.exhausted)
            if len(self._pending) == self.n_step or end:
                out.extend(self._emit(terminated, flush=end))
            if end and not self.exhausted:
                self.episodes += 1
                obs, info = self.env.reset()
                self._pending.clear()
                self._observe(obs, info)
                self.exhausted = bool(info.get("budget_exhausted", False))
        batch, priorities = self._pack(out)
        return batch, priorities, taken

    def _emit(self, terminated: bool, *, flush: bool) -> list[Row]:
        """n-step transitions of the oldest pending step (all of them if ``flush``)."""
        assert self._obs is not None
        rows = []
        legal = self._mask.any()
        bootstrap = float(np.max(self._q[self._mask])) if legal else 0.0
        while self._pending:
            rewards = [p[3] for p in self._pending]
            k = len(rewards)
            discount = 0.0 if terminated or not legal else self.gamma**k
            ret = nstep_return(rewards, self.gamma)
            obs, mask, action, _, q0 = self._pending.popleft()
            priority = abs(ret + discount * bootstrap - q0)
            rows.append(
                (obs, mask, action, ret, self._obs, self._mask, discount, priority)
            )
            if not flush:
                break
        return rows

    def _pack(self, rows: list[Row]) -> tuple[Batch, np.ndarray]:
        if not rows:
            return {}, np.zeros(0)
        batch: Batch = {}
        for key in self.layout.keys:
            batch[f"obs/{key}"] = np.stack([r[0][key] for r in rows])
            batch[f"next/{key}"] = np.stack([r[4][key] for r in rows])
        batch["mask"] = np.stack([r[1] for r in rows])
        batch["action"] = np.array([r[2] for r in rows], dtype=np.int64)
        batch["return"] = np.array([r[3] for r in rows], dtype=np.float32)
        batch["next_mask"] = np.stack([r[5] for r in rows])
        batch["discount"] = np.array([r[6] for r in rows], dtype=np.float32)
        return batch, np.array([r[7] for r in rows])
