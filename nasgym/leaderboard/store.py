"""The on-disk layout of a leaderboard directory, and safe reading and writing.

::

    DIR/leaderboard.json                       manifest: budget, checkpoints, envs
    DIR/runs/<env key>/<agent>/seed-<n>.jsonl  one finished run each
    DIR/logs/<env key>/<agent>/seed-<n>.log    traceback of a failed run
    DIR/.lock                                  held while ``leaderboard run`` writes

A run file is JSON lines: a header object, one object per query, a summary object
whose ``sha256`` covers every byte before it. Files are written to a temporary name in
the same directory, flushed to disk and renamed, so a file with a final name is always
complete; temporary files (``.*.tmp``) are never read and are removed by the next
``leaderboard run``. ``leaderboard run`` syncs the run files' directories once a
second rather than after each file (:class:`DirectorySync`): a power cut may undo the
last second's renames (those runs are redone), never leave a partial file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from nasgym.leaderboard.config import EnvConfig
from nasgym.leaderboard.errors import (
    ConfigMismatchError,
    CorruptRunFileError,
    LeaderboardError,
)

#: ``format`` of a run file's header, and of the manifest.
RUN_FORMAT = "nasgym-leaderboard-run"
MANIFEST_FORMAT = "nasgym-leaderboard"
#: Version of both formats.
FORMAT_VERSION = 1
MANIFEST_NAME = "leaderboard.json"
RUNS_DIR = "runs"
LOGS_DIR = "logs"
LOCK_NAME = ".lock"
TMP_SUFFIX = ".tmp"

#: Keys of every query record, in file order.
RECORD_KEYS = (
    "query",
    "arch",
    "valid",
    "test",
    "best_valid",
    "best_test",
    "regret",
    "sim_time_s",
    "wall_time_s",
)
#: Keys a query record has only in some runs (multi-objective envs), written after
#: :data:`RECORD_KEYS` when present; files without them read as before.
OPTIONAL_RECORD_KEYS = ("objectives", "constraint_violated")
_RUN_NAME = re.compile(r"^seed-(\d+)\.jsonl$")


# ------------------------------------------------------------------ atomic writes
def atomic_write(path: Path, data: bytes, *, sync_directory: bool = True) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written.

    The bytes go to a temporary file in the same directory (``.NAME.*.tmp``), are
    flushed and ``fsync``-ed, and the file is renamed over ``path``; the directory is
    synced too where the platform allows, so the rename survives a power cut.

    Args:
        path: Where the file goes.
        data: Its bytes.
        sync_directory: ``False`` leaves the directory's ``fsync`` to the caller
            (:class:`DirectorySync` does it once for many files). The file's bytes
            are synced either way, so a rename that survives a power cut always
            names complete data; without the directory sync only the rename itself
            may be undone by one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp's 0o600 is too private
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    if sync_directory:
        _fsync_directory(path.parent)


class DirectorySync:
    """Sync the directories of many :func:`atomic_write` calls, at most once a second.

    ``leaderboard run`` writes a file per run; ``fsync``-ing its directory after
    each is most of a write's cost. Files are written with ``sync_directory=False``
    and :meth:`add`-ed here; a timer thread syncs their directories ``interval_s``
    after the first unsynced one was added, and :meth:`flush` syncs the rest (at the
    end of the command, however it ends). A power cut can then undo the renames of
    the last ``interval_s`` seconds (those runs are redone by the next ``leaderboard
    run``); it can never leave a partial file under a final name (the bytes are
    synced before the rename), and a crash of the process itself loses nothing (the
    renames are visible at once).
    """

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def add(self, path: Path) -> None:
        """Note that ``path`` was renamed into place; its directory syncs soon."""
        with self._lock:
            self._pending.add(path.parent)
            if self._timer is None:
                self._timer = threading.Timer(self.interval_s, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Sync every directory noted and not yet synced."""
        with self._lock:
            pending, self._pending = self._pending, set()
            timer, self._timer = self._timer, None
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            for directory in sorted(pending):
                _fsync_directory(directory)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def clean_temp_files(root: Path) -> list[Path]:
    """Remove the temporary files an interrupted run left under ``root``."""
    removed = []
    for directory in (root, root / RUNS_DIR, root / LOGS_DIR):
        if not directory.is_dir():
            continue
        pattern = f"**/.*{TMP_SUFFIX}" if directory != root else f".*{TMP_SUFFIX}"
        for path in directory.glob(pattern):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


@contextlib.contextmanager
def directory_lock(root: Path) -> Iterator[None]:
    """Hold ``root/.lock`` so that two ``leaderboard run`` never write one directory.

    The lock is an advisory ``flock`` (POSIX only; elsewhere nothing is locked). The
    operating system releases it when the process ends, however it ends.

    Raises:
        LeaderboardError: Another process holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LeaderboardError(
                f"another 'nasgym leaderboard run' (pid {holder}) is writing to "
                f"{root}; wait for it to finish, or stop it, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ------------------------------------------------------------------ run files
def run_path(root: Path, env_key: str, agent: str, seed: int) -> Path:
    """Path of the file of run (env, agent, seed)."""
    return root / RUNS_DIR / env_key / agent / f"seed-{seed}.jsonl"


def log_path(root: Path, env_key: str, agent: str, seed: int) -> Path:
    """Path of the traceback log of a failed run."""
    return root / LOGS_DIR / env_key / agent / f"seed-{seed}.log"


def find_run_files(root: Path) -> list[Path]:
    """Every finished run file under ``root`` (temporary files excluded), sorted."""
    runs = root / RUNS_DIR
    if not runs.is_dir():
        return []
    found = [
        path
        for path in runs.glob("*/*/seed-*.jsonl")
        if _RUN_NAME.match(path.name) and path.is_file()
    ]
    return sorted(found, key=lambda p: (p.parent.parent.name, p.parent.name, _seed(p)))


def _seed(path: Path) -> int:
    match = _RUN_NAME.match(path.name)
    return int(match.group(1)) if match else -1


#: ``json.dumps(value, allow_nan=False, separators=(", ", ": "))``, with the encoder
#: built once (``json.dumps`` builds one per call with these arguments).
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(", ", ": "))


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


#: A query record with exactly :data:`RECORD_KEYS`, as ``_dumps`` writes it.
_RECORD_LINE = "{" + ", ".join(f'"{key}": %s' for key in RECORD_KEYS) + "}"
#: The keys of :data:`RECORD_KEYS` that hold a float or ``None`` and repeat across
#: records (``wall_time_s``, last, never repeats: caching it only churns the cache).
_NUMBER_KEYS = RECORD_KEYS[2:-1]
assert RECORD_KEYS[-1] == "wall_time_s"
#: ``repr`` of floats seen in records: table values and incumbents repeat across
#: the records of a run and the runs of a worker; ``repr`` is most of encoding a
#: record. Emptied when it holds this many (a few MB at most).
_REPR_CACHE_SIZE = 1 << 15
_REPRS: dict[float, str] = {}
_INF = float("inf")


def _cached_repr(value: float) -> str:
    """``float.__repr__`` of a finite float, kept in ``_REPRS`` (zeros are not)."""
    text = float.__repr__(value)
    if value:
        if len(_REPRS) >= _REPR_CACHE_SIZE:
            _REPRS.clear()
        _REPRS[value] = text
    return text


def _record_line(record: Mapping[str, Any]) -> str:
    """``_dumps(record)`` for a record with exactly :data:`RECORD_KEYS`, fast.

    Byte for byte what ``json`` writes: ``int`` query, ``str`` arch (escaped by
    ``json``'s own function), ``float`` or ``None`` numbers (``float.__repr__``,
    the function ``json`` uses; zeros are not cached, ``-0.0 == 0.0``). Any other
    type, or a non-finite number, goes to ``_dumps`` (which refuses the latter).
    """
    query, arch = record["query"], record["arch"]
    if type(query) is not int or type(arch) is not str:
        return _dumps(record)
    fields = [str(query), encode_basestring_ascii(arch)]
    for key in _NUMBER_KEYS:
        value = record[key]
        if value is None:
            fields.append("null")
            continue
        if type(value) is not float:
            return _dumps(record)
        text = _REPRS.get(value)
        if text is None:
            if value != value or value == _INF or value == -_INF:
                return _dumps(record)
            text = _cached_repr(value)
        fields.append(text)
    wall = record["wall_time_s"]
    if wall is None:
        fields.append("null")
    elif type(wall) is float and wall - wall == 0.0:  # finite
        fields.append(float.__repr__(wall))
    else:
        return _dumps(record)
    return _RECORD_LINE % tuple(fields)


def query_line(values: Sequence[Any]) -> str:
    """The run-file line of one query record given as its :data:`RECORD_KEYS` values.

    ``query`` (``int``), ``arch`` (``str``), then the numbers: a ``None`` or
    non-finite one among ``valid`` .. ``sim_time_s`` is written ``null`` (numbers
    are written as floats), ``wall_time_s`` must be finite. The bytes
    :func:`encode_run` writes for the record dict with those numbers (non-finite
    ones as ``None``), built in one pass: the leaderboard encodes every query of
    every run this way.

    Raises:
        ValueError: ``wall_time_s`` is not a finite number.
    """
    query, arch, *numbers, wall = values
    get = _REPRS.get
    fields = [str(int(query)), encode_basestring_ascii(str(arch))]
    for value in numbers:
        if value is None:
            fields.append("null")
            continue
        text = get(value) if type(value) is float else None
        if text is None:
            value = float(value)
            if value != value or value == _INF or value == -_INF:
                text = "null"
            else:
                text = _cached_repr(value)
        fields.append(text)
    wall = float(wall)
    if not wall - wall == 0.0:
        raise ValueError(f"wall_time_s must be finite, got {wall!r}")
    fields.append(float.__repr__(wall))
    return _RECORD_LINE % tuple(fields)


def encode_run(
    header: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]] | None,
    summary: Mapping[str, Any],
    *,
    lines: Sequence[str] | None = None,
) -> bytes:
    """Serialise a run: header line, one line per record, checksummed summary line.

    Args:
        header: The header's fields.
        records: The query records (dicts, :data:`RECORD_KEYS` then any of
            :data:`OPTIONAL_RECORD_KEYS`); ``None`` with ``lines``.
        summary: The summary's fields.
        lines: Instead of ``records``: their lines, already encoded by
            :func:`query_line`.
    """
    head = {"type": "header", "format": RUN_FORMAT, "format_version": FORMAT_VERSION}
    head.update(header)
    out = [_dumps(head)]
    if lines is not None:
        if records is not None:
            raise TypeError("encode_run takes records or lines, not both")
        out += lines
        count = len(lines)
    else:
        if records is None:
            raise TypeError("encode_run needs records or lines")
        keys = (*RECORD_KEYS, *OPTIONAL_RECORD_KEYS)
        for record in records:
            if tuple(record) == RECORD_KEYS:  # in file order, no optional keys
                out.append(_record_line(record))
                continue
            record = {k: record[k] for k in keys if k in RECORD_KEYS or k in record}
            out.append(_dumps(record))
        count = len(records)
    body = ("\n".join(out) + "\n").encode()
    tail = {"type": "summary", **summary, "records": count}
    tail["sha256"] = hashlib.sha256(body).hexdigest()
    return body + (_dumps(tail) + "\n").encode()


@dataclass(frozen=True)
class RunFile:
    """A finished, verified run."""

    path: Path
    header: dict[str, Any]
    records: list[dict[str, Any]]
    summary: dict[str, Any]


def read_run(path: Path) -> RunFile:
    """Read and verify a run file.

    Raises:
        CorruptRunFileError: Unreadable, truncated, not JSON, wrong format or
            checksum, or query records out of order.
    """

    def corrupt(reason: str) -> CorruptRunFileError:
        return CorruptRunFileError(f"{path}: {reason}")

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise corrupt(f"cannot read ({exc.strerror or exc})") from None
    if not data.endswith(b"\n"):
        raise corrupt("truncated (no final newline)")
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    if cut == 0:
        raise corrupt("truncated (no header and summary lines)")
    body, last = data[:cut], data[cut:]
    try:
        summary = json.loads(last)
        lines = [json.loads(line) for line in body.decode().splitlines()]
    except (UnicodeDecodeError, ValueError) as exc:
        raise corrupt(f"not valid JSON lines ({exc})") from None
    if not isinstance(summary, dict) or summary.get("type") != "summary":
        raise corrupt("truncated (the last line is not the summary)")
    if summary.get("sha256") != hashlib.sha256(body).hexdigest():
        raise corrupt("checksum mismatch (the file was modified or damaged)")
    header = lines[0] if lines else None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise corrupt("the first line is not a run header")
    if header.get("format") != RUN_FORMAT:
        raise corrupt(f"not a nasgym leaderboard run (format {header.get('format')!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise corrupt(
            f"format version {header.get('format_version')!r}; this nasgym reads "
            f"version {FORMAT_VERSION}"
        )
    records = lines[1:]
    if summary.get("records") != len(records):
        raise corrupt(
            f"{len(records)} records but the summary says {summary.get('records')}"
        )
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict) or any(k not in record for k in RECORD_KEYS):
            raise corrupt(f"record {i} lacks some of {', '.join(RECORD_KEYS)}")
        if record["query"] != i:
            raise corrupt(f"record {i} has query index {record['query']!r}")
    return RunFile(path, header, records, summary)


def check_header(
    path: Path, header: dict[str, Any], envs: dict[str, EnvConfig], budget: int
) -> None:
    """Check a run file's header against its place and the leaderboard's settings.

    Raises:
        ConfigMismatchError: The header records another env, budget, agent or seed.
    """
    env_key, agent = path.parent.parent.name, path.parent.name
    seed = int(path.stem.split("-", 1)[1])
    problems = []
    env = envs.get(env_key)
    try:
        written = EnvConfig.from_json(header["env"])
    except (KeyError, TypeError):
        written = None
    if env is None:
        problems.append(f"its env directory {env_key!r} is not one of this leaderboard")
    elif written is None or written.canonical() != env.canonical():
        label = written.label if written is not None else "unknown"
        problems.append(f"env {label} (the manifest says {env.label})")
    if header.get("budget") != budget:
        problems.append(f"budget {header.get('budget')} (the manifest says {budget})")
    if (header.get("agent") or {}).get("name") != agent:
        problems.append(f"agent {(header.get('agent') or {}).get('name')!r}")
    if header.get("seed") != seed:
        problems.append(f"seed {header.get('seed')!r} (its name says {seed})")
    if problems:
        raise ConfigMismatchError(
            f"run file {path} disagrees with this leaderboard: it records "
            + "; ".join(problems)
            + ". Its results cannot be mixed with these: use a new --out directory "
            "(or move the file away)"
        )


# ------------------------------------------------------------------ manifest
def manifest_path(root: Path) -> Path:
    """Path of the manifest of leaderboard directory ``root``."""
    return root / MANIFEST_NAME


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of ``root``, or ``None`` when there is none.

    Raises:
        LeaderboardError: The manifest exists but is unreadable or malformed.
    """
    path = manifest_path(root)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LeaderboardError(
            f"{path} is unreadable or not JSON ({exc}); it describes the results in "
            f"{root}: restore it, or use a new --out directory"
        ) from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise LeaderboardError(
            f"{path} is not a nasgym leaderboard manifest; use a new --out directory"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise LeaderboardError(
            f"{path} has format version {data.get('format_version')!r}; this nasgym "
            f"reads version {FORMAT_VERSION}: use a new --out directory"
        )
    return data


def write_manifest(root: Path, manifest: Mapping[str, Any]) -> None:
    """Write the manifest atomically."""
    data = {"format": MANIFEST_FORMAT, "format_version": FORMAT_VERSION}
    data.update(manifest)
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    atomic_write(manifest_path(root), text.encode())
