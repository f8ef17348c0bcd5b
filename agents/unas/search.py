"""UNAS on the dense NB201 supernet (see docs/methods/unas.md).

The architecture distribution ``q`` is one categorical over the 5 NB201 ops per edge,
``softmax(alpha[e])`` with ``alpha`` of shape ``(6, 5)`` shared by every cell (as in
:mod:`nasgym_agents.darts`, whose supernet :class:`~nasgym_agents.darts.MixedSupernet`,
minibatch streams and NB201 discretisation this module reuses).

Each search step:

1. **Architecture step.** On one training batch and one validation batch, the loss of
   an architecture ``a`` is the generalisation-gap objective
   ``f_gen(a) = L_train(a) + lambda |L_val(a) - L_train(a)|`` plus the latency term
   ``c_t relu(lat(a) - target)``. A discrete cell ``z`` (one op per edge) runs alone in
   the supernet and takes its *measured* latency from HW-NAS-Bench-360 (not
   differentiable); a relaxed cell (a point of the per-edge simplex) runs the dense
   supernet mixed by it and takes the linear latency surrogate. The gradient of
   ``E_q[f]`` in ``alpha`` is estimated by the ``"rebar"`` (unified) or
   ``"reinforce"`` estimator (:mod:`.estimators`) and applied by Adam with a cosine
   learning rate.
2. **Weight step.** A fresh ``z ~ q`` runs alone on another training batch; SGD on
   the weights (cosine learning rate, as DARTS).

``c_t`` ramps linearly from 0 to ``latency_weight`` over ``latency_ramp_steps``. The
derived cell is the most likely one, the argmax of ``alpha`` per edge. The entropy
of ``q`` is logged every step.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError, require, unknown_option

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
    from torch.nn import functional as F
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="UNAS")
    raise

from nasgym.oneshot.datasets import ImageSplit
from nasgym.oneshot.supernet import load_split, resolve_auto_device, torch_seed
from nasgym.spaces.nb201 import EDGES, OPS

from ..darts.search import MinibatchStream, MixedSupernet, full_precision
from .estimators import (
    ESTIMATORS,
    Estimate,
    entropy,
    rebar_estimate,
    reinforce_estimate,
)
from .latency import (
    LatencyTable,
    LinearLatencySurrogate,
    check_target,
    penalty_weight,
)

#: Checkpoint format version.
CHECKPOINT_VERSION = 1

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class UnasConfig:
    """Settings of one UNAS search. ``[I]`` marks nasgym defaults (not the paper's).

    Attributes:
        estimator: ``"rebar"`` (UNAS's unified estimator) or ``"reinforce"``.
        steps: Search steps (one architecture and one weight step each).
        dataset: Supernet dataset keyword (:func:`nasgym.oneshot.supernet.load_split`).
        data_dir: CIFAR directory (CIFAR datasets only).
        channels: Channels ``C`` of the first stage (NB201: 16) [I: 8].
        num_cells: Cells per stage ``N`` (NB201: 5) [I: 1].
        batch_size: Images per batch (train, validation and weight step).
        eval_batch_size: Images per forward of the final evaluation.
        image_size: Side length of the offline sets (default 16).
        w_lr: Initial weight learning rate (cosine to ``w_lr_min``), as DARTS.
        w_lr_min: Final weight learning rate.
        w_momentum: SGD momentum.
        w_weight_decay: SGD weight decay.
        w_grad_clip: Gradient-norm clip of weight steps (``None``: off).
        arch_lr: Adam learning rate of ``alpha`` (paper: 1e-3), cosine to
            ``arch_lr_min``.
        arch_lr_min: Final architecture learning rate [I: 1e-4].
        arch_betas: Adam betas [I: PyTorch's].
        alpha_init_std: ``alpha`` starts as ``alpha_init_std * N(0, 1)``.
        gap_lambda: ``lambda`` of the generalisation-gap objective (paper: 0.5).
        tau: Temperature of the Gumbel-softmax relaxations [I: 1.0].
        baseline_decay: EMA decay of the ``"reinforce"`` baseline [I: 0.9].
        latency_weight: Final ``c`` of ``c relu(lat - target)``, per ms [I: 0.2];
            0 turns the latency term off (no table needed).
        latency_ramp_steps: Steps over which ``c`` ramps from 0 (``None``: half the
            search) [I].
        latency_target_ms: Latency target in ms [I: 3.0, see the docs page].
        latency_device: HW-NAS-Bench-360 device/runtime [I: ``"pi5-litert"``].
        latency_fit_samples: Cells the linear surrogate is fitted on (80/20 split;
            paper: 10,000).
        seed: Seeds the weights, ``alpha``, the minibatches, the surrogate's sample
            and the Gumbel noise.
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        amp: bfloat16 autocast on CUDA (ignored on the CPU).
    """

    estimator: str = "rebar"
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
    arch_lr: float = 1e-3
    arch_lr_min: float = 1e-4
    arch_betas: tuple[float, float] = (0.9, 0.999)
    alpha_init_std: float = 1e-3
    gap_lambda: float = 0.5
    tau: float = 1.0
    baseline_decay: float = 0.9
    latency_weight: float = 0.2
    latency_ramp_steps: int | None = None
    latency_target_ms: float = 3.0
    latency_device: str = "pi5-litert"
    latency_fit_samples: int = 10_000
    seed: int = 0
    device: str = "cpu"
    amp: bool = True

    def check(self) -> None:
        """Raise :class:`UnknownOptionError` naming the first bad setting."""
        if self.estimator not in ESTIMATORS:
            raise unknown_option("UNAS estimator", self.estimator, ESTIMATORS)
        for name in ("steps", "channels", "num_cells", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UnknownOptionError(
                    f"{name} must be a positive int, got {value!r}"
                )
        for name in (
            "w_lr",
            "w_lr_min",
            "w_momentum",
            "w_weight_decay",
            "arch_lr_min",
            "alpha_init_std",
            "gap_lambda",
            "latency_weight",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise UnknownOptionError(
                    f"{name} must be a finite number >= 0, got {value!r}"
                )
        for name in ("arch_lr", "tau"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise UnknownOptionError(f"{name} must be positive, got {value!r}")
        if self.arch_lr_min > self.arch_lr:
            raise UnknownOptionError(
                f"arch_lr_min ({self.arch_lr_min}) must not exceed arch_lr "
                f"({self.arch_lr})"
            )
        if not 0 <= self.baseline_decay < 1:
            raise UnknownOptionError(
                f"baseline_decay must be in [0, 1), got {self.baseline_decay!r}"
            )
        ramp = self.latency_ramp_steps
        if ramp is not None and (
            isinstance(ramp, bool) or not isinstance(ramp, int) or ramp < 0
        ):
            raise UnknownOptionError(
                f"latency_ramp_steps must be an int >= 0 or None, got {ramp!r}"
            )
        check_target(self.latency_target_ms)
        from nasgym.benchmarks.hw360 import DEVICES

        if self.latency_device not in DEVICES:
            raise unknown_option(
                "HW-NAS-Bench-360 latency device", self.latency_device, DEVICES
            )
        if self.w_grad_clip is not None and not self.w_grad_clip > 0:
            raise UnknownOptionError(
                f"w_grad_clip must be positive or None, got {self.w_grad_clip!r}"
            )

    @property
    def uses_latency(self) -> bool:
        """Whether the latency term is on (``latency_weight > 0``)."""
        return self.latency_weight > 0

    @property
    def resolved_ramp_steps(self) -> int:
        """Steps of the ``c`` ramp (see :attr:`latency_ramp_steps`)."""
        if self.latency_ramp_steps is not None:
            return self.latency_ramp_steps
        return max(1, self.steps // 2)

    def c_at(self, step: int) -> float:
        """The latency weight ``c`` at ``step`` (0-based)."""
        return penalty_weight(
            step, weight=self.latency_weight, ramp_steps=self.resolved_ramp_steps
        )

    def arch_lr_at(self, step: int) -> float:
        """Architecture learning rate at ``step``: cosine, arch_lr to arch_lr_min."""
        return _cosine(step, self.steps, self.arch_lr, self.arch_lr_min)

    def w_lr_at(self, step: int) -> float:
        """Weight learning rate at ``step``: cosine, ``w_lr`` to ``w_lr_min``."""
        return _cosine(step, self.steps, self.w_lr, self.w_lr_min)


def _cosine(step: int, steps: int, high: float, low: float) -> float:
    frac = min(1.0, step / steps)
    return low + 0.5 * (high - low) * (1 + math.cos(math.pi * frac))


@dataclass
class StepLog:
    """What one search step measured.

    Attributes:
        step: Steps done after this one.
        objective: ``f(z)`` of the architecture step's sample (latency term included).
        train_loss: ``L_train(z)`` of that sample.
        val_loss: ``L_val(z)`` of that sample.
        latency_ms: Measured latency of that sample (``None`` without the term).
        c: Latency weight used.
        entropy: Entropy (nats) of ``q`` after the step.
        arch_lr: Architecture learning rate used.
        weight_loss: Training loss of the weight step.
        sample: The architecture step's sample ``z``.
        arch: The derived (most likely) cell after the step.
    """

    step: int
    objective: float
    train_loss: float
    val_loss: float
    latency_ms: float | None
    c: float
    entropy: float
    arch_lr: float
    weight_loss: float
    sample: list[int]
    arch: list[int]


@dataclass
class SearchResult:
    """The outcome of :meth:`UnasSearch.run`.

    Attributes:
        arch: Derived cell (argmax of ``alpha`` per edge).
        probabilities: ``softmax(alpha)``, ``(6, 5)``.
        steps: Search steps done in total (resumed ones included).
        wall_s: Seconds of search in this call.
        stopped_by_budget: Whether ``time_budget_s`` ended the call early.
        train_images_per_s: Images of all batches per second.
        history: One :class:`StepLog` per step of this call.
    """

    arch: tuple[int, ...]
    probabilities: FloatArray
    steps: int
    wall_s: float
    stopped_by_budget: bool
    train_images_per_s: float
    history: list[StepLog] = field(default_factory=list)


class UnasSearch:
    """One UNAS search with its data, supernet, latency model and optimisers.

    Args:
        config: The settings (checked here).
        split: Image data; default: ``load_split(config.dataset, ...)``.
        latency: The measured latency table; default: loaded from the imported NB201
            and HW-NAS-Bench-360 tables when the latency term is on.
        nb201_path: NB201 table for the default latency table.
        hw_path: ``hw360.npz`` for the default latency table.

    Raises:
        UnknownOptionError: A bad setting or an unknown dataset.
        BenchmarkDataMissingError: CIFAR without a complete ``data_dir``, or the
            latency term without the imported tables.
        DeviceUnavailableError: CUDA requested without a GPU.
    """

    def __init__(
        self,
        config: UnasConfig,
        split: ImageSplit | None = None,
        *,
        latency: LatencyTable | None = None,
        nb201_path: str | None = None,
        hw_path: str | None = None,
    ) -> None:
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
        if latency is None and config.uses_latency:
            latency = LatencyTable.load(
                config.latency_device, nb201_path=nb201_path, hw_path=hw_path
            )
        self.latency_table = latency
        self.surrogate: LinearLatencySurrogate | None = (
            None
            if latency is None
            else LinearLatencySurrogate.fit_table(
                latency, samples=config.latency_fit_samples, seed=config.seed
            )
        )
        seed = torch_seed(config.seed)
        torch.manual_seed(seed)
        self.model = MixedSupernet(
            C=config.channels,
            N=config.num_cells,
            in_channels=int(self.split.x_train.shape[1]),
            num_classes=self.split.num_classes,
        ).to(self.device)
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
            [self.alpha], lr=config.arch_lr, betas=config.arch_betas
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
        self.baseline_ema = 0.0  # bias-corrected below
        self.baseline_count = 0
        self.step = 0

    # -- pieces -----------------------------------------------------------------

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

    def _loss(
        self, x: Tensor, y: Tensor, weights: Tensor, picks: Sequence[int] | None
    ) -> Tensor:
        with self._autocast():
            logits = self.model(x, weights, None if picks is None else list(picks))
        return F.cross_entropy(full_precision(logits), y)

    def _one_hot(self, z: Sequence[int]) -> Tensor:
        return F.one_hot(torch.tensor(list(z)), len(OPS)).float().to(self.device)

    @property
    def baseline(self) -> float:
        """The REINFORCE baseline: bias-corrected EMA of past ``f(z)`` (0 at first)."""
        if self.baseline_count == 0:
            return 0.0
        decay = self.config.baseline_decay
        return self.baseline_ema / (1.0 - decay**self.baseline_count)

    def objective_parts(
        self,
        batches: tuple[Tensor, Tensor, Tensor, Tensor],
        weights: Tensor,
        picks: Sequence[int] | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``f_gen`` of an architecture with ``L_train`` and ``L_val``.

        ``picks`` (a discrete cell) runs one op per edge; ``None`` mixes all ops by
        ``weights``.
        """
        xt, yt, xv, yv = batches
        train = self._loss(xt, yt, weights, picks)
        val = self._loss(xv, yv, weights, picks)
        return train + self.config.gap_lambda * (val - train).abs(), train, val

    def latency_penalty(self, z: Sequence[int], c: float) -> tuple[float, float]:
        """``c relu(lat(z) - target)`` on ``z``'s measured latency, and that latency."""
        assert self.latency_table is not None
        lat = self.latency_table.latency(z)
        return c * max(0.0, lat - self.config.latency_target_ms), lat

    def estimate(
        self, batches: tuple[Tensor, Tensor, Tensor, Tensor], c: float
    ) -> tuple[Estimate, dict[str, float]]:
        """One estimator sample of the architecture gradient's surrogate."""
        info: dict[str, float] = {}
        use_latency = self.surrogate is not None and self.config.uses_latency
        target = self.config.latency_target_ms

        def discrete(z: Sequence[int]) -> Tensor:
            with torch.no_grad():
                f, train, val = self.objective_parts(batches, self._one_hot(z), z)
            info["train_loss"], info["val_loss"] = float(train), float(val)
            if use_latency:
                penalty, lat = self.latency_penalty(z, c)
                info["latency_ms"] = lat
                f = f + penalty
            return f.detach()

        def relaxed(w: Tensor) -> Tensor:
            f, _, _ = self.objective_parts(batches, w, None)
            if use_latency:
                assert self.surrogate is not None
                f = f + c * torch.relu(self.surrogate.relaxed(w) - target)
            return f

        if self.config.estimator == "rebar":
            est = rebar_estimate(
                self.alpha, discrete, relaxed, self.gumbel, tau=self.config.tau
            )
        else:
            est = reinforce_estimate(
                self.alpha, discrete, self.gumbel, baseline=self.baseline
            )
        return est, info

    def arch_step(self) -> tuple[Estimate, dict[str, float]]:
        """One Adam step of ``alpha`` on a training and a validation batch.

        Only ``alpha`` gets a gradient (the weights' ``.grad`` stay ``None``).
        """
        xt, yt = self._batch("train")
        xv, yv = self._batch("val")
        c = self.config.c_at(self.step) if self.config.uses_latency else 0.0
        self.w_optimizer.zero_grad(set_to_none=True)
        self.arch_optimizer.zero_grad(set_to_none=True)
        est, info = self.estimate((xt, yt, xv, yv), c)
        (grad,) = torch.autograd.grad(est.surrogate, [self.alpha])
        self.alpha.grad = grad.detach()
        for group in self.arch_optimizer.param_groups:
            group["lr"] = self.config.arch_lr_at(self.step)
        self.arch_optimizer.step()
        decay = self.config.baseline_decay
        self.baseline_ema = decay * self.baseline_ema + (1 - decay) * est.f_z
        self.baseline_count += 1
        info["c"] = c
        return est, info

    def sample(self) -> list[int]:
        """A discrete cell ``z ~ q`` (Gumbel-max, from the search's generator)."""
        logp = F.log_softmax(self.alpha.detach(), dim=-1)
        u = torch.rand(logp.shape, generator=self.gumbel, dtype=torch.float64)
        s = logp.cpu().double() - torch.log(-torch.log(u.clamp(1e-20, 1 - 1e-16)))
        return [int(i) for i in s.argmax(dim=-1).tolist()]

    def weight_step(self) -> float:
        """One SGD step of the weights with a fresh ``z ~ q`` on a training batch."""
        x, y = self._batch("train")
        z = self.sample()
        self.w_optimizer.zero_grad(set_to_none=True)
        self.arch_optimizer.zero_grad(set_to_none=True)
        for group in self.w_optimizer.param_groups:
            group["lr"] = self.config.w_lr_at(self.step)
        loss = self._loss(x, y, self._one_hot(z), z)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.config.w_grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.w_grad_clip)
        self.w_optimizer.step()
        return float(loss.detach())

    def search_step(self) -> StepLog:
        """One architecture step, then one weight step."""
        lr = self.config.arch_lr_at(self.step)
        est, info = self.arch_step()
        weight_loss = self.weight_step()
        self.step += 1
        return StepLog(
            step=self.step,
            objective=est.f_z,
            train_loss=info["train_loss"],
            val_loss=info["val_loss"],
            latency_ms=info.get("latency_ms"),
            c=info["c"],
            entropy=self.entropy(),
            arch_lr=lr,
            weight_loss=weight_loss,
            sample=list(est.z),
            arch=list(self.derive()),
        )

    # -- outcome ----------------------------------------------------------------

    def derive(self) -> tuple[int, ...]:
        """The derived cell: the most likely one (argmax of ``alpha`` per edge)."""
        return tuple(int(i) for i in self.alpha.detach().argmax(dim=-1).tolist())

    def probabilities(self) -> FloatArray:
        """``softmax(alpha)`` as a ``(6, 5)`` float64 array."""
        probs = F.softmax(self.alpha.detach().double(), dim=-1).cpu().numpy()
        return np.asarray(probs, dtype=np.float64)

    def entropy(self) -> float:
        """Entropy (nats) of ``q`` (the sum over edges; at most ``6 ln 5``)."""
        return float(entropy(self.alpha.detach().double()))

    @torch.no_grad()
    def evaluate(self, arch: Sequence[int] | None = None) -> float:
        """Validation accuracy (%) of a cell with the shared weights (whole split)."""
        picks = list(self.derive() if arch is None else arch)
        one_hot = self._one_hot(picks)
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
        time_budget_s: float | None = None,
        progress: Callable[[StepLog], None] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 0,
    ) -> SearchResult:
        """Search until ``steps`` steps are done in total (default: the config's).

        Args:
            steps: Total steps to reach (a resumed search continues from its step).
            time_budget_s: Stop after the first step that ends past this many
                seconds of this call (the schedules still follow ``config.steps``).
            progress: Called after every step.
            checkpoint: Where :meth:`save_checkpoint` writes.
            checkpoint_every: Save every this many steps and at the end (0: only at
                the end, when ``checkpoint`` is given).

        Raises:
            UnknownOptionError: A non-positive ``time_budget_s``.
        """
        if time_budget_s is not None and not time_budget_s > 0:
            raise UnknownOptionError(
                f"time_budget_s must be positive or None, got {time_budget_s!r}"
            )
        total = self.config.steps if steps is None else steps
        history: list[StepLog] = []
        tick = time.perf_counter()
        start = self.step
        by_budget = False
        while self.step < total:
            log = self.search_step()
            history.append(log)
            if progress is not None:
                progress(log)
            if checkpoint is not None and checkpoint_every > 0:
                if self.step % checkpoint_every == 0:
                    self.save_checkpoint(checkpoint)
            if time_budget_s is not None and time.perf_counter() - tick > time_budget_s:
                by_budget = self.step < total
                break
        wall = time.perf_counter() - tick
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        images = 3 * self.config.batch_size * (self.step - start)
        return SearchResult(
            arch=self.derive(),
            probabilities=self.probabilities(),
            steps=self.step,
            wall_s=wall,
            stopped_by_budget=by_budget,
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
            "baseline_ema": self.baseline_ema,
            "baseline_count": self.baseline_count,
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
        state = read_checkpoint(path, "UNAS")
        source = str(path)
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
        self.baseline_ema = float(state["baseline_ema"])
        self.baseline_count = int(state["baseline_count"])
        self.step = int(state["step"])


__all__ = [
    "CHECKPOINT_VERSION",
    "SearchResult",
    "StepLog",
    "UnasConfig",
    "UnasSearch",
]
