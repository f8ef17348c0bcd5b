"""RADARS on the NB201 space: RL pruning to a memory budget, then DARTS.

One search (:class:`RadarsSearch`) has two phases (docs/methods/radars.md):

1. **Pruning rounds.** A weight-sharing supernet
   (:class:`nasgym.oneshot.supernet.Supernet`, one sampled cell per weight step, so
   its memory is that of one cell) is warmed up on uniformly sampled cells. Each
   round, the controller (:class:`~.controller.MaskedReinforce`) samples
   ``controller_steps`` cells from the ops still in the space; each cell gets one
   weight step on a training batch and its reward is its accuracy with the shared
   weights on the next validation batch (a fraction). Then, on every edge with more
   than one op left, the ``prune_per_round`` ops with the lowest score go: the
   policy probability (``prune_rule="probability"``) or the average reward of the
   round's cells that used the op (``"reward"``; an op no cell of the round used
   scores below every used one). After every round the dense supernet's memory is
   re-estimated (:func:`~.memory.estimate_memory`); the pruning stops at the first
   round (round 0: the full space) whose estimate fits ``memory_budget_mib``.
2. **DARTS** (:class:`nasgym_agents.darts.DartsSearch`) on the remaining subspace
   (``DartsConfig.candidates``), with fresh weights; its derived cell is the
   result.

A budget below the smallest estimate of any one-op-per-edge cell is refused before
anything trains; pruning every edge to one op without fitting is an error too.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nasgym.error import UnknownOptionError, require, unknown_option

from ..checkpoint import (
    DEVICE_SETTINGS,
    check_settings,
    check_version,
    read_checkpoint,
    save_atomic,
)

try:
    import torch  # noqa: F401  (imported here so a missing extra is named)
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="RADARS")
    raise

from nasgym.oneshot.supernet import Supernet, torch_seed
from nasgym.spaces.nb201 import EDGES, OPS

from ..darts.search import METHODS as DARTS_METHODS
from ..darts.search import DartsConfig, DartsSearch, StepLog
from .controller import MaskedReinforce
from .memory import MemoryEstimate, estimate_memory

#: Pruning rules.
PRUNE_RULES: tuple[str, ...] = ("probability", "reward")
#: Checkpoint format version.
CHECKPOINT_VERSION = 1


class MemoryBudgetError(UnknownOptionError):
    """The memory budget cannot be met by any subspace the pruning can reach."""


@dataclass(frozen=True)
class RadarsConfig:
    """Settings of one RADARS search. Defaults marked [I] are nasgym's choices.

    Attributes:
        dataset: Supernet dataset keyword (:func:`nasgym.oneshot.supernet.load_split`).
        data_dir: CIFAR directory (CIFAR datasets only).
        image_size: Side length of the offline sets (default 16).
        channels: Channels ``C`` of the first stage (both supernets).
        num_cells: Cells per stage ``N`` (both supernets).
        batch_size: Images per step (both phases; the memory estimate's ``B``).
        memory_budget_mib: The dense supernet's memory budget in MiB [I: 32,
            below the full space's estimate for the default shape, so the default
            search prunes; docs/results/radars/memory.md lists the estimates].
        prune_rule: One of :data:`PRUNE_RULES` [I: ``"probability"``].
        prune_per_round: Ops removed per edge per round [I: 1].
        warmup_steps: Weight steps on uniformly sampled cells before round 1 [I].
        controller_steps: Sampled cells per round [I].
        controller_lr: The controller's Adam step size [I: 0.01, as REINFORCE].
        baseline_momentum: Momentum of the controller's reward baseline.
        reward_batch_size: Validation images per reward.
        supernet_lr: Learning rate of the controller phase's supernet (Nesterov SGD,
            constant) [I].
        darts_method: DARTS variant of phase 2 (``"darts"``, ``"darts2"``,
            ``"gdas"``).
        darts_steps: Search steps of phase 2.
        darts_arch_lr: DARTS's architecture learning rate (``None``: its default).
        seed: Seeds everything (supernet, controller, DARTS).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        amp: bfloat16 autocast on CUDA (ignored on the CPU).
    """

    dataset: str = "digits"
    data_dir: str | None = None
    image_size: int | None = None
    channels: int = 8
    num_cells: int = 1
    batch_size: int = 64
    memory_budget_mib: float = 32.0
    prune_rule: str = "probability"
    prune_per_round: int = 1
    warmup_steps: int = 50
    controller_steps: int = 100
    controller_lr: float = 0.01
    baseline_momentum: float = 0.9
    reward_batch_size: int = 256
    supernet_lr: float = 0.05
    darts_method: str = "darts"
    darts_steps: int = 200
    darts_arch_lr: float | None = None
    seed: int = 0
    device: str = "cpu"
    amp: bool = True

    def check(self) -> None:
        """Raise :class:`UnknownOptionError` naming the first bad setting."""
        if self.prune_rule not in PRUNE_RULES:
            raise unknown_option("prune rule", self.prune_rule, PRUNE_RULES)
        if self.darts_method not in DARTS_METHODS:
            raise unknown_option("DARTS method", self.darts_method, DARTS_METHODS)
        for name in (
            "channels",
            "num_cells",
            "batch_size",
            "prune_per_round",
            "controller_steps",
            "reward_batch_size",
            "darts_steps",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UnknownOptionError(
                    f"{name} must be a positive int, got {value!r}"
                )
        if (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or self.warmup_steps < 0
        ):
            raise UnknownOptionError(
                f"warmup_steps must be an int >= 0, got {self.warmup_steps!r}"
            )
        if self.prune_per_round >= len(OPS):
            raise UnknownOptionError(
                f"prune_per_round must be below {len(OPS)} (an edge keeps one op), "
                f"got {self.prune_per_round}"
            )
        for name in ("memory_budget_mib", "controller_lr", "supernet_lr"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise UnknownOptionError(
                    f"{name} must be a positive number, got {value!r}"
                )
        if not 0 <= self.baseline_momentum < 1:
            raise UnknownOptionError(
                f"baseline_momentum must lie in [0, 1), got {self.baseline_momentum!r}"
            )

    @property
    def budget_bytes(self) -> int:
        """The budget in bytes."""
        return int(self.memory_budget_mib * 2**20)


@dataclass
class RoundLog:
    """One pruning round (round 0: the full space, nothing pruned or sampled).

    Attributes:
        round: 0, 1, ...
        pruned: Per edge, the op names removed this round.
        candidates: Per edge, the op indices left after the round.
        estimate_mib: The dense supernet's estimated memory after the round.
        fits: Whether the estimate fits the budget.
        mean_reward: Mean reward of the round's cells (``None`` in round 0).
        probabilities: The policy's ``(6, 5)`` probabilities before pruning.
        average_reward: Per edge and op, the round's average reward (``None``:
            not sampled).
        wall_s: Seconds of the round.
    """

    round: int
    pruned: list[list[str]]
    candidates: list[list[int]]
    estimate_mib: float
    fits: bool
    mean_reward: float | None = None
    probabilities: list[list[float]] = field(default_factory=list)
    average_reward: list[list[float | None]] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass
class RadarsResult:
    """The outcome of :meth:`RadarsSearch.run`.

    Attributes:
        arch: The derived cell (DARTS on the remaining subspace).
        candidates: The subspace handed to DARTS (op indices per edge).
        rounds: Every pruning round, round 0 included.
        estimate: The memory estimate of the subspace handed to DARTS.
        darts_probabilities: DARTS's ``softmax(alpha)`` (0 on pruned ops).
        prune_s: Seconds of warm-up and pruning rounds in this call.
        darts_s: Seconds of DARTS in this call.
        darts_steps: DARTS steps done in total.
    """

    arch: tuple[int, ...]
    candidates: tuple[tuple[int, ...], ...]
    rounds: list[RoundLog]
    estimate: MemoryEstimate
    darts_probabilities: list[list[float]]
    prune_s: float
    darts_s: float
    darts_steps: int


@functools.lru_cache(maxsize=64)
def smallest_estimate(
    channels: int,
    num_cells: int,
    batch_size: int,
    image_size: int,
    in_channels: int,
    num_classes: int,
) -> tuple[int, tuple[int, ...]]:
    """The smallest estimate of any one-op-per-edge cell, and that cell (bytes)."""
    best: tuple[int, tuple[int, ...]] | None = None
    for cell in itertools.product(range(len(OPS)), repeat=len(EDGES)):
        total = estimate_memory(
            [[k] for k in cell],
            channels=channels,
            num_cells=num_cells,
            batch_size=batch_size,
            image_size=image_size,
            in_channels=in_channels,
            num_classes=num_classes,
        ).total_bytes
        if best is None or total < best[0]:
            best = (total, tuple(cell))
    assert best is not None
    return best


class RadarsSearch:
    """One RADARS search with its supernet, controller and (later) DARTS.

    Args:
        config: The settings (checked here).

    Raises:
        UnknownOptionError: A bad setting or an unknown dataset.
        MemoryBudgetError: The budget is below every one-op-per-edge cell's
            estimate.
        BenchmarkDataMissingError: CIFAR without a complete ``data_dir``.
        DeviceUnavailableError: CUDA requested without a GPU.
    """

    def __init__(self, config: RadarsConfig) -> None:
        config.check()
        self.config = config
        self.supernet = Supernet(
            config.dataset,
            data_dir=config.data_dir,
            channels=config.channels,
            num_cells=config.num_cells,
            batch_size=config.batch_size,
            eval_batch_size=config.reward_batch_size,
            eval_batches=1,
            image_size=config.image_size,
            lr=config.supernet_lr,
            device=config.device,
            amp=config.amp,
            seed=config.seed,
        )
        self.device = self.supernet.device
        x = self.supernet.split.x_train
        self.shape = {
            "channels": config.channels,
            "num_cells": config.num_cells,
            "batch_size": config.batch_size,
            "image_size": int(x.shape[-1]),
            "in_channels": int(x.shape[1]),
            "num_classes": int(self.supernet.split.num_classes),
        }
        low, cell = smallest_estimate(**self.shape)
        if low > config.budget_bytes:
            raise MemoryBudgetError(
                f"memory_budget_mib={config.memory_budget_mib:g} fits no subspace: "
                f"even the cheapest one-op-per-edge cell "
                f"({'|'.join(OPS[k] for k in cell)}) is estimated at "
                f"{low / 2**20:.2f} MiB for batch {config.batch_size}, "
                f"C={config.channels}, N={config.num_cells}; raise the budget or "
                "lower batch_size/channels/num_cells"
            )
        self.policy = MaskedReinforce(
            learning_rate=config.controller_lr,
            baseline_momentum=config.baseline_momentum,
        )
        self.rng = np.random.default_rng(torch_seed(config.seed))
        self.warmed_up = False
        self.rounds: list[RoundLog] = []
        self.darts: DartsSearch | None = None
        self._log_round_zero()

    # -- memory -----------------------------------------------------------------

    def estimate(
        self, candidates: tuple[tuple[int, ...], ...] | None = None
    ) -> MemoryEstimate:
        """The dense supernet's memory estimate of a subspace (default: current)."""
        cand = self.policy.candidates() if candidates is None else candidates
        return estimate_memory(cand, **self.shape)

    def fits(self) -> bool:
        """Whether the current subspace's estimate fits the budget."""
        return self.estimate().total_bytes <= self.config.budget_bytes

    def _log_round_zero(self) -> None:
        est = self.estimate()
        self.rounds.append(
            RoundLog(
                round=0,
                pruned=[[] for _ in EDGES],
                candidates=[list(c) for c in self.policy.candidates()],
                estimate_mib=est.total_mib,
                fits=est.total_bytes <= self.config.budget_bytes,
            )
        )

    # -- phase 1 ----------------------------------------------------------------

    def warm_up(self) -> None:
        """Weight steps on uniformly sampled cells (once, before round 1)."""
        if self.warmed_up:
            return
        for _ in range(self.config.warmup_steps):
            cell = tuple(int(k) for k in self.rng.integers(0, len(OPS), len(EDGES)))
            self.supernet.train_step(cell)
        self.warmed_up = True

    def prune_round(self) -> RoundLog:
        """Sample, reward and update ``controller_steps`` cells, then prune.

        Raises:
            MemoryBudgetError: Every edge is down to one op and the estimate still
                exceeds the budget.
        """
        if self.fits():
            raise UnknownOptionError(
                "the subspace already fits the budget; pruning is over"
            )
        if all(len(c) == 1 for c in self.policy.candidates()):
            self._raise_exhausted()
        tick = time.perf_counter()
        self.warm_up()
        sums = np.zeros((len(EDGES), len(OPS)))
        counts = np.zeros((len(EDGES), len(OPS)), dtype=np.int64)
        rewards = []
        rows = np.arange(len(EDGES))
        for _ in range(self.config.controller_steps):
            cell = self.policy.sample(self.rng)
            self.supernet.train_step(cell)
            reward = float(self.supernet.evaluate([cell])[0]) / 100.0
            self.policy.update(cell, reward)
            sums[rows, list(cell)] += reward
            counts[rows, list(cell)] += 1
            rewards.append(reward)
        probs = self.policy.probabilities()
        with np.errstate(invalid="ignore", divide="ignore"):
            average = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        pruned: list[list[str]] = []
        for slot in range(len(EDGES)):
            left = list(self.policy.candidates()[slot])
            drop = min(self.config.prune_per_round, len(left) - 1)
            ranked = sorted(left, key=lambda k: self._score(probs, average, slot, k))
            gone = sorted(ranked[:drop])
            for k in gone:
                self.policy.prune(slot, k)
            pruned.append([OPS[k] for k in gone])
        est = self.estimate()
        log = RoundLog(
            round=len(self.rounds),
            pruned=pruned,
            candidates=[list(c) for c in self.policy.candidates()],
            estimate_mib=est.total_mib,
            fits=est.total_bytes <= self.config.budget_bytes,
            mean_reward=float(np.mean(rewards)),
            probabilities=probs.round(4).tolist(),
            average_reward=[
                [None if math.isnan(v) else round(float(v), 4) for v in row]
                for row in average
            ],
            wall_s=time.perf_counter() - tick,
        )
        self.rounds.append(log)
        return log

    def _score(
        self,
        probs: np.ndarray[Any, Any],
        average: np.ndarray[Any, Any],
        slot: int,
        k: int,
    ) -> tuple[float, float, int]:
        """Sort key: lowest first (ties: lower probability, then op index)."""
        if self.config.prune_rule == "probability":
            return (float(probs[slot, k]), 0.0, k)
        value = float(average[slot, k])
        return (-math.inf if math.isnan(value) else value, float(probs[slot, k]), k)

    def _raise_exhausted(self) -> None:
        est = self.estimate()
        cell = "|".join(OPS[c[0]] for c in self.policy.candidates())
        raise MemoryBudgetError(
            f"every edge is pruned to one op ({cell}) and its estimate "
            f"{est.total_mib:.2f} MiB still exceeds memory_budget_mib="
            f"{self.config.memory_budget_mib:g}; raise the budget to at least "
            f"{est.total_mib:.2f} or lower batch_size/channels/num_cells"
        )

    def prune(
        self,
        rounds: int | None = None,
        *,
        progress: Callable[[RoundLog], None] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
    ) -> list[RoundLog]:
        """Prune round by round until the estimate fits (or ``rounds`` more).

        Args:
            rounds: At most this many rounds in this call (``None``: until fit).
            progress: Called after every round.
            checkpoint: Saved after every round.

        Raises:
            MemoryBudgetError: See :meth:`prune_round`.
        """
        done: list[RoundLog] = []
        while not self.fits() and (rounds is None or len(done) < rounds):
            log = self.prune_round()
            done.append(log)
            if progress is not None:
                progress(log)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
        return done

    # -- phase 2 ----------------------------------------------------------------

    def darts_config(self) -> DartsConfig:
        """The DARTS settings of phase 2 (restricted to the current subspace)."""
        c = self.config
        return DartsConfig(
            method=c.darts_method,
            steps=c.darts_steps,
            dataset=c.dataset,
            data_dir=c.data_dir,
            channels=c.channels,
            num_cells=c.num_cells,
            batch_size=c.batch_size,
            image_size=c.image_size,
            arch_lr=c.darts_arch_lr,
            seed=c.seed,
            device=c.device,
            amp=c.amp,
            candidates=self.policy.candidates(),
        )

    def start_darts(self) -> DartsSearch:
        """Build phase 2's DARTS search (the pruning must have finished)."""
        if not self.fits():
            raise UnknownOptionError(
                "the subspace does not fit the budget yet; run prune() first"
            )
        if self.darts is None:
            self.darts = DartsSearch(self.darts_config(), split=self.supernet.split)
        return self.darts

    def run(
        self,
        *,
        round_progress: Callable[[RoundLog], None] | None = None,
        step_progress: Callable[[StepLog], None] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 0,
    ) -> RadarsResult:
        """Prune until the estimate fits, then run DARTS to its step count.

        Args:
            round_progress: Called after every pruning round.
            step_progress: Called after every DARTS step.
            checkpoint: Where :meth:`save_checkpoint` writes (after every round,
                every ``checkpoint_every`` DARTS steps and at the end).
            checkpoint_every: DARTS steps between checkpoints (0: only at the end).
        """
        tick = time.perf_counter()
        self.prune(progress=round_progress, checkpoint=checkpoint)
        prune_s = time.perf_counter() - tick
        darts = self.start_darts()
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        tick = time.perf_counter()
        while darts.step < darts.config.steps:
            log = darts.search_step()
            if step_progress is not None:
                step_progress(log)
            if (
                checkpoint is not None
                and checkpoint_every > 0
                and darts.step % checkpoint_every == 0
            ):
                self.save_checkpoint(checkpoint)
        darts_s = time.perf_counter() - tick
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return RadarsResult(
            arch=darts.derive(),
            candidates=self.policy.candidates(),
            rounds=list(self.rounds),
            estimate=self.estimate(),
            darts_probabilities=darts.probabilities().round(4).tolist(),
            prune_s=prune_s,
            darts_s=darts_s,
            darts_steps=darts.step,
        )

    # -- checkpoints ------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed search needs to continue bit-for-bit."""
        return {
            "version": CHECKPOINT_VERSION,
            "config": asdict(self.config),
            "policy": self.policy.state(),
            "rng": self.rng.bit_generator.state,
            "warmed_up": self.warmed_up,
            "rounds": [asdict(r) for r in self.rounds],
            "supernet": self.supernet.state_dict(),
            "darts": None if self.darts is None else self.darts.state_dict(),
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
        state = read_checkpoint(path, "RADARS")
        source = str(path)
        check_version(state, CHECKPOINT_VERSION, source)
        check_settings(self.config, state["config"], source, skip=DEVICE_SETTINGS)
        self.policy.restore(state["policy"])
        self.rng.bit_generator.state = state["rng"]
        self.warmed_up = bool(state["warmed_up"])
        self.rounds = [RoundLog(**r) for r in state["rounds"]]
        self.supernet.load_state_dict(state["supernet"], source=str(path))
        self.darts = None
        if state["darts"] is not None:
            darts = DartsSearch(self.darts_config(), split=self.supernet.split)
            darts.load_state_dict(state["darts"], source=f"{path} (DARTS phase)")
            self.darts = darts


__all__ = [
    "CHECKPOINT_VERSION",
    "PRUNE_RULES",
    "MemoryBudgetError",
    "RadarsConfig",
    "RadarsResult",
    "RadarsSearch",
    "RoundLog",
    "smallest_estimate",
]
