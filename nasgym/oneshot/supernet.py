"""One-shot training and evaluation of the NB201 weight-sharing supernet.

:class:`Supernet` owns a :class:`nasgym.oneshot.nn.supernet.NB201Supernet`, its image
data
(a seeded train/validation split, :func:`load_split`), the weight optimiser and the
device. It is what ``nasgym/Supernet201*-v0`` envs query (``env.unwrapped.supernet``)
and what one-shot agents such as AdvantageNAS train directly:

* :meth:`Supernet.train_step` runs one weight step of one subnetwork on a training
  batch (only the chosen ops run and get gradients);
* :meth:`Supernet.evaluate` returns the validation accuracies of several
  subnetworks with the shared weights, evaluated together in batched forwards;
* :meth:`Supernet.edge_advantages` gives ``dL/da`` of the per-edge output scales
  of one subnetwork on a validation batch (AdvantageNAS's advantage);
* :meth:`Supernet.save_checkpoint` / :meth:`Supernet.load_checkpoint` store and
  restore weights, optimiser, schedule and data-stream position atomically.

Weights use docs/methods/advantagenas.md#schedule's optimiser by default: Nesterov SGD,
lr 0.1 (cosine
annealed over ``schedule_steps`` weight steps when set), momentum 0.9, weight decay
5e-4, gradient-norm clip 1.0. Test images are never loaded.

Device ``"auto"`` picks CUDA when available, with bfloat16 autocast and channels-last
memory (``amp``/``channels_last``), else the CPU in float32. The public interface is
NumPy and Python floats. torch is imported when this module is.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import require

try:
    import torch
    from torch import Tensor, nn
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="the weight-sharing supernet")
    raise

from nasgym.data import honour_umask
from nasgym.error import CorruptDataError, UnknownOptionError, unknown_option
from nasgym.oneshot.datasets import (
    CIFAR_DATASETS,
    DATASETS,
    ImageSplit,
    load_cifar,
    load_images,
)
from nasgym.oneshot.device import resolve_device
from nasgym.oneshot.nn.supernet import Choice, NB201Supernet, check_choices

#: Dataset keywords: the offline wheel sets, then CIFAR from a local directory.
SUPERNET_DATASETS: tuple[str, ...] = (*DATASETS, *CIFAR_DATASETS)
#: Checkpoint format version.
CHECKPOINT_VERSION = 1


def load_split(
    dataset: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    image_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
) -> ImageSplit:
    """The train/validation split of a supernet dataset keyword.

    Args:
        dataset: ``"digits"``, ``"mnist5k"`` (offline, grey, resized to
            ``image_size``, default 16) or ``"cifar10"``/``"cifar100"`` (from
            ``data_dir``, 32x32 RGB; ``image_size`` must be 32 or ``None``).
        data_dir: torchvision-format CIFAR directory.
        image_size: Side length of the offline sets' images.
        val_fraction: Validation share (default 0.2 offline, 0.5 on CIFAR).
        split_seed: Seeds the stratified split.

    Raises:
        UnknownOptionError: Unknown dataset.
        BenchmarkDataMissingError: CIFAR without a complete ``data_dir``.
    """
    if dataset in CIFAR_DATASETS:  # large: read once per supernet, not cached
        return _load_split(dataset, data_dir, image_size, val_fraction, split_seed)
    key = (dataset, image_size, val_fraction, split_seed)
    cached = _SPLITS.get(key)
    if cached is None:
        cached = _SPLITS[key] = _load_split(
            dataset, data_dir, image_size, val_fraction, split_seed
        )
    return cached


#: Offline splits loaded in this process (read-only arrays), by their arguments.
_SPLITS: dict[tuple[Any, ...], ImageSplit] = {}


def _load_split(
    dataset: str,
    data_dir: str | os.PathLike[str] | None,
    image_size: int | None,
    val_fraction: float | None,
    split_seed: int,
) -> ImageSplit:
    if dataset in CIFAR_DATASETS:
        if image_size not in (None, 32):
            raise UnknownOptionError(
                f"{dataset} images are 32x32; image_size must be 32 or None, got "
                f"{image_size!r}"
            )
        return load_cifar(
            dataset,
            data_dir,
            val_fraction=0.5 if val_fraction is None else val_fraction,
            seed=split_seed,
        )
    if dataset not in DATASETS:
        raise unknown_option("supernet dataset", dataset, SUPERNET_DATASETS)
    split = load_images(
        dataset,
        size=16 if image_size is None else image_size,
        channels=1,
        val_fraction=0.2 if val_fraction is None else val_fraction,
        seed=split_seed,
    )
    for array in (split.x_train, split.y_train, split.x_val, split.y_val):
        array.setflags(write=False)
    return split


def resolve_auto_device(device: str | torch.device) -> torch.device:
    """``"auto"``: CUDA when available, else the CPU; anything else is checked.

    Raises:
        DeviceUnavailableError: CUDA requested without a GPU.
        UnknownOptionError: Not a device.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return resolve_device(device)


@dataclass(frozen=True)
class SupernetConfig:
    """The settings that fix a supernet's shape, data and optimiser.

    Attributes mirror :class:`Supernet`'s arguments; a checkpoint stores them and
    :meth:`Supernet.load_checkpoint` refuses one whose shape or data differ.
    """

    dataset: str = "digits"
    channels: int = 16
    num_cells: int = 5
    batch_size: int = 64
    eval_batch_size: int = 256
    eval_batches: int | None = None
    image_size: int | None = None
    val_fraction: float | None = None
    split_seed: int = 0
    lr: float = 0.1
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    grad_clip: float | None = 1.0
    schedule_steps: int | None = None

    #: Fields whose change makes a checkpoint incompatible.
    SHAPE_FIELDS = ("dataset", "channels", "num_cells", "image_size", "split_seed")

    def check(self) -> None:
        """Raise :class:`UnknownOptionError` naming the first bad setting."""
        for name in ("channels", "num_cells", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UnknownOptionError(
                    f"{name} must be a positive int, got {value!r}"
                )
        for name in ("eval_batches", "schedule_steps"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise UnknownOptionError(
                    f"{name} must be a positive int or None, got {value!r}"
                )
        for name in ("lr", "lr_min", "momentum", "weight_decay"):
            value = getattr(self, name)
            if (
                not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise UnknownOptionError(
                    f"{name} must be a finite number >= 0, got {value!r}"
                )
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise UnknownOptionError(
                f"grad_clip must be positive or None, got {self.grad_clip!r}"
            )


def torch_seed(seed: int) -> int:
    """A seed ``torch.manual_seed`` takes, for any seed Gymnasium takes (ints >= 0).

    Seeds below ``2**63`` pass unchanged; larger ones (torch refuses them) are hashed
    to 63 bits with NumPy's ``SeedSequence``, so distinct seeds stay distinct streams.
    """
    if 0 <= seed < 2**63:
        return seed
    state = np.random.SeedSequence(abs(seed)).generate_state(1, np.uint64)
    return int(state[0]) >> 1


class _Stream:
    """Seeded minibatches of one split: a fresh permutation per pass."""

    def __init__(self, n: int, batch: int, seed: int) -> None:
        self.n, self.batch = n, min(batch, n)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(n)
        self.pos = 0

    def next(self) -> NDArray[np.intp]:
        if self.pos + self.batch > self.n:
            self.order = self.rng.permutation(self.n)
            self.pos = 0
        index = self.order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return np.sort(index)

    def state(self) -> dict[str, Any]:
        return {
            "rng": self.rng.bit_generator.state,
            "order": self.order.tolist(),
            "pos": self.pos,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.order = np.asarray(state["order"], dtype=np.intp)
        self.pos = int(state["pos"])


class Supernet:
    """The NB201 supernet with its data, optimiser and device (see module doc).

    Args:
        dataset: See :func:`load_split`.
        data_dir: torchvision-format directory for CIFAR-10/100.
        channels: Channels ``C`` of the first stage (NB201: 16).
        num_cells: Cells per stage ``N`` (NB201: 5).
        batch_size: Images per weight step and per advantage step.
        eval_batch_size: Images per forward of :meth:`evaluate`.
        eval_batches: Validation batches per evaluation; ``None`` evaluates the
            whole validation split (the same images every time).
        image_size: Side length of the offline sets (default 16).
        val_fraction: Validation share of the split.
        split_seed: Seeds the split (fixed for the object's life).
        lr: Initial weight learning rate.
        lr_min: Final learning rate of the cosine schedule.
        momentum: SGD momentum.
        nesterov: Nesterov momentum.
        weight_decay: SGD weight decay.
        grad_clip: Gradient-norm clip of weight steps (``None``: off).
        schedule_steps: Weight steps of the cosine schedule (``None``: constant lr).
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        amp: bfloat16 autocast on CUDA (ignored on the CPU).
        channels_last: Channels-last memory on CUDA (ignored on the CPU).
        seed: Seeds the weights and the minibatch order.

    Raises:
        UnknownOptionError: A bad setting (the message names it).
        BenchmarkDataMissingError: CIFAR data is missing.
        DeviceUnavailableError: CUDA requested without a GPU.
    """

    def __init__(
        self,
        dataset: str = "digits",
        *,
        data_dir: str | os.PathLike[str] | None = None,
        channels: int = 16,
        num_cells: int = 5,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        eval_batches: int | None = None,
        image_size: int | None = None,
        val_fraction: float | None = None,
        split_seed: int = 0,
        lr: float = 0.1,
        lr_min: float = 0.0,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 5e-4,
        grad_clip: float | None = 1.0,
        schedule_steps: int | None = None,
        device: str | torch.device = "auto",
        amp: bool = True,
        channels_last: bool = True,
        seed: int = 0,
    ) -> None:
        self.config = SupernetConfig(
            dataset=dataset,
            channels=channels,
            num_cells=num_cells,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            eval_batches=eval_batches,
            image_size=image_size,
            val_fraction=val_fraction,
            split_seed=split_seed,
            lr=lr,
            lr_min=lr_min,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            schedule_steps=schedule_steps,
        )
        self.config.check()
        self.device = resolve_auto_device(device)
        cuda = self.device.type == "cuda"
        self.amp = bool(amp) and cuda
        self.channels_last = bool(channels_last) and cuda
        self.split = load_split(
            dataset,
            data_dir=data_dir,
            image_size=image_size,
            val_fraction=val_fraction,
            split_seed=split_seed,
        )
        self._x_train = self._to_device(self.split.x_train)
        self._y_train = torch.tensor(self.split.y_train, device=self.device)
        self._x_val = self._to_device(self.split.x_val)
        self._y_val = torch.tensor(self.split.y_val, device=self.device)
        #: Training images seen by weight steps (for images/s).
        self.images_trained = 0
        #: Bumped whenever the weights change (steps, resets, loads): caches of
        #: evaluations key on it.
        self.version = 0
        self.reset(seed)

    def _to_device(self, array: NDArray[np.float32]) -> Tensor:
        # Cached offline splits are read-only: copy those (they are small).
        tensor = torch.from_numpy(array if array.flags.writeable else array.copy()).to(
            self.device
        )
        if self.channels_last:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    # ------------------------------------------------------------- lifecycle
    def reset(self, seed: int) -> None:
        """Fresh weights, optimiser, schedule and minibatch streams from ``seed``."""
        cfg = self.config
        self.seed = int(seed)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(torch_seed(self.seed))
            model = NB201Supernet(
                C=cfg.channels,
                N=cfg.num_cells,
                in_channels=int(self.split.x_train.shape[1]),
                num_classes=self.split.num_classes,
            )
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.model: NB201Supernet = model
        self.optimizer = torch.optim.SGD(
            model.parameters(),
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=cfg.nesterov and cfg.momentum > 0,
            weight_decay=cfg.weight_decay,
        )
        self.schedule_steps = cfg.schedule_steps
        self.weight_steps = 0
        self.version += 1
        streams = np.random.SeedSequence(self.seed).spawn(2)
        self._train = _Stream(
            len(self.split.y_train),
            cfg.batch_size,
            int(streams[0].generate_state(1)[0]),
        )
        self._val = _Stream(
            len(self.split.y_val), cfg.batch_size, int(streams[1].generate_state(1)[0])
        )
        self._eval_pos = 0

    def set_schedule(self, steps: int | None) -> None:
        """Cosine-anneal the weight lr over weight steps ``0 .. steps`` since the reset.

        The count is :attr:`weight_steps` since the last :meth:`reset` (steps already
        run count), not from this call. ``None`` keeps the lr constant. Agents that
        know their total number of weight steps (AdvantageNAS) call this.
        """
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise UnknownOptionError(
                f"steps must be a positive int or None, got {steps!r}"
            )
        self.schedule_steps = steps
        self._apply_lr()

    def current_lr(self) -> float:
        """The weight learning rate of the next weight step."""
        cfg = self.config
        if self.schedule_steps is None:
            return float(cfg.lr)
        t = min(self.weight_steps / self.schedule_steps, 1.0)
        return float(
            cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))
        )

    def _apply_lr(self) -> None:
        lr = self.current_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

    # ---------------------------------------------------------------- steps
    def train_step(self, choice: Sequence[int]) -> float:
        """One weight step of subnetwork ``choice`` on the next training batch.

        Returns:
            The training loss before the step.
        """
        (pick,) = check_choices([choice])
        index = torch.from_numpy(self._train.next()).to(self.device)
        x, y = self._x_train[index], self._y_train[index]
        self.model.train()
        self._apply_lr()
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            logits = self.model(x, [pick])[0]
            loss = nn.functional.cross_entropy(logits.float(), y)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.weight_steps += 1
        self.version += 1
        self.images_trained += int(y.shape[0])
        return float(loss.detach())

    def edge_advantages(
        self, choice: Sequence[int]
    ) -> tuple[NDArray[np.float64], float]:
        """``dL/da_e`` of the edge-output scales of ``choice`` on a validation batch.

        The scales ``a_e`` are ones, so the forward is the subnetwork's; the
        gradient is ``<dL/dy_e, o_k(x)>`` summed over the cells sharing edge ``e``
        (AdvantageNAS's per-edge advantage,
        docs/methods/advantagenas.md#per-edge-advantage). No weight changes.

        Returns:
            ``(A, L)``: the 6 advantages and the validation loss.
        """
        (pick,) = check_choices([choice])
        index = torch.from_numpy(self._val.next()).to(self.device)
        x, y = self._x_val[index], self._y_val[index]
        scales = torch.ones(1, len(pick), device=self.device, requires_grad=True)
        self.model.train()  # batch statistics, as in every forward
        with self._autocast():
            logits = self.model(x, [pick], scales)[0]
            loss = nn.functional.cross_entropy(logits.float(), y)
        (grad,) = torch.autograd.grad(loss, scales)
        return grad[0].double().cpu().numpy(), float(loss.detach())

    def edge_gradients(
        self, choice: Sequence[int], *, split: str = "val"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Both gradients GDAS's straight-through weights need, on a validation batch.

        Like :meth:`edge_advantages` (same batch stream, no weight change), but also
        the gradient of an additive scalar on each edge output.

        Args:
            choice: The subnetwork (one op index per edge).
            split: ``"val"`` (default): the next validation batch; ``"train"``: the
                next training batch of the weight steps' stream (UNAS's
                generalisation-gap objective needs both losses).

        Raises:
            UnknownOptionError: ``split`` is neither.

        Returns:
            ``(A, S, L)``: ``A[e] = <dL/dy_e, o_k(x)>`` (the sampled op's scale),
            ``S[e] = sum(dL/dy_e)`` (an unsampled op's weight, whose value-0 term
            is added to the edge output), both summed over the cells sharing edge
            ``e``, and the validation loss.
        """
        (pick,) = check_choices([choice])
        if split == "val":
            index = torch.from_numpy(self._val.next()).to(self.device)
            x, y = self._x_val[index], self._y_val[index]
        elif split == "train":
            index = torch.from_numpy(self._train.next()).to(self.device)
            x, y = self._x_train[index], self._y_train[index]
        else:
            raise unknown_option("edge-gradient split", split, ("val", "train"))
        scales = torch.ones(1, len(pick), device=self.device, requires_grad=True)
        offsets = torch.zeros(1, len(pick), device=self.device, requires_grad=True)
        self.model.train()  # batch statistics, as in every forward
        with self._autocast():
            logits = self.model(x, [pick], scales, offsets)[0]
            loss = nn.functional.cross_entropy(logits.float(), y)
        grad_a, grad_s = torch.autograd.grad(loss, [scales, offsets])
        return (
            grad_a[0].double().cpu().numpy(),
            grad_s[0].double().cpu().numpy(),
            float(loss.detach()),
        )

    def validation_loss(self, choice: Sequence[int]) -> float:
        """Cross-entropy of ``choice`` on the next validation batch (no gradient)."""
        (pick,) = check_choices([choice])
        index = torch.from_numpy(self._val.next()).to(self.device)
        with torch.no_grad(), self._autocast():
            logits = self.model(self._x_val[index], [pick])[0]
            loss = nn.functional.cross_entropy(logits.float(), self._y_val[index])
        return float(loss)

    def _eval_slices(self) -> list[slice]:
        n, size = len(self.split.y_val), self.config.eval_batch_size
        if self.config.eval_batches is None:
            return [slice(s, min(s + size, n)) for s in range(0, n, size)]
        slices = []
        for _ in range(self.config.eval_batches):
            if self._eval_pos + size > n:
                self._eval_pos = 0
            slices.append(slice(self._eval_pos, min(self._eval_pos + size, n)))
            self._eval_pos += size
        return slices

    def evaluate(
        self, choices: Sequence[Sequence[int]], *, max_batch: int | None = None
    ) -> NDArray[np.float64]:
        """Validation accuracies (%) of subnetworks with the shared weights.

        Up to ``max_batch`` subnetworks share each forward (:class:`NB201Supernet`'s
        batched evaluation); the default is 8 on CUDA, where it saves kernel
        launches, and 1 on the CPU, where the same arithmetic runs either way and
        the grouping only adds copies (docs/supernet.md measures both). With
        ``eval_batches=None`` every call sees the whole validation split; otherwise
        the next ``eval_batches`` validation batches (the same ones for every
        subnetwork of the call).
        """
        if max_batch is None:
            max_batch = 8 if self.device.type == "cuda" else 1
        if (
            isinstance(max_batch, bool)
            or not isinstance(max_batch, int)
            or max_batch < 1
        ):
            raise UnknownOptionError(
                f"max_batch must be a positive int or None, got {max_batch!r}"
            )
        picks = check_choices(choices)
        correct = np.zeros(len(picks))
        total = 0
        self.model.eval()
        with torch.no_grad(), self._autocast():
            for part in self._eval_slices():
                x, y = self._x_val[part], self._y_val[part]
                total += int(y.shape[0])
                for start in range(0, len(picks), max_batch):
                    group = picks[start : start + max_batch]
                    logits = self.model(x, group)
                    hits = (logits.argmax(dim=2) == y[None]).sum(dim=1)
                    correct[start : start + len(group)] += hits.cpu().numpy()
        accuracy: NDArray[np.float64] = 100.0 * correct / total
        return accuracy

    # ----------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`load_state_dict` needs to continue exactly."""
        return {
            "version": CHECKPOINT_VERSION,
            "config": asdict(self.config),
            "seed": self.seed,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "schedule_steps": self.schedule_steps,
            "weight_steps": self.weight_steps,
            "images_trained": self.images_trained,
            "train_stream": self._train.state(),
            "val_stream": self._val.state(),
            "eval_pos": self._eval_pos,
        }

    def load_state_dict(self, state: dict[str, Any], *, source: str = "state") -> None:
        """Restore a :meth:`state_dict`.

        Raises:
            CorruptDataError: Not a supernet state, or one of a different shape,
                dataset or split (the message names the differing settings).
        """
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise CorruptDataError(
                f"{source} is not a nasgym supernet checkpoint (version "
                f"{CHECKPOINT_VERSION})"
            )
        saved = state.get("config", {})
        mine = asdict(self.config)
        differ = [
            f"{k}={saved.get(k)!r} (this supernet: {mine[k]!r})"
            for k in SupernetConfig.SHAPE_FIELDS
            if saved.get(k) != mine[k]
        ]
        if differ:
            raise CorruptDataError(
                f"{source} was saved by a different supernet: {', '.join(differ)}; "
                f"construct the supernet with the saved settings"
            )
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self._train.restore(state["train_stream"])
            self._val.restore(state["val_stream"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CorruptDataError(
                f"{source} does not fit this supernet: {exc}"
            ) from exc
        self.seed = int(state["seed"])
        self.schedule_steps = state["schedule_steps"]
        self.weight_steps = int(state["weight_steps"])
        self.images_trained = int(state["images_trained"])
        self._eval_pos = int(state["eval_pos"])
        self.version += 1

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`state_dict` to ``path`` atomically (temp file, then rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            honour_umask(handle)
            with os.fdopen(handle, "wb") as out:
                torch.save(self.state_dict(), out)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore a :meth:`save_checkpoint` file.

        Raises:
            FileNotFoundError: No such file.
            CorruptDataError: Unreadable, or saved by a different supernet.
        """
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"no supernet checkpoint at {source}")
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types on a bad file
            raise CorruptDataError(
                f"{source} is not a readable supernet checkpoint ({exc}); delete it "
                f"or save a new one"
            ) from exc
        self.load_state_dict(state, source=str(source))


__all__ = [
    "SUPERNET_DATASETS",
    "Choice",
    "Supernet",
    "SupernetConfig",
    "load_split",
    "resolve_auto_device",
]
