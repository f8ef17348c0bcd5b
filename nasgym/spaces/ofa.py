"""The Once-for-All MobileNetV3 search space (Cai et al., ICLR 2020).

A network is five searchable stages of up to four MBConv layers each (20 layer slots),
plus the input resolution:

* per stage a *depth* in ``{2, 3, 4}``: the stage runs its first ``d`` layers;
* per layer a *kernel size* in ``{3, 5, 7}`` and an *expand ratio* in ``{3, 4, 6}``;
* one input resolution from a configurable list (default ``160, 176, ..., 224``).

Layers beyond their stage's depth are *inactive*. The canonical form zeroes them, so
two configurations that differ only in inactive layers are the same architecture,
with the same :meth:`OFASpace.key` (a revisit is free). There are
``sum_d (9^d)`` = 7,380 choices per stage, so ``7380^5 * 5`` = about 1.1e20
architectures at five resolutions: far too many to enumerate.

Encodings (all round-trip through the canonical form):

* :class:`OFAArch`, the value type: ``ks`` and ``e`` (20 ints each, ``0`` on inactive
  layers), ``d`` (5 depths) and ``r`` (the resolution in pixels);
* the OFA dict form ``{"ks": [20], "e": [20], "d": [5], "r": [1]}``
  (:meth:`OFASpace.to_dict`, :meth:`OFASpace.from_dict`), the format of the OFA
  accuracy predictor and of ``set_active_subnet``;
* the choice vector (:meth:`OFASpace.to_vector`), 46 int64 choice indices:
  20 kernel indices, 20 expand indices, 5 depth indices, then the resolution index
  (inactive layers' entries are ``0`` in the canonical vector and ignored on input);
* a string ``"224|k3e4,k5e6|..."``: the resolution, then per stage its active layers
  as ``k<kernel>e<expand>`` (:meth:`OFASpace.key`, :meth:`OFASpace.from_string`);
* a graph view (:meth:`OFASpace.graph`): a chain ``stem -> block ... -> head`` of
  the active MBConv blocks, one vertex each, with per-block attributes (kernel,
  expand ratio, stage).

This module imports numpy only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import InvalidArchitectureError

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Float32Array = NDArray[np.float32]

#: Kernel sizes, in the OFA predictor's one-hot order.
KERNELS: tuple[int, ...] = (3, 5, 7)
#: Expand ratios, in the OFA predictor's one-hot order.
EXPANDS: tuple[int, ...] = (3, 4, 6)
#: Stage depths.
DEPTHS: tuple[int, ...] = (2, 3, 4)
#: Default input resolutions (those of the Note10 latency tables).
RESOLUTIONS: tuple[int, ...] = (160, 176, 192, 208, 224)
NUM_STAGES = 5
MAX_DEPTH = 4
NUM_LAYERS = NUM_STAGES * MAX_DEPTH
#: Slots of the choice vector before the resolution: kernels, expands, depths.
VECTOR_DEPTH = 2 * NUM_LAYERS
VECTOR_RES = VECTOR_DEPTH + NUM_STAGES
VECTOR_LENGTH = VECTOR_RES + 1

#: Vertex labels of the graph view: stem, head, one per (kernel, expand) block, pad.
BLOCK_TYPES: tuple[str, ...] = tuple(f"k{k}e{e}" for k in KERNELS for e in EXPANDS)
LABEL_NAMES: tuple[str, ...] = ("stem", "head", *BLOCK_TYPES, "pad")
LABEL_STEM, LABEL_HEAD, LABEL_BLOCK0, LABEL_PAD = 0, 1, 2, len(LABEL_NAMES) - 1
#: Vertices of the graph view: stem, up to 20 blocks, head.
MAX_VERTICES = NUM_LAYERS + 2

#: ``STAGE_OF[layer]``: the stage of each of the 20 layer slots.
STAGE_OF: tuple[int, ...] = tuple(i // MAX_DEPTH for i in range(NUM_LAYERS))
_POS = np.arange(NUM_LAYERS) % MAX_DEPTH
_STAGE = np.arange(NUM_LAYERS) // MAX_DEPTH

_STRING_RE = re.compile(r"\d+(\|k\de\d(,k\de\d)*){5}")


def active_mask(depths: IntArray) -> BoolArray:
    """``(N, 20)`` active-layer mask of ``(N, 5)`` stage depths (in layers)."""
    depths = np.asarray(depths)
    mask: BoolArray = _POS[None, :] < depths[:, _STAGE]
    return mask


@dataclass(frozen=True, slots=True)
class OFAArch:
    """One canonical OFA MobileNetV3 architecture (build it with :class:`OFASpace`).

    Attributes:
        ks: 20 kernel sizes, ``0`` on inactive layers.
        e: 20 expand ratios, ``0`` on inactive layers.
        d: 5 stage depths.
        r: Input resolution (pixels).
    """

    ks: tuple[int, ...]
    e: tuple[int, ...]
    d: tuple[int, ...]
    r: int


class OFASpace:
    """The OFA MobileNetV3 space over a list of input resolutions.

    Args:
        resolutions: Allowed input resolutions, distinct positive integers
            (default :data:`RESOLUTIONS`); kept in ascending order.

    Raises:
        InvalidArchitectureError: ``resolutions`` is empty, unsorted-duplicated or
            holds a non-positive or non-integer value.

    Example:
        >>> space = OFASpace()
        >>> arch = space.from_dict(
        ...     {"ks": [3] * 20, "e": [6] * 20, "d": [2] * 5, "r": [224]}
        ... )
        >>> space.key(arch)
        '224|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6'
        >>> space.to_dict(arch)["ks"][:5]
        [3, 3, 0, 0, 3]
    """

    name = "ofa-mbv3"

    def __init__(self, resolutions: Sequence[int] = RESOLUTIONS) -> None:
        values = list(resolutions) if not isinstance(resolutions, str) else []
        if not values or any(
            isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r <= 0
            for r in values
        ):
            raise InvalidArchitectureError(
                f"resolutions must be a non-empty list of positive integers, got "
                f"{resolutions!r}"
            )
        if len(set(values)) != len(values):
            raise InvalidArchitectureError(
                f"resolutions must be distinct, got {list(values)}"
            )
        self.resolutions: tuple[int, ...] = tuple(sorted(int(r) for r in values))
        self._res_index = {r: i for i, r in enumerate(self.resolutions)}
        #: Choices per entry of the choice vector.
        self.nvec: tuple[int, ...] = (
            (len(KERNELS),) * NUM_LAYERS
            + (len(EXPANDS),) * NUM_LAYERS
            + (len(DEPTHS),) * NUM_STAGES
            + (len(self.resolutions),)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(resolutions={list(self.resolutions)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OFASpace) and other.resolutions == self.resolutions

    def __hash__(self) -> int:
        return hash(self.resolutions)

    @property
    def slot_names(self) -> tuple[str, ...]:
        """Names of the 46 choice-vector entries."""
        return (
            *(f"kernel[s{i // 4 + 1}.l{i % 4 + 1}]" for i in range(NUM_LAYERS)),
            *(f"expand[s{i // 4 + 1}.l{i % 4 + 1}]" for i in range(NUM_LAYERS)),
            *(f"depth[s{s + 1}]" for s in range(NUM_STAGES)),
            "resolution",
        )

    @property
    def size(self) -> int:
        """Number of distinct (canonical) architectures."""
        per_stage = sum((len(KERNELS) * len(EXPANDS)) ** d for d in DEPTHS)
        return int(per_stage**NUM_STAGES * len(self.resolutions))

    # ------------------------------------------------------------ batches
    def check_vectors(self, vectors: Any) -> IntArray:
        """``(N, 46)`` int64 choice vectors, checked to be in range.

        Raises:
            InvalidArchitectureError: Wrong shape, non-integers or out of range.
        """
        array = np.asarray(vectors)
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2 or array.shape[1] != VECTOR_LENGTH:
            raise InvalidArchitectureError(
                f"{self.name}: choice vectors have {VECTOR_LENGTH} entries, got an "
                f"array of shape {np.shape(vectors)}"
            )
        if array.size and array.dtype.kind not in "iu":
            raise InvalidArchitectureError(
                f"{self.name}: choice vectors must be integers, got {array.dtype}"
            )
        array = array.astype(np.int64)
        bad = (array < 0) | (array >= np.asarray(self.nvec))
        if bad.any():
            row, col = (int(x) for x in np.argwhere(bad)[0])
            raise InvalidArchitectureError(
                f"{self.name}: entry {col} ({self.slot_names[col]}) of vector {row} is "
                f"{int(array[row, col])}, valid range 0..{self.nvec[col] - 1}"
            )
        return array

    def canonical_vectors(self, vectors: Any) -> IntArray:
        """Choice vectors with inactive layers' kernel and expand entries set to 0."""
        array: IntArray = self.check_vectors(vectors).copy()
        active = active_mask(np.asarray(DEPTHS)[array[:, VECTOR_DEPTH:VECTOR_RES]])
        array[:, :NUM_LAYERS][~active] = 0
        array[:, NUM_LAYERS:VECTOR_DEPTH][~active] = 0
        return array

    def sample_vectors(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` canonical vectors drawn uniformly per entry (depth, then layers)."""
        raw = rng.integers(0, np.asarray(self.nvec), size=(int(n), VECTOR_LENGTH))
        return self.canonical_vectors(raw)

    def features(self, vectors: Any) -> Float32Array:
        """``(N, 120 + R)`` one-hot features of canonical vectors.

        60 kernel one-hots (20 layers x :data:`KERNELS`), 60 expand one-hots, then the
        resolution one-hot over :attr:`resolutions`; inactive layers are all zero.
        (The OFA predictor's own 128-feature input is built by
        :func:`nasgym.benchmarks.ofa.predictor_features`.)
        """
        array = self.check_vectors(vectors)
        n = array.shape[0]
        active = active_mask(np.asarray(DEPTHS)[array[:, VECTOR_DEPTH:VECTOR_RES]])
        out = np.zeros((n, 2 * NUM_LAYERS * 3 + len(self.resolutions)), np.float32)
        rows = np.arange(n)[:, None]
        base = np.arange(NUM_LAYERS)[None, :] * 3
        out[rows, base + array[:, :NUM_LAYERS]] = active
        out[rows, 60 + base + array[:, NUM_LAYERS:VECTOR_DEPTH]] = active
        out[np.arange(n), 120 + array[:, VECTOR_RES]] = 1.0
        return out

    # -------------------------------------------------------- conversions
    def to_vector(self, arch: OFAArch) -> IntArray:
        """The canonical choice vector of an architecture."""
        if not isinstance(arch, OFAArch):
            raise InvalidArchitectureError(
                f"{self.name}: expected an OFAArch, got {type(arch).__name__}"
            )
        return self.vector_of_dict(
            {"ks": arch.ks, "e": arch.e, "d": arch.d, "r": [arch.r]}
        )

    def from_vector(self, vector: Any) -> OFAArch:
        """The architecture of a choice vector (inactive entries ignored)."""
        (row,) = self.canonical_vectors(vector).tolist()
        depths = [DEPTHS[i] for i in row[VECTOR_DEPTH:VECTOR_RES]]
        ks, es = [], []
        for i in range(NUM_LAYERS):
            on = i % MAX_DEPTH < depths[STAGE_OF[i]]
            ks.append(KERNELS[row[i]] if on else 0)
            es.append(EXPANDS[row[NUM_LAYERS + i]] if on else 0)
        return OFAArch(
            tuple(ks), tuple(es), tuple(depths), self.resolutions[row[VECTOR_RES]]
        )

    def vector_of_dict(self, config: Mapping[str, Any]) -> IntArray:
        """The canonical choice vector of an OFA dict (see :meth:`from_dict`)."""
        if not isinstance(config, Mapping):
            raise InvalidArchitectureError(
                f"{self.name}: expected a dict with keys ks, e, d, r, got "
                f"{type(config).__name__}"
            )
        missing = [k for k in ("ks", "e", "d", "r") if k not in config]
        extra = sorted(set(config) - {"ks", "e", "d", "r"})
        if missing or extra:
            raise InvalidArchitectureError(
                f"{self.name}: an OFA config has exactly the keys ks, e, d, r; "
                f"missing {missing}, unexpected {extra}"
            )
        r = config["r"]
        r_list = list(r) if isinstance(r, (list, tuple, np.ndarray)) else [r]
        lengths = {"ks": NUM_LAYERS, "e": NUM_LAYERS, "d": NUM_STAGES}
        for name, length in lengths.items():
            if len(config[name]) != length:
                raise InvalidArchitectureError(
                    f"{self.name}: {name!r} needs {length} values, got "
                    f"{len(config[name])}"
                )
        if len(r_list) != 1:
            raise InvalidArchitectureError(
                f"{self.name}: 'r' holds one resolution, got {r_list}"
            )
        vector = np.zeros(VECTOR_LENGTH, dtype=np.int64)
        depths = [int(x) for x in config["d"]]
        for s, depth in enumerate(depths):
            if depth not in DEPTHS:
                raise InvalidArchitectureError(
                    f"{self.name}: depth {depth} of stage {s + 1} is not one of "
                    f"{list(DEPTHS)}"
                )
            vector[VECTOR_DEPTH + s] = DEPTHS.index(depth)
        for i in range(NUM_LAYERS):
            if i % MAX_DEPTH >= depths[STAGE_OF[i]]:
                continue  # inactive: ignored
            k, e = int(config["ks"][i]), int(config["e"][i])
            if k not in KERNELS or e not in EXPANDS:
                raise InvalidArchitectureError(
                    f"{self.name}: active layer {i} (stage {STAGE_OF[i] + 1}) has "
                    f"kernel {k} and expand ratio {e}; kernels are {list(KERNELS)}, "
                    f"expand ratios {list(EXPANDS)}"
                )
            vector[i] = KERNELS.index(k)
            vector[NUM_LAYERS + i] = EXPANDS.index(e)
        res = int(r_list[0])
        if res not in self._res_index:
            raise InvalidArchitectureError(
                f"{self.name}: resolution {res} is not one of {list(self.resolutions)}"
            )
        vector[VECTOR_RES] = self._res_index[res]
        return vector

    def from_dict(self, config: Mapping[str, Any]) -> OFAArch:
        """Parse the OFA dict form ``{"ks": [20], "e": [20], "d": [5], "r": [1]}``.

        Values of inactive layers are ignored (any value, ``0`` included); ``r`` may
        be an int or a one-element list.

        Raises:
            InvalidArchitectureError: Missing or extra keys, wrong lengths, or a
                value outside the space.
        """
        return self.from_vector(self.vector_of_dict(config))

    def to_dict(self, arch: OFAArch) -> dict[str, list[int]]:
        """The OFA dict form, inactive layers ``0`` (the predictor's convention)."""
        arch = self.from_vector(self.to_vector(arch))
        return {
            "ks": list(arch.ks),
            "e": list(arch.e),
            "d": list(arch.d),
            "r": [arch.r],
        }

    def canonical(self, config: OFAArch | Mapping[str, Any]) -> OFAArch:
        """The canonical architecture of an :class:`OFAArch` or OFA dict."""
        if isinstance(config, OFAArch):
            return self.from_vector(self.to_vector(config))
        return self.from_dict(config)

    # ------------------------------------------------------------- strings
    def key(self, arch: OFAArch | IntArray) -> str:
        """The canonical string (``info["arch"]``): equal for equal architectures."""
        row = (
            self.to_vector(arch)
            if isinstance(arch, OFAArch)
            else self.canonical_vectors(arch)[0]
        )
        return vector_key(row.tolist(), self.resolutions)

    def to_string(self, arch: OFAArch) -> str:
        """Same as :meth:`key`."""
        return self.key(arch)

    def from_string(self, text: str) -> OFAArch:
        """Parse :meth:`key`'s form ``"224|k3e4,k5e6|..."`` (five stages).

        Raises:
            InvalidArchitectureError: Malformed, or a value outside the space.
        """
        if not isinstance(text, str) or _STRING_RE.fullmatch(text.strip()) is None:
            raise InvalidArchitectureError(
                f"{self.name}: cannot parse {text!r}; expected the resolution then "
                f"five stages of 2-4 layers, e.g. '224|k3e4,k5e6|k3e3,k3e3|...'"
            )
        res, *stages = text.strip().split("|")
        ks, es, ds = [0] * NUM_LAYERS, [0] * NUM_LAYERS, []
        for s, stage in enumerate(stages):
            layers = stage.split(",")
            ds.append(len(layers))
            if len(layers) > MAX_DEPTH:
                raise InvalidArchitectureError(
                    f"{self.name}: stage {s + 1} of {text!r} has {len(layers)} layers, "
                    f"at most {MAX_DEPTH}"
                )
            for j, layer in enumerate(layers):
                ks[s * MAX_DEPTH + j] = int(layer[1])
                es[s * MAX_DEPTH + j] = int(layer[3])
        return self.from_dict({"ks": ks, "e": es, "d": ds, "r": int(res)})

    # ---------------------------------------------------------- graph view
    def graph(self, arch: OFAArch | IntArray) -> dict[str, NDArray[Any]]:
        """The chain graph of the active blocks, padded to :data:`MAX_VERTICES`.

        Vertex 0 is the stem (first conv and the fixed first block), then one vertex
        per active MBConv block in network order, then the head (final layers);
        edges link consecutive vertices. Returns ``adjacency`` (V, V, row = source),
        ``labels`` (V,) indices into :data:`LABEL_NAMES` (``pad`` after the head),
        ``stage`` (V,) the block's stage ``0..4`` (``-1`` for stem, head, padding),
        ``node_mask`` (V,) and ``resolution`` (the pixels).
        """
        row = (
            self.to_vector(arch)
            if isinstance(arch, OFAArch)
            else self.canonical_vectors(arch)[0]
        )
        return chain_graph(row.tolist(), self.resolutions)


def vector_key(row: list[int], resolutions: Sequence[int]) -> str:
    """:meth:`OFASpace.key` of one canonical vector given as a list (fast path)."""
    parts = [str(resolutions[row[VECTOR_RES]])]
    for s in range(NUM_STAGES):
        depth = DEPTHS[row[VECTOR_DEPTH + s]]
        base = s * MAX_DEPTH
        parts.append(
            ",".join(
                f"k{KERNELS[row[i]]}e{EXPANDS[row[NUM_LAYERS + i]]}"
                for i in range(base, base + depth)
            )
        )
    return "|".join(parts)


def chain_graph(row: list[int], resolutions: Sequence[int]) -> dict[str, NDArray[Any]]:
    """:meth:`OFASpace.graph` of one canonical vector given as a list."""
    labels = np.full(MAX_VERTICES, LABEL_PAD, dtype=np.int64)
    stage = np.full(MAX_VERTICES, -1, dtype=np.int64)
    labels[0] = LABEL_STEM
    v = 1
    for s in range(NUM_STAGES):
        for i in range(s * MAX_DEPTH, s * MAX_DEPTH + DEPTHS[row[VECTOR_DEPTH + s]]):
            labels[v] = LABEL_BLOCK0 + row[i] * len(EXPANDS) + row[NUM_LAYERS + i]
            stage[v] = s
            v += 1
    labels[v] = LABEL_HEAD
    adjacency = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    adjacency[np.arange(v), np.arange(1, v + 1)] = 1
    node_mask = np.zeros(MAX_VERTICES, dtype=np.uint8)
    node_mask[: v + 1] = 1
    return {
        "adjacency": adjacency,
        "labels": labels,
        "stage": stage,
        "node_mask": node_mask,
        "resolution": np.asarray(resolutions[row[VECTOR_RES]]),
    }


# ---------------------------------------------------------------------------
# Edits (Cassimon et al.'s MDP on this space)
# ---------------------------------------------------------------------------
#: Edit kinds.
SET_KERNEL, SET_EXPAND, GROW, SHRINK, SET_RES = (
    "SET_KERNEL",
    "SET_EXPAND",
    "GROW",
    "SHRINK",
    "SET_RESOLUTION",
)


@dataclass(frozen=True, slots=True)
class Edit:
    """One edit action: ``kind`` with its ``layer``/``stage`` and ``value`` index."""

    kind: str
    index: int
    value: int


def edit_table(num_resolutions: int) -> tuple[Edit, ...]:
    """The edit actions, in action order.

    ``SET_KERNEL(layer, k)`` = ``layer * 3 + k`` (0-59), ``SET_EXPAND(layer, e)`` =
    ``60 + layer * 3 + e`` (60-119), ``GROW(stage)`` = ``120 + stage``,
    ``SHRINK(stage)`` = ``125 + stage``, ``SET_RESOLUTION(r)`` = ``130 + r``.
    """
    edits = [Edit(SET_KERNEL, i, k) for i in range(NUM_LAYERS) for k in range(3)]
    edits += [Edit(SET_EXPAND, i, e) for i in range(NUM_LAYERS) for e in range(3)]
    edits += [Edit(GROW, s, 0) for s in range(NUM_STAGES)]
    edits += [Edit(SHRINK, s, 0) for s in range(NUM_STAGES)]
    edits += [Edit(SET_RES, 0, r) for r in range(num_resolutions)]
    return tuple(edits)


def apply_edit(row: list[int], edit: Edit) -> list[int] | None:
    """The canonical vector an edit reaches from canonical ``row`` (``None``: masked).

    Setting a kernel or expand ratio needs an active layer and a new value; growing a
    stage below depth 4 appends a layer that copies the stage's last layer (kernel and
    expand ratio); shrinking a stage above depth 2 drops its last layer (zeroed);
    setting the resolution needs a new one. Every unmasked edit changes the
    architecture.
    """
    out = list(row)
    if edit.kind in (SET_KERNEL, SET_EXPAND):
        depth = DEPTHS[row[VECTOR_DEPTH + STAGE_OF[edit.index]]]
        slot = edit.index + (0 if edit.kind == SET_KERNEL else NUM_LAYERS)
        if edit.index % MAX_DEPTH >= depth or row[slot] == edit.value:
            return None
        out[slot] = edit.value
        return out
    if edit.kind in (GROW, SHRINK):
        d_idx = row[VECTOR_DEPTH + edit.index]
        depth = DEPTHS[d_idx]
        base = edit.index * MAX_DEPTH
        if edit.kind == GROW:
            if depth == MAX_DEPTH:
                return None
            last, new = base + depth - 1, base + depth
            out[new] = row[last]
            out[NUM_LAYERS + new] = row[NUM_LAYERS + last]
            out[VECTOR_DEPTH + edit.index] = d_idx + 1
            return out
        if depth == DEPTHS[0]:
            return None
        gone = base + depth - 1
        out[gone] = out[NUM_LAYERS + gone] = 0
        out[VECTOR_DEPTH + edit.index] = d_idx - 1
        return out
    if row[VECTOR_RES] == edit.value:
        return None
    out[VECTOR_RES] = edit.value
    return out


def edit_mask(row: list[int], num_resolutions: int) -> BoolArray:
    """The exact legal-edit mask of canonical ``row`` (see :func:`apply_edit`)."""
    depths = [DEPTHS[row[VECTOR_DEPTH + s]] for s in range(NUM_STAGES)]
    mask = np.zeros(2 * NUM_LAYERS * 3 + 2 * NUM_STAGES + num_resolutions, dtype=bool)
    for i in range(NUM_LAYERS):
        if i % MAX_DEPTH < depths[STAGE_OF[i]]:
            mask[i * 3 : i * 3 + 3] = True
            mask[i * 3 + row[i]] = False
            j = 60 + i * 3
            mask[j : j + 3] = True
            mask[j + row[NUM_LAYERS + i]] = False
    for s, depth in enumerate(depths):
        mask[120 + s] = depth < MAX_DEPTH
        mask[125 + s] = depth > DEPTHS[0]
    mask[130:] = True
    mask[130 + row[VECTOR_RES]] = False
    return mask


def describe_edit(edit: Edit, resolutions: Sequence[int]) -> str:
    """A human-readable edit, e.g. ``"kernel of layer s2.l3 -> 5"``."""
    if edit.kind == SET_KERNEL:
        where = f"s{STAGE_OF[edit.index] + 1}.l{edit.index % MAX_DEPTH + 1}"
        return f"kernel of layer {where} -> {KERNELS[edit.value]}"
    if edit.kind == SET_EXPAND:
        where = f"s{STAGE_OF[edit.index] + 1}.l{edit.index % MAX_DEPTH + 1}"
        return f"expand ratio of layer {where} -> {EXPANDS[edit.value]}"
    if edit.kind == GROW:
        return f"grow stage {edit.index + 1} by one layer"
    if edit.kind == SHRINK:
        return f"shrink stage {edit.index + 1} by one layer"
    return f"resolution -> {resolutions[edit.value]}"


# ---------------------------------------------------------------------------
# L2NAS scores (continuous mode)
# ---------------------------------------------------------------------------
def score_slots(num_resolutions: int) -> tuple[int, ...]:
    """Choices per L2NAS slot: 20 kernels, 20 expands, 5 depths, the resolution."""
    return (
        (3,) * NUM_LAYERS + (3,) * NUM_LAYERS + (3,) * NUM_STAGES + (num_resolutions,)
    )


def decode_scores(scores: NDArray[np.float64], num_resolutions: int) -> IntArray:
    """Canonical vectors of ``(N, W)`` score arrays: argmax per slot.

    ``W = 3 * 45 + R``; the slots are those of :func:`score_slots`, concatenated.
    Layers beyond a stage's decoded depth are ignored (zeroed). Ties go to the first
    choice, as :func:`numpy.argmax` does.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    fixed = scores[:, : 3 * (VECTOR_RES)].reshape(n, VECTOR_RES, 3).argmax(axis=2)
    res = scores[:, 3 * VECTOR_RES :].argmax(axis=1)
    out = np.concatenate([fixed, res[:, None]], axis=1).astype(np.int64)
    active = active_mask(np.asarray(DEPTHS)[out[:, VECTOR_DEPTH:VECTOR_RES]])
    out[:, :NUM_LAYERS][~active] = 0
    out[:, NUM_LAYERS:VECTOR_DEPTH][~active] = 0
    if scores.shape[1] != 3 * VECTOR_RES + num_resolutions:
        raise InvalidArchitectureError(
            f"score arrays need {3 * VECTOR_RES + num_resolutions} columns, got "
            f"{scores.shape[1]}"
        )
    return out


def score_features(vectors: IntArray, num_resolutions: int) -> Float32Array:
    """One-hot score encodings of canonical vectors (width of :func:`score_slots`).

    1 on each active layer's kernel and expand choice (inactive layers all zero), on
    each stage's depth and on the resolution.
    """
    vectors = np.asarray(vectors, dtype=np.int64)
    n = vectors.shape[0]
    width = 3 * VECTOR_RES + num_resolutions
    out = np.zeros((n, width), dtype=np.float32)
    rows = np.arange(n)[:, None]
    active = active_mask(np.asarray(DEPTHS)[vectors[:, VECTOR_DEPTH:VECTOR_RES]])
    slots = np.arange(VECTOR_RES)[None, :] * 3 + vectors[:, :VECTOR_RES]
    on = np.concatenate([active, active, np.ones((n, NUM_STAGES), bool)], axis=1)
    out[rows, slots] = on
    out[np.arange(n), 3 * VECTOR_RES + vectors[:, VECTOR_RES]] = 1.0
    return out


__all__ = [
    "DEPTHS",
    "EXPANDS",
    "KERNELS",
    "LABEL_NAMES",
    "MAX_DEPTH",
    "MAX_VERTICES",
    "NUM_LAYERS",
    "NUM_STAGES",
    "RESOLUTIONS",
    "VECTOR_LENGTH",
    "Edit",
    "OFAArch",
    "OFASpace",
    "active_mask",
    "apply_edit",
    "chain_graph",
    "decode_scores",
    "describe_edit",
    "edit_mask",
    "edit_table",
    "score_features",
    "score_slots",
    "vector_key",
]
