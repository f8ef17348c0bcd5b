"""Bring your own search space and benchmark: the stable API for extending nasgym.

Everything a third party needs to wrap a new tabular or surrogate NAS benchmark as
nasgym environments is a public name of this module; nothing here asks you to
subclass or override a private method.

* :class:`CategoricalSpace`: a search space given by its slots' choices, with an
  optional canonical-form (isomorphism) function, an optional validity rule and an
  optional :class:`GraphView` for the graph observation.
* :class:`Metric`: one column of a benchmark, with its declared split (``"valid"``
  or ``"test"``) or kind (``"cost"``).
* :class:`TableBenchmark`: measured numbers from arrays (or a pandas DataFrame via
  :meth:`TableBenchmark.from_dataframe`). A table that covers only part of the space
  restricts the space to the measured cells.
* :class:`SurrogateBenchmark`: numbers from a batched ``predict`` function.
* :func:`register_benchmark_envs`: registers the Edit, Query and Continuous
  Gymnasium ids (and their batched vector envs) of a space + benchmark in one call.

**Stability promise.** The names in ``__all__`` and their documented arguments are
nasgym's stable extension API: they keep working across minor releases; a change
that breaks them is announced one minor release ahead with a ``DeprecationWarning``.
Anything not listed here (``nasgym.envs.*``, ``nasgym.spaces.base``, underscore
names) may change without notice.

Example:
    >>> import gymnasium as gym
    >>> import numpy as np
    >>> from nasgym.extend import (
    ...     CategoricalSpace, Metric, TableBenchmark, register_benchmark_envs)
    >>> space = CategoricalSpace("toy", {"a": ["x", "y", "z"], "b": ["p", "q"]})
    >>> score = np.arange(space.size, dtype=float)
    >>> bench = TableBenchmark(space, {
    ...     "valid": Metric("valid", 50 + score), "test": Metric("test", 49 + score)},
    ...     dataset="demo", reward_metric="valid", report_metric="test")
    >>> ids = register_benchmark_envs("doc/Toy", bench)
    >>> env = gym.make(ids["Query"])
    >>> _ = env.reset(seed=0)
    >>> info = env.step(np.array([2, 1]))[-1]
    >>> info["arch"], info["valid_accuracy"], info["regret"]
    ('a=z,b=q', 55.0, 0.0)
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.envs.tabular import DEFAULT_HORIZON, TabularNASEnv, TabularNASVectorEnv
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidArchitectureError,
    UnknownOptionError,
    unknown_option,
)
from nasgym.registration import register_modes
from nasgym.spaces.base import BoolArray, CategoricalSearchSpace, IntArray

__all__ = [
    "CategoricalSpace",
    "GraphView",
    "Metric",
    "SurrogateBenchmark",
    "TableBenchmark",
    "register_benchmark_envs",
]

#: Largest number of choice vectors a space may have (its tables are enumerated).
MAX_SIZE = 5_000_000

Arch = tuple[int, ...]
KINDS = ("valid", "test", "cost")


@dataclass(frozen=True)
class GraphView:
    """How an architecture looks as a graph, for the graph (Dict) observation.

    Args:
        node_types: Vertex labels (their index is the one-hot position in ``ops``).
        max_nodes: Vertices of the padded graph (at least any graph's size).
        build: ``build(arch) -> (edges, ops)`` for a valid architecture (a tuple of
            choice indices): ``edges`` a sequence of ``(source, target)`` vertex
            pairs, ``ops`` the label (a string of ``node_types``) of each vertex
            ``0..len(ops) - 1``.

    Example:
        >>> view = GraphView(("in", "conv", "out"), 3,
        ...     lambda a: ([(0, 1), (1, 2)], ["in", "conv", "out"]))
        >>> view.max_nodes
        3
    """

    node_types: tuple[str, ...]
    max_nodes: int
    build: Callable[[Arch], tuple[Sequence[tuple[int, int]], Sequence[str]]]


def _check_label(what: str, text: object) -> str:
    if not isinstance(text, str) or not text or re.search(r"[,=\s]", text):
        raise UnknownOptionError(
            f"{what} must be a non-empty string without ',', '=' or spaces (they "
            f"separate slots in an architecture's string form); got {text!r}"
        )
    return text


class CategoricalSpace(CategoricalSearchSpace[Arch]):
    """A search space defined by its slots and the choices of each slot.

    An architecture is a tuple of choice indices, one per slot; its string form is
    ``"slot=choice,slot=choice"``. The space is enumerated (at most 5,000,000
    choice vectors), so its per-architecture tables are built once, on first use.

    Args:
        name: Short identifier (e.g. ``"analog201"``), used in messages and in the
            benchmark's name ``"<name>/<dataset>"``.
        slots: Slot name -> labels of its choices, in order.
        canonical: Optional isomorphism hook: ``canonical(arch)`` returns a
            canonical vector or any hashable key, equal exactly for architectures
            that are the same network. The class representative is the member with
            the smallest code. Default: every architecture is its own class.
        valid: Optional validity rule: a function ``valid(arch)`` returning ``True``
            for a valid architecture and ``False`` or a string saying why not, or a
            boolean mask over codes (shape ``(size,)`` or one axis per slot).
            Default: every choice vector is valid.
        graph: Optional :class:`GraphView`. Default: one vertex per slot, labelled
            ``"slot=choice"``, with no edges.

    Raises:
        UnknownOptionError: Empty or duplicate slots or choices, labels containing
            ``,``/``=``/spaces, a space too large to enumerate, or a mask of the wrong
            shape.

    Example:
        >>> space = CategoricalSpace(
        ...     "pair", {"a": ["x", "y"], "b": ["x", "y"]},
        ...     canonical=lambda arch: tuple(sorted(arch)),
        ...     valid=lambda arch: arch != (1, 1) or "b and a cannot both be y")
        >>> space.size, space.num_valid, space.num_classes
        (4, 3, 2)
        >>> space.to_string(space.canonical((1, 0)))
        'a=x,b=y'
        >>> space.is_valid((1, 1)), space.invalid_reason(np.array([1, 1]))
        (False, 'b and a cannot both be y')
    """

    def __init__(
        self,
        name: str,
        slots: Mapping[str, Sequence[str]],
        *,
        canonical: Callable[[Arch], Hashable] | None = None,
        valid: Callable[[Arch], bool | str] | ArrayLike | None = None,
        graph: GraphView | None = None,
    ) -> None:
        self.name = _check_label("space name", name).replace("/", "_")
        if not isinstance(slots, Mapping) or not slots:
            raise UnknownOptionError(
                f"slots must be a non-empty mapping slot name -> choice labels, got "
                f"{slots!r}"
            )
        names = tuple(_check_label("slot name", s) for s in slots)
        choices = []
        for slot, labels in slots.items():
            labels = tuple(_check_label(f"choice of slot {slot!r}", c) for c in labels)
            if not labels or len(set(labels)) != len(labels):
                raise UnknownOptionError(
                    f"slot {slot!r} needs at least one choice and no duplicates, got "
                    f"{labels!r}"
                )
            choices.append(labels)
        self._names = names
        self._choices = tuple(choices)
        if self.size > MAX_SIZE:
            raise UnknownOptionError(
                f"{name}: {self.size:,} choice vectors is more than nasgym.extend "
                f"enumerates ({MAX_SIZE:,}); split the space or use fewer choices"
            )
        self._canonical = canonical
        self._valid_fn: Callable[[Arch], bool | str] | None = None
        self._valid_array: BoolArray | None = None
        mask_key: object = None
        if callable(valid):
            self._valid_fn = valid
            mask_key = valid
        elif valid is not None:
            array = np.asarray(valid)
            if array.dtype != bool or array.size != self.size:
                raise UnknownOptionError(
                    f"{name}: valid= as a mask must be a boolean array of {self.size} "
                    f"entries (one per code) or shape {tuple(self.nvec)}, got dtype "
                    f"{array.dtype} shape {array.shape}"
                )
            self._valid_array = array.reshape(-1).copy()
            mask_key = hashlib.sha1(self._valid_array.tobytes()).hexdigest()
        self._graph = graph
        self._key = (self.name, names, self._choices, canonical, mask_key, graph)

    # ------------------------------------------------------------ protocol
    @property
    def slot_names(self) -> tuple[str, ...]:
        """Name of each slot, in order."""
        return self._names

    @property
    def slot_choices(self) -> tuple[tuple[str, ...], ...]:
        """Choice labels of each slot."""
        return self._choices

    def config_key(self) -> tuple[Any, ...]:
        """Everything that defines the space (key of its shared tables)."""
        return self._key

    def encode(self, arch: Arch) -> IntArray:
        """The choice vector of ``arch`` (a tuple of choice indices)."""
        return np.asarray(arch, dtype=np.int64)

    def decode(self, vector: Sequence[int] | IntArray) -> Arch:
        """The architecture (tuple) of a valid choice vector.

        Raises:
            InvalidArchitectureError: Wrong length, out of range, or invalid.
        """
        return tuple(int(v) for v in self.check_vector(vector))

    def to_string(self, arch: Arch) -> str:
        """``"slot=choice,..."``."""
        vector = self.check_vector(self.encode(arch))
        return ",".join(
            f"{n}={c[int(v)]}"
            for n, c, v in zip(self._names, self._choices, vector, strict=True)
        )

    def string_template(self) -> tuple[str, tuple[tuple[str, ...], ...]]:
        """Template of :meth:`to_string` (fast string tables)."""
        labels = tuple(
            tuple(f"{n}={c}" for c in cs)
            for n, cs in zip(self._names, self._choices, strict=True)
        )
        return ",".join("{}" for _ in self._names), labels

    def from_string(self, text: str) -> Arch:
        """Parse ``"slot=choice,..."`` (every slot once, any order).

        Raises:
            InvalidArchitectureError: Malformed, unknown slot or choice, or invalid.
        """
        parts = dict(p.split("=", 1) for p in str(text).split(",") if "=" in p)
        if sorted(parts) != sorted(self._names) or len(parts) != text.count(",") + 1:
            raise InvalidArchitectureError(
                f"{self.name}: expected 'slot=choice' for each of "
                f"{', '.join(self._names)}, separated by ','; got {text!r}"
            )
        vector = []
        for slot, labels in zip(self._names, self._choices, strict=True):
            if parts[slot] not in labels:
                raise InvalidArchitectureError(
                    f"{self.name}: slot {slot!r} has no choice {parts[slot]!r} "
                    f"(choices: {', '.join(labels)})"
                )
            vector.append(labels.index(parts[slot]))
        return self.decode(vector)

    # ------------------------------------------------------------ validity
    def _build_valid_mask(self) -> BoolArray:
        if self._valid_array is not None:
            mask: BoolArray = self._valid_array.copy()
            return mask
        if self._valid_fn is None:
            return np.ones(self.size, dtype=bool)
        vectors = self.codes_to_vectors(np.arange(self.size)).tolist()
        return np.array([self._valid_fn(tuple(v)) is True for v in vectors])

    def invalid_reason(self, vector: IntArray) -> str | None:
        """Why an in-range vector is invalid (``None`` when valid)."""
        arch = tuple(int(v) for v in vector)
        if self._valid_array is not None:
            code = int(self.vectors_to_codes(np.asarray(arch)))
            return None if self._valid_array[code] else "excluded by the space's mask"
        if self._valid_fn is None:
            return None
        verdict = self._valid_fn(arch)
        if verdict is True:
            return None
        return verdict if isinstance(verdict, str) else f"{self.name} rules it out"

    # ------------------------------------------------------------- classes
    def _build_canonical_codes(self) -> IntArray:
        table = np.arange(self.size, dtype=np.int64)
        if self._canonical is None:
            return table
        first: dict[Hashable, int] = {}
        codes = self.valid_codes
        for code, vector in zip(
            codes.tolist(), self.codes_to_vectors(codes).tolist(), strict=True
        ):
            key = self._canonical(tuple(vector))
            if isinstance(key, np.ndarray):
                key = tuple(key.tolist())
            elif isinstance(key, list):
                key = tuple(key)
            table[code] = first.setdefault(key, code)
        return table

    # ----------------------------------------------------------- graph view
    @property
    def max_nodes(self) -> int:
        """Vertices of the padded graph."""
        return self._graph.max_nodes if self._graph else self.num_slots

    @property
    def node_types(self) -> tuple[str, ...]:
        """Vertex labels of the graph view."""
        if self._graph is not None:
            return tuple(self._graph.node_types)
        return tuple(label for labels in self.string_template()[1] for label in labels)

    def _build_graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        n = self.max_nodes
        adjacency = np.zeros((self.size, n, n), dtype=np.uint8)
        if len(self.node_types) > 127:
            raise UnknownOptionError(
                f"{self.name}: the graph view has {len(self.node_types)} node types; "
                "at most 127 are supported"
            )
        ops = np.full((self.size, n), -1, dtype=np.int8)
        codes = self.valid_codes
        vectors = self.codes_to_vectors(codes)
        if self._graph is None:
            offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
            ops[codes] = (vectors + offsets).astype(np.int8)
            return adjacency, ops
        index = {t: i for i, t in enumerate(self.node_types)}
        for code, vector in zip(codes.tolist(), vectors.tolist(), strict=True):
            edges, labels = self._graph.build(tuple(vector))
            if len(labels) > n:
                raise UnknownOptionError(
                    f"{self.name}: the graph of {tuple(vector)} has {len(labels)} "
                    f"vertices, more than max_nodes={n}"
                )
            try:
                ops[code, : len(labels)] = [index[label] for label in labels]
                for u, w in edges:
                    adjacency[code, int(u), int(w)] = 1
            except (KeyError, IndexError) as exc:
                raise UnknownOptionError(
                    f"{self.name}: the graph of {tuple(vector)} names an unknown "
                    f"vertex label or index ({exc}); labels: {self.node_types}"
                ) from None
        return adjacency, ops

    def __repr__(self) -> str:
        return f"CategoricalSpace({self.name!r}, {self.num_slots} slots)"


class _MeasuredSpace(CategoricalSearchSpace[Any]):
    """A space restricted to the cells a benchmark measured (others are invalid)."""

    def __init__(
        self, base: CategoricalSearchSpace[Any], measured: BoolArray, why: str
    ) -> None:
        self.base = base
        self.name = base.name
        self._measured = measured
        self._why = why
        digest = hashlib.sha1(measured.tobytes()).hexdigest()
        self._key = (type(base), base.config_key(), digest)

    slot_names = property(lambda self: self.base.slot_names)
    slot_choices = property(lambda self: self.base.slot_choices)
    max_nodes = property(lambda self: self.base.max_nodes)
    node_types = property(lambda self: self.base.node_types)

    def config_key(self) -> tuple[Any, ...]:
        return self._key

    def encode(self, arch: Any) -> IntArray:
        return self.base.encode(arch)

    def decode(self, vector: Sequence[int] | IntArray) -> Any:
        return self.base.decode(self.check_vector(vector))

    def to_string(self, arch: Any) -> str:
        return self.base.to_string(arch)

    def from_string(self, text: str) -> Any:
        return self.decode(self.base.encode(self.base.from_string(text)))

    def string_template(self) -> tuple[str, tuple[tuple[str, ...], ...]] | None:
        return self.base.string_template()

    def _build_valid_mask(self) -> BoolArray:
        return self.base.valid_mask & self._measured

    def invalid_reason(self, vector: IntArray) -> str | None:
        reason = self.base.invalid_reason(vector)
        if reason is None and not self._measured[int(self.vectors_to_codes(vector))]:
            return self._why
        return reason

    def _build_canonical_codes(self) -> IntArray:
        table = np.array(self.base.canonical_codes, dtype=np.int64)
        valid = self.valid_codes
        _, group = np.unique(table[valid], return_inverse=True)
        smallest = np.full(group.max(initial=-1) + 1, self.size, dtype=np.int64)
        np.minimum.at(smallest, group, valid)
        table[valid] = smallest[group]
        return table

    def _build_graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        adjacency, ops = self.base.graph_tables
        return adjacency.copy(), ops.copy()

    def __repr__(self) -> str:
        return f"{self.base!r} restricted to {int(self._measured.sum()):,} cells"


@dataclass(frozen=True)
class Metric:
    """One benchmark column and what it is.

    Args:
        kind: ``"valid"`` (a validation-split accuracy: rewards may use it),
            ``"test"`` (a test-split accuracy: reported, never rewarded unless the
            benchmark declares ``reward_split="test"``) or ``"cost"`` (minimised,
            offered as a cost objective, e.g. latency).
        values: The numbers: one per code (shape ``(space.size,)``, NaN where not
            measured), or one per row of the benchmark's ``vectors``. Omit it in
            :meth:`TableBenchmark.from_dataframe` and :class:`SurrogateBenchmark`.
        unit: Unit (default ``"%"`` for accuracies, which must be in percent).
        description: One line for docs and objective listings.
        column: DataFrame column (default: the metric's name).

    Example:
        >>> Metric("cost", unit="ms").kind
        'cost'
    """

    kind: str
    values: ArrayLike | None = None
    unit: str = ""
    description: str = ""
    column: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise unknown_option("metric kind", self.kind, KINDS)


def _declare(
    bench: TabularBenchmark[Any],
    metrics: Mapping[str, Metric],
    reward_split: str,
    reason: str | None,
    time_metric: str | None,
) -> None:
    """Set a benchmark's metric declarations (shared by the table and surrogate)."""
    if not metrics:
        raise UnknownOptionError("a benchmark needs at least one metric")
    for name, metric in metrics.items():
        if not isinstance(metric, Metric):
            raise UnknownOptionError(
                f"metric {name!r} must be declared as nasgym.extend.Metric(kind, "
                f"values), got {type(metric).__name__}"
            )
    bench.metrics = tuple(metrics)
    bench.cost_metrics = tuple(n for n, m in metrics.items() if m.kind == "cost")
    bench.declared = {n: m.kind for n, m in metrics.items()}  # type: ignore[attr-defined]
    bench.cost_objectives = {
        n: (n, m.unit, m.description or n)
        for n, m in metrics.items()
        if m.kind == "cost"
    }
    if time_metric is not None and bench.declared.get(time_metric) != "cost":  # type: ignore[attr-defined]
        raise UnknownOptionError(
            f"time_metric {time_metric!r} must be one of the cost metrics "
            f"({', '.join(bench.cost_metrics) or 'none declared'})"
        )
    bench.time_metric = time_metric
    if reward_split not in ("valid", "test"):
        raise unknown_option("reward_split", reward_split, ("valid", "test"))
    if reward_split == "test" and not (isinstance(reason, str) and reason.strip()):
        raise UnknownOptionError(
            "reward_split='test' rewards test-split numbers; say why with "
            "reward_split_reason='...' (e.g. 'the benchmark publishes no validation "
            "split'): runs and leaderboard reports print it"
        )
    bench.reward_split = reward_split
    bench.reward_split_reason = reason if reward_split == "test" else None
    for role, name in (
        ("reward_metric", bench.reward_metric),
        ("report_metric", bench.report_metric),
    ):
        if name not in metrics:
            raise unknown_option(role, name, tuple(metrics))
        if metrics[name].kind == "cost":
            raise UnknownOptionError(
                f"{role} {name!r} is declared a cost; name an accuracy metric "
                f"({', '.join(n for n, m in metrics.items() if m.kind != 'cost')})"
            )


def _metric_split(bench: TabularBenchmark[Any], metric: str) -> str:
    declared: dict[str, str] = getattr(bench, "declared", {})
    if metric not in declared:
        raise unknown_option(f"metric for {bench.name}", metric, tuple(declared))
    return declared[metric]


class TableBenchmark(TabularBenchmark[Any]):
    """A tabular benchmark from arrays: metric name -> one value per architecture.

    Cells whose reward or report metric is NaN (or absent from ``vectors``) were
    not measured: :attr:`space` is then the given space restricted to the measured
    cells (the others are invalid, with the reason "not measured by ..."), so
    searches and masks only ever reach measured cells. :attr:`full_space` is the
    space as given.

    Args:
        space: The search space (e.g. a :class:`CategoricalSpace`).
        metrics: Metric name -> :class:`Metric` with its values. Names are free
            (``"valid@12"`` for a 12-epoch fidelity, ``"latency_ms"``, ...): the
            declared kind, not the name, says what a metric is.
        dataset: Dataset name (benchmark name is ``"<space>/<dataset>"``).
        reward_metric: The metric rewards use (declared ``"valid"``, or ``"test"``
            with ``reward_split="test"``).
        report_metric: The metric reported as test accuracy (and regret).
        vectors: Optional ``(n, num_slots)`` choice vectors; then every metric's
            values have one entry per row instead of one per code.
        time_metric: Optional cost metric of simulated training seconds per query
            (``info["sim_time_s"]``).
        shares_isomorphs: Whether isomorphic architectures (same
            ``space.canonical``) are one measured entry: a query of one member makes
            the others free revisits and the budget counts classes; values are
            spread to every member of a measured class. Default: ``True`` for a
            :class:`CategoricalSpace` with a ``canonical`` hook, else ``False``.
        reward_split: ``"valid"`` (default). ``"test"`` lets rewards use a test
            metric, for benchmarks that publish no validation numbers; it needs
            ``reward_split_reason``, which runs and leaderboard reports show.
        reward_split_reason: Why test numbers are rewarded.

    Raises:
        UnknownOptionError: Undeclared or mis-declared metrics, wrong shapes,
            accuracies outside 0..100, duplicate vectors, or an isomorphism class
            measured twice with different values.
        BenchmarkDataMissingError: No cell has both the reward and report metric.

    Example:
        >>> space = CategoricalSpace("three", {"op": ["a", "b", "c"]})
        >>> bench = TableBenchmark(space, {
        ...     "valid": Metric("valid", [70.0, np.nan, 90.0]),
        ...     "test": Metric("test", [69.0, np.nan, 88.0])},
        ...     dataset="demo", reward_metric="valid", report_metric="test")
        >>> bench.num_measured, bench.space.num_valid, bench.optimum()
        (2, 2, 88.0)
        >>> bench.space.invalid_reason(np.array([1]))
        "not measured by three/demo (2 of 3 cells have 'valid' and 'test')"
    """

    def __init__(
        self,
        space: CategoricalSearchSpace[Any],
        metrics: Mapping[str, Metric],
        *,
        dataset: str,
        reward_metric: str,
        report_metric: str,
        vectors: ArrayLike | None = None,
        time_metric: str | None = None,
        shares_isomorphs: bool | None = None,
        reward_split: str = "valid",
        reward_split_reason: str | None = None,
    ) -> None:
        if not isinstance(space, CategoricalSearchSpace):
            raise UnknownOptionError(
                f"space must be a nasgym search space (e.g. nasgym.extend."
                f"CategoricalSpace), got {space!r}"
            )
        super().__init__(
            space, dataset, reward_metric=reward_metric, report_metric=report_metric
        )
        _declare(self, metrics, reward_split, reward_split_reason, time_metric)
        self.full_space = space
        self.shares_isomorphs = (
            isinstance(space, CategoricalSpace) and space._canonical is not None
            if shares_isomorphs is None
            else bool(shares_isomorphs)
        )
        rows = None if vectors is None else self._rows(vectors)
        self._columns: dict[str, FloatArray] = {}
        for name, metric in metrics.items():
            column = self._column(name, metric, rows)
            if metric.kind != "cost":
                finite = column[np.isfinite(column)]
                if finite.size and (finite.min() < 0.0 or finite.max() > 100.0):
                    raise UnknownOptionError(
                        f"metric {name!r} ({metric.kind}) has values in "
                        f"{finite.min():g}..{finite.max():g}: accuracies are in "
                        f"percent (0..100); multiply fractions by 100"
                    )
            self._columns[name] = column
        self._restrict()

    def _rows(self, vectors: ArrayLike) -> IntArray:
        array = np.asarray(vectors)
        space = self.full_space
        if array.ndim != 2 or array.shape[1] != space.num_slots:
            raise UnknownOptionError(
                f"vectors must have shape (n, {space.num_slots}), got {array.shape}"
            )
        if array.dtype.kind not in "iu" or ((array < 0) | (array >= space.nvec)).any():
            raise UnknownOptionError(
                f"vectors must hold choice indices in range per slot "
                f"({dict(zip(space.slot_names, space.nvec.tolist(), strict=True))})"
            )
        codes = space.vectors_to_codes(array.astype(np.int64))
        unique, counts = np.unique(codes, return_counts=True)
        if (counts > 1).any():
            dup = space.codes_to_vectors(int(unique[counts > 1][0])).tolist()
            raise UnknownOptionError(
                f"vectors lists {dup} {int(counts.max())} times; give each "
                "architecture one row"
            )
        return codes

    def _column(self, name: str, metric: Metric, rows: IntArray | None) -> FloatArray:
        space = self.full_space
        if metric.values is None:
            raise UnknownOptionError(f"metric {name!r} has no values")
        values = np.asarray(metric.values, dtype=np.float64).reshape(-1)
        expected = space.size if rows is None else rows.size
        if values.size != expected:
            where = "one per code" if rows is None else "one per row of vectors"
            raise UnknownOptionError(
                f"metric {name!r} has {values.size} values, expected {expected} "
                f"({where})"
            )
        column = values.copy() if rows is None else np.full(space.size, np.nan)
        if rows is not None:
            column[rows] = values
        column[~space.valid_mask] = np.nan
        if self.shares_isomorphs:
            column = self._spread(name, column)
        return column

    def _spread(self, name: str, column: FloatArray) -> FloatArray:
        """Give every member of a class the value measured for the class."""
        space = self.full_space
        canon = space.canonical_codes
        have = np.flatnonzero(np.isfinite(column))
        shared = np.full(space.size, np.nan)
        shared[canon[have]] = column[have]
        clash = ~np.isclose(shared[canon[have]], column[have])
        if clash.any():
            rep = int(canon[have[clash][0]])
            members = have[canon[have] == rep]
            raise UnknownOptionError(
                f"metric {name!r}: the isomorphic architectures "
                f"{space.codes_to_vectors(members).tolist()} (one class) have "
                f"different values {column[members].tolist()}; give a class one value, "
                "or pass "
                "shares_isomorphs=False to keep each code's own value"
            )
        valid = space.valid_codes
        out = np.full(space.size, np.nan)
        out[valid] = shared[canon[valid]]
        return out

    def _restrict(self) -> None:
        base = self.full_space
        needed = (self.reward_metric, self.report_metric)
        measured = np.ones(base.size, dtype=bool)
        for name in needed:
            measured &= np.isfinite(self._columns[name])
        count, valid = int(measured.sum()), base.num_valid
        if count == 0:
            raise BenchmarkDataMissingError(
                f"{self.name}: no architecture has both {needed[0]!r} and "
                f"{needed[1]!r}; check the metric values (NaN means not measured)"
            )
        #: Number of architectures with the reward and report metric.
        self.num_measured = count
        if count == valid:
            self.space = base
        else:
            both = " and ".join(repr(n) for n in dict.fromkeys(needed))
            why = (
                f"not measured by {self.name} ({count:,} of {valid:,} cells have "
                f"{both})"
            )
            self.space = _MeasuredSpace(base, measured, why)
        self._tables = None

    def _load(self) -> Mapping[str, FloatArray]:
        return self._columns

    def metric_split(self, metric: str) -> str:
        """The declared kind of ``metric``: ``"valid"``, ``"test"`` or ``"cost"``."""
        return _metric_split(self, metric)

    def with_metrics(
        self, *, reward_metric: str | None = None, report_metric: str | None = None
    ) -> TableBenchmark:
        """A copy rewarding/reporting other metrics (space re-restricted to them).

        Raises:
            UnknownOptionError: A metric the benchmark does not have, or a cost.
        """
        other = copy.copy(self)
        other.reward_metric = reward_metric or self.reward_metric
        other.report_metric = report_metric or self.report_metric
        for role, name in (
            ("reward_metric", other.reward_metric),
            ("report_metric", other.report_metric),
        ):
            if other.metric_split(name) == "cost":
                raise UnknownOptionError(f"{role} {name!r} is declared a cost")
        other._restrict()
        return other

    @classmethod
    def from_dataframe(
        cls,
        space: CategoricalSearchSpace[Any],
        frame: Any,
        metrics: Mapping[str, Metric],
        *,
        dataset: str | None = None,
        dataset_column: str | None = None,
        **options: Any,
    ) -> TableBenchmark | dict[str, TableBenchmark]:
        """Build benchmarks from a pandas DataFrame with one row per architecture.

        The frame has one column per slot (named as ``space.slot_names``, holding
        choice labels or indices) and one column per metric (``Metric.column`` or
        the metric's name).

        Args:
            space: The search space.
            frame: The table.
            metrics: Metric name -> :class:`Metric` (without ``values``).
            dataset: The dataset of every row (when there is no dataset column).
            dataset_column: A column naming each row's dataset: then one benchmark
                per dataset is returned, ``{dataset: benchmark}``.
            **options: The other keyword arguments of :class:`TableBenchmark`
                (``reward_metric``, ``report_metric``, ...).

        Raises:
            UnknownOptionError: Missing columns, unknown choice labels, or neither
                / both of ``dataset`` and ``dataset_column``.

        Example:
            >>> import pandas as pd
            >>> space = CategoricalSpace("two", {"op": ["a", "b"]})
            >>> frame = pd.DataFrame({"op": ["a", "b"], "acc": [60.0, 80.0]})
            >>> bench = TableBenchmark.from_dataframe(space, frame,
            ...     {"valid": Metric("valid", column="acc"),
            ...      "test": Metric("test", column="acc")},
            ...     dataset="d", reward_metric="valid", report_metric="test")
            >>> bench.optimum()
            80.0
        """
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]

        if not isinstance(frame, pd.DataFrame):
            raise UnknownOptionError(f"frame must be a pandas DataFrame, got {frame!r}")
        if (dataset is None) == (dataset_column is None):
            raise UnknownOptionError(
                "pass exactly one of dataset='name' (one dataset) and "
                "dataset_column='column' (one benchmark per dataset)"
            )
        wanted = list(space.slot_names) + [m.column or n for n, m in metrics.items()]
        wanted += [dataset_column] if dataset_column else []
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise UnknownOptionError(
                f"the frame lacks column(s) {missing}; it has {list(frame.columns)}"
            )

        def build(part: Any, name: str) -> TableBenchmark:
            vectors = np.zeros((len(part), space.num_slots), dtype=np.int64)
            for s, (slot, labels) in enumerate(
                zip(space.slot_names, space.slot_choices, strict=True)
            ):
                column = part[slot]
                if column.dtype.kind in "iu":
                    vectors[:, s] = column.to_numpy()
                    continue
                lookup = {label: i for i, label in enumerate(labels)}
                unknown = sorted(set(column) - set(lookup))
                if unknown:
                    raise UnknownOptionError(
                        f"column {slot!r} has unknown choice(s) {unknown[:5]}; "
                        f"choices: {', '.join(labels)}"
                    )
                vectors[:, s] = column.map(lookup).to_numpy()
            declared = {
                n: Metric(
                    m.kind, part[m.column or n].to_numpy(float), m.unit, m.description
                )
                for n, m in metrics.items()
            }
            return cls(space, declared, dataset=name, vectors=vectors, **options)

        if dataset is not None:
            return build(frame, dataset)
        return {
            str(name): build(part, str(name))
            for name, part in frame.groupby(dataset_column, sort=False)
        }


class SurrogateBenchmark(TabularBenchmark[Any]):
    """A benchmark whose numbers come from a batched prediction function.

    ``predict(vectors)`` gets an ``(n, num_slots)`` int64 array of valid choice
    vectors and returns ``{metric: array of n values}`` for every declared metric.
    nasgym calls it once per valid architecture, in ascending code order and in
    batches of ``batch_size``, the first time a table is needed, and keeps the
    results: a revisit returns the same value, so searches are deterministic and
    ``reset(seed=...)`` reproduces a run exactly. A noisy surrogate should therefore
    seed its own noise (e.g. from ``seed``) so that a new process builds the same
    tables; nasgym does not add noise.

    Args:
        space: The search space (enumerable).
        predict: The batched prediction function.
        metrics: Metric name -> :class:`Metric` (without ``values``).
        dataset: Dataset name.
        reward_metric: Rewarded metric (declared ``"valid"``).
        report_metric: Reported metric.
        batch_size: Architectures per ``predict`` call.
        time_metric: Optional cost metric of simulated training seconds.
        reward_split: As in :class:`TableBenchmark`.
        reward_split_reason: As in :class:`TableBenchmark`.

    Example:
        >>> space = CategoricalSpace("s", {"a": ["x", "y"], "b": ["x", "y", "z"]})
        >>> bench = SurrogateBenchmark(space,
        ...     lambda v: {"valid": 50.0 + v.sum(axis=1), "test": 49.0 + v[:, 0]},
        ...     {"valid": Metric("valid"), "test": Metric("test")},
        ...     dataset="toy", reward_metric="valid", report_metric="test")
        >>> bench.optimum("valid")
        53.0
    """

    def __init__(
        self,
        space: CategoricalSearchSpace[Any],
        predict: Callable[[IntArray], Mapping[str, ArrayLike]],
        metrics: Mapping[str, Metric],
        *,
        dataset: str,
        reward_metric: str,
        report_metric: str,
        batch_size: int = 4096,
        time_metric: str | None = None,
        reward_split: str = "valid",
        reward_split_reason: str | None = None,
    ) -> None:
        if not callable(predict):
            raise UnknownOptionError(f"predict must be a function, got {predict!r}")
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size < 1
        ):
            raise UnknownOptionError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        super().__init__(
            space, dataset, reward_metric=reward_metric, report_metric=report_metric
        )
        _declare(self, metrics, reward_split, reward_split_reason, time_metric)
        self.predict = predict
        self.batch_size = batch_size

    def _load(self) -> Mapping[str, FloatArray]:
        codes = self.space.valid_codes
        tables = {m: np.full(self.space.size, np.nan) for m in self.metrics}
        for start in range(0, codes.size, self.batch_size):
            chunk = codes[start : start + self.batch_size]
            out = self.predict(self.space.codes_to_vectors(chunk))
            missing = [m for m in self.metrics if m not in out]
            if missing:
                raise UnknownOptionError(
                    f"{self.name}: predict returned no {missing} (it returned "
                    f"{sorted(out)})"
                )
            for metric in self.metrics:
                values = np.asarray(out[metric], dtype=np.float64).reshape(-1)
                if values.size != chunk.size or not np.isfinite(values).all():
                    raise UnknownOptionError(
                        f"{self.name}: predict must return {chunk.size} finite values "
                        f"of {metric!r} for {chunk.size} vectors; got {values.size} "
                        f"with {int((~np.isfinite(values)).sum())} non-finite"
                    )
                tables[metric][chunk] = values
        return tables

    def metric_split(self, metric: str) -> str:
        """The declared kind of ``metric``: ``"valid"``, ``"test"`` or ``"cost"``."""
        return _metric_split(self, metric)


# ---------------------------------------------------------------- registration
BenchmarkSource = (
    TabularBenchmark[Any]
    | Callable[[], TabularBenchmark[Any]]
    | Mapping[str, "TabularBenchmark[Any] | Callable[[], TabularBenchmark[Any]]"]
)


class _Source:
    """The benchmarks behind one registration, built on first use and cached."""

    def __init__(self, prefix: str, benchmark: Any) -> None:
        self.prefix = prefix
        if isinstance(benchmark, Mapping):
            if not benchmark:
                raise UnknownOptionError("benchmark mapping is empty; name datasets")
            self.makers: dict[str | None, Any] = {
                str(k): v for k, v in benchmark.items()
            }
        elif isinstance(benchmark, TabularBenchmark) or callable(benchmark):
            self.makers = {None: benchmark}
        else:
            raise UnknownOptionError(
                "benchmark must be a nasgym benchmark (e.g. nasgym.extend."
                "TableBenchmark), a zero-argument function returning one, or a "
                f"mapping dataset -> either; got {benchmark!r}"
            )
        self.cache: dict[str | None, TabularBenchmark[Any]] = {}

    def get(self, dataset: str | None) -> TabularBenchmark[Any]:
        keys = list(self.makers)
        if keys != [None]:
            key: str | None = keys[0] if dataset is None else dataset
            if key not in self.makers:
                raise unknown_option(
                    f"dataset of {self.prefix}", str(dataset), [str(k) for k in keys]
                )
        else:
            key = None
        if key not in self.cache:
            maker = self.makers[key]
            bench = maker if isinstance(maker, TabularBenchmark) else maker()
            if not isinstance(bench, TabularBenchmark):
                raise UnknownOptionError(
                    f"{self.prefix}: the benchmark factory returned {bench!r}, not a "
                    "nasgym benchmark (nasgym.extend.TableBenchmark or "
                    "SurrogateBenchmark)"
                )
            if key is not None and bench.dataset != key:
                raise UnknownOptionError(
                    f"{self.prefix}: the benchmark registered for dataset {key!r} "
                    f"says its dataset is {bench.dataset!r}"
                )
            self.cache[key] = bench
        bench = self.cache[key]
        if dataset is not None and bench.dataset != dataset:
            raise UnknownOptionError(
                f"{self.prefix} has only dataset {bench.dataset!r}, got "
                f"dataset={dataset!r}"
            )
        return bench


class _ExtensionEnv(TabularNASEnv):
    """Base of the env classes :func:`register_benchmark_envs` creates."""

    source: ClassVar[_Source]
    space_type = CategoricalSearchSpace

    def __init__(
        self,
        dataset: str | None = None,
        *,
        reward_metric: str | None = None,
        report_metric: str | None = None,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        top_k: int = 10,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        objectives: Sequence[str] | None = None,
        mo_reward: str | None = None,
        mo_alpha: float = 0.5,
        cost_weights: float | Sequence[float] | None = None,
        cost_threshold: float | Sequence[float] | None = None,
        constraint_penalty: float = 0.0,
    ) -> None:
        benchmark = self.make_benchmark(
            dataset, reward_metric=reward_metric, report_metric=report_metric
        )
        self.dataset = benchmark.dataset
        super().__init__(
            benchmark,
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            top_k=top_k,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            objectives=objectives,
            mo_reward=mo_reward,
            mo_alpha=mo_alpha,
            cost_weights=cost_weights,
            cost_threshold=cost_threshold,
            constraint_penalty=constraint_penalty,
        )

    @classmethod
    def make_benchmark(
        cls, dataset: str | None, **kwargs: Any
    ) -> TabularBenchmark[Any]:
        """The registered benchmark of ``dataset``, with the requested metrics."""
        benchmark = cls.source.get(dataset)
        metrics = {k: v for k, v in kwargs.items() if v is not None}
        for value in metrics.values():
            if str(value).startswith("zc:"):
                raise UnknownOptionError(
                    f"{cls.source.prefix}: zero-cost ('zc:') rewards score "
                    "NAS-Bench-201 networks and exist only for nasgym's NB201 envs; "
                    "use one of this benchmark's metrics "
                    f"({', '.join(benchmark.metrics)})"
                )
        return benchmark.with_metrics(**metrics) if metrics else benchmark


def _env_doc(prefix: str, mode: str, env_id: str) -> str:
    action = {
        "Edit": "one slot edit per step (Discrete, with action masks)",
        "Query": "one whole architecture per step (MultiDiscrete)",
        "Continuous": "one score per slot and choice, decoded by argmax (Box)",
    }[mode]
    return (
        f"``{env_id}``: {mode} mode of {prefix} ({action}); registered by "
        "nasgym.extend.register_benchmark_envs. Keyword arguments: dataset, "
        "reward_metric, report_metric, reward, alpha, horizon, max_queries, top_k, "
        "invalid_action, invalid_reward, render_mode, objectives and the "
        "multi-objective options, as for nasgym's own tabular envs."
    )


_PREFIX = re.compile(r"^(?P<ns>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z][A-Za-z0-9_]*)$")


def register_benchmark_envs(
    prefix: str,
    benchmark: Any,
    *,
    modes: Sequence[str] = ("Edit", "Query", "Continuous"),
    version: int = 0,
) -> dict[str, str]:
    """Register Gymnasium ids for a benchmark in each action interface.

    Creates ``<prefix><Mode>-v<version>`` for every mode, each with the batched
    vector env (``gym.make_vec(id, num_envs=N)`` steps N searches in one NumPy
    call, identical to N single envs seeded ``seed, seed + 1, ...``), and declares
    them one family with :func:`nasgym.registration.register_modes`, so the
    leaderboard runs each agent in the mode it asks for. Registering the same prefix
    again replaces the ids. The benchmark is built only when an env is first made
    (then cached for the process), so registering from a module's import is cheap.

    The envs take nasgym's tabular keyword arguments (``dataset``,
    ``reward_metric``, ``report_metric``, ``horizon``, ``max_queries``,
    ``objectives``, ...), return nasgym's ``info`` contract and pass Gymnasium's and
    SB3's ``check_env``.

    Args:
        prefix: ``"namespace/Name"``, e.g. ``"analognas/Analog201"``.
        benchmark: A benchmark, a zero-argument function returning one, or a
            mapping ``dataset -> benchmark or function`` (the env's ``dataset=``
            chooses; default the first).
        modes: Subset of ``("Edit", "Query", "Continuous")``.
        version: The ``-v<N>`` suffix.

    Returns:
        ``{mode: env id}``.

    Raises:
        UnknownOptionError: A malformed prefix, unknown mode, or a benchmark
            argument of the wrong type.

    Example:
        >>> space = CategoricalSpace("tiny", {"a": ["x", "y"], "b": ["x", "y"]})
        >>> def build():
        ...     values = np.array([60.0, 70.0, 80.0, 90.0])
        ...     return TableBenchmark(space, {"valid": Metric("valid", values),
        ...         "test": Metric("test", values - 1)},
        ...         dataset="demo", reward_metric="valid", report_metric="test")
        >>> register_benchmark_envs("doc/Tiny", build, modes=("Edit", "Query"))
        {'Edit': 'doc/TinyEdit-v0', 'Query': 'doc/TinyQuery-v0'}
        >>> env = gym.make_vec("doc/TinyQuery-v0", num_envs=2)
        >>> env.num_envs
        2
    """
    match = _PREFIX.match(prefix) if isinstance(prefix, str) else None
    if match is None:
        raise UnknownOptionError(
            f"prefix must look like 'namespace/Name' (letters, digits, '_'), got "
            f"{prefix!r}"
        )
    unknown = [m for m in modes if m not in ("Edit", "Query", "Continuous")]
    if unknown or not modes or len(set(modes)) != len(modes):
        raise UnknownOptionError(
            f"modes must be distinct names among 'Edit', 'Query', 'Continuous'; got "
            f"{list(modes)}"
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise UnknownOptionError(f"version must be an integer >= 0, got {version!r}")
    source = _Source(prefix, benchmark)
    name = match["name"]
    ids: dict[str, str] = {}
    for mode in modes:
        env_id = f"{prefix}{mode}-v{version}"
        doc = _env_doc(prefix, mode, env_id)
        env_class = type(
            f"{name}{mode}Env",
            (_ExtensionEnv,),
            {"source": source, "mode": mode.lower(), "__doc__": doc},
        )
        vector_class = type(
            f"{name}{mode}VectorEnv",
            (TabularNASVectorEnv,),
            {"env_class": env_class, "__doc__": f"Batched {env_class.__name__}."},
        )
        gym.registry.pop(env_id, None)
        gym.register(
            id=env_id,
            entry_point=cast(Any, env_class),
            vector_entry_point=cast(Any, vector_class),
            disable_env_checker=False,
        )
        ids[mode] = env_id
    if len(ids) >= 2:
        register_modes(
            edit=ids.get("Edit"),
            query=ids.get("Query"),
            continuous=ids.get("Continuous"),
        )
    return ids
