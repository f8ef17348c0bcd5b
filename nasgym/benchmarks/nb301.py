"""NAS-Bench-301 as the YAHPO Gym surrogate, run with onnxruntime directly.

The surrogate (``nb301`` of YAHPO Gym, branch ``iaml_ex``) is a small wide-and-deep
network that predicts a DARTS genotype's CIFAR-10 validation accuracy (percent) and
training runtime (seconds) after ``epoch`` epochs (1..98). Its files live in
``$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex/``:

* ``new_model.onnx``: inputs ``x_cat`` (int32 ``[1, 34]``) and ``x_cont`` (float32
  ``[1, 1]``, the epoch); output float32 ``[1, 2]``, ``(val_accuracy, runtime)``;
* ``encoding.json``: the integer code of every value of the 34 categorical inputs;
* ``config_space.json``: the ConfigSpace of the NB301 DARTS space.

**Encoding a genotype** (NB301's ConfigSpace form, the ``x_cat`` order of YAHPO's
``nb301`` config). Candidate edge ``e`` of a cell (``0..13``; node ``m`` owns edges
``EDGE_OFFSET[m] + source``, see :data:`nasgym.spaces.darts.CANDIDATE_EDGES`) has the
hyperparameter ``edge_<cell>_<e>`` holding the op on that edge. Nodes 1..3 (NB301
numbers them 3..5) have ``inputs_node_<cell>_<m + 2>`` holding their two inputs as
``"a_b"`` with ``a < b``; node 0 always reads inputs 0 and 1, so it has none. An edge
no pair uses is *inactive*: YAHPO encodes it as the value ``"#na#"`` (code 0 in
``encoding.json``), exactly as for any hyperparameter missing from a configuration.
``x_cat`` is ``edge_normal_0..13, edge_reduce_0..13, inputs_node_normal_3..5,
inputs_node_reduce_3..5`` (the 34 names in :data:`X_CAT_NAMES`).

The file's batch dimension is fixed at 1. When the ``onnx`` package is importable the
model is loaded with a symbolic batch dimension, so that one call scores a whole
batch (checked against batch-1 calls at load time); otherwise rows are scored one at a
time (:attr:`NB301Surrogate.batched` tells which).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.data import data_dir, sha256_file
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    UnknownOptionError,
    data_errors,
    data_page,
    require,
)
from nasgym.spaces.darts import (
    CELLS,
    EDGE_OFFSET,
    NUM_CANDIDATE_EDGES,
    NUM_CELLS,
    NUM_NODES,
    NUM_PAIRS,
    NUM_SOURCES,
    OPS,
    DartsGenotype,
    Genotypes,
    as_array,
)

FloatArray = NDArray[np.float64]
Int32Array = NDArray[np.int32]

#: Where the surrogate files live below ``NASGYM_DATA_DIR``.
SURROGATE_SUBDIR = Path("nas-bench-301-yahpo") / "v1_iaml_ex"
MODEL_FILE = "new_model.onnx"
ENCODING_FILE = "encoding.json"
CONFIG_SPACE_FILE = "config_space.json"
#: The files :class:`NB301Surrogate` needs, all in one directory.
REQUIRED_FILES: tuple[str, ...] = (MODEL_FILE, ENCODING_FILE, CONFIG_SPACE_FILE)
#: SHA-256 of each published file (YAHPO Gym's ``yahpo_data`` repository, folder
#: ``nb301/``, branch ``iaml_ex``). :class:`NB301Surrogate` refuses other contents
#: unless ``verify=False``: a single flipped byte in the model or two swapped codes in
#: the encoding still load and would silently change every prediction.
SURROGATE_SHA256: dict[str, str] = {
    MODEL_FILE: "3c6a6fb3a70998bf6c55883bdc5cc71cff190e1859468d72cc6960b88f06d280",
    ENCODING_FILE: "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98",
    CONFIG_SPACE_FILE: (
        "a8f62a3a7d71523a7962c332aed244bfa5cdd58a8bdd6a8aa02089f1524b0c93"
    ),
}

#: Prefix of the NB301 hyperparameter names (``NetworkSelectorDatasetInfo:darts:``
#: with ``:`` spelled ``_COLON_``, as in YAHPO's files).
HP_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
#: The encoding of an inactive categorical hyperparameter in YAHPO.
NA_VALUE = "#na#"
DEFAULT_EPOCH = 98
MIN_EPOCH, MAX_EPOCH = 1, 98


def edge_name(cell: int, edge: int) -> str:
    """The hyperparameter of candidate edge ``edge`` (0..13) of cell 0/1."""
    return f"{HP_PREFIX}edge_{CELLS[cell]}_{edge}"


def inputs_name(cell: int, node: int) -> str:
    """The hyperparameter holding the two inputs of intermediate node ``node`` (1..3).

    NB301 numbers nodes from the cell inputs, so node ``m`` is ``inputs_node_*_{m+2}``.
    """
    return f"{HP_PREFIX}inputs_node_{CELLS[cell]}_{node + 2}"


#: The 34 ``x_cat`` columns, in model input order.
X_CAT_NAMES: tuple[str, ...] = (
    *(edge_name(c, e) for c in range(NUM_CELLS) for e in range(NUM_CANDIDATE_EDGES)),
    *(inputs_name(c, m) for c in range(NUM_CELLS) for m in range(1, NUM_NODES)),
)
_INPUTS_COLUMN = NUM_CELLS * NUM_CANDIDATE_EDGES  # first inputs_node column (28)
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_NUM_OPS = len(OPS)
#: The array shapes of one genotype (the one-genotype path of ``encode``).
_ONE_SHAPES = ((NUM_CELLS, NUM_PAIRS, 2), (1, NUM_CELLS, NUM_PAIRS, 2))


def _pair_value(a: int, b: int) -> str:
    return f"{min(a, b)}_{max(a, b)}"


def _node_pairs(node: int) -> list[str]:
    """The values of ``inputs_node_*_{node+2}``: every ``a_b`` with a < b <= node+1."""
    return [f"{a}_{b}" for a in range(node + 2) for b in range(a + 1, node + 2)]


def genotype_config(g: DartsGenotype) -> dict[str, str]:
    """The genotype as an NB301 ConfigSpace configuration (active hyperparameters).

    Raises:
        InvalidArchitectureError: ``g`` is invalid.
    """
    g.validate()
    config: dict[str, str] = {}
    for c, cell in enumerate(g.cells):
        for j, (op, src) in enumerate(cell):
            config[edge_name(c, EDGE_OFFSET[j // 2] + src)] = op
        for m in range(1, NUM_NODES):
            config[inputs_name(c, m)] = _pair_value(cell[2 * m][1], cell[2 * m + 1][1])
    return config


# ------------------------------------------------------------------------ file checks
def digest_mismatch(path: Path, actual: str) -> CorruptDataError | None:
    """The error for a surrogate file whose SHA-256 is not the published one.

    Args:
        path: The file (its name picks the expected digest).
        actual: Its SHA-256.

    Returns:
        ``None`` when ``actual`` is the published digest, else the error naming the
        file, both digests, its size and the two fixes.
    """
    expected = SURROGATE_SHA256[path.name]
    if actual == expected:
        return None
    try:
        size = f"{path.stat().st_size:,} bytes"
    except OSError:
        size = "unreadable"
    return CorruptDataError(
        f"NB301 surrogate file {path} ({size}) is not the published one: sha256 "
        f"{actual}, expected {expected}. It is damaged (truncated, edited) or another "
        f"model, and would silently change every prediction. Replace it with an "
        f"intact copy, or, to run your own surrogate on purpose, pass verify=False "
        f"(NB301Surrogate(DIR, verify=False), or gym.make(..., path=DIR, "
        f"verify_surrogate=False)); {data_page('nb301')}"
    )


def verify_files(directory: Path) -> dict[str, str]:
    """Check the three surrogate files of ``directory`` against the published digests.

    Returns:
        ``file name -> sha256``.

    Raises:
        CorruptDataError: A file is unreadable or its digest is not the published one.
    """
    digests: dict[str, str] = {}
    for name in REQUIRED_FILES:
        try:
            digests[name] = sha256_file(directory / name)
        except OSError as exc:
            raise CorruptDataError(
                f"cannot read NB301 surrogate file {directory / name}: {exc}; "
                f"{data_page('nb301')}"
            ) from exc
        error = digest_mismatch(directory / name, digests[name])
        if error is not None:
            raise error
    return digests


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptDataError(
            f"cannot read NB301 surrogate file {path}: {type(exc).__name__}: {exc}; "
            f"replace it with an intact copy"
        ) from exc


class _Codes:
    """Lookup tables from ``encoding.json``, shaped for vectorised encoding."""

    def __init__(self, encoding: Any, path: Path) -> None:
        def bad(why: str) -> CorruptDataError:
            return CorruptDataError(
                f"{path} is not the NB301 surrogate encoding ({why}); replace it with "
                f"an intact copy of encoding.json"
            )

        if not isinstance(encoding, Mapping):
            raise bad("expected a JSON object")

        def code(name: str, value: str) -> int:
            table = encoding.get(name)
            if not isinstance(table, Mapping) or value not in table:
                raise bad(f"no code for {name} = {value!r}")
            result = table[value]
            if isinstance(result, bool) or not isinstance(result, int) or result < 0:
                raise bad(f"code of {name} = {value!r} is not a non-negative integer")
            return result

        self.na = np.asarray([code(n, NA_VALUE) for n in X_CAT_NAMES], dtype=np.int32)
        # op_codes[c, e, o]: the code of op o on candidate edge e of cell c
        self.op_codes = np.asarray(
            [
                [
                    [code(edge_name(c, e), op) for op in OPS]
                    for e in range(NUM_CANDIDATE_EDGES)
                ]
                for c in range(NUM_CELLS)
            ],
            dtype=np.int32,
        )
        # pair_codes[c, m - 1, a, b]: the code of inputs {a, b} of node m (-1: none)
        self.pair_codes = np.full(
            (NUM_CELLS, NUM_NODES - 1, NUM_SOURCES, NUM_SOURCES), -1, dtype=np.int32
        )
        for c in range(NUM_CELLS):
            for m in range(1, NUM_NODES):
                for a in range(m + 2):
                    for b in range(m + 2):
                        if a != b:
                            value = code(inputs_name(c, m), _pair_value(a, b))
                            self.pair_codes[c, m - 1, a, b] = value
        # The same tables as Python lists, for the one-genotype path of encode.
        self.na_list: list[int] = self.na.tolist()
        self.op_list: list[list[list[int]]] = self.op_codes.tolist()
        self.pair_list: list[list[list[list[int]]]] = self.pair_codes.tolist()


def _check_config_space(space: Any, path: Path) -> None:
    """Check that ``config_space.json`` describes the space as this module encodes it.

    Every edge offers the 7 ops; every ``inputs_node`` offers its ``a_b`` pairs; edge
    ``e`` of node ``m >= 1`` (source ``s``) is active exactly when the node's inputs
    contain ``s``; edges of node 0 are unconditional.
    """

    def bad(why: str) -> CorruptDataError:
        return CorruptDataError(
            f"{path} does not describe the NB301 DARTS space as nasgym encodes it "
            f"({why}); replace it with an intact copy of config_space.json"
        )

    if not isinstance(space, Mapping):
        raise bad("expected a JSON object")
    try:
        choices = {h["name"]: h.get("choices") for h in space["hyperparameters"]}
        conditions = {c["child"]: c for c in space.get("conditions", [])}
    except (KeyError, TypeError, AttributeError) as exc:
        raise bad(f"unexpected layout: {exc!r}") from exc
    for c in range(NUM_CELLS):
        for m in range(NUM_NODES):
            for s in range(m + 2):
                name = edge_name(c, EDGE_OFFSET[m] + s)
                if sorted(choices.get(name) or ()) != sorted(OPS):
                    raise bad(f"{name} does not offer the 7 DARTS ops")
                cond = conditions.get(name)
                if m == 0:
                    if cond is not None:
                        raise bad(f"{name} is conditional")
                    continue
                want = sorted(p for p in _node_pairs(m) if str(s) in p.split("_"))
                if (
                    cond is None
                    or cond.get("parent") != inputs_name(c, m)
                    or cond.get("type") != "IN"
                    or sorted(cond.get("values") or ()) != want
                ):
                    raise bad(f"{name} is not active exactly when node {m} reads {s}")
            if m > 0 and sorted(choices.get(inputs_name(c, m)) or ()) != sorted(
                _node_pairs(m)
            ):
                raise bad(f"{inputs_name(c, m)} does not offer {_node_pairs(m)}")


# --------------------------------------------------------------------------- loading
@data_errors("nb301")
def surrogate_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Find the directory holding the surrogate files.

    Args:
        path: A directory with the three files, or the ``.onnx`` file inside it;
            default ``$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex``.

    Returns:
        The directory.

    Raises:
        BenchmarkDataMissingError: Naming the expected files and where they were
            looked for.
    """
    expected = ", ".join(REQUIRED_FILES)
    if path is None:
        root = data_dir()
        if root is None:
            raise BenchmarkDataMissingError(
                f"NB301 surrogate not found: NASGYM_DATA_DIR is not set. Put "
                f"{expected} (YAHPO Gym's nb301 surrogate) in "
                f"$NASGYM_DATA_DIR/{SURROGATE_SUBDIR.as_posix()}/, or pass "
                f"NB301Surrogate(path=DIRECTORY)"
            )
        directory = root / SURROGATE_SUBDIR
    else:
        directory = Path(path).expanduser()
        if directory.suffix == ".onnx" or directory.is_file():
            directory = directory.parent
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise BenchmarkDataMissingError(
            f"NB301 surrogate files missing in {directory}: {', '.join(missing)} "
            f"(expected {expected}, YAHPO Gym's nb301 surrogate; the default place is "
            f"$NASGYM_DATA_DIR/{SURROGATE_SUBDIR.as_posix()}/)"
        )
    return directory


def _batched_model_bytes(raw: bytes, path: Path) -> bytes | None:
    """The model with a symbolic batch dimension, or None without ``onnx``."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        model = onnx.load_from_string(raw)
    except Exception as exc:  # google.protobuf DecodeError and friends
        raise CorruptDataError(
            f"cannot parse ONNX model {path}: {type(exc).__name__}: {exc}; replace it "
            f"with an intact copy of {MODEL_FILE}"
        ) from exc
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) > 0:
            dims[0].dim_param = "batch"  # clears the fixed dim_value 1
    # Intermediate shape hints (none in the published file) may pin the batch to 1.
    del model.graph.value_info[:]
    data: bytes = model.SerializeToString()
    return data


@runtime_checkable
class SurrogateModel(Protocol):
    """What the NB301 envs need from a surrogate: one batched ``predict``.

    :class:`NB301Surrogate` implements it; so can an adapter around another model
    (e.g. the official ``nasbench301`` XGB/GIN ensembles, see ``docs/data.md``),
    passed to the envs as ``surrogate=``.
    """

    def predict(
        self, genotypes: NDArray[np.int8], epoch: int
    ) -> tuple[ArrayLike, ArrayLike]:
        """Predict ``(valid_accuracy %, runtime s)`` of valid genotypes.

        Args:
            genotypes: ``(N, 2, 8, 2)`` int8 ``(op index, input)`` rows (normal
                and reduce cell; ops index :data:`~nasgym.spaces.darts.OPS`), all
                valid. :func:`nasgym.spaces.darts.array_to_genotypes` turns them
                into :class:`~nasgym.spaces.darts.DartsGenotype` objects.
            epoch: The env's ``epoch`` (a model without epochs may ignore it).

        Returns:
            Two length-``N`` sequences: validation accuracy in percent and runtime
            in seconds.
        """
        ...


class NB301Surrogate:
    """The YAHPO NB301 surrogate: validation accuracy and runtime of DARTS genotypes.

    Instances pickle (the ONNX session is rebuilt on unpickling), so they can be sent
    to worker processes.

    Attributes:
        path: The directory holding the surrogate files.
        intra_op_threads: onnxruntime intra-op threads (default 1, which plays well
            with process pools).
        batch_size: Rows per onnxruntime call.
        batched: Whether the model runs whole batches per call (needs ``onnx``).
        verified: Whether the files were checked against :data:`SURROGATE_SHA256`
            (``False``: the user's own surrogate, ``verify=False``).
        digests: ``file name -> sha256`` of the files loaded.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        intra_op_threads: int = 1,
        batch_size: int = 512,
        verify: bool = True,
    ) -> None:
        """Load and check the surrogate.

        Args:
            path: Directory of the files (or the ``.onnx`` file); default
                ``$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex``.
            verify: Refuse files whose SHA-256 is not the published one
                (:data:`SURROGATE_SHA256`). ``False`` runs your own surrogate files
                (same interface); :attr:`verified` and :attr:`digests` record it.
            intra_op_threads: onnxruntime intra-op thread count (0: onnxruntime's
                default, all cores).
            batch_size: Rows per onnxruntime call.

        Raises:
            BenchmarkDataMissingError: A file is missing.
            CorruptDataError: A file is unreadable, not the NB301 surrogate, or
                (``verify``) not the published file.
            MissingExtraError: onnxruntime is not installed (the ``nb301`` extra).
        """
        if intra_op_threads < 0 or batch_size < 1:
            raise ValueError("intra_op_threads must be >= 0 and batch_size >= 1")
        require("onnxruntime", extra="nb301", purpose="the NB301 surrogate")
        self.path = surrogate_dir(path)
        self.intra_op_threads = int(intra_op_threads)
        self.batch_size = int(batch_size)
        self.verified = bool(verify)
        self._load()

    def provenance(self) -> dict[str, Any]:
        """Where the model came from: ``path``, ``verified`` and ``sha256`` per file."""
        return {
            "path": str(self.path),
            "verified": self.verified,
            "sha256": dict(self.digests),
        }

    @data_errors("nb301")
    def _load(self) -> None:
        model_path = self.path / MODEL_FILE
        if self.verified:
            self.digests = verify_files(self.path)
        else:
            self.digests = {n: sha256_file(self.path / n) for n in REQUIRED_FILES}
        self._codes = _Codes(
            _read_json(self.path / ENCODING_FILE), self.path / ENCODING_FILE
        )
        _check_config_space(
            _read_json(self.path / CONFIG_SPACE_FILE), self.path / CONFIG_SPACE_FILE
        )
        try:
            raw = model_path.read_bytes()
        except OSError as exc:
            raise CorruptDataError(f"cannot read {model_path}: {exc}") from exc
        batched = _batched_model_bytes(raw, model_path)
        self._session = self._session_from(batched if batched is not None else raw)
        self.batched = batched is not None
        self._check_model(model_path)
        if self.batched and not self._batch_matches_single():
            self._session = self._session_from(raw)  # pragma: no cover - defensive
            self.batched = False  # pragma: no cover

    def _session_from(self, model: bytes) -> Any:
        ort = require("onnxruntime", extra="nb301", purpose="the NB301 surrogate")

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(
                model, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf
            raise CorruptDataError(
                f"onnxruntime cannot load NB301 model {self.path / MODEL_FILE}: "
                f"{type(exc).__name__}: {exc}; replace it with an intact copy"
            ) from exc

    def _check_model(self, model_path: Path) -> None:
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = self._session.get_outputs()
        ok = (
            set(inputs) == {"x_cat", "x_cont"}
            and list(inputs["x_cat"].shape)[1:] == [len(X_CAT_NAMES)]
            and list(inputs["x_cont"].shape)[1:] == [1]
            and len(outputs) == 1
            and list(outputs[0].shape)[1:] == [2]
        )
        if not ok:
            raise CorruptDataError(
                f"{model_path} is not the NB301 surrogate: expected inputs x_cat "
                f"[1, 34] and x_cont [1, 1] and one output [1, 2]; replace it with an "
                f"intact copy of {MODEL_FILE}"
            )
        self._output = outputs[0].name

    def _batch_matches_single(self) -> bool:
        from nasgym.spaces.darts import sample_bananas_array

        x_cat = self.encode(sample_bananas_array(3, 0))
        x_cont = np.asarray([[98.0], [40.0], [1.0]], dtype=np.float32)
        batch = self._run(x_cat, x_cont)
        single = np.concatenate(
            [self._run(x_cat[i : i + 1], x_cont[i : i + 1]) for i in range(3)]
        )
        return bool(np.array_equal(batch, single))

    def _run(self, x_cat: Int32Array, x_cont: NDArray[np.float32]) -> NDArray[Any]:
        out: NDArray[Any] = self._session.run(
            [self._output], {"x_cat": x_cat, "x_cont": x_cont}
        )[0]
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "intra_op_threads": self.intra_op_threads,
            "batch_size": self.batch_size,
            "verified": self.verified,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self.intra_op_threads = state["intra_op_threads"]
        self.batch_size = state["batch_size"]
        self.verified = state.get("verified", True)
        self._load()

    def __repr__(self) -> str:
        if self.verified:
            return f"NB301Surrogate(path={str(self.path)!r})"
        return f"NB301Surrogate(path={str(self.path)!r}, verify=False)"

    def encode(self, genotypes: Genotypes, *, validate: bool = True) -> Int32Array:
        """The ``x_cat`` rows of genotypes: ``(N, 34)`` int32 (see the module doc).

        Args:
            genotypes: A :class:`~nasgym.spaces.darts.DartsGenotype`, a sequence of
                them, or an ``(N, 2, 8, 2)`` / ``(2, 8, 2)`` array of ``(op, input)``.
            validate: Check the wiring rules. Only for callers whose genotypes are
                valid by construction: an invalid one gets a meaningless encoding.
                Shapes and value ranges are always checked.

        Raises:
            InvalidArchitectureError: A genotype is malformed or (``validate``)
                invalid.
        """
        row = self._encode_one(genotypes)
        if row is not None:
            return np.array([row], dtype=np.int32)
        arr = as_array(genotypes, validate=validate)
        n = arr.shape[0]
        ops = arr[..., 0].astype(np.intp)
        src = arr[..., 1].astype(np.intp)
        codes = self._codes
        x: Int32Array = np.broadcast_to(codes.na, (n, len(X_CAT_NAMES))).copy()
        cells = np.arange(NUM_CELLS)[None, :, None]
        edges = np.asarray([EDGE_OFFSET[j // 2] for j in range(NUM_PAIRS)])
        edge = edges[None, None, :] + src  # (n, 2, 8)
        rows = np.arange(n)[:, None, None]
        x[rows, cells * NUM_CANDIDATE_EDGES + edge] = codes.op_codes[cells, edge, ops]
        nodes = np.arange(NUM_NODES - 1)[None, None, :]
        pairs = codes.pair_codes[cells, nodes, src[..., 2::2], src[..., 3::2]]
        x[:, _INPUTS_COLUMN:] = pairs.reshape(n, NUM_CELLS * (NUM_NODES - 1))
        return x

    def _encode_one(self, genotypes: Genotypes) -> list[int] | None:
        """The ``x_cat`` row of one well-formed genotype, in Python ints.

        A single prediction's encoding without NumPy's per-call costs: it equals the
        array path of :meth:`encode` row for row. ``None`` (the array path decides,
        and raises where it must) for anything but one genotype, or one array of
        shape ``(2, 8, 2)`` / ``(1, 2, 8, 2)``, with entries in range and valid
        wiring (so ``validate`` changes nothing here).
        """
        if isinstance(genotypes, DartsGenotype):
            cells: Any = [
                [(_OP_INDEX[op], src) for op, src in cell] for cell in genotypes.cells
            ]
        elif (
            type(genotypes) is np.ndarray
            and genotypes.dtype.kind in "iu"
            and genotypes.shape in _ONE_SHAPES
        ):
            cells = genotypes.reshape(_ONE_SHAPES[0]).tolist()
        else:
            return None
        codes = self._codes
        row = codes.na_list.copy()
        for c, cell in enumerate(cells):
            op_codes = codes.op_list[c]
            base = c * NUM_CANDIDATE_EDGES
            for j, (op, src) in enumerate(cell):
                if not (0 <= op < _NUM_OPS and 0 <= src < NUM_SOURCES):
                    return None
                if src > (j >> 1) + 1:  # not an earlier node: invalid wiring
                    return None
                edge = EDGE_OFFSET[j >> 1] + src
                row[base + edge] = op_codes[edge][op]
            for m in range(NUM_NODES):
                a, b = cell[2 * m][1], cell[2 * m + 1][1]
                if a == b:  # invalid wiring
                    return None
                if m:
                    pair = codes.pair_list[c][m - 1][a][b]
                    row[_INPUTS_COLUMN + c * (NUM_NODES - 1) + m - 1] = pair
        return row

    def predict(
        self,
        genotypes: Genotypes,
        epoch: float | ArrayLike = DEFAULT_EPOCH,
        *,
        validate: bool = True,
    ) -> tuple[FloatArray, FloatArray]:
        """Predict validation accuracy (percent) and runtime (seconds).

        Args:
            genotypes: A genotype, a sequence of them, or an ``(N, 2, 8, 2)`` array.
            epoch: Training epochs, 1..98: a scalar or one value per genotype.
            validate: Check the wiring rules (see :meth:`encode`).

        Returns:
            ``(val_accuracy, runtime)``, float64 arrays of shape ``(N,)``.

        Raises:
            InvalidArchitectureError: A genotype is malformed or invalid.
            UnknownOptionError: ``epoch`` is outside 1..98 or of the wrong shape.
        """
        x_cat = self.encode(genotypes, validate=validate)
        n = x_cat.shape[0]
        if isinstance(epoch, (int, float)) and n <= self.batch_size:
            # The common single-batch call, with fewer NumPy round trips.
            if not MIN_EPOCH <= epoch <= MAX_EPOCH:
                raise UnknownOptionError(
                    f"epoch must lie in {MIN_EPOCH}..{MAX_EPOCH}, got {epoch!r}"
                )
            if self.batched or n == 1:
                cont = np.full((n, 1), epoch, dtype=np.float32)
                out = self._run(x_cat, cont).astype(np.float64)
                return out[:, 0], out[:, 1]
        epochs = np.asarray(epoch, dtype=np.float64)
        if epochs.ndim > 1 or (epochs.ndim == 1 and epochs.shape[0] != n):
            raise UnknownOptionError(
                f"epoch must be a scalar or one value per genotype ({n}), got shape "
                f"{epochs.shape}"
            )
        if not np.all((epochs >= MIN_EPOCH) & (epochs <= MAX_EPOCH)):
            raise UnknownOptionError(
                f"epoch must lie in {MIN_EPOCH}..{MAX_EPOCH}, got {epoch!r}"
            )
        x_cont = np.broadcast_to(epochs.astype(np.float32), (n,)).reshape(n, 1)
        x_cont = np.ascontiguousarray(x_cont)
        out = np.empty((n, 2), dtype=np.float32)
        step = self.batch_size if self.batched else 1
        for start in range(0, n, step):
            stop = min(start + step, n)
            out[start:stop] = self._run(x_cat[start:stop], x_cont[start:stop])
        return out[:, 0].astype(np.float64), out[:, 1].astype(np.float64)

    def predict_one(
        self, genotype: DartsGenotype, epoch: float = DEFAULT_EPOCH
    ) -> tuple[float, float]:
        """Predict ``(val_accuracy, runtime)`` of one genotype as floats.

        Raises:
            InvalidArchitectureError: ``genotype`` is invalid.
        """
        if not isinstance(genotype, DartsGenotype):
            raise InvalidArchitectureError(
                f"predict_one takes a DartsGenotype, got {type(genotype).__name__}"
            )
        acc, runtime = self.predict(genotype, epoch)
        return float(acc[0]), float(runtime[0])
