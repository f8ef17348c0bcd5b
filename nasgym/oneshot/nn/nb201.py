"""The NAS-Bench-201 network in PyTorch, written from the published description.

Macro skeleton (Dong & Yang, "NAS-Bench-201", ICLR 2020, Sec. 2.1 and Fig. 1)::

    stem: Conv3x3(in_channels -> C) + BN
    N cells at C
    residual reduction block (C -> 2C, stride 2)
    N cells at 2C
    residual reduction block (2C -> 4C, stride 2)
    N cells at 4C
    BN + ReLU -> global average pool -> Linear(4C -> num_classes)

A cell is a 4-node DAG; node ``j`` is the sum over ``i < j`` of ``op_{j<-i}(node_i)``
and node 3 is the cell output. Edge ops: ``none`` (multiply by zero),
``skip_connect`` (identity), ``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU-Conv-BN),
``avg_pool_3x3`` (stride 1, padding 1, padding excluded from the average). The
reduction block is a basic residual block: ReLU-Conv3x3(stride 2)-BN then
ReLU-Conv3x3-BN, plus a shortcut of 2x2 average pooling and a 1x1 convolution.

:class:`NB201Network` builds one architecture (``arch=``) or, with ``arch=None``, the
*supernet* whose every edge holds all 5 ops weighted by a shared architecture
parameter ``alphas`` of shape ``(6, 5)`` (edge slot x op, in
:data:`nasgym.spaces.nb201.OPS` order), as FreeNAS and DARTS-style methods use.
``bn=False`` replaces every batch normalisation by the identity (SynFlow and FreeFlow
score networks without BN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn

from nasgym.error import InvalidArchitectureError
from nasgym.spaces.nb201 import EDGES, OPS, NB201Arch


def _norm(channels: int, bn: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if bn else nn.Identity()


class ReLUConvBN(nn.Sequential):
    """ReLU, then a bias-free convolution, then batch normalisation."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        *,
        bn: bool = True,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                c_in,
                c_out,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=False,
            ),
            _norm(c_out, bn),
        )


class Zero(nn.Module):
    """The ``none`` op: an all-zero output of the input's shape."""

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x * 0`` (keeps the graph, so gradients are exactly zero)."""
        return x.mul(0.0)


def make_op(name: str, channels: int, *, bn: bool = True) -> nn.Module:
    """Build one NB201 edge op on ``channels`` channels (stride 1).

    Args:
        name: One of :data:`nasgym.spaces.nb201.OPS`.
        channels: Input and output channels.
        bn: Use batch normalisation in the convolutions (else the identity).

    Returns:
        The op as a module.

    Raises:
        InvalidArchitectureError: ``name`` is not an NB201 op.
    """
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, bn=bn)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, bn=bn)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise InvalidArchitectureError(
        f"unknown NB201 op {name!r}; valid ops: {', '.join(OPS)}"
    )


def cell_output(
    x: Tensor, edge_terms: Callable[[int, Tensor], Iterable[Tensor]]
) -> Tensor:
    """Node 3 of an NB201 cell whose input (node 0) is ``x``.

    Node ``j`` is the sum, in edge order, of ``edge_terms(slot, node_i)`` over the
    edges ``i -> j``; an edge may contribute several terms (a mixed edge: one per op).
    """
    nodes = [x]
    for target in (1, 2, 3):
        total: Tensor | None = None
        for slot, (source, dest) in enumerate(EDGES):
            if dest != target:
                continue
            for term in edge_terms(slot, nodes[source]):
                total = term if total is None else total + term
        assert total is not None
        nodes.append(total)
    return nodes[3]


class Cell(nn.Module):
    """One NB201 cell: a single op per edge."""

    def __init__(self, arch: NB201Arch, channels: int, *, bn: bool = True) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(OPS[op], channels, bn=bn) for op in arch.ops)

    def forward(self, x: Tensor) -> Tensor:
        """Compute node 3 from the cell input (node 0)."""
        return cell_output(x, lambda slot, node: (self.edges[slot](node),))


class MixedCell(nn.Module):
    """A supernet cell: every edge holds all 5 ops, mixed by ``alphas[slot, op]``."""

    def __init__(self, channels: int, *, bn: bool = True) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, channels, bn=bn) for name in OPS) for _ in EDGES
        )

    def forward(self, x: Tensor, alphas: Tensor) -> Tensor:
        """Compute node 3, each edge output being ``sum_o alphas[e, o] * op_o(x)``."""

        def terms(slot: int, node: Tensor) -> Iterator[Tensor]:
            ops = self.edges[slot]
            assert isinstance(ops, nn.ModuleList)
            for k, op in enumerate(ops):
                yield alphas[slot, k] * op(node)

        return cell_output(x, terms)


class ResidualReduction(nn.Module):
    """The NB201 reduction block: a stride-2 basic residual block, ``c_in -> c_out``."""

    def __init__(self, c_in: int, c_out: int, *, bn: bool = True) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, bn=bn)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, bn=bn)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Return ``shortcut(x) + conv_b(conv_a(x))``."""
        out: Tensor = self.shortcut(x) + self.conv_b(self.conv_a(x))
        return out


class NB201Network(nn.Module):
    """The NAS-Bench-201 network for one cell, or the all-ops supernet.

    Args:
        arch: The cell, repeated in every stage; ``None`` builds the supernet.
        C: Channels of the first stage (NB201: 16).
        N: Cells per stage (NB201: 5).
        in_channels: Image channels.
        num_classes: Output classes (NB201: 10, 100 or 120).
        bn: Use batch normalisation (``False``: identity everywhere).

    Example:
        >>> import torch
        >>> net = NB201Network(NB201Arch((3, 3, 3, 1, 3, 3)), C=8, N=1)
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
        >>> NB201Network(None, C=8, N=1).alphas.shape
        torch.Size([6, 5])
    """

    alphas: nn.Parameter | None

    def __init__(
        self,
        arch: NB201Arch | None,
        *,
        C: int = 16,
        N: int = 5,
        in_channels: int = 3,
        num_classes: int = 10,
        bn: bool = True,
    ) -> None:
        super().__init__()
        if arch is not None and not isinstance(arch, NB201Arch):
            raise InvalidArchitectureError(
                f"NB201Network needs an NB201Arch (or None for the supernet), "
                f"got {arch!r}"
            )
        for label, value in (
            ("C", C),
            ("N", N),
            ("in_channels", in_channels),
            ("num_classes", num_classes),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int, got {value!r}")
        self.arch = arch
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C, 3, padding=1, bias=False), _norm(C, bn)
        )
        layers: list[nn.Module] = []
        channels = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(channels, 2 * channels, bn=bn))
                channels *= 2
            for _ in range(N):
                layers.append(
                    MixedCell(channels, bn=bn)
                    if arch is None
                    else Cell(arch, channels, bn=bn)
                )
        self.layers = nn.ModuleList(layers)
        self.lastact = nn.Sequential(_norm(channels, bn), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        if arch is None:
            self.alphas = nn.Parameter(torch.ones(len(EDGES), len(OPS)))
        else:
            self.alphas = None

    def forward(self, x: Tensor) -> Tensor:
        """Return the logits of a batch ``x`` of shape ``(B, in_channels, H, W)``."""
        out = self.stem(x)
        for layer in self.layers:
            if isinstance(layer, MixedCell):
                assert self.alphas is not None
                out = layer(out, self.alphas)
            else:
                out = layer(out)
        out = self.pool(self.lastact(out)).flatten(1)
        logits: Tensor = self.classifier(out)
        return logits

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter except the architecture weights ``alphas``."""
        return [p for name, p in self.named_parameters() if name != "alphas"]
