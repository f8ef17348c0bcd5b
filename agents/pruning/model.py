"""The prunable network, its gates and the two-temperature logistic relaxation.

:class:`GatedNet` is a small residual CNN: a stem convolution, ``blocks_per_stage``
residual blocks per stage (stages separated by 2x2 max pooling), global average
pooling and a linear head. Each block's branch is ``conv2(relu(conv1(x)) * m)``,
with ``hidden`` inner channels, ``conv2`` without bias, so a zero mask removes the
branch entirely and the block becomes the identity.

The *units* that a mask ``m`` switches are either the inner channels of every block
(``granularity="channel"``, ``hidden`` units per block) or the blocks themselves
(``granularity="block"``, one unit per block, broadcast to its channels).

:func:`relaxed_gates` draws ``m_i = sigmoid((theta_i + l_i) / tau_s)`` with logistic
noise ``l_i`` in the forward pass, while the gradient is that of
``sigmoid((theta_i + l_i) / tau_g)``: the sample temperature ``tau_s`` sharpens what
the network sees, the gradient temperature ``tau_g`` keeps the gradient informative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn

from nasgym.error import unknown_option

#: Unit kinds a mask can switch.
GRANULARITIES: tuple[str, ...] = ("channel", "block")
#: How a unit's complexity is counted.
COSTS: tuple[str, ...] = ("params", "flops")
#: Temperature schedules.
SCHEDULES: tuple[str, ...] = ("exponential", "linear")


@dataclass(frozen=True)
class NetShape:
    """The shape of a :class:`GatedNet`.

    Attributes:
        width: Channels of the residual stream.
        hidden: Inner channels of each block (the prunable channels).
        stages: Number of stages (a 2x2 max pooling between two stages).
        blocks_per_stage: Residual blocks per stage.
        image_size: Input side length.
        in_channels: Input channels.
        num_classes: Classes of the head.
    """

    width: int = 16
    hidden: int = 32
    stages: int = 2
    blocks_per_stage: int = 2
    image_size: int = 16
    in_channels: int = 1
    num_classes: int = 10

    def __post_init__(self) -> None:
        for name in ("width", "hidden", "stages", "blocks_per_stage", "image_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.image_size % 2 ** (self.stages - 1):
            raise ValueError(
                f"image_size {self.image_size} must be divisible by "
                f"2**(stages - 1) = {2 ** (self.stages - 1)}"
            )

    @property
    def num_blocks(self) -> int:
        """Residual blocks in the network."""
        return self.stages * self.blocks_per_stage

    def block_resolution(self, block: int) -> int:
        """Side length of the feature map block ``block`` works on."""
        return int(self.image_size // 2 ** (block // self.blocks_per_stage))


class Block(nn.Module):
    """A residual block whose inner channels are multiplied by a mask."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, width, 3, padding=1, bias=False)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``x + conv2(relu(conv1(x)) * mask)`` (``mask``: one value per channel)."""
        h = torch.relu(self.conv1(x))
        if mask is not None:
            h = h * mask.view(1, -1, 1, 1)
        out: Tensor = x + self.conv2(h)
        return out

    def channel_magnitude(self) -> Tensor:
        """L1 norm of each inner channel's weights (in, bias and out)."""
        w1 = self.conv1.weight.detach().abs().sum(dim=(1, 2, 3))
        b1 = self.conv1.bias.detach().abs() if self.conv1.bias is not None else 0.0
        w2 = self.conv2.weight.detach().abs().sum(dim=(0, 2, 3))
        return w1 + b1 + w2


class GatedNet(nn.Module):
    """A residual CNN whose blocks or inner channels a mask switches on and off."""

    def __init__(self, shape: NetShape, granularity: str = "channel") -> None:
        super().__init__()
        if granularity not in GRANULARITIES:
            raise unknown_option("granularity", granularity, GRANULARITIES)
        self.shape = shape
        self.granularity = granularity
        self.stem = nn.Conv2d(shape.in_channels, shape.width, 3, padding=1)
        self.blocks = nn.ModuleList(
            Block(shape.width, shape.hidden) for _ in range(shape.num_blocks)
        )
        self.head = nn.Linear(shape.width, shape.num_classes)

    @property
    def units_per_block(self) -> int:
        """Mask entries per block."""
        return self.shape.hidden if self.granularity == "channel" else 1

    @property
    def num_units(self) -> int:
        """Length of the mask."""
        return self.shape.num_blocks * self.units_per_block

    def unit_costs(self, cost: str = "params") -> Tensor:
        """Complexity of each unit: its parameters, or its multiply-adds per image."""
        if cost not in COSTS:
            raise unknown_option("cost", cost, COSTS)
        shape = self.shape
        # conv1 weights + bias and conv2 weights of one inner channel.
        per_channel = 9 * shape.width + 1 + 9 * shape.width
        values = []
        for block in range(shape.num_blocks):
            channels = shape.hidden if self.granularity == "block" else 1
            value = float(per_channel * channels)
            if cost == "flops":
                value *= shape.block_resolution(block) ** 2
            values.extend([value] * self.units_per_block)
        return torch.tensor(values, dtype=torch.float64)

    def channel_masks(self, mask: Tensor) -> list[Tensor]:
        """Split a unit mask into one per-channel mask per block."""
        if mask.shape != (self.num_units,):
            raise ValueError(
                f"mask must have shape ({self.num_units},), got {tuple(mask.shape)}"
            )
        parts = mask.view(self.shape.num_blocks, self.units_per_block)
        return [part.expand(self.shape.hidden) for part in parts]

    def unit_magnitude(self) -> Tensor:
        """L1 weight norm of each unit (magnitude pruning's score)."""
        per_block = [cast(Block, block).channel_magnitude() for block in self.blocks]
        if self.granularity == "block":
            return torch.stack([m.sum() for m in per_block])
        return torch.cat(per_block)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Logits; ``mask`` (one value per unit) or ``None`` for the full network."""
        masks = self.channel_masks(mask) if mask is not None else None
        h = torch.relu(self.stem(x))
        for index, block in enumerate(self.blocks):
            if index and index % self.shape.blocks_per_stage == 0:
                h = nn.functional.max_pool2d(h, 2)
            h = block(h, None if masks is None else masks[index])
        logits: Tensor = self.head(h.mean(dim=(2, 3)))
        return logits


def logistic_noise(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """``log u - log(1 - u)`` for uniform ``u``: a standard logistic sample."""
    u = torch.rand(shape, generator=generator, dtype=torch.float32)
    u = u.clamp(1e-6, 1.0 - 1e-6)
    return torch.log(u) - torch.log1p(-u)


def relaxed_gates(
    theta: Tensor, noise: Tensor, tau_sample: float, tau_grad: float
) -> Tensor:
    """The two-temperature relaxation of Bernoulli(``sigmoid(theta)``) gates.

    The value is ``sigmoid((theta + noise) / tau_sample)``, the gradient that of
    ``sigmoid((theta + noise) / tau_grad)``.
    """
    if tau_sample <= 0 or tau_grad <= 0:
        raise ValueError(
            f"temperatures must be positive, got tau_sample={tau_sample}, "
            f"tau_grad={tau_grad}"
        )
    logits = theta + noise
    soft = torch.sigmoid(logits / tau_grad)
    sharp = torch.sigmoid(logits / tau_sample)
    return soft + (sharp - soft).detach()


def temperature(start: float, end: float, step: int, steps: int, kind: str) -> float:
    """A temperature annealed from ``start`` (step 0) to ``end`` (step ``steps-1``).

    Args:
        start: First value (> 0).
        end: Last value (> 0).
        step: Current step, ``0 <= step < steps``.
        steps: Number of steps.
        kind: ``"exponential"`` (geometric interpolation) or ``"linear"``.
    """
    if kind not in SCHEDULES:
        raise unknown_option("temperature schedule", kind, SCHEDULES)
    if start <= 0 or end <= 0:
        raise ValueError(f"temperatures must be positive, got {start} -> {end}")
    if not 0 <= step < steps:
        raise ValueError(f"step must be in 0..{steps - 1}, got {step}")
    frac = step / (steps - 1) if steps > 1 else 1.0
    if kind == "linear":
        return start + (end - start) * frac
    return math.exp(math.log(start) + (math.log(end) - math.log(start)) * frac)
