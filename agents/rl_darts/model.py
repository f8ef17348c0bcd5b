"""DARTS supernet and fixed cells as Stable-Baselines3 features extractors (RL-DARTS).

A cell has one input (node 0, the cell input after a 1x1 conv when the channel
count changes) and ``n_nodes`` intermediate nodes; node ``i`` mixes every earlier
node through a MixedOp ``sum_o softmax(T * alpha)_o * o(x)``. The cell output is
the concatenation of the intermediate nodes followed by a 1x1 conv. Batch norm
has no trainable affine parameters. One ``alpha`` tensor (edges x ops) is shared
by every cell of the encoder, so the searched result is one cell genotype.

Discretisation (:func:`derive_genotype`): Zero's probability is set to 0, each
input edge keeps its argmax op, and each node keeps its two strongest
predecessors (node 1 has only one). The same extractor class builds the fixed
cell (``genotype=...``) for retraining from scratch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

OpFactory = Callable[[int], nn.Module]


class Zero(nn.Module):
    """The Zero op: outputs zeros of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Zeros like ``x`` (keeping the graph, so gradients are defined)."""
        return x * 0.0


def _conv_bn(c: int, k: int, dilation: int, relu: bool) -> nn.Module:
    pad = dilation * (k - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(c, c, k, padding=pad, dilation=dilation, bias=False),
        nn.BatchNorm2d(c, affine=False),
    ]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


#: The two op sets of RL-DARTS: ``default`` and the ``darts`` (DARTS-like) space.
OP_SETS: dict[str, dict[str, OpFactory]] = {
    "default": {
        "conv_3x3": lambda c: _conv_bn(c, 3, 1, relu=False),
        "relu": lambda c: nn.ReLU(),
        "tanh": lambda c: nn.Tanh(),
        "skip": lambda c: nn.Identity(),
        "zero": lambda c: Zero(),
    },
    "darts": {
        "conv_3x3_relu": lambda c: _conv_bn(c, 3, 1, relu=True),
        "dil_conv_3x3_relu": lambda c: _conv_bn(c, 3, 2, relu=True),
        "conv_5x5_relu": lambda c: _conv_bn(c, 5, 1, relu=True),
        "dil_conv_5x5_relu": lambda c: _conv_bn(c, 5, 2, relu=True),
        "skip": lambda c: nn.Identity(),
        "zero": lambda c: Zero(),
    },
}


def op_names(op_set: str) -> list[str]:
    """The op names of ``op_set`` in alpha's column order."""
    if op_set not in OP_SETS:
        raise ValueError(f"unknown op_set {op_set!r}; choose one of {sorted(OP_SETS)}")
    return list(OP_SETS[op_set])


def n_edges(n_nodes: int) -> int:
    """Edges of a supernet cell: node i (1-based) has i inputs."""
    return n_nodes * (n_nodes + 1) // 2


# A genotype: per intermediate node, a list of (op name, predecessor index).
Genotype = list[list[tuple[str, int]]]


def genotype_to_str(genotype: Genotype) -> str:
    """``op~pred+op~pred|...``: nodes separated by ``|``, inputs by ``+``."""
    return "|".join("+".join(f"{op}~{j}" for op, j in node) for node in genotype)


def genotype_from_str(text: str, op_set: str) -> Genotype:
    """Parse :func:`genotype_to_str`'s format, checking ops and predecessors."""
    names = op_names(op_set)
    genotype: Genotype = []
    for i, node in enumerate(text.strip().split("|"), start=1):
        edges: list[tuple[str, int]] = []
        for part in node.split("+"):
            op, sep, pred = part.partition("~")
            if not sep or not pred.isdigit():
                raise ValueError(
                    f"bad genotype edge {part!r} in {text!r}; expected 'op~pred'"
                )
            if op not in names:
                raise ValueError(
                    f"op {op!r} of genotype {text!r} is not in op_set "
                    f"{op_set!r}: {names}"
                )
            if not 0 <= int(pred) < i:
                raise ValueError(
                    f"node {i} of genotype {text!r} takes input {pred}; "
                    f"it must be in 0..{i - 1}"
                )
            edges.append((op, int(pred)))
        genotype.append(edges)
    return genotype


def derive_genotype(
    alpha: torch.Tensor | np.ndarray, op_set: str, temperature: float = 1.0
) -> Genotype:
    """Discretise ``alpha`` (edges x ops): Zero -> 0, argmax op, 2 strongest inputs."""
    names = op_names(op_set)
    a = torch.as_tensor(alpha, dtype=torch.float64)
    n_nodes = 0
    while n_edges(n_nodes) < a.shape[0]:
        n_nodes += 1
    if n_edges(n_nodes) != a.shape[0] or a.shape[1] != len(names):
        raise ValueError(
            f"alpha of shape {tuple(a.shape)} fits no cell with op_set {op_set!r}"
        )
    probs = torch.softmax(temperature * a, dim=-1)
    if "zero" in names:
        probs[:, names.index("zero")] = 0.0
    genotype: Genotype = []
    start = 0
    for i in range(1, n_nodes + 1):
        block = probs[start : start + i]
        strength, best = block.max(dim=-1)
        keep = sorted(
            torch.argsort(strength, descending=True, stable=True)[:2].tolist()
        )
        genotype.append([(names[int(best[j])], j) for j in keep])
        start += i
    return genotype


def random_genotype(n_nodes: int, op_set: str, rng: np.random.Generator) -> Genotype:
    """A uniformly random cell of the discrete space (no Zero, <= 2 inputs a node)."""
    names = [n for n in op_names(op_set) if n != "zero"]
    genotype: Genotype = []
    for i in range(1, n_nodes + 1):
        preds = sorted(rng.choice(i, size=min(2, i), replace=False).tolist())
        genotype.append([(names[int(rng.integers(len(names)))], int(j)) for j in preds])
    return genotype


class MixedOp(nn.Module):
    """``sum_o w_o * o(x)`` for given weights ``w``."""

    def __init__(self, c: int, op_set: str) -> None:
        super().__init__()
        self.ops = nn.ModuleList(f(c) for f in OP_SETS[op_set].values())

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted sum of every op applied to ``x``."""
        out: torch.Tensor = weights[0] * self.ops[0](x)
        for w, op in zip(weights[1:], self.ops[1:], strict=True):
            out = out + w * op(x)
        return out


class Cell(nn.Module):
    """A supernet cell (``genotype=None``) or a fixed cell of a genotype."""

    def __init__(
        self,
        c_in: int,
        c: int,
        n_nodes: int,
        op_set: str,
        reduce: bool,
        genotype: Genotype | None,
    ) -> None:
        super().__init__()
        stride = 2 if reduce else 1
        self.pre: nn.Module = (
            nn.Sequential(
                nn.Conv2d(c_in, c, 1, stride=stride, bias=False),
                nn.BatchNorm2d(c, affine=False),
            )
            if c_in != c or reduce
            else nn.Identity()
        )
        self.n_nodes = n_nodes
        self.genotype = genotype
        if genotype is None:
            self.edges = nn.ModuleList(
                MixedOp(c, op_set) for _ in range(n_edges(n_nodes))
            )
        else:
            factories = OP_SETS[op_set]
            self.edges = nn.ModuleList(
                factories[op](c) for node in genotype for op, _ in node
            )
        self.post = nn.Sequential(
            nn.Conv2d(c * n_nodes, c, 1, bias=False), nn.BatchNorm2d(c, affine=False)
        )

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """Node outputs, concatenated, through the output 1x1 conv."""
        states = [self.pre(x)]
        k = 0
        for i in range(1, self.n_nodes + 1):
            if self.genotype is None:
                assert weights is not None
                s = self.edges[k](states[0], weights[k])
                for j in range(1, i):
                    s = s + self.edges[k + j](states[j], weights[k + j])
                k += i
            else:
                (_, j0), *rest = self.genotype[i - 1]
                s = self.edges[k](states[j0])
                k += 1
                for _, j in rest:
                    s = s + self.edges[k](states[j])
                    k += 1
            states.append(s)
        out: torch.Tensor = self.post(torch.cat(states[1:], dim=1))
        return out


class DartsExtractor(BaseFeaturesExtractor):
    """RL-DARTS encoder over channels-first images (MinAtar after ``ChannelsFirst``).

    Optional 3x3 stem conv, then for each width in ``widths``: an optional reduction
    cell (``reduction=True``) and ``normal_cells`` normal cells; flatten, ReLU,
    Linear(``features_dim``), ReLU. With ``genotype`` (a string or a parsed genotype)
    the cells are fixed (discrete mode); without it they are supernet cells sharing
    one ``alpha`` parameter, softmaxed with ``temperature``. Defaults are sized for
    MinAtar's 10x10 frames (*nasgym default* [I]).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        features_dim: int = 128,
        widths: Sequence[int] = (16,),
        normal_cells: int = 1,
        reduction: bool = False,
        n_nodes: int = 3,
        op_set: str = "default",
        stem: bool = True,
        temperature: float = 1.0,
        genotype: str | Genotype | None = None,
    ) -> None:
        super().__init__(observation_space, features_dim)
        if len(observation_space.shape) != 3:
            raise ValueError(
                f"DartsExtractor needs a channels-first image space (C, H, W), got "
                f"shape {observation_space.shape}; wrap MinAtar envs in "
                "nasgym_agents.rl_darts.ChannelsFirst"
            )
        op_names(op_set)
        if isinstance(genotype, str):
            genotype = genotype_from_str(genotype, op_set)
        if genotype is not None and len(genotype) != n_nodes:
            raise ValueError(
                f"genotype has {len(genotype)} nodes but n_nodes={n_nodes}"
            )
        self.op_set, self.n_nodes, self.temperature = op_set, n_nodes, temperature
        self.genotype: Genotype | None = genotype
        c_in = observation_space.shape[0]
        layers: list[nn.Module] = []
        if stem:
            layers.append(
                nn.Sequential(
                    nn.Conv2d(c_in, widths[0], 3, padding=1, bias=False),
                    nn.BatchNorm2d(widths[0], affine=False),
                )
            )
            c_in = widths[0]
        self.stem = nn.Sequential(*layers)
        cells: list[Cell] = []
        for w in widths:
            if reduction:
                cells.append(Cell(c_in, w, n_nodes, op_set, True, genotype))
                c_in = w
            for _ in range(normal_cells):
                cells.append(Cell(c_in, w, n_nodes, op_set, False, genotype))
                c_in = w
        self.cells = nn.ModuleList(cells)
        self.alpha: nn.Parameter | None = None
        if genotype is None:
            self.alpha = nn.Parameter(
                1e-3 * torch.randn(n_edges(n_nodes), len(OP_SETS[op_set]))
            )
            self.alpha._rl_darts_alpha = True  # type: ignore[attr-defined]
        with torch.no_grad():
            n_flat = self._trunk(torch.zeros(1, *observation_space.shape)).shape[1]
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(n_flat, features_dim), nn.ReLU())

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        weights = (
            None
            if self.alpha is None
            else torch.softmax(self.temperature * self.alpha, dim=-1)
        )
        for cell in self.cells:
            x = cell(x, weights)
        return torch.flatten(x, 1)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Features of a batch of channels-first frames."""
        out: torch.Tensor = self.head(self._trunk(observations.float()))
        return out

    def derive(self) -> Genotype:
        """The discretised genotype of the current alpha (supernet mode only)."""
        if self.alpha is None:
            raise ValueError(
                "this extractor is a fixed cell (genotype given); "
                "only a supernet has alpha"
            )
        return derive_genotype(self.alpha.detach(), self.op_set, self.temperature)


class MinAtarConv(BaseFeaturesExtractor):
    """The standard MinAtar encoder: 3x3 conv (16 ch), ReLU, Linear(128), ReLU."""

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        features_dim: int = 128,
        channels: int = 16,
    ) -> None:
        super().__init__(observation_space, features_dim)
        c, h, w = observation_space.shape
        self.net = nn.Sequential(
            nn.Conv2d(c, channels, 3),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(channels * (h - 2) * (w - 2), features_dim),
            nn.ReLU(),
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Features of a batch of channels-first frames."""
        out: torch.Tensor = self.net(observations.float())
        return out


class AlphaAdam(torch.optim.Adam):
    """Adam with the architecture parameters in their own group at ``alpha_lr``.

    SB3 builds the policy optimizer as ``optimizer_class(policy.parameters(), lr=...,
    **optimizer_kwargs)`` and resets every group's lr from its schedule before each
    update; this class moves parameters tagged ``_rl_darts_alpha`` into a second
    group and restores its lr to ``alpha_lr`` at every step.
    """

    def __init__(
        self, params: Iterable[torch.Tensor], lr: float, alpha_lr: float, **kwargs: Any
    ) -> None:
        params = list(params)
        alphas = [p for p in params if getattr(p, "_rl_darts_alpha", False)]
        rest = [p for p in params if not getattr(p, "_rl_darts_alpha", False)]
        groups: list[dict[str, Any]] = [{"params": rest}]
        if alphas:
            groups.append({"params": alphas, "lr": alpha_lr, "rl_darts_alpha": True})
        self.alpha_lr = alpha_lr
        super().__init__(groups, lr=lr, **kwargs)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """Reset the alpha group's lr (SB3 overwrote it), then an Adam step."""
        for group in self.param_groups:
            if group.get("rl_darts_alpha"):
                group["lr"] = self.alpha_lr
        return super().step(closure)
