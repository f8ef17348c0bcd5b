"""Differentiable architecture pruning: pretrain, gate search, threshold, retrain.

One :class:`PruningRun` does, for a :class:`PruningConfig`:

1. **Pretrain** a :class:`~.model.GatedNet` on the source set (MNIST-5k by default,
   its training split) for ``pretrain_steps`` Adam steps.
2. For each ``lambda`` in ``lambdas``, starting again from the pretrained weights,
   **search** for ``search_steps`` rounds, each one gate step and one weight step:

   * gate step, on a *validation* batch of the source set:
     minimise ``CE(f(x; w, m)) + lambda * sum_i c_i sigmoid(theta_i) / sum_i c_i``
     over the gate logits ``theta`` only, with ``m`` drawn by
     :func:`~.model.relaxed_gates` (sample temperature ``tau_s``, gradient
     temperature ``tau_g``); ``c_i`` is unit ``i``'s cost, so the penalty is the
     expected kept fraction of the prunable complexity;
   * weight step, on a *training* batch: minimise ``CE(f(x; w, m))`` over the
     weights, with a fresh gate sample ``m`` held fixed.

   Both temperatures anneal from their start to their end value over the rounds
   (:func:`~.model.temperature`).
3. **Threshold**: keep unit ``i`` when ``sigmoid(theta_i) > threshold``.
4. **Retrain** on the few-shot target task (``shots`` images per class of the
   target set's training split; accuracy on its whole validation split), always from
   the *pretrained* weights with the mask fixed, for the kept set and for two
   baselines with the same number of units: the units of largest L1 weight norm in
   the pretrained network (magnitude pruning) and ``random_draws`` uniformly random
   subsets. The unpruned network is retrained once as the reference.

All randomness (initialisation, batches, gate noise, random subsets) is derived from
``seed`` and the step index, so a run is reproducible and a resumed run is identical
to an uninterrupted one.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from nasgym.datasets import DATASETS, ImageSplit, load_images
from nasgym.error import CorruptDataError, Error, unknown_option

from ..torch_state import forked_torch
from .model import (
    COSTS,
    GRANULARITIES,
    SCHEDULES,
    GatedNet,
    NetShape,
    logistic_noise,
    relaxed_gates,
    temperature,
)

#: Checkpoint format version.
CHECKPOINT_VERSION = 1
#: Keys of a report that measure time (excluded when comparing runs).
TIMING_KEYS: tuple[str, ...] = ("wall_s", "timing")

Progress = Callable[[str, int, int, dict[str, float]], None]


class RunInterrupted(Error):
    """The run stopped after ``stop_after_steps`` steps (its checkpoint is saved)."""


@dataclass(frozen=True)
class PruningConfig:
    """Settings of a :class:`PruningRun`; ``[I]`` marks nasgym's own defaults.

    Attributes:
        source: Image set the network is pretrained and pruned on.
        target: Image set of the few-shot target task.
        image_size: Side length of the images (divides 32).
        shots: Training images per class of the target task.
        width: Residual-stream channels. [I]
        hidden: Inner (prunable) channels per block. [I]
        stages: Stages of the network. [I]
        blocks_per_stage: Residual blocks per stage. [I]
        granularity: ``"channel"`` (gate each block's inner channels) or ``"block"``.
        cost: Unit complexity: ``"params"`` or ``"flops"`` (multiply-adds).
        lambdas: Complexity penalties ``lambda >= 0``; one search each.
        batch_size: Images per step.
        pretrain_steps: Adam steps of pretraining. [I]
        pretrain_lr: Pretraining learning rate. [I]
        search_steps: Search rounds (one gate step and one weight step each). [I]
        theta_lr: Adam learning rate of the gate logits. [I]
        weight_lr: Adam learning rate of the weights during the search. [I]
        theta_init: Initial gate logit (``sigmoid(3) = 0.95``: start nearly full). [I]
        tau_sample: Sample temperature, start and end. [I]
        tau_grad: Gradient temperature, start and end. [I]
        schedule: ``"exponential"`` or ``"linear"`` annealing of both. [I]
        threshold: Keep a unit when ``sigmoid(theta) > threshold``. [I]
        retrain_steps: Adam steps of retraining on the target task. [I]
        retrain_lr: Retraining learning rate. [I]
        random_draws: Random subsets per lambda (the random baseline).
        seed: Seeds everything.
    """

    source: str = "mnist5k"
    target: str = "digits"
    image_size: int = 16
    shots: int = 10
    width: int = 16
    hidden: int = 32
    stages: int = 2
    blocks_per_stage: int = 2
    granularity: str = "channel"
    cost: str = "params"
    lambdas: tuple[float, ...] = (0.5,)
    batch_size: int = 64
    pretrain_steps: int = 300
    pretrain_lr: float = 2e-3
    search_steps: int = 150
    theta_lr: float = 0.1
    weight_lr: float = 5e-4
    theta_init: float = 3.0
    tau_sample: tuple[float, float] = (1.0, 0.1)
    tau_grad: tuple[float, float] = (2.0, 0.5)
    schedule: str = "exponential"
    threshold: float = 0.5
    retrain_steps: int = 100
    retrain_lr: float = 1e-3
    random_draws: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("source", "target"):
            if getattr(self, name) not in DATASETS:
                raise unknown_option(f"{name} image set", getattr(self, name), DATASETS)
        if self.granularity not in GRANULARITIES:
            raise unknown_option("granularity", self.granularity, GRANULARITIES)
        if self.cost not in COSTS:
            raise unknown_option("cost", self.cost, COSTS)
        if self.schedule not in SCHEDULES:
            raise unknown_option("temperature schedule", self.schedule, SCHEDULES)
        object.__setattr__(self, "lambdas", tuple(float(x) for x in self.lambdas))
        object.__setattr__(self, "tau_sample", tuple(map(float, self.tau_sample)))
        object.__setattr__(self, "tau_grad", tuple(map(float, self.tau_grad)))
        self._check_numbers()
        self.shape()  # checks the network's shape

    def _check_numbers(self) -> None:
        """Raise ValueError naming the first out-of-range numeric field."""
        if not self.lambdas:
            raise ValueError("lambdas must name at least one penalty")
        for lam in self.lambdas:
            if not math.isfinite(lam) or lam < 0:
                raise ValueError(
                    f"lambda must be a finite number >= 0 (0 = no complexity "
                    f"penalty), got {lam}"
                )
        for name in ("tau_sample", "tau_grad"):
            pair = getattr(self, name)
            if len(pair) != 2 or min(pair) <= 0:
                raise ValueError(
                    f"{name} must be two positive temperatures (start, end), got "
                    f"{pair!r}"
                )
        positive = ("shots", "batch_size", "search_steps", "retrain_steps")
        for name in (*positive, "pretrain_steps", "random_draws"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an int, got {value!r}")
            if value < (1 if name in positive else 0):
                raise ValueError(
                    f"{name} must be >= {1 if name in positive else 0}, got {value}"
                )
        for name in ("pretrain_lr", "theta_lr", "weight_lr", "retrain_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie in (0, 1), got {self.threshold!r}")
        if not isinstance(self.image_size, int) or 32 % self.image_size:
            raise ValueError(
                f"image_size must divide 32 (32, 16, 8, ...), got {self.image_size!r}"
            )

    def shape(self, num_classes: int = 10) -> NetShape:
        """The network's :class:`NetShape`."""
        return NetShape(
            width=self.width,
            hidden=self.hidden,
            stages=self.stages,
            blocks_per_stage=self.blocks_per_stage,
            image_size=self.image_size,
            in_channels=1,
            num_classes=num_classes,
        )

    def temperatures(self, step: int) -> tuple[float, float]:
        """``(tau_sample, tau_grad)`` at search round ``step``."""
        n = self.search_steps
        return (
            temperature(*self.tau_sample, step, n, self.schedule),
            temperature(*self.tau_grad, step, n, self.schedule),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out = asdict(self)
        for key in ("lambdas", "tau_sample", "tau_grad"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PruningConfig:
        """Inverse of :meth:`as_dict`; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown PruningConfig fields {unknown}")
        kwargs = dict(values)
        for key in ("lambdas", "tau_sample", "tau_grad"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


def _seed_int(*parts: int) -> int:
    return int(
        np.random.SeedSequence([abs(int(p)) for p in parts]).generate_state(1)[0]
    )


def _pick(n: int, size: int, *parts: int) -> NDArray[np.int64]:
    rng = np.random.default_rng(_seed_int(*parts))
    return np.sort(rng.permutation(n)[: min(size, n)]).astype(np.int64)


# Tags that keep the random streams of different purposes apart.
_PRETRAIN, _SEARCH_VAL, _SEARCH_TRAIN, _NOISE_T, _NOISE_W, _RETRAIN = range(6)
_SHOTS, _RANDOM, _INIT = 6, 7, 8


def few_shot(split: ImageSplit, shots: int, seed: int) -> NDArray[np.int64]:
    """Indices of ``shots`` training images per class, seeded.

    Raises:
        ValueError: A class has fewer than ``shots`` training images.
    """
    picks: list[NDArray[np.int64]] = []
    for label in range(split.num_classes):
        members = np.flatnonzero(split.y_train == label)
        if len(members) < shots:
            raise ValueError(
                f"{split.name} has {len(members)} training images of class {label}, "
                f"fewer than shots={shots}"
            )
        picks.append(members[_pick(len(members), shots, seed, _SHOTS, label)])
    return np.sort(np.concatenate(picks))


def _accuracy(net: GatedNet, x: Tensor, y: Tensor, mask: Tensor | None) -> float:
    net.eval()
    with torch.no_grad():
        correct = 0
        for start in range(0, len(y), 512):
            logits = net(x[start : start + 512], mask)
            correct += int((logits.argmax(1) == y[start : start + 512]).sum())
    net.train()
    return 100.0 * correct / max(len(y), 1)


def magnitude_mask(net: GatedNet, keep: int) -> Tensor:
    """Keep the ``keep`` units of largest L1 weight norm."""
    scores = net.unit_magnitude()
    mask = torch.zeros(net.num_units)
    if keep:
        mask[torch.argsort(scores, descending=True, stable=True)[:keep]] = 1.0
    return mask


def random_mask(num_units: int, keep: int, *seed: int) -> Tensor:
    """``keep`` units drawn uniformly without replacement."""
    mask = torch.zeros(num_units)
    mask[torch.from_numpy(_pick(num_units, keep, *seed))] = 1.0
    return mask


class PruningRun:
    """One pretrain / search / threshold / retrain run (see the module docstring).

    Args:
        config: The settings.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``.
        threads: Torch intra-op threads (1 makes CPU runs bit-for-bit repeatable).

    Raises:
        DeviceUnavailableError: CUDA requested without a GPU.
    """

    def __init__(
        self, config: PruningConfig, *, device: str = "cpu", threads: int | None = 1
    ) -> None:
        from nasgym.zero_cost import resolve_device

        self.config = config
        self.device = resolve_device(device)
        self.threads = threads
        self._data: dict[str, Tensor] | None = None

    # -- data -------------------------------------------------------------------

    def data(self) -> dict[str, Tensor]:
        """Source train/val, target few-shot train and target val tensors."""
        if self._data is None:
            cfg = self.config
            source = load_images(
                cfg.source, size=cfg.image_size, channels=1, seed=cfg.seed
            )
            target = load_images(
                cfg.target, size=cfg.image_size, channels=1, seed=cfg.seed
            )
            shots = few_shot(target, cfg.shots, cfg.seed)

            def put(array: NDArray[Any]) -> Tensor:
                return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

            self._data = {
                "x_train": put(source.x_train),
                "y_train": put(source.y_train),
                "x_val": put(source.x_val),
                "y_val": put(source.y_val),
                "x_shot": put(target.x_train[shots]),
                "y_shot": put(target.y_train[shots]),
                "x_test": put(target.x_val),
                "y_test": put(target.y_val),
            }
        return self._data

    def _batch(self, kind: str, *parts: int) -> tuple[Tensor, Tensor]:
        data = self.data()
        x, y = data[f"x_{kind}"], data[f"y_{kind}"]
        pick = torch.from_numpy(_pick(len(y), self.config.batch_size, *parts))
        pick = pick.to(self.device)
        return x[pick], y[pick]

    def _noise(self, n: int, *parts: int) -> Tensor:
        gen = torch.Generator().manual_seed(_seed_int(*parts))
        return logistic_noise((n,), gen).to(self.device)

    # -- checkpoint -------------------------------------------------------------

    def _fresh_state(self) -> dict[str, Any]:
        torch.manual_seed(_seed_int(self.config.seed, _INIT))
        net = GatedNet(self.config.shape(), self.config.granularity).to(self.device)
        opt = torch.optim.Adam(net.parameters(), lr=self.config.pretrain_lr)
        return {
            "version": CHECKPOINT_VERSION,
            "config": self.config.as_dict(),
            "pretrain_step": 0,
            "net": net.state_dict(),
            "opt": opt.state_dict(),
            "pretrained": None,
            "pretrain": None,
            "full": None,
            "lambda_index": 0,
            "search": None,
            "results": [],
            "elapsed_s": 0.0,
        }

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            state: dict[str, Any] = torch.load(
                path, map_location=self.device, weights_only=True
            )
        except Exception as exc:  # torch raises many types for a bad file
            raise CorruptDataError(
                f"{path} is not a pruning checkpoint ({exc}); delete it or pass "
                "another --checkpoint"
            ) from exc
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise CorruptDataError(
                f"{path} is not a version-{CHECKPOINT_VERSION} pruning checkpoint"
            )
        if state["config"] != self.config.as_dict():
            diff = sorted(
                k
                for k in state["config"]
                if state["config"][k] != self.config.as_dict().get(k)
            )
            raise ValueError(
                f"{path} was written with other settings (differing: {diff}); "
                "resume with the same settings or use a new checkpoint file"
            )
        return state

    @staticmethod
    def _save(state: dict[str, Any], path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    # -- the run ----------------------------------------------------------------

    def run(
        self,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: bool = False,
        checkpoint_every: int = 50,
        stop_after_steps: int | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Run (or resume) and return the JSON-ready report.

        Args:
            checkpoint: File the state is saved to (every ``checkpoint_every`` steps
                and after each lambda).
            resume: Continue from ``checkpoint`` when it exists.
            checkpoint_every: Steps between two saves.
            stop_after_steps: Stop with :class:`RunInterrupted` after this many
                optimisation steps of this call (the checkpoint is saved first).
            progress: Called as ``progress(stage, step, total, values)``.

        Raises:
            RunInterrupted: ``stop_after_steps`` was reached.
            CorruptDataError: ``checkpoint`` is not a pruning checkpoint.
            ValueError: The checkpoint was written with other settings.
        """
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        path = None if checkpoint is None else Path(checkpoint)
        if resume and path is None:
            raise ValueError("resume=True needs a checkpoint path")
        tick = time.perf_counter()
        with forked_torch(self.threads):
            if resume and path is not None and path.exists():
                state = self._load(path)
            else:
                state = self._fresh_state()
            budget = [math.inf if stop_after_steps is None else stop_after_steps]
            self._steps(state, path, checkpoint_every, budget, tick, progress)
        state["elapsed_s"] += time.perf_counter() - tick
        self._save(state, path)
        return self._report(state, time.perf_counter() - tick)

    def _tick(
        self,
        state: dict[str, Any],
        path: Path | None,
        every: int,
        budget: list[float],
        step: int,
        tick: float,
    ) -> None:
        budget[0] -= 1
        if step % every == 0 or budget[0] <= 0:
            saved = dict(
                state, elapsed_s=state["elapsed_s"] + time.perf_counter() - tick
            )
            self._save(saved, path)
        if budget[0] <= 0:
            raise RunInterrupted(
                f"stopped after the requested number of steps; resume from {path}"
            )

    def _steps(
        self,
        state: dict[str, Any],
        path: Path | None,
        every: int,
        budget: list[float],
        tick: float,
        progress: Progress | None,
    ) -> None:
        cfg = self.config
        net = GatedNet(cfg.shape(), cfg.granularity).to(self.device)
        if state["pretrained"] is None:
            net.load_state_dict(state["net"])
            opt = torch.optim.Adam(net.parameters(), lr=cfg.pretrain_lr)
            opt.load_state_dict(state["opt"])
            start = time.perf_counter()
            while state["pretrain_step"] < cfg.pretrain_steps:
                step = state["pretrain_step"]
                x, y = self._batch("train", cfg.seed, _PRETRAIN, step)
                loss = nn.functional.cross_entropy(net(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                opt.step()
                state["pretrain_step"] = step + 1
                state["net"], state["opt"] = net.state_dict(), opt.state_dict()
                if progress is not None:
                    progress(
                        "pretrain", step + 1, cfg.pretrain_steps, {"loss": loss.item()}
                    )
                self._tick(state, path, every, budget, step + 1, tick)
            net.load_state_dict(state["net"])
            pretrained = copy.deepcopy(net.state_dict())
            state["pretrained"] = pretrained
            state["pretrain"] = {
                "source_val_accuracy": _accuracy(
                    net, self.data()["x_val"], self.data()["y_val"], None
                ),
                "timing": {"pretrain_s": time.perf_counter() - start},
            }
            state["net"] = state["opt"] = None
        if state["full"] is None:
            state["full"] = self._retrain(state["pretrained"], None, "full")
            self._save(state, path)
        while state["lambda_index"] < len(cfg.lambdas):
            self._search(state, path, every, budget, tick, progress)
            state["results"].append(self._evaluate(state))
            state["lambda_index"] += 1
            state["search"] = None
            self._save(state, path)

    def _search(
        self,
        state: dict[str, Any],
        path: Path | None,
        every: int,
        budget: list[float],
        tick: float,
        progress: Progress | None,
    ) -> None:
        cfg = self.config
        j = state["lambda_index"]
        lam = cfg.lambdas[j]
        net = GatedNet(cfg.shape(), cfg.granularity).to(self.device)
        net.load_state_dict(state["pretrained"])
        theta = torch.full(
            (net.num_units,), cfg.theta_init, device=self.device, requires_grad=True
        )
        w_opt = torch.optim.Adam(net.parameters(), lr=cfg.weight_lr)
        t_opt = torch.optim.Adam([theta], lr=cfg.theta_lr)
        if state["search"] is None:
            state["search"] = {"step": 0, "search_s": 0.0, "history": []}
        else:
            s = state["search"]
            net.load_state_dict(s["net"])
            with torch.no_grad():
                theta.copy_(s["theta"])
            w_opt.load_state_dict(s["w_opt"])
            t_opt.load_state_dict(s["t_opt"])
        s = state["search"]
        costs = net.unit_costs(cfg.cost).to(self.device, torch.float32)
        costs = costs / costs.sum()
        start = time.perf_counter()
        while s["step"] < cfg.search_steps:
            step = s["step"]
            tau_s, tau_g = cfg.temperatures(step)
            # Gate step on a validation batch: theta only.
            x, y = self._batch("val", cfg.seed, _SEARCH_VAL, j, step)
            noise = self._noise(net.num_units, cfg.seed, _NOISE_T, j, step)
            mask = relaxed_gates(theta, noise, tau_s, tau_g)
            task = nn.functional.cross_entropy(net(x, mask), y)
            expected = (costs * torch.sigmoid(theta)).sum()
            loss = task + lam * expected
            t_opt.zero_grad(set_to_none=True)
            (grad,) = torch.autograd.grad(loss, [theta])
            theta.grad = grad
            t_opt.step()
            # Weight step on a training batch: weights only, gates sampled and fixed.
            x, y = self._batch("train", cfg.seed, _SEARCH_TRAIN, j, step)
            noise = self._noise(net.num_units, cfg.seed, _NOISE_W, j, step)
            with torch.no_grad():
                mask = relaxed_gates(theta, noise, tau_s, tau_g)
            w_loss = nn.functional.cross_entropy(net(x, mask), y)
            w_opt.zero_grad(set_to_none=True)
            w_loss.backward()  # type: ignore[no-untyped-call]
            w_opt.step()
            s["step"] = step + 1
            values = {
                "task_loss": task.item(),
                "expected_kept": expected.item(),
                "tau_sample": tau_s,
                "tau_grad": tau_g,
            }
            s["history"].append(values)
            s["net"], s["w_opt"] = net.state_dict(), w_opt.state_dict()
            s["theta"], s["t_opt"] = theta.detach().clone(), t_opt.state_dict()
            s["search_s"] += time.perf_counter() - start
            start = time.perf_counter()
            if progress is not None:
                progress(f"search lambda={lam:g}", step + 1, cfg.search_steps, values)
            self._tick(state, path, every, budget, step + 1, tick)

    def _retrain(
        self, weights: dict[str, Tensor], mask: Tensor | None, tag: str
    ) -> dict[str, Any]:
        cfg = self.config
        start = time.perf_counter()
        net = GatedNet(cfg.shape(), cfg.granularity).to(self.device)
        net.load_state_dict(weights)
        data = self.data()
        if mask is not None:
            mask = mask.to(self.device)
        before = _accuracy(net, data["x_val"], data["y_val"], mask)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.retrain_lr)
        n = len(data["y_shot"])
        for step in range(cfg.retrain_steps):
            pick = torch.from_numpy(_pick(n, cfg.batch_size, cfg.seed, _RETRAIN, step))
            pick = pick.to(self.device)
            loss = nn.functional.cross_entropy(
                net(data["x_shot"][pick], mask), data["y_shot"][pick]
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
        kept = net.num_units if mask is None else int(mask.sum().item())
        costs = net.unit_costs(cfg.cost)
        frac = 1.0 if mask is None else float((costs * mask.cpu().double()).sum())
        return {
            "method": tag,
            "kept_units": kept,
            "kept_fraction": frac / float(costs.sum()) if mask is not None else 1.0,
            "source_val_accuracy_before_retrain": before,
            "target_accuracy": _accuracy(net, data["x_test"], data["y_test"], mask),
            "timing": {"retrain_s": time.perf_counter() - start},
        }

    def _evaluate(self, state: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        j = state["lambda_index"]
        s = state["search"]
        net = GatedNet(cfg.shape(), cfg.granularity)
        net.load_state_dict({k: v.cpu() for k, v in state["pretrained"].items()})
        theta = s["theta"].cpu()
        probs = torch.sigmoid(theta)
        kept_mask = (probs > cfg.threshold).float()
        keep = int(kept_mask.sum().item())
        masks: list[tuple[str, Tensor]] = [
            ("gates", kept_mask),
            ("magnitude", magnitude_mask(net, keep)),
        ]
        masks += [
            (f"random-{d}", random_mask(net.num_units, keep, cfg.seed, _RANDOM, j, d))
            for d in range(cfg.random_draws)
        ]
        rows = [self._retrain(state["pretrained"], m, tag) for tag, m in masks]
        per_block = kept_mask.view(net.shape.num_blocks, net.units_per_block).sum(1)
        history = s["history"]
        return {
            "lambda": cfg.lambdas[j],
            "kept_units": keep,
            "num_units": net.num_units,
            "kept_per_block": [int(v) for v in per_block],
            "gate_probabilities": [round(float(p), 4) for p in probs],
            "final_tau_sample": history[-1]["tau_sample"],
            "final_tau_grad": history[-1]["tau_grad"],
            "final_task_loss": history[-1]["task_loss"],
            "methods": rows,
            "timing": {"search_s": s["search_s"]},
        }

    def _report(self, state: dict[str, Any], call_s: float) -> dict[str, Any]:
        return {
            "config": self.config.as_dict(),
            "device": str(self.device),
            "pretrain": state["pretrain"],
            "full": state["full"],
            "results": state["results"],
            "wall_s": state["elapsed_s"],
            "timing": {"this_call_s": call_s},
        }


def strip_timing(report: Any) -> Any:
    """``report`` without its wall-clock entries (to compare two runs)."""
    if isinstance(report, dict):
        return {k: strip_timing(v) for k, v in report.items() if k not in TIMING_KEYS}
    if isinstance(report, list):
        return [strip_timing(v) for v in report]
    return report
