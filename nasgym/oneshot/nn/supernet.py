"""A sparse-propagation NAS-Bench-201 weight-sharing supernet in PyTorch.

The network is :class:`nasgym.oneshot.nn.nb201.NB201Network`'s all-ops supernet
(every edge of
every cell holds the 5 NB201 ops, with weights shared by all subnetworks), run
*sparsely*: for a subnetwork (one op index per edge, :data:`nasgym.spaces.nb201.OPS`
order) only the chosen op of each edge runs, so only its weights get gradients
(AdvantageNAS, Sato et al. 2021, see
docs/methods/advantagenas.md#distribution-and-sparse-forward). Every cell uses the
same cell choice, as in NB201.

Two extras over the plain forward:

* ``scales``: an optional ``(K, 6)`` tensor multiplying each edge's output
  (``y_e = a_e * o_k(x)``), so that with ``scales`` of ones that require grad,
  ``d loss / d scales[e]`` is AdvantageNAS's per-edge advantage
  ``<dL/dy_e, o_k(x)>`` summed over the cells (the cell is shared);
* batched evaluation: ``K`` subnetworks evaluated on one image batch in one forward.
  On each edge the subnetworks are grouped by op, and each op runs once on the
  images of every subnetwork that chose it.

Batch normalisation uses batch statistics only (no running averages, as NB201's
own weight-sharing baselines do: running statistics of a supernet mix every
subnetwork), computed per subnetwork by :class:`GroupBatchNorm2d`, so a batched
evaluation equals ``K`` separate ones up to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from nasgym.error import InvalidArchitectureError
from nasgym.oneshot.nn.nb201 import MixedCell, NB201Network, cell_output
from nasgym.spaces.nb201 import EDGES, OPS

#: Index of the ``none`` op in :data:`OPS`.
NONE = OPS.index("none")

Choice = tuple[int, ...]


class _Layout:
    """How many images each subnetwork has in the current forward (shared by BNs)."""

    def __init__(self) -> None:
        self.per = 0


class GroupBatchNorm2d(nn.BatchNorm2d):
    """Batch norm with batch statistics computed separately per subnetwork.

    A batch of ``g * per`` images (``per`` images of each of ``g`` subnetworks, in
    blocks) is normalised block by block, with shared affine weights. No running
    statistics are kept, so training and evaluation normalise alike.
    """

    def __init__(self, channels: int, layout: _Layout) -> None:
        super().__init__(channels, affine=True, track_running_stats=False)
        self.layout = layout

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` per block of ``layout.per`` images."""
        n, c, h, w = x.shape
        per = self.layout.per
        if per <= 0 or n == per:
            return F.batch_norm(
                x, None, None, self.weight, self.bias, True, 0.0, self.eps
            )
        g = n // per
        # (g * per, c) -> (per, g * c): one fused batch norm over g * c channels.
        y = x.reshape(g, per, c, h, w).transpose(0, 1).reshape(per, g * c, h, w)
        y = F.batch_norm(
            y,
            None,
            None,
            self.weight.repeat(g),
            self.bias.repeat(g),
            True,
            0.0,
            self.eps,
        )
        return y.reshape(per, g, c, h, w).transpose(0, 1).reshape(n, c, h, w)


def _swap_batch_norms(module: nn.Module, layout: _Layout) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, GroupBatchNorm2d(child.num_features, layout))
        else:
            _swap_batch_norms(child, layout)


def check_choices(choices: Sequence[Sequence[int]]) -> list[Choice]:
    """Check subnetwork choices (one op index per NB201 edge) and return tuples.

    Raises:
        InvalidArchitectureError: Not a non-empty list of 6 op indices in ``0..4``.
    """
    out: list[Choice] = []
    for choice in choices:
        ops = tuple(int(o) for o in choice)
        if len(ops) != len(EDGES) or not all(0 <= o < len(OPS) for o in ops):
            raise InvalidArchitectureError(
                f"a subnetwork is {len(EDGES)} op indices in 0..{len(OPS) - 1} "
                f"(ops: {', '.join(OPS)}), got {list(choice)!r}"
            )
        out.append(ops)
    if not out:
        raise InvalidArchitectureError("no subnetwork given: pass at least one choice")
    return out


class NB201Supernet(nn.Module):
    """The NB201 weight-sharing supernet with sparse, batched forwards.

    Args:
        C: Channels of the first stage (NB201: 16).
        N: Cells per stage (NB201: 5).
        in_channels: Image channels.
        num_classes: Output classes.

    Example:
        >>> net = NB201Supernet(C=4, N=1, in_channels=1)
        >>> x = torch.zeros(3, 1, 16, 16)
        >>> net(x, [(3, 3, 3, 1, 3, 3), (0, 1, 2, 3, 4, 0)]).shape
        torch.Size([2, 3, 10])
    """

    def __init__(
        self, *, C: int = 16, N: int = 5, in_channels: int = 3, num_classes: int = 10
    ) -> None:
        super().__init__()
        self.net = NB201Network(
            None, C=C, N=N, in_channels=in_channels, num_classes=num_classes
        )
        self.net.alphas = None  # sparse sampling replaces DARTS' mixing weights
        self._layout = _Layout()
        _swap_batch_norms(self.net, self._layout)

    def op_modules(self) -> list[list[list[nn.Module]]]:
        """``[cell][edge][op]``: the op modules of every cell."""
        out: list[list[list[nn.Module]]] = []
        for layer in self.net.layers:
            if isinstance(layer, MixedCell):
                edges = []
                for edge in layer.edges:
                    assert isinstance(edge, nn.ModuleList)
                    edges.append(list(edge))
                out.append(edges)
        return out

    def forward(
        self,
        x: Tensor,
        choices: Sequence[Sequence[int]],
        scales: Tensor | None = None,
        offsets: Tensor | None = None,
    ) -> Tensor:
        """Logits of ``K`` subnetworks on one image batch.

        Args:
            x: Images ``(B, in_channels, H, W)``, shared by all subnetworks.
            choices: ``K`` subnetworks, each one op index per edge.
            scales: Optional ``(K, 6)`` edge-output scales (AdvantageNAS's ``a``).
            offsets: Optional ``(K, 6)`` scalars added to every element of each
                edge output (0 leaves the forward unchanged; their gradient is the
                sum of ``dL/dy_e``, which GDAS's straight-through weights of the
                unsampled ops receive). Only with ``K = 1``.

        Returns:
            Logits ``(K, B, num_classes)``.
        """
        picks = check_choices(choices)
        k, b = len(picks), x.shape[0]
        for name, extra in (("scales", scales), ("offsets", offsets)):
            if extra is not None and tuple(extra.shape) != (k, len(EDGES)):
                raise ValueError(
                    f"{name} must have shape ({k}, {len(EDGES)}), got "
                    f"{tuple(extra.shape)}"
                )
        if offsets is not None and k != 1:
            raise ValueError(f"offsets need a single subnetwork, got {k}")
        self._layout.per = b
        out = self.net.stem(x if k == 1 else x.repeat(k, 1, 1, 1))
        for layer in self.net.layers:
            if isinstance(layer, MixedCell):
                out = self._cell(layer, out, picks, b, scales, offsets)
            else:
                out = layer(out)
        out = self.net.pool(self.net.lastact(out)).flatten(1)
        logits: Tensor = self.net.classifier(out)
        return logits.reshape(k, b, -1)

    def _cell(
        self,
        cell: MixedCell,
        x: Tensor,
        picks: list[Choice],
        per: int,
        scales: Tensor | None,
        offsets: Tensor | None = None,
    ) -> Tensor:
        def terms(slot: int, node: Tensor) -> tuple[Tensor]:
            ops = cell.edges[slot]
            assert isinstance(ops, nn.ModuleList)
            edge_scales = None if scales is None else scales[:, slot]
            y = _edge(ops, node, [p[slot] for p in picks], per, edge_scales)
            return (y if offsets is None else y + offsets[0, slot],)

        return cell_output(x, terms)


def _edge(
    ops: nn.ModuleList, x: Tensor, picks: list[int], per: int, scales: Tensor | None
) -> Tensor:
    """One edge's output: each subnetwork's chosen op on its block of images."""
    k = len(picks)
    if all(p == picks[0] for p in picks):
        op = picks[0]
        y: Tensor = x.mul(0.0) if op == NONE else ops[op](x)
        if scales is None:
            return y
        if k == 1:
            return y * scales[0]
        return y * scales.repeat_interleave(per).view(-1, 1, 1, 1)
    out = torch.zeros_like(x)
    rows = torch.arange(k * per, device=x.device).view(k, per)
    for op in sorted(set(picks)):
        if op == NONE:
            continue
        members = [i for i, p in enumerate(picks) if p == op]
        index = rows[members].reshape(-1)
        part: Tensor = ops[op](x.index_select(0, index))
        out = out.index_copy(0, index, part)
    if scales is None:
        return out
    return out * scales.repeat_interleave(per).view(-1, 1, 1, 1)
