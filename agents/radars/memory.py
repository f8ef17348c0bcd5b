"""Memory footprint of the dense NB201 supernet restricted to a subspace.

RADARS prunes until the dense (DARTS) supernet of the remaining ops fits a memory
budget. :func:`estimate_memory` predicts that footprint from the shapes alone, with
no torch; :func:`measure_peak_memory` measures it in a fresh Python process, so the
estimator can be checked (tests/agents/test_radars.py, docs/methods/radars.md).

What is estimated: the peak bytes of one first-order DARTS training step of
:class:`nasgym_agents.darts.MixedSupernet` (float32, batch statistics) restricted
to ``candidates``: a forward and backward with both ``alpha`` and the weights
requiring gradients, then an SGD-with-momentum step. The data set, the interpreter
and torch itself are not counted. The estimate is the sum of

* **saved activations**: every tensor autograd keeps for the backward, counted per
  op from the ops' forward definitions (``B x c x H x W`` values each):

  ============== ============================================= ===============
  op             tensors it creates and autograd keeps          keeps its input
  ============== ============================================= ===============
  none           1 (``x * 0``, kept by the ``alpha`` product)   no
  skip_connect   0                                              yes
  nor_conv_1x1   3 (ReLU output, conv output, BN output)        no
  nor_conv_3x3   3 (ReLU output, conv output, BN output)        no
  avg_pool_3x3   1 (its output, kept by the ``alpha`` product)  yes
  ============== ============================================= ===============

  A cell's node (and a cell's or block's output) is kept when one of its
  consumers keeps its input: an edge op marked "yes" above, a reduction block
  (its average-pool shortcut keeps its input) or the final batch norm. The fixed
  parts add the stem's convolution output, per reduction block the ReLU output at
  the input resolution and, at the output resolution, the two conv outputs, the
  second ReLU output and the half-channel pooled shortcut, then the final ReLU
  output, the pooled features and the logits;
* **parameters**: 3 copies of every weight (the weight, its gradient, SGD's
  momentum buffer), counted from the layer shapes, plus ``alpha``;
* **backward working set**: one gradient tensor of the largest activation
  (first stage, ``B x C x H x W``), the gradient in flight.

:func:`measure_peak_memory` runs the same step in a fresh subprocess: it warms the
kernels up on a tiny network, records the resident set size (``VmRSS``), resets
the kernel's peak counter (``/proc/self/clear_refs``), runs the step and reads the
peak (``VmHWM``); glibc's ``MALLOC_MMAP_THRESHOLD_`` is fixed at 64 KiB so freed
tensors go back to the kernel at once (otherwise allocator caching inflates the
peak). Linux only. The estimate is within :data:`TOLERANCE` (10 %, or 2 MiB for
small footprints) of the measurement on the configurations the tests check
(docs/methods/radars.md lists measured figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from nasgym.error import UnknownOptionError
from nasgym.spaces.nb201 import EDGES, OPS

#: Tolerance of :func:`estimate_memory` against :func:`measure_peak_memory`: the
#: larger of :data:`TOLERANCE` x the measurement and :data:`TOLERANCE_BYTES`.
TOLERANCE = 0.10
#: Absolute floor of the tolerance (a few allocator pages of small tensors).
TOLERANCE_BYTES = 2 * 2**20
#: Bytes per value (float32).
BYTES = 4
#: Per op: saved tensors of the op's output shape it creates, whether it keeps its
#: input for the backward, and its weights as a function of the channels ``c``.
OP_SAVED: dict[str, int] = {
    "none": 1,
    "skip_connect": 0,
    "nor_conv_1x1": 3,
    "nor_conv_3x3": 3,
    "avg_pool_3x3": 1,
}
OP_KEEPS_INPUT: dict[str, bool] = {
    "none": False,
    "skip_connect": True,
    "nor_conv_1x1": False,
    "nor_conv_3x3": False,
    "avg_pool_3x3": True,
}


def op_parameters(name: str, c: int) -> int:
    """Weights of one NB201 op on ``c`` channels (convolution and affine BN)."""
    if name == "nor_conv_1x1":
        return c * c + 2 * c
    if name == "nor_conv_3x3":
        return 9 * c * c + 2 * c
    return 0


@dataclass(frozen=True)
class MemoryEstimate:
    """An estimate of :func:`estimate_memory` (bytes).

    Attributes:
        activation_bytes: Saved activations of the forward.
        parameter_bytes: Weights, gradients and momentum buffers (and ``alpha``).
        workspace_bytes: The backward's gradient in flight.
        ops_activation_bytes: The part of ``activation_bytes`` the edge ops create
            (what pruning removes), per op name.
    """

    activation_bytes: int
    parameter_bytes: int
    workspace_bytes: int
    ops_activation_bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        """The estimated peak."""
        return self.activation_bytes + self.parameter_bytes + self.workspace_bytes

    @property
    def total_mib(self) -> float:
        """The estimated peak in MiB."""
        return self.total_bytes / 2**20


def _full_candidates() -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(range(len(OPS))) for _ in EDGES)


def _check_shape(
    channels: int, num_cells: int, batch_size: int, image_size: int, in_channels: int
) -> None:
    for name, value in (
        ("channels", channels),
        ("num_cells", num_cells),
        ("batch_size", batch_size),
        ("image_size", image_size),
        ("in_channels", in_channels),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UnknownOptionError(f"{name} must be a positive int, got {value!r}")
    if image_size % 4:
        raise UnknownOptionError(
            f"image_size must be a multiple of 4 (two stride-2 reductions), got "
            f"{image_size}"
        )


def estimate_memory(
    candidates: Sequence[Sequence[int]] | None,
    *,
    channels: int,
    num_cells: int,
    batch_size: int,
    image_size: int,
    in_channels: int = 1,
    num_classes: int = 10,
) -> MemoryEstimate:
    """Estimate the peak memory of a DARTS step on the restricted supernet.

    Args:
        candidates: Per edge, the op indices kept (``None``: all five).
        channels: Channels ``C`` of the first stage.
        num_cells: Cells per stage ``N``.
        batch_size: Images per step ``B``.
        image_size: Input side ``H = W`` (a multiple of 4).
        in_channels: Image channels.
        num_classes: Classifier outputs.

    Returns:
        The estimate and its parts (see the module doc for the model).

    Raises:
        UnknownOptionError: Bad shapes or candidates.
    """
    from ..darts.search import check_candidates

    _check_shape(channels, num_cells, batch_size, image_size, in_channels)
    kept = _full_candidates() if candidates is None else check_candidates(candidates)
    names = [[OPS[k] for k in ops] for ops in kept]
    keeps = [any(OP_KEEPS_INPUT[n] for n in ops) for ops in names]
    # node -> does some out-edge keep it?
    node_kept = {
        node: any(keeps[s] for s, (src, _) in enumerate(EDGES) if src == node)
        for node in (0, 1, 2)
    }
    per_op = dict.fromkeys(OPS, 0)
    C, B, H = channels, batch_size, image_size
    # the layers in order: (kind, channels, side); each layer's output is kept iff
    # its consumer keeps its input (a cell: node 0's out-edges; else always)
    layers: list[tuple[str, int, int]] = [("stem", C, H)]
    c, h = C, H
    for stage in range(3):
        if stage > 0:
            layers.append(("reduction", 2 * c, h // 2))
            c, h = 2 * c, h // 2
        layers.extend(("cell", c, h) for _ in range(num_cells))
    values = 0  # activation values
    params = 0
    for index, (kind, c, h) in enumerate(layers):
        unit = B * c * h * h
        consumer = layers[index + 1][0] if index + 1 < len(layers) else "final"
        if consumer != "cell" or node_kept[0]:
            values += unit  # the layer's output
        if kind == "stem":
            values += unit  # the convolution output (kept by its BN)
            params += in_channels * c * 9 + 2 * c
        elif kind == "reduction":
            c_in, h_in = c // 2, 2 * h
            # ReLU output at the input resolution, conv_a and conv_b outputs, the
            # second ReLU output, and the pooled shortcut (c_in channels)
            values += B * c_in * h_in * h_in + 3 * unit + B * c_in * h * h
            params += c_in * c * 9 + 2 * c + c * c * 9 + 2 * c + c_in * c
        else:
            for ops in names:
                for name in ops:
                    per_op[name] += OP_SAVED[name] * unit * BYTES
                    values += OP_SAVED[name] * unit
                    params += op_parameters(name, c)
            values += unit * (int(node_kept[1]) + int(node_kept[2]))
    # final ReLU output (kept by the pool), pooled features, logits + softmax
    values += B * c * h * h + B * c + 2 * B * num_classes
    params += 2 * c + c * num_classes + num_classes
    params += len(EDGES) * len(OPS)  # alpha
    return MemoryEstimate(
        activation_bytes=values * BYTES,
        parameter_bytes=3 * params * BYTES,
        workspace_bytes=B * C * H * H * BYTES,
        ops_activation_bytes=per_op,
    )


def measure_peak_memory(
    candidate_sets: Sequence[Sequence[Sequence[int]] | None],
    *,
    channels: int,
    num_cells: int,
    batch_size: int,
    image_size: int,
    in_channels: int = 1,
    num_classes: int = 10,
    timeout_s: float = 600.0,
) -> list[int]:
    """Measure the peak of one DARTS step per subspace in a fresh subprocess.

    Args:
        candidate_sets: Subspaces (per-edge op indices; ``None``: the full space).
        channels: Channels ``C`` of the first stage.
        num_cells: Cells per stage ``N``.
        batch_size: Images per step ``B``.
        image_size: Input side ``H = W`` (a multiple of 4).
        in_channels: Image channels.
        num_classes: Classifier outputs.
        timeout_s: Seconds the subprocess may take.

    Returns:
        Peak bytes above the resident set before each step (module doc).

    Raises:
        UnknownOptionError: Not on Linux (needs ``/proc/self/clear_refs``), or bad
            shapes.
        RuntimeError: The subprocess failed (its error output is included).
    """
    from ..darts.search import check_candidates

    _check_shape(channels, num_cells, batch_size, image_size, in_channels)
    if not os.path.exists("/proc/self/clear_refs"):
        raise UnknownOptionError(
            "measuring peak memory needs Linux (/proc/self/clear_refs); use "
            "estimate_memory elsewhere"
        )
    sets = [None if s is None else check_candidates(s) for s in candidate_sets]
    job = {
        "candidate_sets": [None if s is None else [list(o) for o in s] for s in sets],
        "channels": channels,
        "num_cells": num_cells,
        "batch_size": batch_size,
        "image_size": image_size,
        "in_channels": in_channels,
        "num_classes": num_classes,
    }
    env = {
        **os.environ,
        "MALLOC_MMAP_THRESHOLD_": "65536",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "nasgym_agents.radars.memory", json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"the memory measurement subprocess failed ({done.returncode}):\n"
            f"{done.stderr[-2000:]}"
        )
    peaks: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return peaks


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {key}")


def _worker(job: dict[str, object]) -> list[int]:  # pragma: no cover - subprocess
    import gc

    import torch
    from torch.nn import functional as F

    from ..darts.search import MixedSupernet, candidate_mask

    torch.set_num_threads(1)
    size = int(job["image_size"])  # type: ignore[call-overload]
    in_ch = int(job["in_channels"])  # type: ignore[call-overload]
    classes = int(job["num_classes"])  # type: ignore[call-overload]
    cells = int(job["num_cells"])  # type: ignore[call-overload]

    def step(cand: list[list[int]] | None, channels: int, batch: int) -> None:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(batch, in_ch, size, size, generator=gen)
        y = torch.randint(0, classes, (batch,), generator=gen)
        model = MixedSupernet(
            C=channels, N=cells, in_channels=in_ch, num_classes=classes, candidates=cand
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        alpha = torch.zeros(len(EDGES), len(OPS), requires_grad=True)
        masked = alpha.masked_fill(~candidate_mask(cand), float("-inf"))
        loss = F.cross_entropy(model(x, F.softmax(masked, dim=-1)), y)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()

    peaks = []
    for cand in job["candidate_sets"]:  # type: ignore[attr-defined]
        step(cand, 2, 2)  # warm the kernels up
        gc.collect()
        before = _status_bytes("VmRSS")
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        step(cand, int(job["channels"]), int(job["batch_size"]))  # type: ignore[call-overload]
        peaks.append(_status_bytes("VmHWM") - before)
        gc.collect()
    return peaks


if __name__ == "__main__":  # pragma: no cover - the measurement subprocess
    print(json.dumps(_worker(json.loads(sys.argv[1]))))
