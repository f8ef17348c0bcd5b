"""Graph observations as tokens, and the Q-network (docs/methods/cassimon.md).

Built only from the env's ``Dict`` observation space: ``adjacency`` (V, V), ``ops``
(V, T) one-hot, ``node_mask`` (V,), ``stats`` (S,) and optionally ``cell`` (V,). Each
vertex becomes one token ``[ops | adjacency row | adjacency column | one-hot position |
cell flag]``; one global token holds ``stats``. Padded vertices (``node_mask == 0``)
are hidden from attention by the key padding mask. Nothing depends on the dataset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

#: Observation keys every graph-edit env provides.
REQUIRED_KEYS = ("adjacency", "ops", "node_mask", "stats")


@dataclasses.dataclass(frozen=True)
class ObsLayout:
    """Shapes of a graph observation.

    Attributes:
        num_vertices: V, the padded vertex count.
        num_ops: T, the width of the one-hot op encoding.
        num_stats: S, the number of global stats.
        has_cell: Whether the observation has a per-vertex ``cell`` flag (NB301).
    """

    num_vertices: int
    num_ops: int
    num_stats: int
    has_cell: bool

    @property
    def vertex_dim(self) -> int:
        """Features of one vertex token before the global-token slots."""
        return self.num_ops + 3 * self.num_vertices + int(self.has_cell)

    @property
    def token_dim(self) -> int:
        """Features of every token: vertex features, stats and a global-token flag."""
        return self.vertex_dim + self.num_stats + 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The observation keys used."""
        return (*REQUIRED_KEYS, "cell") if self.has_cell else REQUIRED_KEYS


def infer_layout(space: gym.Space[Any]) -> ObsLayout:
    """Read the :class:`ObsLayout` off a graph-edit env's observation space.

    Raises:
        ValueError: ``space`` is not a ``Dict`` with the graph keys and shapes.
    """
    if not isinstance(space, gym.spaces.Dict) or any(
        k not in space.spaces for k in REQUIRED_KEYS
    ):
        raise ValueError(
            "the Ape-X agent needs a Dict observation with keys "
            f"{', '.join(REQUIRED_KEYS)} (a nasgym ...Edit-v0 env); got {space!r}"
        )
    shapes = {k: tuple(s.shape or ()) for k, s in space.spaces.items()}
    v = shapes["node_mask"][0] if len(shapes["node_mask"]) == 1 else -1
    ok = (
        v > 0
        and shapes["adjacency"] == (v, v)
        and len(shapes["ops"]) == 2
        and shapes["ops"][0] == v
        and len(shapes["stats"]) == 1
        and ("cell" not in shapes or shapes["cell"] == (v,))
    )
    if not ok:
        raise ValueError(f"inconsistent graph observation shapes: {shapes}")
    return ObsLayout(v, shapes["ops"][1], shapes["stats"][0], "cell" in shapes)


def stack_obs(
    layout: ObsLayout, observations: list[Mapping[str, Any]]
) -> dict[str, np.ndarray]:
    """Stack single observations into float32 arrays with a leading batch axis."""
    return {
        k: np.stack([np.asarray(o[k], dtype=np.float32) for o in observations])
        for k in layout.keys
    }


def tokenize(
    layout: ObsLayout, obs: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens ``(B, V + 1, token_dim)`` and key padding mask ``(B, V + 1)``.

    Token 0 is the global token; the padding mask is ``True`` where a vertex is
    padding (never for the global token).
    """
    adj = obs["adjacency"]
    b, v = adj.shape[0], layout.num_vertices
    parts = [
        obs["ops"],
        adj,
        adj.transpose(1, 2),
        torch.eye(v, dtype=adj.dtype, device=adj.device).expand(b, v, v),
    ]
    if layout.has_cell:
        parts.append(obs["cell"].unsqueeze(-1))
    parts.append(adj.new_zeros(b, v, layout.num_stats + 1))
    vertices = torch.cat(parts, dim=-1)
    glob = torch.cat(
        [
            adj.new_zeros(b, 1, layout.vertex_dim),
            obs["stats"].unsqueeze(1),
            adj.new_ones(b, 1, 1),
        ],
        dim=-1,
    )
    tokens = torch.cat([glob, vertices], dim=1)
    pad = torch.cat(
        [
            torch.zeros(b, 1, dtype=torch.bool, device=adj.device),
            obs["node_mask"] < 0.5,
        ],
        dim=1,
    )
    return tokens, pad


def _mlp(d_in: int, hidden: tuple[int, ...], d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(d_in, h), nn.ReLU()]
        d_in = h
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


def masked_dueling(
    value: torch.Tensor, advantage: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``Q = V + A - mean over valid actions of A``; invalid actions get ``-inf``."""
    valid = mask.to(advantage.dtype)
    count = valid.sum(dim=1, keepdim=True).clamp(min=1.0)
    mean = (advantage * valid).sum(dim=1, keepdim=True) / count
    q = value + advantage - mean
    return q.masked_fill(~mask, float("-inf"))


class QNetwork(nn.Module):
    """Linear embedding, pre-LN transformer encoder, dueling head on the global token.

    Args:
        layout: Shapes of the observation.
        num_actions: ``|A|``.
        d_model: Embedding width.
        num_layers: Encoder layers.
        num_heads: Attention heads.
        ffn_dim: Width of each layer's feed-forward block.
        head_hidden: Hidden sizes of the value and advantage MLPs.
    """

    def __init__(
        self,
        layout: ObsLayout,
        num_actions: int,
        *,
        d_model: int = 128,
        num_layers: int = 4,
        num_heads: int = 4,
        ffn_dim: int = 256,
        head_hidden: tuple[int, ...] = (128,),
    ) -> None:
        super().__init__()
        self.layout = layout
        self.num_actions = int(num_actions)
        self.embed = nn.Linear(layout.token_dim, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            num_heads,
            ffn_dim,
            dropout=0.0,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, enable_nested_tensor=False
        )
        self.norm = nn.LayerNorm(d_model)
        self.value = _mlp(d_model, head_hidden, 1)
        self.advantage = _mlp(d_model, head_hidden, self.num_actions)

    def forward(
        self, obs: Mapping[str, torch.Tensor], mask: torch.Tensor
    ) -> torch.Tensor:
        """Q-values ``(B, |A|)``; ``-inf`` where the bool ``mask`` is False."""
        tokens, pad = tokenize(self.layout, obs)
        h = self.encoder(self.embed(tokens), src_key_padding_mask=pad)
        g = self.norm(h[:, 0])
        return masked_dueling(self.value(g), self.advantage(g), mask)
