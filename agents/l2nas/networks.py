"""The slot layout of a continuous env's action, and L2NAS's actor and critic.

A ``...Continuous-v0`` action holds one score per (slot, choice): for the tabular
envs ``num_slots * max_choices`` scores in ``[-1, 1]``, slot ``i`` using its first
``nvec[i]`` choices (the rest is padding the env ignores). :func:`infer_layout`
reads that structure from the env; the actor emits one softmax distribution per
slot over the slot's real choices, which :meth:`SlotLayout.to_action` maps to the
env's ``Box`` (``2 p - 1``, padding at ``-1``; the argmax is unchanged).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]

#: The env kind L2NAS needs, for error messages.
ENV_KIND = "a nasgym ...Continuous-v0 env (Box(-1, 1) actions: one score per slot "
ENV_KIND += "and choice)"


@dataclass(frozen=True)
class SlotLayout:
    """How an action vector splits into per-slot score vectors.

    Attributes:
        choices: Real choices of each slot; a slot's scores occupy the first
            ``choices[i]`` of its ``max_choices`` positions.
        shape: The env's action shape (``num_slots * max_choices`` values in all).
    """

    choices: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def num_slots(self) -> int:
        """Number of decision slots."""
        return len(self.choices)

    @property
    def max_choices(self) -> int:
        """Positions per slot (the largest number of choices)."""
        return max(self.choices)

    @property
    def width(self) -> int:
        """Length of the flat action (``num_slots * max_choices``)."""
        return self.num_slots * self.max_choices

    @property
    def pad(self) -> BoolArray:
        """``(num_slots, max_choices)`` mask of the padding positions."""
        pad: BoolArray = (
            np.arange(self.max_choices)[None, :] >= np.array(self.choices)[:, None]
        )
        return pad

    def to_action(self, probs: FloatArray) -> FloatArray:
        """Map per-slot distributions ``(..., num_slots, max_choices)`` to env actions.

        Returns:
            ``2 p - 1`` in the env's action shape (padding at ``-1``), float32.
        """
        lead = probs.shape[:-2]
        action = (2.0 * probs - 1.0).astype(np.float32)
        action[..., self.pad] = -1.0
        out: FloatArray = action.reshape(*lead, *self.shape)
        return out

    def one_hot(self, probs: FloatArray) -> FloatArray:
        """The one-hot of each slot's argmax (the choice the env decodes)."""
        scores = np.where(self.pad, -np.inf, probs)
        out = np.zeros(probs.shape, dtype=np.float32)
        np.put_along_axis(out, scores.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out

    def random(self, rng: np.random.Generator) -> FloatArray:
        """Per-slot distributions drawn uniformly from each slot's simplex.

        Each slot is a Dirichlet(1, ..., 1) sample over its real choices, so its
        argmax (the op the env decodes) is uniform over them.
        """
        draw = rng.exponential(size=(self.num_slots, self.max_choices))
        draw[self.pad] = 0.0
        probs: FloatArray = (draw / draw.sum(axis=1, keepdims=True)).astype(np.float32)
        return probs

    def perturb(
        self, probs: FloatArray, sigma: float, rng: np.random.Generator
    ) -> FloatArray:
        """``probs + N(0, sigma^2)``, clipped at 0 and re-normalised per slot.

        A slot whose noisy scores are all clipped to zero keeps its noise-free
        distribution.
        """
        noisy = probs + rng.normal(0.0, sigma, size=probs.shape)
        noisy[self.pad] = 0.0
        noisy = np.clip(noisy, 0.0, None)
        sums = noisy.sum(axis=1, keepdims=True)
        out: FloatArray = np.where(
            sums > 0, noisy / np.where(sums > 0, sums, 1.0), probs
        ).astype(np.float32)
        return out


def infer_layout(
    env: gym.Env[Any, Any], choices_per_slot: Sequence[int] | None = None
) -> SlotLayout:
    """Read the slot structure of a continuous env's action.

    In order: ``choices_per_slot`` if given; else the env's documented
    ``env.unwrapped.action_choices`` (every nasgym continuous env); else its search
    space (``env.unwrapped.search_space.nvec``); else the action's own
    shape when it has two or more axes (the last one indexes choices, e.g. a
    ``(2, 14, 8)`` DARTS score array).

    Args:
        env: The (possibly wrapped) environment.
        choices_per_slot: Choices of each slot, overriding what the env says.

    Raises:
        ValueError: The env is not a continuous env with ``Box(-1, 1)`` actions
            (the message names the env kind L2NAS needs), or its action's layout
            cannot be inferred or does not match the action's size.
    """
    space = env.action_space
    if (
        not isinstance(space, gym.spaces.Box)
        or not np.all(space.low == -1.0)
        or not np.all(space.high == 1.0)
    ):
        raise ValueError(f"L2NAS needs {ENV_KIND}; got action space {space!r}")
    shape = tuple(int(n) for n in space.shape)
    width = int(np.prod(shape))
    if choices_per_slot is not None:
        choices = tuple(int(c) for c in choices_per_slot)
        source = f"choices_per_slot={list(choices)}"
    elif getattr(env.unwrapped, "action_choices", None) is not None:
        choices = tuple(int(c) for c in env.unwrapped.action_choices)  # type: ignore[attr-defined]
        source = f"the env's action_choices {list(choices)}"
    else:
        nvec = getattr(getattr(env.unwrapped, "search_space", None), "nvec", None)
        if nvec is not None:
            choices = tuple(int(c) for c in np.asarray(nvec).ravel())
            source = f"the search space's nvec {list(choices)}"
        elif len(shape) >= 2:
            choices = (shape[-1],) * (width // shape[-1])
            source = f"the action shape {shape}"
        else:
            raise ValueError(
                f"L2NAS cannot tell the slots of the flat action space {space!r}: "
                f"the env exposes no search_space.nvec; pass choices_per_slot"
            )
    if not choices or min(choices) < 1 or len(choices) * max(choices) != width:
        raise ValueError(
            f"L2NAS: {source} does not fit the {width} action values of {space!r} "
            f"(expected num_slots * max_choices == {width})"
        )
    return SlotLayout(choices, shape)


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them (none at the end)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """pi(s): an MLP whose output is one softmax distribution per slot.

    Args:
        obs_dim: Length of the (flattened) observation.
        layout: The slot layout; padding positions get probability 0.
        hidden: Hidden layer sizes.
    """

    def __init__(self, obs_dim: int, layout: SlotLayout, hidden: Sequence[int]) -> None:
        super().__init__()
        self.num_slots = layout.num_slots
        self.max_choices = layout.max_choices
        self.net = mlp([obs_dim, *hidden, layout.width])
        self.pad: torch.Tensor
        self.register_buffer("pad", torch.as_tensor(layout.pad), persistent=False)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Per-slot distributions, shape ``(batch, num_slots, max_choices)``."""
        logits = self.net(obs).view(-1, self.num_slots, self.max_choices)
        return torch.softmax(logits.masked_fill(self.pad, -torch.inf), dim=-1)


class Critic(nn.Module):
    """Q(s, a): an MLP on ``concat(s, a)`` with ``a`` the flat distributions.

    Args:
        obs_dim: Length of the (flattened) observation.
        action_dim: Length of the flat action (``num_slots * max_choices``).
        hidden: Hidden layer sizes.
    """

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.net = mlp([obs_dim + action_dim, *hidden, 1])

    def forward(self, obs: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        """Q values, shape ``(batch,)``."""
        flat = probs.reshape(probs.shape[0], -1)
        value: torch.Tensor = self.net(torch.cat([obs, flat], dim=1)).squeeze(1)
        return value


def pinball_loss(
    target: torch.Tensor, prediction: torch.Tensor, quantile: float
) -> torch.Tensor:
    """The check loss ``mean rho_tau(target - prediction)`` (docs/methods/l2nas.md).

    ``rho_tau(u) = u (tau - 1[u < 0])``: its minimiser is the ``tau``-quantile of
    the target, so with ``tau = 0.9`` the critic predicts a high percentile.
    """
    u = target - prediction
    return torch.maximum(quantile * u, (quantile - 1.0) * u).mean()
