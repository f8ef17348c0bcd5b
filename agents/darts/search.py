"""DARTS (first and second order) and GDAS on the dense NB201 supernet.

The supernet is :class:`nasgym.oneshot.nn.nb201.NB201Network` built with
``arch=None`` (every edge of every cell holds the 5 NB201 ops), with one shared
architecture parameter ``alpha`` of shape ``(6, 5)`` (edge x op, in
:data:`nasgym.spaces.nb201.OPS` order) for all cells, as in NB201's one-shot
baselines. Batch normalisation uses batch statistics only.

Each search step is bilevel: an architecture step on a *validation* batch (Adam on
``alpha`` only), then a weight step on a *training* batch (SGD on the weights only):

* ``"darts"`` (first order): edge output ``sum_o softmax(alpha_e)_o op_o(x)``;
  the architecture gradient is ``dL_val(w, alpha)/dalpha``.
* ``"darts2"`` (second order): the gradient of ``L_val(w', alpha)`` at the unrolled
  weights ``w' = w - xi (mu m + dL_train/dw + lambda w)`` (``xi`` the weight
  learning rate, ``m`` SGD's momentum buffer, ``lambda`` the weight decay), i.e.
  ``dL_val(w')/dalpha - xi H dL_val(w')/dw'`` with the mixed Hessian-vector product
  ``H v`` of ``L_train`` taken by central finite differences at ``w +- r v``,
  ``r = unrolled_eps / ||v||``.
* ``"gdas"``: per forward, one Gumbel-softmax sample per edge at temperature
  ``tau`` (linear from ``tau_max`` to ``tau_min`` over the search); only the sampled
  op runs, multiplied by the straight-through hard weight ``h = onehot - sg[p] + p``;
  the other ops contribute their ``h`` (value 0), so every op's ``alpha`` gets a
  gradient. The weight step uses a fresh sample as well.

The derived cell is the argmax of ``alpha`` per edge (NB201's discretisation,
``none`` included).

``DartsConfig.candidates`` restricts each edge to a subset of the ops (RADARS hands
DARTS the subspace its pruning left): the pruned ops are removed from the supernet
(no parameters, never run) and masked out of ``alpha`` (weight exactly 0, never
sampled, never derived).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import (
    InvalidArchitectureError,
    UnknownOptionError,
    require,
    unknown_option,
)

from ..checkpoint import (
    DEVICE_SETTINGS,
    check_settings,
    check_version,
    read_checkpoint,
    save_atomic,
)

try:
    import torch
    from torch import Tensor, nn
    from torch.func import functional_call
    from torch.nn import functional as F
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="DARTS and GDAS")
    raise

from nasgym.oneshot.datasets import ImageSplit
from nasgym.oneshot.nn.nb201 import MixedCell, NB201Network, cell_output
from nasgym.oneshot.supernet import load_split, resolve_auto_device, torch_seed
from nasgym.spaces.nb201 import EDGES, OPS

#: Search methods.
METHODS: tuple[str, ...] = ("darts", "darts2", "gdas")
#: NB201's DARTS/GDAS search: 50 epochs of 391 steps (25k CIFAR-10 training images,
#: batch 64); the default architecture learning rate is scaled to it.
PAPER_STEPS = 50 * 391
#: Checkpoint format version.
CHECKPOINT_VERSION = 1

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DartsConfig:
    """Settings of one DARTS / GDAS search.

    Attributes:
        method: One of :data:`METHODS`.
        steps: Search steps (one architecture and one weight step each).
        dataset: Supernet dataset keyword (:func:`nasgym.oneshot.supernet.load_split`).
        data_dir: CIFAR directory (CIFAR datasets only).
        channels: Channels ``C`` of the first stage (NB201: 16).
        num_cells: Cells per stage ``N`` (NB201: 5).
        batch_size: Images per weight step and per architecture step.
        eval_batch_size: Images per forward of the final evaluation.
        image_size: Side length of the offline sets (default 16).
        w_lr: Initial weight learning rate (cosine to ``w_lr_min``).
        w_lr_min: Final weight learning rate.
        w_momentum: SGD momentum.
        w_weight_decay: SGD weight decay.
        w_grad_clip: Gradient-norm clip of weight steps (``None``: off).
        arch_lr: Adam learning rate of ``alpha``; ``None`` scales NB201's 3e-4 to the
            search length: ``3e-4 * PAPER_STEPS / steps`` (at most 3e-4 x 100).
        arch_betas: Adam betas.
        arch_weight_decay: Adam weight decay (L2, added to the gradient).
        alpha_init_std: ``alpha`` starts as ``alpha_init_std * N(0, 1)``.
        tau_max: GDAS's first temperature.
        tau_min: GDAS's last temperature.
        unrolled_eps: DARTS-2's finite-difference radius (over ``||v||``).
        seed: Seeds the weights, ``alpha``, the minibatches and the Gumbel noise.
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        amp: bfloat16 autocast on CUDA (ignored on the CPU).
        candidates: Per edge, the op indices (into :data:`OPS`) the search may
            use; ``None``: all five on every edge. See :func:`check_candidates`.
    """

    method: str = "darts"
    steps: int = 200
    dataset: str = "digits"
    data_dir: str | None = None
    channels: int = 8
    num_cells: int = 1
    batch_size: int = 64
    eval_batch_size: int = 256
    image_size: int | None = None
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    w_grad_clip: float | None = 5.0
    arch_lr: float | None = None
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    alpha_init_std: float = 1e-3
    tau_max: float = 10.0
    tau_min: float = 0.1
    unrolled_eps: float = 0.01
    seed: int = 0
    device: str = "cpu"
    amp: bool = True
    candidates: tuple[tuple[int, ...], ...] | None = None

    def check(self) -> None:
        """Raise :class:`UnknownOptionError` naming the first bad setting."""
        if self.candidates is not None:
            check_candidates(self.candidates)
        if self.method not in METHODS:
            raise unknown_option("search method", self.method, METHODS)
        for name in ("steps", "channels", "num_cells", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UnknownOptionError(
                    f"{name} must be a positive int, got {value!r}"
                )
        for name in ("w_lr", "w_lr_min", "w_momentum", "w_weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise UnknownOptionError(
                    f"{name} must be a finite number, got {value!r}"
                )
            if value < 0:
                raise UnknownOptionError(f"{name} must be >= 0, got {value!r}")
        for name in ("tau_max", "tau_min", "unrolled_eps"):
            if not getattr(self, name) > 0:
                raise UnknownOptionError(
                    f"{name} must be positive, got {getattr(self, name)!r}"
                )
        if self.tau_min > self.tau_max:
            raise UnknownOptionError(
                f"tau_min ({self.tau_min}) must not exceed tau_max ({self.tau_max})"
            )
        if self.arch_lr is not None and not self.arch_lr > 0:
            raise UnknownOptionError(f"arch_lr must be positive, got {self.arch_lr!r}")
        if self.w_grad_clip is not None and not self.w_grad_clip > 0:
            raise UnknownOptionError(
                f"w_grad_clip must be positive or None, got {self.w_grad_clip!r}"
            )

    @property
    def resolved_arch_lr(self) -> float:
        """The architecture learning rate used (see :attr:`arch_lr`)."""
        if self.arch_lr is not None:
            return float(self.arch_lr)
        return 3e-4 * min(100.0, max(1.0, PAPER_STEPS / self.steps))

    def tau(self, step: int) -> float:
        """GDAS's temperature at ``step`` (0-based): linear from max to min."""
        frac = step / max(1, self.steps - 1)
        return self.tau_max - (self.tau_max - self.tau_min) * min(1.0, frac)

    def w_lr_at(self, step: int) -> float:
        """The weight learning rate at ``step``: cosine, ``w_lr`` to ``w_lr_min``."""
        frac = min(1.0, step / self.steps)
        return self.w_lr_min + 0.5 * (self.w_lr - self.w_lr_min) * (
            1 + math.cos(math.pi * frac)
        )


def check_candidates(
    candidates: Sequence[Sequence[int]],
) -> tuple[tuple[int, ...], ...]:
    """Check per-edge op candidates and return them as sorted tuples.

    Args:
        candidates: One sequence of op indices (into :data:`OPS`) per edge of
            :data:`EDGES`, each non-empty and without repeats.

    Raises:
        UnknownOptionError: Not one non-empty set of valid op indices per edge.

    Example:
        >>> check_candidates([[3, 1], [0], [1, 2], [3], [4], [1, 3]])
        ((1, 3), (0,), (1, 2), (3,), (4,), (1, 3))
    """
    if isinstance(candidates, (str, bytes)) or len(candidates) != len(EDGES):
        raise UnknownOptionError(
            f"candidates must list the allowed op indices of each of the "
            f"{len(EDGES)} edges, got {candidates!r}"
        )
    out: list[tuple[int, ...]] = []
    for slot, ops in enumerate(candidates):
        picked = list(ops)
        if not picked or any(
            isinstance(k, bool)
            or not isinstance(k, (int, np.integer))
            or not 0 <= int(k) < len(OPS)
            for k in picked
        ):
            raise UnknownOptionError(
                f"candidates[{slot}] must be a non-empty list of op indices in "
                f"0..{len(OPS) - 1} ({', '.join(OPS)}), got {ops!r}"
            )
        if len(set(int(k) for k in picked)) != len(picked):
            raise UnknownOptionError(f"candidates[{slot}] repeats an op: {ops!r}")
        out.append(tuple(sorted(int(k) for k in picked)))
    return tuple(out)


def candidate_mask(candidates: Sequence[Sequence[int]] | None) -> Tensor:
    """A ``(6, 5)`` bool mask, True where an op may be used (all without a list)."""
    mask = torch.ones(len(EDGES), len(OPS), dtype=torch.bool)
    if candidates is not None:
        mask[:] = False
        for slot, ops in enumerate(check_candidates(candidates)):
            mask[slot, list(ops)] = True
    return mask


class PrunedOp(nn.Module):
    """Placeholder of an op removed from a restricted supernet (never run)."""

    def forward(self, x: Tensor) -> Tensor:
        """Refuse: a pruned op has no weights and takes no part in the forward."""
        raise InvalidArchitectureError(
            "this op was pruned from the supernet (DartsConfig.candidates); "
            "use only cells of each edge's kept ops"
        )


def _batch_stat_norms(module: nn.Module) -> None:
    """Replace every BatchNorm2d by one with batch statistics only (no running)."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(
                module,
                name,
                nn.BatchNorm2d(
                    child.num_features, affine=True, track_running_stats=False
                ),
            )
        else:
            _batch_stat_norms(child)


class MixedSupernet(nn.Module):
    """The dense NB201 supernet whose edges are mixed by given ``(6, 5)`` weights.

    ``forward(x, weights)`` runs every op and sums ``weights[e, o] * op_o(x)``;
    ``forward(x, weights, picks)`` (GDAS) runs only ``picks[e]`` on edge ``e`` and
    adds the other ops' weights as constants (0 for straight-through one-hot
    weights), so gradients reach every weight of an edge.

    With ``candidates`` (see :func:`check_candidates`) every other op is replaced by
    a parameter-free :class:`PrunedOp` after initialisation (the kept ops start
    with the weights the full supernet of the same seed would give them) and the
    mixed forward runs only the kept ops.

    Example:
        >>> net = MixedSupernet(C=2, N=1, in_channels=1, num_classes=10)
        >>> net(torch.zeros(4, 1, 8, 8), torch.ones(6, 5) / 5).shape
        torch.Size([4, 10])
    """

    def __init__(
        self,
        *,
        C: int,
        N: int,
        in_channels: int,
        num_classes: int,
        candidates: Sequence[Sequence[int]] | None = None,
    ) -> None:
        super().__init__()
        self.net = NB201Network(
            None, C=C, N=N, in_channels=in_channels, num_classes=num_classes
        )
        self.net.alphas = None  # the search owns alpha
        _batch_stat_norms(self.net)
        self.candidates = None if candidates is None else check_candidates(candidates)
        if self.candidates is not None:
            for cell in self.cells():
                for slot, kept in enumerate(self.candidates):
                    ops = cell.edges[slot]
                    assert isinstance(ops, nn.ModuleList)
                    for k in range(len(OPS)):
                        if k not in kept:
                            ops[k] = PrunedOp()

    def cells(self) -> list[MixedCell]:
        """The supernet's cells, in order."""
        return [layer for layer in self.net.layers if isinstance(layer, MixedCell)]

    def forward(
        self, x: Tensor, weights: Tensor, picks: list[int] | None = None
    ) -> Tensor:
        """Logits of the mixed (or, with ``picks``, single-op) supernet."""
        out = self.net.stem(x)
        for layer in self.net.layers:
            if isinstance(layer, MixedCell):
                if picks is not None:
                    out = _single_op_cell(layer, out, weights, picks)
                elif self.candidates is not None:
                    out = _restricted_cell(layer, out, weights, self.candidates)
                else:
                    out = layer(out, weights)
            else:
                out = layer(out)
        out = self.net.pool(self.net.lastact(out)).flatten(1)
        logits: Tensor = self.net.classifier(out)
        return logits


def _single_op_cell(
    cell: MixedCell, x: Tensor, weights: Tensor, picks: list[int]
) -> Tensor:
    def terms(slot: int, node: Tensor) -> Iterator[Tensor]:
        ops = cell.edges[slot]
        assert isinstance(ops, nn.ModuleList)
        chosen = picks[slot]
        yield weights[slot, chosen] * ops[chosen](node)  # first: sets the shape
        for k in range(len(OPS)):
            if k != chosen:
                yield weights[slot, k]  # value 0, gradient 1 (GDAS)

    return cell_output(x, terms)


def _restricted_cell(
    cell: MixedCell,
    x: Tensor,
    weights: Tensor,
    candidates: tuple[tuple[int, ...], ...],
) -> Tensor:
    def terms(slot: int, node: Tensor) -> Iterator[Tensor]:
        ops = cell.edges[slot]
        assert isinstance(ops, nn.ModuleList)
        for k in candidates[slot]:
            yield weights[slot, k] * ops[k](node)

    return cell_output(x, terms)


class MinibatchStream:
    """Seeded minibatch indices of one split: a fresh permutation per pass.

    ``next()`` gives sorted indices; ``state()``/``restore()`` make it resumable.
    """

    def __init__(self, n: int, batch: int, seed: int) -> None:
        self.n, self.batch = n, min(batch, n)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(n)
        self.pos = 0

    def next(self) -> NDArray[np.intp]:
        """The next batch of indices (sorted); a new permutation after each pass."""
        if self.pos + self.batch > self.n:
            self.order = self.rng.permutation(self.n)
            self.pos = 0
        index = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return np.sort(index)

    def state(self) -> dict[str, Any]:
        """The stream's position and generator state (JSON-able)."""
        return {
            "rng": self.rng.bit_generator.state,
            "order": self.order.tolist(),
            "pos": self.pos,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state`."""
        self.rng.bit_generator.state = state["rng"]
        self.order = np.asarray(state["order"], dtype=np.intp)
        self.pos = int(state["pos"])


@dataclass
class StepLog:
    """What one search step measured."""

    step: int
    train_loss: float
    val_loss: float
    tau: float | None
    arch: list[int]


@dataclass
class SearchResult:
    """The outcome of :meth:`DartsSearch.run`.

    Attributes:
        arch: Derived cell (argmax of ``alpha`` per edge).
        probabilities: ``softmax(alpha)``, ``(6, 5)``.
        steps: Search steps done in total (resumed ones included).
        wall_s: Seconds of search in this call.
        train_images_per_s: Images (weight and architecture batches) per second.
        history: One :class:`StepLog` per step of this call.
    """

    arch: tuple[int, ...]
    probabilities: FloatArray
    steps: int
    wall_s: float
    train_images_per_s: float
    history: list[StepLog] = field(default_factory=list)


class DartsSearch:
    """One DARTS / DARTS-2 / GDAS search with its data, optimisers and device.

    Args:
        config: The settings (checked here).
        split: Image data; default: ``load_split(config.dataset, ...)``.

    Raises:
        UnknownOptionError: A bad setting or an unknown dataset.
        BenchmarkDataMissingError: CIFAR without a complete ``data_dir``.
        DeviceUnavailableError: CUDA requested without a GPU.
    """

    def __init__(self, config: DartsConfig, split: ImageSplit | None = None) -> None:
        config.check()
        self.config = config
        self.device = resolve_auto_device(config.device)
        self.split = (
            split
            if split is not None
            else load_split(
                config.dataset, data_dir=config.data_dir, image_size=config.image_size
            )
        )
        seed = torch_seed(config.seed)
        torch.manual_seed(seed)
        in_channels = int(self.split.x_train.shape[1])
        self.model = MixedSupernet(
            C=config.channels,
            N=config.num_cells,
            in_channels=in_channels,
            num_classes=self.split.num_classes,
            candidates=config.candidates,
        ).to(self.device)
        #: ``(6, 5)`` bool: the ops each edge may use (``config.candidates``).
        self.mask = candidate_mask(config.candidates).to(self.device)
        init = torch.Generator().manual_seed(seed)
        self.alpha = nn.Parameter(
            (config.alpha_init_std * torch.randn(len(EDGES), len(OPS), generator=init))
            .to(self.device)
            .requires_grad_(True)
        )
        self.w_optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=config.w_lr,
            momentum=config.w_momentum,
            weight_decay=config.w_weight_decay,
        )
        self.arch_optimizer = torch.optim.Adam(
            [self.alpha],
            lr=config.resolved_arch_lr,
            betas=config.arch_betas,
            weight_decay=config.arch_weight_decay,
        )
        self.gumbel = torch.Generator().manual_seed(seed + 1)
        self.train_stream = MinibatchStream(
            len(self.split.y_train), config.batch_size, seed
        )
        self.val_stream = MinibatchStream(
            len(self.split.y_val), config.batch_size, seed + 7
        )
        self.x_train = torch.from_numpy(np.array(self.split.x_train))
        self.y_train = torch.from_numpy(np.array(self.split.y_train))
        self.x_val = torch.from_numpy(np.array(self.split.x_val))
        self.y_val = torch.from_numpy(np.array(self.split.y_val))
        self.step = 0

    # -- pieces -----------------------------------------------------------------

    def masked_alpha(self) -> Tensor:
        """``alpha`` with the pruned ops (see ``candidates``) set to ``-inf``."""
        if self.config.candidates is None:
            return self.alpha
        return self.alpha.masked_fill(~self.mask, float("-inf"))

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every network weight (not ``alpha``)."""
        return list(self.model.parameters())

    def _batch(self, split: str) -> tuple[Tensor, Tensor]:
        if split == "train":
            index = torch.from_numpy(self.train_stream.next())
            x, y = self.x_train[index], self.y_train[index]
        else:
            index = torch.from_numpy(self.val_stream.next())
            x, y = self.x_val[index], self.y_val[index]
        return x.to(self.device), y.to(self.device)

    def _autocast(self) -> Any:
        if self.device.type == "cuda" and self.config.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    def sample_gdas(self, tau: float) -> tuple[Tensor, list[int]]:
        """A Gumbel-softmax sample: straight-through hard weights and the picks."""
        logp = F.log_softmax(self.masked_alpha(), dim=-1)
        while True:
            u = torch.rand(logp.shape, generator=self.gumbel, dtype=torch.float64)
            gumbel = -torch.log(-torch.log(u.clamp_min(1e-20)))
            probs = F.softmax((logp + gumbel.to(logp)) / tau, dim=-1)
            if bool(torch.isfinite(probs).all()):
                break
        index = probs.argmax(dim=-1)
        one_hot = F.one_hot(index, len(OPS)).to(probs)
        hard = one_hot - probs.detach() + probs
        return hard, [int(i) for i in index.tolist()]

    def _loss(
        self, x: Tensor, y: Tensor, weights: Tensor, picks: list[int] | None
    ) -> Tensor:
        with self._autocast():
            logits = self.model(x, weights, picks)
        return F.cross_entropy(full_precision(logits), y)

    def arch_weights(self, tau: float | None = None) -> tuple[Tensor, list[int] | None]:
        """Edge weights of a forward: ``softmax(alpha)`` or a GDAS sample."""
        if self.config.method == "gdas":
            return self.sample_gdas(self.config.tau(self.step) if tau is None else tau)
        return F.softmax(self.masked_alpha(), dim=-1), None

    def alpha_step(self, x: Tensor, y: Tensor, xt: Tensor, yt: Tensor) -> float:
        """One Adam step of ``alpha`` on a validation batch ``(x, y)``.

        ``(xt, yt)`` is the training batch of DARTS-2's unrolled step (unused
        otherwise). Only ``alpha`` gets a gradient: weight ``.grad`` stay ``None``.

        Returns:
            The validation loss before the step.
        """
        self.w_optimizer.zero_grad(set_to_none=True)
        self.arch_optimizer.zero_grad(set_to_none=True)
        if self.config.method == "darts2":
            loss, grad = self.unrolled_alpha_grad(x, y, xt, yt)
        else:
            weights, picks = self.arch_weights()
            loss = self._loss(x, y, weights, picks)
            (grad,) = torch.autograd.grad(loss, [self.alpha])
        self.alpha.grad = grad.detach()
        self.arch_optimizer.step()
        return float(loss.detach())

    def weight_step(self, x: Tensor, y: Tensor) -> float:
        """One SGD step of the weights on a training batch; ``alpha`` gets no grad.

        Returns:
            The training loss before the step.
        """
        self.w_optimizer.zero_grad(set_to_none=True)
        self.arch_optimizer.zero_grad(set_to_none=True)
        for group in self.w_optimizer.param_groups:
            group["lr"] = self.config.w_lr_at(self.step)
        weights, picks = self.arch_weights()
        loss = self._loss(x, y, weights.detach(), picks)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.config.w_grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.w_grad_clip)
        self.w_optimizer.step()
        return float(loss.detach())

    def _train_loss_at(
        self, params: Mapping[str, Tensor], x: Tensor, y: Tensor, weights: Tensor
    ) -> Tensor:
        with self._autocast():
            logits = functional_call(self.model, dict(params), (x, weights))
        return F.cross_entropy(full_precision(logits), y)

    def unrolled_alpha_grad(
        self, x: Tensor, y: Tensor, xt: Tensor, yt: Tensor
    ) -> tuple[Tensor, Tensor]:
        """DARTS-2's architecture gradient (see the module doc).

        Returns:
            ``L_val(w', alpha)`` and its approximate total derivative in ``alpha``.
        """
        names = [n for n, _ in self.model.named_parameters()]
        params = [p for _, p in self.model.named_parameters()]
        xi = self.config.w_lr_at(self.step)
        mu, lam = self.config.w_momentum, self.config.w_weight_decay
        weights = F.softmax(self.masked_alpha(), dim=-1)
        # w' = w - xi (mu m + g + lam w), without touching the model.
        current = dict(zip(names, params, strict=True))
        train_loss = self._train_loss_at(current, xt, yt, weights.detach())
        grads = torch.autograd.grad(train_loss, params)
        unrolled: dict[str, Tensor] = {}
        for name, p, g in zip(names, params, grads, strict=True):
            buf = self.w_optimizer.state.get(p, {}).get("momentum_buffer")
            moment = mu * buf if buf is not None else torch.zeros_like(p)
            unrolled[name] = (p - xi * (moment + g + lam * p)).detach().requires_grad_()
        val_loss = self._train_loss_at(unrolled, x, y, weights)
        dalpha, *dw = torch.autograd.grad(
            val_loss, [self.alpha, *(unrolled[n] for n in names)]
        )
        norm = torch.sqrt(torch.stack([(v.float() ** 2).sum() for v in dw]).sum())
        r = self.config.unrolled_eps / max(float(norm), 1e-12)
        grads_at: list[Tensor] = []
        for sign in (1.0, -1.0):
            shifted = {
                n: (p + sign * r * v).detach()
                for n, p, v in zip(names, params, dw, strict=True)
            }
            loss = self._train_loss_at(
                shifted, xt, yt, F.softmax(self.masked_alpha(), dim=-1)
            )
            (g_alpha,) = torch.autograd.grad(loss, [self.alpha])
            grads_at.append(g_alpha)
        hessian_vector = (grads_at[0] - grads_at[1]) / (2 * r)
        return val_loss.detach(), dalpha - xi * hessian_vector

    def search_step(self) -> StepLog:
        """One bilevel step: ``alpha`` on a validation batch, then the weights."""
        tau = self.config.tau(self.step) if self.config.method == "gdas" else None
        xv, yv = self._batch("val")
        xt, yt = self._batch("train")
        val_loss = self.alpha_step(xv, yv, xt, yt)
        train_loss = self.weight_step(xt, yt)
        self.step += 1
        return StepLog(self.step, train_loss, val_loss, tau, list(self.derive()))

    # -- outcome ----------------------------------------------------------------

    def derive(self) -> tuple[int, ...]:
        """The derived cell: argmax of ``alpha`` per edge (``none`` included).

        With candidates, the argmax over each edge's kept ops.
        """
        best = self.masked_alpha().detach().argmax(dim=-1)
        return tuple(int(i) for i in best.tolist())

    def probabilities(self) -> FloatArray:
        """``softmax(alpha)`` as a ``(6, 5)`` float64 array."""
        probs = F.softmax(self.masked_alpha().detach().double(), dim=-1)
        return np.asarray(probs.cpu().numpy(), dtype=np.float64)

    @torch.no_grad()
    def evaluate(self, arch: tuple[int, ...] | None = None) -> float:
        """Validation accuracy (%) of a cell with the shared weights (whole split).

        The cell runs alone (one-hot edge weights); batch statistics per batch.
        """
        picks = list(self.derive() if arch is None else arch)
        one_hot = F.one_hot(torch.tensor(picks), len(OPS)).float().to(self.device)
        correct, size = 0, self.config.eval_batch_size
        for start in range(0, len(self.y_val), size):
            x = self.x_val[start : start + size].to(self.device)
            y = self.y_val[start : start + size].to(self.device)
            with self._autocast():
                logits = self.model(x, one_hot, picks)
            correct += int((full_precision(logits).argmax(dim=1) == y).sum())
        return 100.0 * correct / len(self.y_val)

    def run(
        self,
        steps: int | None = None,
        *,
        progress: Callable[[StepLog], None] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 0,
    ) -> SearchResult:
        """Search until ``steps`` steps are done in total (default: the config's).

        Args:
            steps: Total steps to reach (a resumed search continues from its step).
            progress: Called after every step.
            checkpoint: Where :meth:`save_checkpoint` writes.
            checkpoint_every: Save every this many steps and at the end (0: only at
                the end, when ``checkpoint`` is given).
        """
        total = self.config.steps if steps is None else steps
        history: list[StepLog] = []
        tick = time.perf_counter()
        start = self.step
        while self.step < total:
            log = self.search_step()
            history.append(log)
            if progress is not None:
                progress(log)
            if checkpoint is not None and checkpoint_every > 0:
                if self.step % checkpoint_every == 0:
                    self.save_checkpoint(checkpoint)
        wall = time.perf_counter() - tick
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        images = 2 * self.config.batch_size * (self.step - start)
        return SearchResult(
            arch=self.derive(),
            probabilities=self.probabilities(),
            steps=self.step,
            wall_s=wall,
            train_images_per_s=images / wall if wall > 0 else float("nan"),
            history=history,
        )

    # -- checkpoints ------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed search needs to continue bit-for-bit."""
        return {
            "version": CHECKPOINT_VERSION,
            "config": asdict(self.config),
            "step": self.step,
            "model": self.model.state_dict(),
            "alpha": self.alpha.detach().cpu().clone(),
            "w_optimizer": self.w_optimizer.state_dict(),
            "arch_optimizer": self.arch_optimizer.state_dict(),
            "gumbel": self.gumbel.get_state(),
            "train_stream": self.train_stream.state(),
            "val_stream": self.val_stream.state(),
        }

    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`state_dict` atomically (temporary file, then rename)."""
        save_atomic(self.state_dict(), path)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Continue from a checkpoint of a search with the same settings.

        Raises:
            CorruptDataError: Not a readable checkpoint, or one of a search whose
                settings differ (the message names them).
        """
        state = read_checkpoint(path, "DARTS/GDAS")
        self.load_state_dict(state, source=str(path))

    def load_state_dict(self, state: dict[str, Any], *, source: str = "state") -> None:
        """Continue from a :meth:`state_dict` of a search with the same settings.

        Raises:
            CorruptDataError: Another version, or other settings (named).
        """
        check_version(state, CHECKPOINT_VERSION, source)
        # The step count sets the schedules, so it must match too.
        check_settings(self.config, state["config"], source, skip=DEVICE_SETTINGS)
        self.model.load_state_dict(state["model"])
        with torch.no_grad():
            self.alpha.copy_(state["alpha"].to(self.device))
        self.w_optimizer.load_state_dict(state["w_optimizer"])
        self.arch_optimizer.load_state_dict(state["arch_optimizer"])
        self.gumbel.set_state(state["gumbel"])
        self.train_stream.restore(state["train_stream"])
        self.val_stream.restore(state["val_stream"])
        self.step = int(state["step"])


def full_precision(t: Tensor) -> Tensor:
    """``t`` in float32 when autocast made it half precision (else unchanged)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


__all__ = [
    "METHODS",
    "PAPER_STEPS",
    "DartsConfig",
    "DartsSearch",
    "MinibatchStream",
    "MixedSupernet",
    "PrunedOp",
    "SearchResult",
    "StepLog",
    "candidate_mask",
    "check_candidates",
    "full_precision",
]
