"""Training-free (zero-cost) proxies for NAS-Bench-201 cells, and FreeNAS search.

Every proxy scores one randomly initialised
:class:`~nasgym.oneshot.nn.nb201.NB201Network`;
higher is better for all of them. Importing this module imports torch (``import
nasgym`` does not import it).

==============  ==========================================================  =========
proxy           score                                                       needs data
==============  ==========================================================  =========
``synflow``     ``sum |theta * dR/dtheta|`` over conv/linear weights, with  no (shape)
                ``R = sum(f(1))``: absolute weights, BN removed, one
                all-ones input, float64 (Tanaka et al. 2020)
``snip``        ``sum |theta * dL/dtheta|`` over conv/linear weights, ``L``  yes
                cross-entropy of the batch (Lee et al. 2019)
``grad_norm``   ``sum_l ||dL/dW_l||_2`` over conv/linear layers              yes
``fisher``      ``sum_l sum_c 0.5 * mean_b (sum_hw a * dL/da)^2`` over the   yes
                outputs ``a`` of conv/linear layers (Turner et al. 2020)
``jacov``       Jacobian covariance (Mellor et al. 2020, v1): with ``J`` the  yes
                per-image input gradient of ``sum(f(x))`` and ``v`` the
                eigenvalues of ``corrcoef(J)``,
                ``-sum(log(v + k) + 1 / (v + k))``, ``k = 1e-5``
``naswot``      NASWOT (Mellor et al. 2021): ``log|det K|`` with            yes
                ``K[i, j]`` the number of ReLUs on which images ``i`` and
                ``j`` agree (``N_A`` minus the Hamming distance)
``params``      number of parameters (equals NB201's ``params`` x 1e6)      no
``flops``       multiply-accumulates of conv/linear layers plus ``k*k`` per  no (shape)
                output of each ``k x k`` average pooling, for one image
                (:func:`nb201_flops`, in closed form)
==============  ==========================================================  =========

The gradient proxies use the network in training mode (batch statistics), as
NAS-Bench-Suite-Zero does. Proxies of one *group* share one pass of the network:
``snip``, ``grad_norm`` and ``fisher`` one cross-entropy backward pass, ``jacov`` and
``naswot`` one input-gradient pass. :func:`score_many` computes a group once and
gives exactly the values :func:`score` gives one at a time, since every network is
initialised from ``seed`` alone.

A degenerate network (every path to the output passes a ``none`` edge) has all-zero
gradients and ReLU patterns; its ``jacov`` and ``naswot`` are ``-inf``.

:func:`freeflow_scores` and :func:`freenas_search` implement the FreeFlow score of
FreeNAS as reconstructed in docs/methods/zero-cost.md#freeflow: on the supernet with
every op on every edge weighted by ``alpha[e, o] = 1``, absolute weights, BN removed,
an all-ones input and ``R = sum(output)``, the score of op ``o`` on edge ``e`` is
``alpha[e, o] * dR/dalpha[e, o]`` (one shared ``alpha`` for all 15 cells, i.e. the
sum over cells). The cell takes the argmax per edge.

Example:
    >>> import numpy as np
    >>> from nasgym.spaces.nb201 import OPS, NB201Arch
    >>> arch = NB201Arch((3, 3, 3, 1, 3, 3))
    >>> x = np.zeros((4, 3, 32, 32), dtype=np.float32)
    >>> y = np.arange(4)
    >>> score(arch, "params", batch=(x, y), C=8, N=1)
    79778.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import require

try:
    import torch
    from torch import Tensor, nn
except ImportError:  # raise the error that names the extra
    require("torch", extra="oneshot", purpose="zero-cost proxies")
    raise

from nasgym.error import Error, InvalidArchitectureError, unknown_option
from nasgym.oneshot.device import DeviceUnavailableError as DeviceUnavailableError
from nasgym.oneshot.device import resolve_device as resolve_device
from nasgym.oneshot.nn.nb201 import NB201Network

# PROXIES (every proxy name, in the order of the module table) and DATA_DEPENDENT
# (those that use the batch's images and labels; the others only its shape) live in
# the torch-free nasgym.oneshot.proxies, so the envs can check names without torch.
from nasgym.oneshot.proxies import DATA_DEPENDENT as DATA_DEPENDENT
from nasgym.oneshot.proxies import DATASET_SHAPES
from nasgym.oneshot.proxies import PROXIES as PROXIES
from nasgym.spaces.nb201 import OPS, NB201Arch

#: Proxies computed together from one pass of the network.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("synflow",),
    ("snip", "grad_norm", "fisher"),
    ("jacov", "naswot"),
    ("params",),
    ("flops",),
)
#: Eigenvalue offset of ``jacov``.
JACOV_K = 1e-5

FloatArray = NDArray[np.float64]
Batch = tuple[Any, Any]


def _check_proxies(proxies: Iterable[str]) -> list[str]:
    names = list(proxies)
    for name in names:
        if name not in PROXIES:
            raise unknown_option("zero-cost proxy", name, PROXIES)
    return names


def _check_arch(arch: object) -> NB201Arch:
    if isinstance(arch, NB201Arch):
        return arch
    if isinstance(arch, str):
        return NB201Arch.from_str(arch)
    raise InvalidArchitectureError(
        f"expected an NB201Arch or an NB201 arch string, got {arch!r}"
    )


def _as_batch(batch: Batch, device: torch.device, num_classes: int) -> Batch:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(
            "batch must be a pair (images, labels): images of shape (B, C, H, W), "
            f"labels of shape (B,); got {type(batch).__name__}"
        )
    images = torch.as_tensor(np.asarray(batch[0], dtype=np.float32), device=device)
    labels = torch.as_tensor(np.asarray(batch[1], dtype=np.int64), device=device)
    if images.ndim != 4 or labels.shape != (images.shape[0],):
        raise ValueError(
            f"batch images must be (B, C, H, W) and labels (B,), got "
            f"{tuple(images.shape)} and {tuple(labels.shape)}"
        )
    if images.shape[0] < 2:
        raise ValueError("batch needs at least 2 images (jacov/naswot compare them)")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} (num_classes={num_classes})"
        )
    return images, labels


class _Builder:
    """Builds the seeded network of one architecture."""

    def __init__(
        self,
        *,
        C: int,
        N: int,
        in_channels: int,
        num_classes: int,
        device: torch.device,
        seed: int,
    ) -> None:
        self.C, self.N = C, N
        self.in_channels, self.num_classes = in_channels, num_classes
        self.device, self.seed = device, seed

    def __call__(
        self, arch: NB201Arch | None, *, bn: bool = True, meta: bool = False
    ) -> NB201Network:
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            kwargs: dict[str, Any] = {
                "C": self.C,
                "N": self.N,
                "in_channels": self.in_channels,
                "num_classes": self.num_classes,
                "bn": bn,
            }
            if meta:
                with torch.device("meta"):
                    return NB201Network(arch, **kwargs)
            return NB201Network(arch, **kwargs).to(self.device)


def _weighted_layers(net: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _device_of(net: nn.Module) -> torch.device:
    for p in net.parameters():
        return p.device
    return torch.device("cpu")


def synflow_of(net: nn.Module, input_shape: Sequence[int]) -> float:
    """SynFlow of a network: ``sum |theta * dR/dtheta|`` over conv/linear weights.

    ``R`` is the sum of the output for one all-ones input, computed in float64 with
    every parameter replaced by its absolute value. The network is changed in place
    (converted to float64, absolute weights); build it without BN for SynFlow proper.

    Args:
        net: Any module taking ``(1, *input_shape)`` inputs.
        input_shape: Shape of one input, e.g. ``(3, 32, 32)``.

    Returns:
        The score.
    """
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=_device_of(net))
    net(ones).sum().backward()
    total = 0.0
    with torch.no_grad():
        for layer in _weighted_layers(net):
            assert layer.weight.grad is not None
            total += float((layer.weight * layer.weight.grad).abs().sum())
    return total


def gradient_scores(net: nn.Module, images: Tensor, labels: Tensor) -> dict[str, float]:
    """``snip``, ``grad_norm`` and ``fisher`` from one cross-entropy backward pass.

    Args:
        net: A classifier (put in training mode).
        images: Input batch.
        labels: Class labels of the batch.

    Returns:
        ``{"snip": ..., "grad_norm": ..., "fisher": ...}``.
    """
    net.train()
    net.zero_grad()
    layers = _weighted_layers(net)
    outputs: list[Tensor] = []

    def keep(_: nn.Module, __: Any, output: Tensor) -> None:
        output.retain_grad()
        outputs.append(output)

    handles = [layer.register_forward_hook(keep) for layer in layers]
    try:
        loss = nn.functional.cross_entropy(net(images), labels)
        torch.autograd.backward(loss)
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        return _cross_entropy_values(layers, outputs)


def _cross_entropy_values(
    layers: Sequence[nn.Conv2d | nn.Linear], outputs: Sequence[Tensor]
) -> dict[str, float]:
    snip = grad_norm = fisher = 0.0
    for layer in layers:
        grad = layer.weight.grad
        assert grad is not None
        snip += float((layer.weight * grad).abs().sum())
        grad_norm += float(grad.norm())
    for output in outputs:
        assert output.grad is not None
        prod = output * output.grad
        per_channel = prod.sum(dim=(2, 3)) if prod.ndim == 4 else prod
        fisher += float(0.5 * per_channel.pow(2).mean(dim=0).sum())
    return {"snip": snip, "grad_norm": grad_norm, "fisher": fisher}


def _jacov_value(jacobian: FloatArray) -> float:
    if not np.all(np.isfinite(jacobian)) or np.any(jacobian.std(axis=1) == 0):
        return -math.inf
    corr = np.corrcoef(jacobian)
    eig = np.clip(np.linalg.eigvalsh(corr), 0.0, None)
    return float(-np.sum(np.log(eig + JACOV_K) + 1.0 / (eig + JACOV_K)))


def activation_scores(net: nn.Module, images: Tensor) -> dict[str, float]:
    """``jacov`` and ``naswot`` from one input-gradient pass of ``sum(net(images))``.

    Args:
        net: A network (put in training mode); ``naswot`` hooks its ``nn.ReLU``s.
        images: Input batch of at least 2 images.

    Returns:
        ``{"jacov": ..., "naswot": ...}``.
    """
    net.train()
    net.zero_grad()
    batch = images.shape[0]
    kernel = torch.zeros((batch, batch), dtype=torch.float64, device=images.device)

    def hamming(_: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        codes = (inputs[0].detach() > 0).reshape(batch, -1).double()
        kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

    handles = [
        m.register_forward_pre_hook(hamming)
        for m in net.modules()
        if isinstance(m, nn.ReLU)
    ]
    x = images.clone().requires_grad_(True)
    try:
        net(x).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    assert x.grad is not None
    jacobian = x.grad.reshape(batch, -1).double().cpu().numpy()
    sign, logdet = np.linalg.slogdet(kernel.cpu().numpy())
    return {
        "jacov": _jacov_value(jacobian),
        "naswot": float(logdet) if sign > 0 else -math.inf,
    }


def params_of(net: nn.Module) -> float:
    """Number of parameters of a network (the meta device works too)."""
    return float(sum(p.numel() for p in net.parameters()))


def flops_of(net: nn.Module, input_shape: Sequence[int]) -> float:
    """Multiply-accumulates of conv and linear layers, plus ``k*k`` per pooled output.

    Counted with forward hooks during one forward pass of an all-zero input of shape
    ``input_shape`` (on the network's device; the meta device works too).

    Args:
        net: The network.
        input_shape: Shape of one input, e.g. ``(3, 32, 32)``.

    Returns:
        The count for one image.
    """
    total = 0

    def count(module: nn.Module, _: Any, output: Tensor) -> None:
        nonlocal total
        per_image = output.numel() // output.shape[0]
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += per_image * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, nn.AvgPool2d):
            k = module.kernel_size
            kh, kw = (k, k) if isinstance(k, int) else k
            total += per_image * kh * kw

    handles = [
        m.register_forward_hook(count)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.AvgPool2d))
    ]
    try:
        with torch.no_grad():
            net(torch.zeros((1, *input_shape), device=_device_of(net)))
    finally:
        for handle in handles:
            handle.remove()
    return float(total)


def nb201_flops(
    arch: NB201Arch,
    *,
    C: int = 16,
    N: int = 5,
    input_shape: Sequence[int] = (3, 32, 32),
    num_classes: int = 10,
) -> float:
    """What :func:`flops_of` counts for an :class:`NB201Network`, in closed form.

    No network is built: per cell, a ``k x k`` convolution on ``c`` channels at
    ``h x w`` costs ``h*w*c*c*k*k`` and an average pooling ``h*w*c*9``; the stem,
    the two residual reduction blocks and the classifier are added.

    Args:
        arch: The cell.
        C: Channels of the first stage.
        N: Cells per stage.
        input_shape: ``(channels, height, width)`` of one image.
        num_classes: Outputs of the classifier.

    Returns:
        The count for one image.
    """
    in_channels, height, width = (int(v) for v in input_shape)
    cost = {
        "nor_conv_3x3": lambda hw, c: hw * c * c * 9,
        "nor_conv_1x1": lambda hw, c: hw * c * c,
        "avg_pool_3x3": lambda hw, c: hw * c * 9,
    }
    total = height * width * C * in_channels * 9
    channels = C
    for stage in range(3):
        if stage > 0:
            c_in, channels = channels, 2 * channels
            height, width = (height - 1) // 2 + 1, (width - 1) // 2 + 1
            hw = height * width
            # conv_a, conv_b, then the shortcut's 2x2 pooling and 1x1 convolution
            total += hw * channels * c_in * 9 + hw * channels * channels * 9
            total += hw * c_in * 4 + hw * channels * c_in
        hw = height * width
        cell = sum(cost[OPS[op]](hw, channels) for op in arch.ops if OPS[op] in cost)
        total += N * cell
    return float(total + channels * num_classes)


def _score_group(
    group: tuple[str, ...],
    arch: NB201Arch,
    build: _Builder,
    images: Tensor,
    labels: Tensor,
) -> dict[str, float]:
    shape = tuple(images.shape[1:])
    if group == ("synflow",):
        return {"synflow": synflow_of(build(arch, bn=False), shape)}
    if group == ("params",):
        return {"params": params_of(build(arch, meta=True))}
    if group == ("flops",):
        return {
            "flops": nb201_flops(
                arch,
                C=build.C,
                N=build.N,
                input_shape=shape,
                num_classes=build.num_classes,
            )
        }
    if group == ("snip", "grad_norm", "fisher"):
        return gradient_scores(build(arch), images, labels)
    return activation_scores(build(arch), images)


def score_many(
    archs: Iterable[NB201Arch | str],
    proxies: Iterable[str] = PROXIES,
    *,
    batch: Batch,
    device: str | torch.device = "cpu",
    seed: int = 0,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    timings: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, FloatArray]:
    """Score many architectures with several proxies.

    Args:
        archs: NB201 cells (or official arch strings).
        proxies: Proxy names from :data:`PROXIES`.
        batch: ``(images, labels)``, NumPy arrays or tensors of shapes
            ``(B, C, H, W)`` and ``(B,)``; data-independent proxies use only the
            image shape.
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds every network's initialisation (the same for every cell).
        C: Channels of the first stage.
        N: Cells per stage.
        num_classes: Outputs of the classifier; labels must be below it.
        timings: If given, receives the wall-clock seconds spent per proxy group,
            keyed like ``"snip+grad_norm+fisher"`` (added to existing values).
        progress: Called with the number of architectures done after each one.

    Returns:
        Proxy name -> float64 array of one score per architecture.

    Raises:
        UnknownOptionError: An unknown proxy or device string.
        DeviceUnavailableError: CUDA requested but not available.
        InvalidArchitectureError: An item of ``archs`` is not an NB201 cell.
    """
    names = _check_proxies(proxies)
    cells = [_check_arch(a) for a in archs]
    dev = resolve_device(device)
    images, labels = _as_batch(batch, dev, num_classes)
    build = _Builder(
        C=C,
        N=N,
        in_channels=int(images.shape[1]),
        num_classes=num_classes,
        device=dev,
        seed=seed,
    )
    groups = [g for g in GROUPS if any(p in names for p in g)]
    results = {p: np.empty(len(cells), dtype=np.float64) for p in names}
    for i, arch in enumerate(cells):
        for group in groups:
            start = time.perf_counter()
            values = _score_group(group, arch, build, images, labels)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            if timings is not None:
                key = "+".join(group)
                timings[key] = timings.get(key, 0.0) + time.perf_counter() - start
            for name, value in values.items():
                if name in results:
                    results[name][i] = value
        if progress is not None:
            progress(i + 1)
    return results


def score(
    arch: NB201Arch | str,
    proxy: str,
    *,
    batch: Batch,
    device: str | torch.device = "cpu",
    seed: int = 0,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
) -> float:
    """Score one architecture with one proxy (see :func:`score_many`).

    Args:
        arch: An NB201 cell or its official arch string.
        proxy: A name from :data:`PROXIES`.
        batch: ``(images, labels)`` of shapes ``(B, C, H, W)`` and ``(B,)``.
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds the network's initialisation.
        C: Channels of the first stage.
        N: Cells per stage.
        num_classes: Outputs of the classifier.

    Returns:
        The score (higher is better).
    """
    values = score_many(
        [arch],
        [proxy],
        batch=batch,
        device=device,
        seed=seed,
        C=C,
        N=N,
        num_classes=num_classes,
    )
    return float(values[proxy][0])


def freeflow_scores(
    *,
    input_shape: Sequence[int] = (3, 32, 32),
    num_classes: int = 10,
    device: str | torch.device = "cpu",
    seed: int = 0,
    C: int = 16,
    N: int = 5,
    alive: NDArray[np.bool_] | None = None,
) -> FloatArray:
    """FreeFlow score ``alpha[e, o] * dR/dalpha[e, o]`` of every op on every edge.

    Args:
        input_shape: ``(channels, height, width)`` of the all-ones input.
        num_classes: Outputs of the classifier.
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds the supernet's initialisation.
        C: Channels of the first stage.
        N: Cells per stage.
        alive: Optional ``(6, 5)`` boolean mask of the ops still in the supernet;
            pruned ops get ``alpha = 0`` (and so score 0). Default: all ops.

    Returns:
        Array of shape ``(6, 5)``: edge slot x op (:data:`nasgym.spaces.nb201.OPS`).
    """
    net, ones = _freeflow_supernet(input_shape, num_classes, device, seed, C, N)
    return _freeflow_pass(net, ones, alive)


def _freeflow_supernet(
    input_shape: Sequence[int],
    num_classes: int,
    device: str | torch.device,
    seed: int,
    C: int,
    N: int,
) -> tuple[NB201Network, Tensor]:
    dev = resolve_device(device)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (channels, H, W), got {input_shape!r}")
    build = _Builder(
        C=C, N=N, in_channels=shape[0], num_classes=num_classes, device=dev, seed=seed
    )
    net = build(None, bn=False).double()
    with torch.no_grad():
        for p in net.weight_parameters():
            p.abs_()
    return net, torch.ones((1, *shape), dtype=torch.float64, device=dev)


def _freeflow_pass(
    net: NB201Network, ones: Tensor, alive: NDArray[np.bool_] | None
) -> FloatArray:
    alphas = net.alphas
    assert alphas is not None
    mask = np.ones(alphas.shape, dtype=bool) if alive is None else np.asarray(alive)
    if mask.shape != tuple(alphas.shape) or mask.dtype != np.bool_:
        raise ValueError(
            f"alive must be a boolean array of shape (6, 5), got {alive!r}"
        )
    with torch.no_grad():
        alphas.copy_(torch.as_tensor(mask, dtype=alphas.dtype))
    net.zero_grad()
    net(ones).sum().backward()
    assert alphas.grad is not None
    scores: FloatArray = (alphas * alphas.grad).detach().cpu().numpy()
    return scores


@dataclass(frozen=True)
class FreeNASResult:
    """The cell FreeNAS picks, the FreeFlow scores behind it and the search time.

    Attributes:
        arch: Argmax op of every edge (of the last round when iterative).
        scores: FreeFlow scores, shape ``(6, 5)`` (of the last supernet pass).
        seconds: Wall-clock seconds of the whole search.
        passes: Supernet passes run (1, or 4 when iterative).
    """

    arch: NB201Arch
    scores: FloatArray
    seconds: float
    passes: int = 1


def freenas_search(
    *,
    input_shape: Sequence[int] = (3, 32, 32),
    num_classes: int = 10,
    device: str | torch.device = "cpu",
    seed: int = 0,
    C: int = 16,
    N: int = 5,
    iterative: bool = False,
) -> FreeNASResult:
    """FreeNAS on NB201: score every candidate op once, take the argmax per edge.

    With ``iterative=True`` (the pruning option of docs/methods/zero-cost.md#freeflow)
    the search
    instead runs rounds: score the remaining supernet, drop the lowest-scoring op of
    every edge that still has more than one, and repeat until one op per edge is
    left (4 rounds for 5 ops; the last round's argmax is the cell).

    Args:
        input_shape: ``(channels, height, width)`` of the all-ones input.
        num_classes: Outputs of the classifier.
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds the supernet's initialisation.
        C: Channels of the first stage.
        N: Cells per stage.
        iterative: Prune one op per edge per round instead of a single pass.

    Returns:
        The picked cell, its scores and the wall-clock.
    """
    start = time.perf_counter()
    net, ones = _freeflow_supernet(input_shape, num_classes, device, seed, C, N)
    alive = np.ones((6, 5), dtype=bool)
    scores = _freeflow_pass(net, ones, alive)
    passes = 1
    while iterative and alive.sum(axis=1).max() > 2:
        masked = np.where(alive, scores, np.inf)
        alive[np.arange(6), masked.argmin(axis=1)] = False
        scores = _freeflow_pass(net, ones, alive)
        passes += 1
    picked = np.where(alive, scores, -np.inf).argmax(axis=1)
    arch = NB201Arch(tuple(int(i) for i in picked))
    return FreeNASResult(arch, scores, time.perf_counter() - start, passes)


def freeflow_arch_scores(
    archs: Iterable[NB201Arch | str], scores: FloatArray
) -> FloatArray:
    """Rank cells by the sum of the FreeFlow scores of their ops (one supernet pass).

    Args:
        archs: NB201 cells.
        scores: Output of :func:`freeflow_scores`, shape ``(6, 5)``.

    Returns:
        One float per cell.
    """
    table = np.asarray(scores, dtype=np.float64)
    if table.shape != (6, 5):
        raise ValueError(f"scores must have shape (6, 5), got {table.shape}")
    cells = [_check_arch(a) for a in archs]
    slots = np.arange(6)
    return np.array(
        [float(table[slots, list(c.ops)].sum()) for c in cells], dtype=np.float64
    )


def freenas_report(
    dataset: str = "cifar10",
    *,
    iterative: bool = False,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> str:
    """Run :func:`freenas_search` on the real NB201 network and describe the result.

    The picked cell's 12-epoch validation and 200-epoch test accuracy are looked up
    in nasgym's NB201 table when it is imported (``nasgym data import nb201``);
    without it the report says so. Used by ``nasgym freenas``.

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"`` (sets the
            input size and the number of classes).
        iterative: Prune one op per edge per round (4 supernet passes).
        device: ``"cpu"`` or a CUDA device.
        seed: Seeds the supernet's initialisation.

    Returns:
        Multi-line text: the cell, passes, wall-clock seconds, and its accuracies.

    Raises:
        UnknownOptionError: Unknown dataset or device.
        DeviceUnavailableError: CUDA requested but not available.
    """
    if dataset not in DATASET_SHAPES:
        raise unknown_option("NB201 dataset", dataset, DATASET_SHAPES)
    classes, size = DATASET_SHAPES[dataset]
    result = freenas_search(
        input_shape=(3, size, size),
        num_classes=classes,
        device=device,
        seed=seed,
        iterative=iterative,
    )
    dev = resolve_device(device)
    lines = [
        f"FreeNAS on NB201 {dataset}: {result.passes} supernet "
        f"pass{'es' if result.passes > 1 else ''}"
        f"{' (iterative pruning)' if iterative else ''}, seed {seed}, {dev.type}, "
        f"{torch.get_num_threads()} CPU threads",
        f"  cell      {result.arch.to_str()}",
        f"  wall-clock {result.seconds:.3f} s",
    ]
    from nasgym.benchmarks.nb201 import NB201Benchmark

    bench = NB201Benchmark(dataset)
    try:
        valid = bench.query(result.arch, "valid@12")
        test = bench.query(result.arch, "test@200")
    except Error as exc:
        lines.append(f"  accuracy  unavailable ({exc})")
        return "\n".join(lines)
    better = float(np.mean(bench.table("test@200") > test)) * 100
    lines.append(
        f"  valid@12 {valid:.2f}  test@200 {test:.2f}  (optimum "
        f"{bench.optimum('test@200'):.2f}; {better:.1f}% of the 15,625 cells are "
        f"better)"
    )
    return "\n".join(lines)
