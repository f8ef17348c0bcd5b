"""The OFA MobileNetV3 accuracy predictor and Note10 latency tables, in NumPy.

Sources (the files the ``ofa`` package downloads at run time, from GitHub
``han-cai/files``, folder ``ofa/``):

* ``acc_predictor.pth``: the Once-for-All tutorial's ImageNet top-1 predictor, a plain
  MLP ``Linear(128, 400) - ReLU - Linear(400, 400) - ReLU - Linear(400, 400) - ReLU -
  Linear(400, 1)`` saved as a torch state dict. Its input is 128 features: 60 kernel
  one-hots (20 layers x kernels 3, 5, 7), 60 expand-ratio one-hots (3, 4, 6), both
  all-zero on inactive layers, and 8 resolution one-hots at ``(r - 112) // 16``; its
  output is top-1 as a fraction.
* ``note10-latency/<r>_lookup_table.yaml`` for ``r`` in 160..224: per-layer latency
  (ms, mean of up to 500 runs) on a Samsung Note10, keyed by layer type and shapes.
  The tables describe the width-1.2 OFA MobileNetV3 supernet (stem 24 channels,
  stages of 32, 48, 96, 136, 192 channels, final layers 1152 and 1536).

``nasgym data import ofa PATH`` verifies the sources' SHA-256, exports the MLP to
NumPy arrays (``torch.load(..., weights_only=True)``: torch is needed for the import
only), parses the YAML tables into per-block arrays (PyYAML, import only), runs the
documented optimum search (:func:`search_optimum`) and writes ``ofa.npz`` into
:func:`nasgym.data.cache_dir`. Queries then need NumPy only.

Latency of a configuration is summed as OFA's ``MBv3LatencyTable`` does: first conv,
the fixed first block, every active MBConv block (each with its input/output shape,
mid channels ``make_divisible(in * e, 8)``, kernel, stride, skip, SE and h-swish flags),
the final expand conv, global pooling, the feature-mix conv and the classifier.
FLOPs (millions, OFA's ``count_flops_given_config`` convention) and parameter counts
(millions: conv and linear weights, SE and classifier biases, batch-norm scales and
shifts) are computed from the same layer list, no data needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.data import cache_dir, find_table, read_table, sha256_file, write_table
from nasgym.error import BenchmarkDataMissingError, CorruptDataError
from nasgym.spaces.ofa import (
    DEPTHS,
    EXPANDS,
    KERNELS,
    MAX_DEPTH,
    NUM_LAYERS,
    NUM_STAGES,
    VECTOR_DEPTH,
    VECTOR_RES,
    OFASpace,
    active_mask,
    apply_edit,
    edit_table,
)

FloatArray = NDArray[np.float64]

#: File name of nasgym's compact table.
TABLE_FILE = "ofa.npz"
#: The docs anchor every missing/corrupt-data message ends with.
DOCS = "docs/data.md#once-for-all-mobilenetv3"
#: Source files (relative to the ``ofa/`` folder) and their SHA-256.
SOURCES: dict[str, str] = {
    "acc_predictor.pth": (
        "48685122a3540636b06699af66cd816456b25f29b69563e2fda9bed4018eeba0"
    ),
    "note10-latency/160_lookup_table.yaml": (
        "a2671a45e9400542679ed03de946b45d6a35010f9ab21834af3e7ba8341d36d1"
    ),
    "note10-latency/176_lookup_table.yaml": (
        "34223ae037d5719a5f33261bdfd9341f590a2999edf520f174309605dc06307c"
    ),
    "note10-latency/192_lookup_table.yaml": (
        "0ff5ca0649e56ad34a42d6a8a6f20adb5121c8d12d135299397b310472db79e2"
    ),
    "note10-latency/208_lookup_table.yaml": (
        "41aa63af766a8298354e6aa5ae69d512ac68656a6e7d0a4fa5dc725c8d438633"
    ),
    "note10-latency/224_lookup_table.yaml": (
        "c13a9bcb3f4becae844bce4897129c4e42975984c1029cbd5acb48c970136530"
    ),
}
#: Resolutions with a Note10 table.
LATENCY_RESOLUTIONS: tuple[int, ...] = (160, 176, 192, 208, 224)
#: Resolutions the predictor's one-hot covers: ``112 + 16 * i``, i = 0..7.
PREDICTOR_RESOLUTIONS: tuple[int, ...] = tuple(112 + 16 * i for i in range(8))

# The width-1.2 OFA MobileNetV3 supernet the latency tables (and predictor) describe.
STEM = 24
WIDTHS: tuple[int, ...] = (32, 48, 96, 136, 192)
STRIDES: tuple[int, ...] = (2, 2, 2, 1, 2)
USE_SE: tuple[int, ...] = (0, 1, 0, 1, 1)
H_SWISH: tuple[int, ...] = (0, 0, 1, 1, 1)
FINAL_EXPAND = 1152
FEATURE_MIX = 1536
CLASSES = 1000
_LAYERS = (4, 3, 3, 3)  # predictor: 4 hidden/output weight matrices
#: Seed and budget of the documented optimum search (:func:`search_optimum`).
SEARCH_SEED = 0
SEARCH_SAMPLE = 2000
SEARCH_GENERATIONS = 150
SEARCH_POPULATION = 100
SEARCH_CHILDREN = 400


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor`` (MobileNet's channel rule).

    The nearest multiple, at least ``divisor``, raised by one ``divisor`` when
    rounding lost more than 10 %.
    """
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def mid_channels(in_channels: int, expand: int) -> int:
    """Hidden width of an MBConv block."""
    return make_divisible(round(in_channels * expand), 8)


def feature_sizes(resolution: int) -> list[int]:
    """Feature-map side after the stem and after each stage."""
    sizes = [(resolution + 1) // 2]
    for stride in STRIDES:
        sizes.append((sizes[-1] - 1) // stride + 1)
    return sizes


def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


def _block_key(
    size_in: int, size_out: int, c_in: int, c_out: int, mid: int, k: int, stride: int,
    skip: int, se: int, hs: int,
) -> str:  # fmt: skip
    return (
        f"expanded_conv-input:{_shape(size_in, size_in, c_in)}-output:"
        f"{_shape(size_out, size_out, c_out)}-expand:{mid}-kernel:{k}-stride:{stride}-"
        f"idskip:{skip}-se:{se}-hs:{hs}"
    )


def fixed_keys(resolution: int) -> list[str]:
    """Table keys of the layers every network has (stem, first block, head)."""
    sizes = feature_sizes(resolution)
    s0, last = sizes[0], sizes[-1]
    return [
        f"Conv-input:{_shape(resolution, resolution, 3)}-output:{_shape(s0, s0, STEM)}",
        _block_key(s0, s0, STEM, STEM, STEM, 3, 1, 1, 0, 0),
        f"Conv_1-input:{_shape(last, last, WIDTHS[-1])}-output:"
        f"{_shape(last, last, FINAL_EXPAND)}",
        f"AvgPool2D-input:{_shape(last, last, FINAL_EXPAND)}-output:"
        f"{_shape(1, 1, FINAL_EXPAND)}",
        f"Conv_2-input:{_shape(1, 1, FINAL_EXPAND)}-output:{_shape(1, 1, FEATURE_MIX)}",
        f"Logits-input:{_shape(1, 1, FEATURE_MIX)}-output:{CLASSES}",
    ]


def block_key(
    resolution: int, stage: int, first: bool, kernel: int, expand: int
) -> str:
    """Table key of a searchable block (the stage's first layer, or a later one)."""
    sizes = feature_sizes(resolution)
    c_in = (STEM, *WIDTHS)[stage] if first else WIDTHS[stage]
    size_in = sizes[stage] if first else sizes[stage + 1]
    stride = STRIDES[stage] if first else 1
    return _block_key(
        size_in, sizes[stage + 1], c_in, WIDTHS[stage], mid_channels(c_in, expand),
        kernel, stride, 0 if first else 1, USE_SE[stage], H_SWISH[stage],
    )  # fmt: skip


def _block_cost(
    stage: int, first: bool, kernel: int, expand: int, resolution: int
) -> tuple[float, float]:
    """``(MFLOPs, parameters)`` of one searchable block."""
    sizes = feature_sizes(resolution)
    c_in = (STEM, *WIDTHS)[stage] if first else WIDTHS[stage]
    size_in = sizes[stage] if first else sizes[stage + 1]
    size_out, c_out = sizes[stage + 1], WIDTHS[stage]
    mid = mid_channels(c_in, expand)
    flops = size_in**2 * c_in * mid + size_out**2 * mid * kernel**2
    params = c_in * mid + 2 * mid + mid * kernel**2 + 2 * mid
    if USE_SE[stage]:
        se = make_divisible(mid // 4, 8)
        flops += 2 * mid * se
        params += mid * se + se + se * mid + mid
    flops += size_out**2 * mid * c_out
    params += mid * c_out + 2 * c_out
    return flops / 1e6, float(params)


def _fixed_cost(resolution: int) -> tuple[float, float]:
    """``(MFLOPs, parameters)`` of the stem, first block and head."""
    sizes = feature_sizes(resolution)
    s0, last = sizes[0], sizes[-1]
    flops = s0**2 * 3 * STEM * 9  # first conv
    params = 3 * STEM * 9 + 2 * STEM
    flops += s0**2 * STEM * 9 + s0**2 * STEM * STEM  # first block (expand 1)
    params += STEM * 9 + 2 * STEM + STEM * STEM + 2 * STEM
    flops += last**2 * WIDTHS[-1] * FINAL_EXPAND
    params += WIDTHS[-1] * FINAL_EXPAND + 2 * FINAL_EXPAND
    flops += FINAL_EXPAND * FEATURE_MIX + FEATURE_MIX * CLASSES
    params += FINAL_EXPAND * FEATURE_MIX + FEATURE_MIX * CLASSES + CLASSES
    return flops / 1e6, float(params)


def cost_tables(
    resolutions: tuple[int, ...],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(fixed_flops (R,), block_flops (R,5,2,3,3), fixed_params, block_params)``.

    Block axes: stage, later-layer flag (0: the stage's first layer), kernel index,
    expand index. Parameters do not depend on the resolution (same for every row).
    """
    shape = (len(resolutions), NUM_STAGES, 2, len(KERNELS), len(EXPANDS))
    flops, params = np.zeros(shape), np.zeros(shape)
    fixed_f, fixed_p = np.zeros(len(resolutions)), np.zeros(len(resolutions))
    for ri, r in enumerate(resolutions):
        fixed_f[ri], fixed_p[ri] = _fixed_cost(r)
        for s in range(NUM_STAGES):
            for later in (0, 1):
                for ki, k in enumerate(KERNELS):
                    for ei, e in enumerate(EXPANDS):
                        flops[ri, s, later, ki, ei], params[ri, s, later, ki, ei] = (
                            _block_cost(s, not later, k, e, r)
                        )
    return fixed_f, flops, fixed_p, params


def predictor_features(
    vectors: NDArray[np.int64], resolutions: tuple[int, ...]
) -> FloatArray:
    """The OFA predictor's 128 input features of canonical choice vectors."""
    vectors = np.asarray(vectors, dtype=np.int64)
    n = vectors.shape[0]
    active = active_mask(np.asarray(DEPTHS)[vectors[:, VECTOR_DEPTH:VECTOR_RES]])
    out = np.zeros((n, 128))
    rows = np.arange(n)[:, None]
    base = np.arange(NUM_LAYERS)[None, :] * 3
    out[rows, base + vectors[:, :NUM_LAYERS]] = active
    out[rows, 60 + base + vectors[:, NUM_LAYERS:VECTOR_DEPTH]] = active
    res = np.asarray([(r - 112) // 16 for r in resolutions])[vectors[:, VECTOR_RES]]
    out[np.arange(n), 120 + res] = 1.0
    return out


def mlp_forward(
    weights: list[tuple[FloatArray, FloatArray]], x: FloatArray
) -> FloatArray:
    """The predictor MLP on a ``(N, 128)`` batch: ReLU between layers, ``(N,)`` out.

    Each row goes through its own ``(1, k) @ (k, m)`` product (a stacked
    ``matmul``), so a row's value does not depend on which other rows share the
    batch: one ``(N, k)`` BLAS product rounds differently for different ``N``,
    and a vector env must give the bits a single env gives.
    """
    h = x[:, None, :]
    for i, (w, b) in enumerate(weights):
        h = np.matmul(h, w.T) + b
        if i < len(weights) - 1:
            np.maximum(h, 0.0, out=h)
    out: FloatArray = h[:, 0, 0]
    return out


def _find_sources(root: Path) -> Path:
    for candidate in (root, root / "ofa"):
        if (candidate / "acc_predictor.pth").is_file():
            return candidate
    raise BenchmarkDataMissingError(
        f"no OFA files at {root}: expected acc_predictor.pth and note10-latency/"
        f"<r>_lookup_table.yaml there (or under {root / 'ofa'}); see {DOCS}"
    )


def _check_sources(root: Path) -> None:
    for name, sha in SOURCES.items():
        path = root / name
        if not path.is_file():
            raise BenchmarkDataMissingError(f"OFA source {path} is missing; see {DOCS}")
        actual = sha256_file(path)
        if actual != sha:
            raise CorruptDataError(
                f"OFA source {path} has sha256 {actual}, expected {sha} (a damaged or "
                f"different file); download it again, see {DOCS}"
            )


def _load_state_dict(path: Path) -> list[tuple[FloatArray, FloatArray]]:
    try:
        import torch
    except ImportError as exc:
        raise BenchmarkDataMissingError(
            "importing the OFA predictor reads a torch file: `pip install torch` for "
            f"the import (queries need NumPy only); see {DOCS}"
        ) from exc
    state = torch.load(path, map_location="cpu", weights_only=True)
    weights = []
    expected = [(400, 128), (400, 400), (400, 400), (1, 400)]
    for i, shape in zip((0, 2, 4, 6), expected, strict=True):
        try:
            w = state[f"{i}.weight"].double().numpy()
            b = state[f"{i}.bias"].double().numpy()
        except KeyError as exc:
            raise CorruptDataError(
                f"{path} lacks predictor layer {exc}; see {DOCS}"
            ) from exc
        if w.shape != shape or b.shape != (shape[0],):
            raise CorruptDataError(
                f"{path}: layer {i} has shape {w.shape}, expected {shape}; see {DOCS}"
            )
        weights.append((w, b))
    return weights


def _parse_latency(root: Path) -> tuple[FloatArray, FloatArray]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError as exc:
        raise BenchmarkDataMissingError(
            "importing the Note10 tables needs PyYAML: `pip install pyyaml` (or "
            f"`pip install nasgym[data]`); see {DOCS}"
        ) from exc
    fixed = np.zeros(len(LATENCY_RESOLUTIONS))
    blocks = np.zeros((len(LATENCY_RESOLUTIONS), NUM_STAGES, 2, 3, 3))
    for ri, r in enumerate(LATENCY_RESOLUTIONS):
        path = root / f"note10-latency/{r}_lookup_table.yaml"
        with open(path) as handle:
            lut = yaml.safe_load(handle)

        def mean(key: str, path: Path = path, lut: Any = lut) -> float:
            try:
                return float(lut[key]["mean"])
            except (KeyError, TypeError) as exc:
                raise CorruptDataError(
                    f"{path} has no entry {key!r}; see {DOCS}"
                ) from exc

        fixed[ri] = sum(mean(key) for key in fixed_keys(r))
        for s in range(NUM_STAGES):
            for later in (0, 1):
                for ki, k in enumerate(KERNELS):
                    for ei, e in enumerate(EXPANDS):
                        blocks[ri, s, later, ki, ei] = mean(
                            block_key(r, s, not later, k, e)
                        )
    return fixed, blocks


def search_optimum(
    predict: Any, space: OFASpace, seed: int = SEARCH_SEED
) -> tuple[NDArray[np.int64], float, FloatArray]:
    """The documented search for the predictor's best architecture.

    1. ``SEARCH_SAMPLE`` (2,000) uniform samples (their predictions are returned);
    2. an evolution: the best ``SEARCH_POPULATION`` (100) so far each generation breed
       ``SEARCH_CHILDREN`` (400) children (a parent by a 10-way tournament, each entry
       redrawn with probability 0.1), for ``SEARCH_GENERATIONS`` (150) generations;
    3. a steepest-ascent local search over every edit of :mod:`nasgym.spaces.ofa`
       from the best found, until no edit improves.

    About 62,000 predictions; the result is a lower bound of the true optimum.

    Args:
        predict: ``predict(vectors) -> (N,) values``.
        space: The space searched.
        seed: Seed of the search.

    Returns:
        ``(best vector, best value, sample values)``.
    """
    rng = np.random.default_rng(seed)
    nvec = np.asarray(space.nvec)
    pop = space.sample_vectors(SEARCH_SAMPLE, rng)
    values = predict(pop)
    sample = values.copy()
    for _ in range(SEARCH_GENERATIONS):
        order = np.argsort(-values, kind="stable")[:SEARCH_POPULATION]
        pop, values = pop[order], values[order]
        picks = rng.integers(0, len(pop), size=(SEARCH_CHILDREN, 10)).min(axis=1)
        children = pop[picks].copy()
        redraw = rng.random(children.shape) < 0.1
        children[redraw] = rng.integers(0, nvec, size=children.shape)[redraw]
        children = space.canonical_vectors(children)
        pop = np.concatenate([pop, children])
        values = np.concatenate([values, predict(children)])
    best_i = int(np.argmax(values))
    best, best_value = pop[best_i].tolist(), float(values[best_i])
    edits = edit_table(len(space.resolutions))
    while True:
        neighbours = [n for e in edits if (n := apply_edit(best, e)) is not None]
        scores = predict(np.asarray(neighbours, dtype=np.int64))
        i = int(np.argmax(scores))
        if scores[i] <= best_value:
            break
        best, best_value = neighbours[i], float(scores[i])
    return np.asarray(best, dtype=np.int64), best_value, sample


def import_ofa(path: str | os.PathLike[str], *, dest: Path | None = None) -> Path:
    """Convert the OFA predictor and Note10 tables into ``ofa.npz``.

    Args:
        path: The ``ofa/`` folder (holding ``acc_predictor.pth`` and
            ``note10-latency/``) or its parent.
        dest: Table to write; default ``cache_dir() / TABLE_FILE``.

    Returns:
        The path of the written table.

    Raises:
        BenchmarkDataMissingError: A source file is missing, or torch/PyYAML is not
            installed.
        CorruptDataError: A source's SHA-256 differs, or a table lacks an entry.
    """
    root = _find_sources(Path(path).expanduser())
    _check_sources(root)
    weights = _load_state_dict(root / "acc_predictor.pth")
    fixed, blocks = _parse_latency(root)
    space = OFASpace(LATENCY_RESOLUTIONS)

    def predict(vectors: NDArray[np.int64]) -> FloatArray:
        return 100.0 * mlp_forward(
            weights, predictor_features(vectors, space.resolutions)
        )

    best, best_value, sample = search_optimum(predict, space)
    arrays: dict[str, np.ndarray] = {}
    for i, (w, b) in enumerate(weights):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    arrays["latency_fixed_ms"] = fixed
    arrays["latency_block_ms"] = blocks
    arrays["latency_resolutions"] = np.asarray(LATENCY_RESOLUTIONS)
    arrays["optimum_vector"] = best
    arrays["optimum_top1"] = np.asarray(best_value)
    arrays["sample_top1"] = sample
    arrays["source_sha256"] = np.asarray(
        [f"{name}:{sha}" for name, sha in SOURCES.items()]
    )
    target = dest or cache_dir() / TABLE_FILE
    write_table(target, arrays)
    return target


def missing_table_message() -> str:
    """Where ``ofa.npz`` is expected and how to create it."""
    from nasgym.data import data_dir, table_search_path

    looked = ", ".join(str(d / TABLE_FILE) for d in table_search_path())
    root = data_dir()
    where = (
        str(root / "ofa")
        if root is not None and (root / "ofa" / "acc_predictor.pth").is_file()
        else "PATH"
    )
    return (
        f"OFA MobileNetV3 table {TABLE_FILE} not found; looked for {looked}. Create "
        f"it with `nasgym data import ofa {where}` (PATH: the folder with "
        f"acc_predictor.pth and note10-latency/; needs torch and PyYAML for the "
        f"import only); see {DOCS}"
    )


@dataclass(frozen=True)
class OFATable:
    """A loaded ``ofa.npz`` (arrays read-only)."""

    path: Path
    checksum: str
    arrays: Mapping[str, np.ndarray]


_CACHE: dict[tuple[str, int, int], OFATable] = {}


def load_table(path: str | os.PathLike[str] | None = None) -> OFATable:
    """Read ``ofa.npz`` once per process (cached by path, mtime and size).

    Raises:
        BenchmarkDataMissingError: No table (the message says how to import it).
        CorruptDataError: The table fails its checks.
    """
    resolved = Path(path).expanduser() if path is not None else find_table(TABLE_FILE)
    if resolved is None or not resolved.is_file():
        raise BenchmarkDataMissingError(missing_table_message())
    resolved = resolved.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    table = _CACHE.get(key)
    if table is None:
        required = {
            "w0": (400, 128), "b0": (400,), "w1": (400, 400), "b1": (400,),
            "w2": (400, 400), "b2": (400,), "w3": (1, 400), "b3": (1,),
            "latency_fixed_ms": (len(LATENCY_RESOLUTIONS),),
            "latency_block_ms": (len(LATENCY_RESOLUTIONS), NUM_STAGES, 2, 3, 3),
            "latency_resolutions": (len(LATENCY_RESOLUTIONS),),
            "optimum_vector": (VECTOR_RES + 1,), "optimum_top1": (),
            "sample_top1": (SEARCH_SAMPLE,),
        }  # fmt: skip
        try:
            arrays = read_table(resolved, required)
        except CorruptDataError as exc:
            raise CorruptDataError(f"{exc}; see {DOCS}") from exc
        for array in arrays.values():
            array.setflags(write=False)
        with np.load(resolved, allow_pickle=False) as npz:
            checksum = str(npz["__sha256__"])
        table = OFATable(resolved, checksum, arrays)
        _CACHE[key] = table
    return table


class OFABenchmark:
    """The OFA predictor, Note10 latency, FLOPs and parameters of a space.

    Args:
        space: The space (its resolutions must lie in the predictor's one-hot range
            112..224 in steps of 16); default :class:`OFASpace`.
        path: An ``ofa.npz``; default the imported one.

    Raises:
        BenchmarkDataMissingError: No imported table.
        CorruptDataError: The table fails its checks.
        InvalidArchitectureError: A resolution outside the predictor's range.
    """

    #: Cost objectives: name -> (unit, description).
    cost_objectives: dict[str, tuple[str, str]] = {
        "latency": ("ms", "Samsung Note10 latency from OFA's lookup tables"),
        "flops": ("MFLOPs", "multiply-adds of the network, counted from the config"),
        "params": ("M", "parameters (millions), counted from the config"),
    }

    def __init__(
        self,
        space: OFASpace | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        from nasgym.error import InvalidArchitectureError

        self.space = space or OFASpace()
        bad = [r for r in self.space.resolutions if r not in PREDICTOR_RESOLUTIONS]
        if bad:
            raise InvalidArchitectureError(
                f"resolutions {bad} are outside the OFA predictor's range "
                f"{list(PREDICTOR_RESOLUTIONS)}"
            )
        self.table = load_table(path)
        a = self.table.arrays
        self.weights = [(a[f"w{i}"], a[f"b{i}"]) for i in range(4)]
        self.checksum = self.table.checksum
        self.optimum = float(a["optimum_top1"])
        self.sample_top1 = np.asarray(a["sample_top1"])
        lat_res = [int(r) for r in a["latency_resolutions"]]
        rows = [
            lat_res.index(r) if r in lat_res else -1 for r in self.space.resolutions
        ]
        self.has_latency = all(i >= 0 for i in rows)
        nan_block = np.full((NUM_STAGES, 2, 3, 3), np.nan)
        self._lat_fixed = np.asarray(
            [a["latency_fixed_ms"][i] if i >= 0 else np.nan for i in rows]
        )
        self._lat_block = np.stack(
            [a["latency_block_ms"][i] if i >= 0 else nan_block for i in rows]
        )
        fixed_f, block_f, fixed_p, block_p = cost_tables(self.space.resolutions)
        self._flops = (fixed_f, block_f)
        self._params = (fixed_p / 1e6, block_p / 1e6)
        self._later = (np.arange(NUM_LAYERS) % MAX_DEPTH > 0).astype(np.intp)
        self._stage = np.arange(NUM_LAYERS) // MAX_DEPTH
        opt = np.asarray(a["optimum_vector"])
        self.optimum_key: str | None = None
        if self.space.resolutions == LATENCY_RESOLUTIONS:
            self.optimum_key = self.space.key(opt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space!r})"

    def top1(self, vectors: NDArray[np.int64]) -> FloatArray:
        """Predicted ImageNet top-1 (%) of ``(N, 46)`` canonical vectors (batched)."""
        x = predictor_features(vectors, self.space.resolutions)
        return 100.0 * mlp_forward(self.weights, x)

    def _sum(
        self, tables: tuple[FloatArray, FloatArray], vectors: NDArray[np.int64]
    ) -> FloatArray:
        fixed, block = tables
        vectors = np.asarray(vectors, dtype=np.int64)
        res = vectors[:, VECTOR_RES]
        per = block[
            res[:, None],
            self._stage,
            self._later,
            vectors[:, :NUM_LAYERS],
            vectors[:, NUM_LAYERS:VECTOR_DEPTH],
        ]
        base = fixed[res]
        active = active_mask(np.asarray(DEPTHS)[vectors[:, VECTOR_DEPTH:VECTOR_RES]])
        out: FloatArray = base + np.where(active, per, 0.0).sum(axis=1)
        return out

    def latency_ms(self, vectors: NDArray[np.int64]) -> FloatArray:
        """Note10 latency (ms) from the lookup tables; NaN without a table."""
        return self._sum((self._lat_fixed, self._lat_block), vectors)

    def flops_m(self, vectors: NDArray[np.int64]) -> FloatArray:
        """Multiply-adds in millions (OFA's FLOPs convention)."""
        return self._sum(self._flops, vectors)

    def params_m(self, vectors: NDArray[np.int64]) -> FloatArray:
        """Parameters in millions."""
        return self._sum(self._params, vectors)

    def cost(self, name: str, vectors: NDArray[np.int64]) -> FloatArray:
        """A cost objective by name (``latency``, ``flops`` or ``params``)."""
        if name == "latency":
            return self.latency_ms(vectors)
        if name == "flops":
            return self.flops_m(vectors)
        return self.params_m(vectors)

    def cost_bounds(self, name: str) -> tuple[float, float]:
        """Exact minimum and maximum of a cost over the space.

        Blocks are independent given the depths and every block cost is positive,
        so the minimum takes depth 2 and the cheapest block everywhere, the maximum
        depth 4 and the dearest, at the best/worst resolution.
        """
        if name == "latency":
            fixed, block = self._lat_fixed, self._lat_block
        elif name == "flops":
            fixed, block = self._flops
        else:
            fixed, block = self._params
        lo = (
            fixed
            + block[:, :, 0].min(axis=(2, 3)).sum(axis=1)
            + (block[:, :, 1].min(axis=(2, 3)).sum(axis=1))
        )
        hi = (
            fixed
            + block[:, :, 0].max(axis=(2, 3)).sum(axis=1)
            + 3 * (block[:, :, 1].max(axis=(2, 3)).sum(axis=1))
        )
        return float(np.min(lo)), float(np.max(hi))


def decode_net_config(
    net_config: Mapping[str, Any], resolution: int
) -> tuple[dict[str, list[int]] | None, str | None]:
    """Decode a published OFA subnet's ``net.config`` into the OFA dict form.

    The first MBConv block is the fixed one every network has; every later block
    without a shortcut (a stride or width change) starts a new stage, so the stage
    depths follow from the stride pattern; each block gives its kernel and expand
    ratio.

    Args:
        net_config: The parsed ``net.config`` (``blocks`` with
            ``mobile_inverted_conv`` or ``conv`` and ``shortcut`` entries).
        resolution: The input resolution of its ``run.config``.

    Returns:
        ``(config, None)``, or ``(None, reason)`` when the net is outside the space or
        its resolution outside the predictor's one-hot range.
    """
    if net_config.get("name") != "MobileNetV3":
        return None, f"a {net_config.get('name')} network, not MobileNetV3"
    stages: list[list[tuple[int, int]]] = []
    for block in list(net_config["blocks"])[1:]:
        conv = block.get("mobile_inverted_conv") or block.get("conv")
        if conv is None:
            return None, "a block without a convolution"
        if block.get("shortcut") is None:
            stages.append([])
        if not stages:
            return None, "the first searchable block has a shortcut"
        stages[-1].append((int(conv["kernel_size"]), int(conv["expand_ratio"])))
    if len(stages) != NUM_STAGES:
        return None, f"{len(stages)} stages, the space has {NUM_STAGES}"
    ks, es, ds = [0] * NUM_LAYERS, [0] * NUM_LAYERS, []
    for s, layers in enumerate(stages):
        if len(layers) not in DEPTHS:
            return None, f"stage {s + 1} has {len(layers)} layers"
        ds.append(len(layers))
        for j, (k, e) in enumerate(layers):
            if k not in KERNELS or e not in EXPANDS:
                return None, f"stage {s + 1} has kernel {k} / expand ratio {e}"
            ks[s * MAX_DEPTH + j], es[s * MAX_DEPTH + j] = k, e
    if resolution not in PREDICTOR_RESOLUTIONS:
        return None, (
            f"resolution {resolution} is outside the predictor's one-hot range "
            f"(112..224 in steps of 16)"
        )
    return {"ks": ks, "e": es, "d": ds, "r": [resolution]}, None
