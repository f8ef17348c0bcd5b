"""The search-space protocol shared by every tabular space.

Every space in nasgym so far describes an architecture as a fixed-length vector of
categorical *choices* (one per *slot*). Three equivalent encodings exist:

* the architecture value itself (an immutable, hashable dataclass defined by each
  space, e.g. :class:`nasgym.spaces.nb201.NB201Arch`);
* the choice vector, ``np.ndarray`` of ``int64`` with ``vector[i] < nvec[i]``;
* the integer *code*, the mixed-radix number of the vector (slot 0 most significant),
  which indexes every per-architecture lookup table.

All batch operations take and return NumPy arrays of codes, so environments can step
many architectures in one vectorised call. This module imports numpy only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from nasgym.error import InvalidArchitectureError, require

if TYPE_CHECKING:
    import networkx as nx

ArchT = TypeVar("ArchT")
T = TypeVar("T")

#: Derived tables shared by every instance of a space with the same configuration,
#: so that making many envs (e.g. a ``SyncVectorEnv``) builds each table once.
_SHARED_TABLES: dict[tuple[Any, ...], Any] = {}


class shared_table(Generic[T]):  # used like functools.cached_property
    """A read-only property computed once per space configuration per process.

    The value is keyed by the space class and :meth:`CategoricalSearchSpace.config_key`
    and also stored on the instance for fast repeated access.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> shared_table[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> T | shared_table[T]:
        if instance is None:
            return self
        key = (type(instance), instance.config_key(), self.name)  # type: ignore[attr-defined]
        if key not in _SHARED_TABLES:
            _SHARED_TABLES[key] = self.func(instance)
        value: T = _SHARED_TABLES[key]
        instance.__dict__[self.name] = value
        return value


IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Most architecture values whose code :meth:`CategoricalSearchSpace.valid_code`
#: remembers per space (every NB201 and NAS-Bench-Graph code fits).
VALID_CODE_MEMO = 1 << 16


class CategoricalSearchSpace(ABC, Generic[ArchT]):
    """A search space of fixed-length categorical choice vectors.

    Subclasses define the architecture value type, the slot labels, validity, the
    canonical (isomorphism-class) map and a graph view. Everything else, including
    codes, neighbours, sampling and the tables environments use, lives here.
    """

    #: Short identifier, e.g. ``"nb201"``.
    name: str = ""
    #: Whether architecture values are immutable and hash by content, so that
    #: :meth:`valid_code` may remember their codes (spaces opt in).
    memo_codes: bool = False

    # ------------------------------------------------------------------ abstract
    @property
    @abstractmethod
    def slot_names(self) -> tuple[str, ...]:
        """Name of each decision slot (e.g. the edge ``"1<-0"``)."""

    @property
    @abstractmethod
    def slot_choices(self) -> tuple[tuple[str, ...], ...]:
        """Label of every choice, per slot."""

    @abstractmethod
    def encode(self, arch: ArchT) -> IntArray:
        """Return the choice vector of an architecture value."""

    @abstractmethod
    def decode(self, vector: Sequence[int] | IntArray) -> ArchT:
        """Return the architecture value of a choice vector.

        Raises:
            InvalidArchitectureError: The vector is not a valid member of the space.
        """

    @abstractmethod
    def to_string(self, arch: ArchT) -> str:
        """Return the space's standard string form of an architecture."""

    @abstractmethod
    def from_string(self, text: str) -> ArchT:
        """Parse the standard string form.

        Raises:
            InvalidArchitectureError: The string is malformed or names an invalid cell.
        """

    @abstractmethod
    def _build_canonical_codes(self) -> IntArray:
        """Return, for every code, the code of its isomorphism-class representative."""

    @property
    @abstractmethod
    def max_nodes(self) -> int:
        """Number of vertices of the padded graph view."""

    @property
    @abstractmethod
    def node_types(self) -> tuple[str, ...]:
        """Vertex labels of the graph view (index = one-hot position)."""

    @abstractmethod
    def _build_graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        """Return ``(adjacency, node_ops)`` for every code.

        ``adjacency`` has shape ``(size, max_nodes, max_nodes)`` (row = source vertex)
        and ``node_ops`` shape ``(size, max_nodes)``, with ``-1`` for padding.
        """

    def config_key(self) -> tuple[Any, ...]:
        """Constructor settings that change the space (key of shared tables)."""
        return ()

    def string_template(self) -> tuple[str, tuple[tuple[str, ...], ...]] | None:
        """A ``str.format`` template and per-slot labels equal to :meth:`to_string`.

        Lets tables of strings be built without validating each code; ``None`` (the
        default) falls back to ``to_string(from_code(code))``.
        """
        return None

    def strings_of(self, codes: IntArray) -> list[str]:
        """String forms of many valid codes (fast when a template exists)."""
        template = self.string_template()
        if template is None:
            return [self.to_string(self.from_code(int(c))) for c in codes]
        fmt, labels = template
        return [
            fmt.format(*[labels[s][v] for s, v in enumerate(vector)])
            for vector in self.codes_to_vectors(codes).tolist()
        ]

    # --------------------------------------------------------------- validity
    def _build_valid_mask(self) -> BoolArray:
        """Return a boolean mask over codes; override when some vectors are invalid."""
        return np.ones(self.size, dtype=bool)

    def invalid_reason(self, vector: IntArray) -> str | None:
        """Explain why an in-range vector is invalid (``None`` when valid)."""
        return None

    # ------------------------------------------------------------- derived
    @cached_property
    def nvec(self) -> IntArray:
        """Number of choices per slot."""
        return np.array([len(c) for c in self.slot_choices], dtype=np.int64)

    @cached_property
    def num_slots(self) -> int:
        """Number of decision slots (computed once: a space never changes)."""
        return len(self.slot_choices)

    @cached_property
    def max_choices(self) -> int:
        """Largest number of choices in any slot."""
        return int(self.nvec.max())

    @cached_property
    def size(self) -> int:
        """Number of codes (all choice vectors, valid or not)."""
        return int(np.prod(self.nvec))

    @cached_property
    def _radix(self) -> IntArray:
        radix = np.ones(self.num_slots, dtype=np.int64)
        for i in range(self.num_slots - 2, -1, -1):
            radix[i] = radix[i + 1] * self.nvec[i + 1]
        return radix

    @shared_table
    def valid_mask(self) -> BoolArray:
        """Boolean mask over codes: which choice vectors are valid architectures."""
        mask = self._build_valid_mask()
        mask.setflags(write=False)
        return mask

    @shared_table
    def valid_codes(self) -> IntArray:
        """All valid codes, ascending."""
        codes = np.flatnonzero(self.valid_mask).astype(np.int64)
        codes.setflags(write=False)
        return codes

    @property
    def num_valid(self) -> int:
        """Number of valid choice vectors."""
        return int(self.valid_codes.size)

    @shared_table
    def canonical_codes(self) -> IntArray:
        """For every code, the code of its class representative (read-only)."""
        table = self._build_canonical_codes().astype(np.int64)
        table.setflags(write=False)
        return table

    @property
    def num_classes(self) -> int:
        """Number of distinct isomorphism classes among valid architectures."""
        return int(np.unique(self.canonical_codes[self.valid_codes]).size)

    @shared_table
    def graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        """``(adjacency, node_ops)`` lookup tables over codes (read-only)."""
        adjacency, node_ops = self._build_graph_tables()
        adjacency.setflags(write=False)
        node_ops.setflags(write=False)
        return adjacency, node_ops

    # ------------------------------------------------------------ conversions
    def vectors_to_codes(self, vectors: IntArray) -> IntArray:
        """Convert a ``(..., num_slots)`` array of vectors to codes (no validation)."""
        return np.asarray(vectors, dtype=np.int64) @ self._radix

    def codes_to_vectors(self, codes: IntArray | int) -> IntArray:
        """Convert codes (any shape) to a ``(..., num_slots)`` array of vectors."""
        codes = np.asarray(codes, dtype=np.int64)
        return (codes[..., None] // self._radix) % self.nvec

    def check_vector(self, vector: Sequence[int] | IntArray) -> IntArray:
        """Validate a choice vector and return it as an ``int64`` array.

        Raises:
            InvalidArchitectureError: Wrong length, a choice out of range, or a vector
                that the space rules out; the message says which and why.
        """
        try:
            array = np.asarray(vector)
            if array.dtype.kind not in "iub":
                raise TypeError
            array = array.astype(np.int64)
        except (TypeError, ValueError) as exc:
            raise InvalidArchitectureError(
                f"{self.name}: expected a sequence of {self.num_slots} integers, "
                f"got {vector!r}"
            ) from exc
        if array.shape != (self.num_slots,):
            raise InvalidArchitectureError(
                f"{self.name}: expected {self.num_slots} choices "
                f"({', '.join(self.slot_names)}), got shape {array.shape}"
            )
        bad = np.flatnonzero((array < 0) | (array >= self.nvec))
        if bad.size:
            i = int(bad[0])
            raise InvalidArchitectureError(
                f"{self.name}: slot {self.slot_names[i]!r} has choice {int(array[i])}, "
                f"valid range is 0..{int(self.nvec[i]) - 1} "
                f"({', '.join(self.slot_choices[i])})"
            )
        reason = self.invalid_reason(array)
        if reason is not None:
            raise InvalidArchitectureError(
                f"{self.name}: invalid architecture: {reason}"
            )
        return array

    def code(self, arch: ArchT) -> int:
        """Return the integer code of an architecture value."""
        return int(self.vectors_to_codes(self.encode(arch)))

    def valid_code(self, arch: ArchT) -> int:
        """Return the code of a valid architecture value, remembering the answer.

        In a space whose architecture values are immutable and hash by content
        (:attr:`memo_codes`), the code of a value checked once is looked up in a
        per-space dict afterwards (at most :data:`VALID_CODE_MEMO` entries; later
        ones are checked every time). Elsewhere every call checks the value.

        Raises:
            InvalidArchitectureError: ``arch`` is not a valid member of the space.
        """
        if not self.memo_codes:
            code = self.code(arch)
            if not self.valid_mask[code]:
                raise InvalidArchitectureError(f"{arch!r} is not valid in {self.name}")
            return code
        memo: dict[Any, int] = self.__dict__.setdefault("_valid_code_memo", {})
        try:
            found = memo.get(arch)
        except TypeError:  # unhashable: not an architecture value; let code() say so
            found = None
        if found is not None:
            return found
        code = self.code(arch)
        if not self.valid_mask[code]:
            raise InvalidArchitectureError(f"{arch!r} is not valid in {self.name}")
        if len(memo) < VALID_CODE_MEMO:
            try:
                memo[arch] = code
            except TypeError:
                pass
        return code

    def from_code(self, code: int) -> ArchT:
        """Return the architecture value with this code.

        Raises:
            InvalidArchitectureError: The code is out of range or invalid.
        """
        if not 0 <= int(code) < self.size:
            raise InvalidArchitectureError(
                f"{self.name}: code {code} out of range 0..{self.size - 1}"
            )
        return self.decode(self.codes_to_vectors(int(code)))

    # ---------------------------------------------------------------- queries
    def is_valid(self, arch_or_vector: ArchT | Sequence[int] | IntArray) -> bool:
        """Whether a value or choice vector is a valid architecture of this space."""
        try:
            if isinstance(arch_or_vector, (np.ndarray, list, tuple)):
                self.check_vector(arch_or_vector)
            else:
                self.check_vector(self.encode(arch_or_vector))  # type: ignore[arg-type]
        except InvalidArchitectureError:
            return False
        return True

    def canonical(self, arch: ArchT) -> ArchT:
        """Return the representative of the architecture's isomorphism class."""
        return self.from_code(int(self.canonical_codes[self.code(arch)]))

    def canonical_hash(self, arch: ArchT) -> int:
        """Return an integer equal for exactly the members of one isomorphism class."""
        return int(self.canonical_codes[self.code(arch)])

    def sample(self, rng: np.random.Generator) -> ArchT:
        """Draw an architecture uniformly from the valid choice vectors."""
        return self.from_code(int(self.sample_codes(rng, 1)[0]))

    def sample_codes(self, rng: np.random.Generator, n: int) -> IntArray:
        """Draw ``n`` valid codes uniformly (with replacement)."""
        return self.valid_codes[rng.integers(0, self.num_valid, size=n)]

    # ------------------------------------------------------------------ edits
    @cached_property
    def edit_offsets(self) -> IntArray:
        """Start of each slot's block in the flat edit-action table."""
        return np.concatenate([[0], np.cumsum(self.nvec)[:-1]]).astype(np.int64)

    @property
    def num_edits(self) -> int:
        """Size of the flat edit table: one action per (slot, choice) pair."""
        return int(self.nvec.sum())

    @cached_property
    def edit_table(self) -> tuple[IntArray, IntArray]:
        """``(slot, choice)`` of every edit action, as two arrays."""
        slots = np.repeat(np.arange(self.num_slots), self.nvec)
        choices = np.arange(self.num_edits) - self.edit_offsets[slots]
        return slots.astype(np.int64), choices.astype(np.int64)

    def describe_edit(self, action: int) -> str:
        """Human-readable description of an edit action."""
        slots, choices = self.edit_table
        slot, choice = int(slots[action]), int(choices[action])
        return f"set {self.slot_names[slot]} to {self.slot_choices[slot][choice]}"

    def apply_edits(self, codes: IntArray, actions: IntArray) -> IntArray:
        """Apply edit actions to codes (vectorised; results may be invalid codes)."""
        slots, choices = self.edit_table
        slot = slots[actions]
        radix = self._radix[slot]
        current = (codes // radix) % self.nvec[slot]
        result: IntArray = (codes + (choices[actions] - current) * radix).astype(
            np.int64
        )
        return result

    def edit_masks(self, codes: IntArray) -> BoolArray:
        """Masks of legal edits, shape ``(len(codes), num_edits)``.

        An edit is legal when it changes the architecture and the result is valid.
        """
        codes = np.asarray(codes, dtype=np.int64)
        slots, choices = self.edit_table
        radix = self._radix[slots]
        current = (codes[:, None] // radix) % self.nvec[slots]
        targets = codes[:, None] + (choices - current) * radix
        mask: BoolArray = (choices != current) & self.valid_mask[targets]
        return mask

    def neighbours(self, arch: ArchT) -> list[ArchT]:
        """All valid architectures that differ from ``arch`` in exactly one slot."""
        code = self.code(arch)
        mask = self.edit_masks(np.array([code]))[0]
        actions = np.flatnonzero(mask)
        targets = self.apply_edits(np.full(actions.size, code), actions)
        return [self.from_code(int(t)) for t in targets]

    # ------------------------------------------------------------- graph view
    def to_networkx(self, arch: ArchT) -> nx.DiGraph:
        """Return the graph view as a ``networkx.DiGraph`` (vertex attribute ``op``).

        Padding vertices are dropped; vertex ids are the padded positions.

        Raises:
            MissingExtraError: networkx is not installed (the ``graph`` extra).
        """
        require("networkx", extra="graph", purpose="to_networkx")
        import networkx as nx

        adjacency, node_ops = self.graph_tables
        code = self.code(arch)
        graph = nx.DiGraph()
        for v, op in enumerate(node_ops[code]):
            if op >= 0:
                graph.add_node(v, op=self.node_types[int(op)])
        for u, w in zip(*np.nonzero(adjacency[code]), strict=True):
            graph.add_edge(int(u), int(w))
        return graph

    @shared_table
    def _graph_index(self) -> dict[bytes, int]:
        """Map from a code's graph arrays (as bytes) to the smallest such code."""
        adjacency, node_ops = self.graph_tables
        index: dict[bytes, int] = {}
        for code in self.valid_codes.tolist():
            key = adjacency[code].tobytes() + node_ops[code].tobytes()
            index.setdefault(key, code)
        return index

    def from_networkx(self, graph: nx.DiGraph) -> ArchT:
        """Inverse of :meth:`to_networkx`.

        Raises:
            InvalidArchitectureError: The graph is not the view of an architecture of
                this space (wrong vertex ids, labels or edges).
        """
        adjacency = np.zeros((self.max_nodes, self.max_nodes), dtype=np.uint8)
        node_ops = np.full(self.max_nodes, -1, dtype=np.int8)
        try:
            for v, data in graph.nodes(data=True):
                node_ops[int(v)] = self.node_types.index(data["op"])
            for u, w in graph.edges():
                adjacency[int(u), int(w)] = 1
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise InvalidArchitectureError(
                f"{self.name}: not a graph view of this space (vertices must be "
                f"0..{self.max_nodes - 1} with an 'op' in {self.node_types}): {exc}"
            ) from exc
        code = self._graph_index.get(adjacency.tobytes() + node_ops.tobytes())
        if code is None:
            raise InvalidArchitectureError(
                f"{self.name}: the graph is not the view of any valid architecture"
            )
        return self.from_code(code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def describe(self) -> dict[str, Any]:
        """Summary numbers of the space (for docs and ``nasgym list``)."""
        return {
            "name": self.name,
            "slots": self.num_slots,
            "choice_vectors": self.size,
            "valid": self.num_valid,
            "classes": self.num_classes,
        }
