"""Where nasgym finds benchmark data, and how it checks it.

Two directories matter:

* ``NASGYM_DATA_DIR`` (optional): the root where users keep benchmark files in their
  standard layout (``nas-bench-201/``, ``nats-bench/`` ...). nasgym reads raw sources
  from here and looks for compact tables in ``$NASGYM_DATA_DIR/nasgym/``; when the
  directory is writable, imports go there too.
* ``NASGYM_CACHE_DIR`` (optional, wins when set): where ``nasgym data import`` writes
  nasgym's compact ``.npz`` tables, for read-only data directories. Without either,
  tables go to the platform cache directory (e.g. ``~/.cache/nasgym``).

Nothing here runs at import time; every function does its I/O when called.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import math
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasgym.error import CorruptDataError

TABLE_FORMAT_VERSION = 1


def data_dir() -> Path | None:
    """Return ``$NASGYM_DATA_DIR`` as a path, or ``None`` when it is unset."""
    value = os.environ.get("NASGYM_DATA_DIR")
    return Path(value).expanduser().resolve() if value else None


def cache_dir() -> Path:
    """Return the directory where ``nasgym data import`` writes tables (not created).

    In order: ``$NASGYM_CACHE_DIR``; ``$NASGYM_DATA_DIR/nasgym`` when
    ``NASGYM_DATA_DIR`` is set and writable; the platform cache directory
    (e.g. ``~/.cache/nasgym``).
    """
    value = os.environ.get("NASGYM_CACHE_DIR")
    if value:
        return Path(value).expanduser().resolve()
    root = data_dir()
    if root is not None and _writable(root):
        return root / "nasgym"
    import platformdirs

    return Path(platformdirs.user_cache_dir("nasgym"))


def _writable(directory: Path) -> bool:
    """Whether ``directory`` is meant to be written: its mode has a write bit.

    ``os.access`` alone is not enough: for root it reports read-only trees (such as a
    shared, read-only data directory) as writable.
    """
    try:
        mode = directory.stat().st_mode
    except OSError:
        return False
    return directory.is_dir() and bool(mode & 0o222) and os.access(directory, os.W_OK)


def table_search_path() -> list[Path]:
    """Directories searched, in order, for compact tables."""
    paths = [cache_dir()]
    root = data_dir()
    if root is not None and root / "nasgym" not in paths:
        paths.append(root / "nasgym")
    return paths


def find_table(filename: str) -> Path | None:
    """Return the first existing ``filename`` on :func:`table_search_path`."""
    for directory in table_search_path():
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    return None


def describe_paths(paths: Sequence[Path]) -> str:
    """The paths looked at for a file, each with what is there when it is not a file.

    Example: ``/c/nb201.npz (a directory, not a table file), /d/nasgym/nb201.npz``.
    """
    parts = []
    for path in paths:
        if path.is_dir():
            parts.append(f"{path} (a directory is there, not a table file: remove it)")
        elif path.exists() and not path.is_file():
            parts.append(f"{path} (not a regular file)")
        else:
            parts.append(str(path))
    return ", ".join(parts)


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that :func:`json.dumps` writes as strict JSON.

    Non-finite floats (NaN, infinities) become ``None``; dicts, lists and tuples are
    copied recursively (tuples become lists). Standard JSON has no NaN or Infinity,
    and ``json.dumps`` would otherwise write them as invalid tokens.

    Example:
        >>> json_safe({"a": float("nan"), "b": (1.0, float("inf"))})
        {'a': None, 'b': [1.0, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(key.encode())
        digest.update(str(array.dtype).encode())
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def current_umask() -> int:
    """The process umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(fd: int) -> None:
    """Give a file from :func:`tempfile.mkstemp` the mode ``open()`` would give it.

    ``mkstemp`` creates files with mode 0600, which would lock other users (a shared
    data directory, Ray nodes under another account) out of the file once renamed.
    """
    os.fchmod(fd, 0o666 & ~current_umask())


def write_table(path: Path, arrays: Mapping[str, np.ndarray]) -> str:
    """Write a compact table atomically, with an embedded content checksum.

    The file is written to a temporary name in the same directory and renamed, so an
    interrupted import never leaves a half-written table behind. Its mode follows the
    umask, as for any file ``open()`` creates.

    Args:
        path: Destination ``.npz`` path; parent directories are created.
        arrays: Named arrays. Keys starting with ``__`` are reserved.

    Returns:
        The content checksum stored in the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(arrays)
    payload["__format_version__"] = np.asarray(TABLE_FORMAT_VERSION)
    checksum = _arrays_digest(payload)
    payload["__sha256__"] = np.asarray(checksum)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        honour_umask(fd)
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, **payload)  # type: ignore[arg-type]
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return checksum


def read_table(
    path: Path, required: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """Read and verify a compact table written by :func:`write_table`.

    Args:
        path: The ``.npz`` file.
        required: Array names that must be present, each with its expected shape
            (``-1`` in a shape matches any length).

    Returns:
        The arrays, fully loaded into memory.

    Raises:
        CorruptDataError: The file is unreadable or truncated, an array is missing or
            misshapen, or the content checksum does not match.
    """
    fix = f"delete it and run `nasgym data import` again ({path})"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError, OSError ...
        raise CorruptDataError(f"cannot read table {path}: {exc}; {fix}") from exc
    stored = arrays.pop("__sha256__", None)
    if stored is None or "__format_version__" not in arrays:
        raise CorruptDataError(f"{path} is not a nasgym table; {fix}")
    if int(arrays["__format_version__"]) != TABLE_FORMAT_VERSION:
        raise CorruptDataError(
            f"{path} has table format {int(arrays['__format_version__'])}, this nasgym "
            f"reads format {TABLE_FORMAT_VERSION}; {fix}"
        )
    if _arrays_digest(arrays) != str(stored):
        raise CorruptDataError(f"{path} fails its checksum (corrupted); {fix}")
    for key, shape in required.items():
        if key not in arrays:
            raise CorruptDataError(f"{path} lacks array {key!r}; {fix}")
        actual = arrays[key].shape
        if len(actual) != len(shape) or any(
            s != -1 and s != a for s, a in zip(shape, actual, strict=True)
        ):
            raise CorruptDataError(
                f"{path}: array {key!r} has shape {actual}, expected {shape}; {fix}"
            )
    del arrays["__format_version__"]
    return arrays


@dataclass(frozen=True)
class ValueRange:
    """The values a table column may hold.

    Attributes:
        low: Smallest possible value (inclusive).
        high: Largest possible value (inclusive).
        required: NaN (a missing value) is impossible too.
    """

    low: float = -math.inf
    high: float = math.inf
    required: bool = False

    def describe(self) -> str:
        """E.g. ``"in [0, 100] or NaN (missing)"``."""
        if math.isinf(self.low) and math.isinf(self.high):
            span = "finite"
        elif math.isinf(self.high):
            span = f">= {self.low:g}"
        else:
            span = f"in [{self.low:g}, {self.high:g}]"
        return span if self.required else f"{span} or NaN (missing)"


#: Accuracies in percent.
PERCENT = ValueRange(0.0, 100.0)
#: Accuracies as fractions.
FRACTION = ValueRange(0.0, 1.0)
#: Costs (time, energy, size, latency): never negative.
COST = ValueRange(0.0)


def check_ranges(
    where: str | os.PathLike[str],
    arrays: Mapping[str, np.ndarray],
    ranges: Mapping[str, ValueRange],
    *,
    fix: str,
) -> None:
    """Refuse impossible values: a checksum proves a file intact, not its content sane.

    Args:
        where: The file the values come from (named in the error).
        arrays: Named columns; those absent from ``ranges`` are not checked.
        ranges: Column name -> its :class:`ValueRange`.
        fix: What the user should do, appended to the error.

    Raises:
        CorruptDataError: Naming the file, the column, how many values are impossible,
            the first one (index and value) and the allowed range.
    """
    for key, allowed in ranges.items():
        if key not in arrays:
            continue
        values = np.asarray(arrays[key], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(values) | (values < allowed.low) | (values > allowed.high)
        if allowed.required:
            bad |= np.isnan(values)
        count = int(bad.sum())
        if count:
            first = np.argwhere(bad)[0]
            index = int(first[0]) if first.size == 1 else tuple(int(i) for i in first)
            value = float(values[tuple(first)])
            raise CorruptDataError(
                f"{os.fspath(where)}: {key} has {count:,} impossible value(s) of "
                f"{values.size:,} (first at index {index}: {value!r}); expected "
                f"{allowed.describe()}. {fix}"
            )


# ------------------------------------------------------------ untrusted pickles
#: Most bytes :func:`restricted_load` reads from one stream by default. The pickles
#: nasgym reads are smaller (a NATS-Bench file decompresses to under 1 MB, the
#: CIFAR-100 training pickle holds 155 MB); a crafted compressed file could otherwise
#: expand to gigabytes in memory.
MAX_PICKLE_BYTES = 256 << 20


def _numpy_global(name: str) -> Any:
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no {name}")  # pragma: no cover


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that builds only plain data: containers, numbers, strings, arrays.

    Benchmark archives and dataset batches are pickles from the internet; a pickle can
    run any code it names. This one refuses every global except ``OrderedDict`` and
    what NumPy arrays and scalars need.
    """

    _NUMPY_NAMES = frozenset({"scalar", "_reconstruct"})

    def find_class(self, module: str, name: str) -> Any:
        """Resolve the few globals plain data needs; refuse every other one."""
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) in {("numpy", "dtype"), ("numpy", "ndarray")}:
            return getattr(np, name)
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and (
            name in self._NUMPY_NAMES
        ):
            return _numpy_global(name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only plain data (dicts, lists, "
            f"numbers, strings, numpy arrays) is accepted"
        )


class TooLargeError(pickle.UnpicklingError):
    """A stream held more bytes than its cap (see :func:`restricted_load`)."""


class _Capped:
    """A read-only view of a binary stream that refuses to go past ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._left = limit
        self.limit = limit

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise TooLargeError(f"more than {self.limit:,} bytes")
        return data

    def read(self, size: int | None = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._take(self._stream.read(want))

    def readline(self, size: int | None = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._take(self._stream.readline(want))


def restricted_load(
    stream: IO[bytes], *, encoding: str = "ASCII", limit: int = MAX_PICKLE_BYTES
) -> Any:
    """Unpickle plain data from ``stream`` with :class:`RestrictedUnpickler`.

    The stream is read incrementally (a compressed file is decompressed as it is
    read, never whole) and at most ``limit`` bytes are read.

    Args:
        stream: A binary file object, e.g. ``bz2.open(path)``.
        encoding: How to decode Python 2 strings (``"latin1"`` for CIFAR batches).
        limit: Most bytes to read.

    Raises:
        TooLargeError: The pickle is longer than ``limit`` bytes.
        pickle.UnpicklingError: It names a global that plain data does not need, or
            is malformed (also ``EOFError``, ``ValueError`` ... as ``pickle`` raises).
    """
    capped: Any = _Capped(stream, limit)
    return RestrictedUnpickler(capped, encoding=encoding).load()


# ------------------------------------------------------------ derived caches
def cached_arrays(
    path: Path,
    stamp: Mapping[str, str],
    required: Mapping[str, tuple[int, ...]],
    build: Callable[[], dict[str, np.ndarray]],
    *,
    what: str,
    check: Callable[[dict[str, np.ndarray]], str | None] | None = None,
) -> dict[str, np.ndarray]:
    """Return arrays derived from installed files, kept in a verified disk cache.

    The cache file is a table written by :func:`write_table` (atomically, with a
    content checksum) that also stores ``stamp``: strings that identify what the
    arrays were derived from (a package version, checksums of its files). A file
    that is unreadable, truncated, fails its checksum, lacks a ``required`` array or
    carries another stamp, or whose arrays ``check`` rejects, is never used: the
    arrays are rebuilt, the file rewritten, and a :class:`RuntimeWarning` names the
    problem (another stamp is not a problem and is replaced quietly). When the
    cache cannot be written (a read-only directory), the arrays are returned
    uncached.

    Args:
        path: The cache file (``.npz``).
        stamp: Names and values identifying the source; stored as ``stamp/<name>``.
        required: Array names the file must hold, with their shapes (``-1``: any).
        build: Computes the arrays when the cache cannot be used.
        what: Names the cached data in the warning.
        check: Inspects arrays read from the cache; returns what is wrong with
            them, or ``None`` when they are sound.

    Returns:
        The arrays (without the stamp), fully in memory.
    """
    stored = {f"stamp/{key}": str(value) for key, value in stamp.items()}
    if path.is_file():
        try:
            arrays = read_table(path, required)
            found = {key: str(arrays.pop(key)) for key in list(arrays) if "/" in key}
            problem = None if check is None else check(arrays)
            if problem is not None:
                raise CorruptDataError(f"{path}: {problem}")
            if found == stored:
                return arrays
        except CorruptDataError as exc:
            import warnings

            warnings.warn(
                f"ignoring the damaged cache of {what} ({exc}); rebuilding it",
                RuntimeWarning,
                stacklevel=3,
            )
    arrays = build()
    payload: dict[str, np.ndarray] = dict(arrays)
    payload.update({key: np.asarray(value) for key, value in stored.items()})
    try:
        write_table(path, payload)
    except OSError:
        pass  # an unwritable cache directory: rebuild in the next process
    return arrays
