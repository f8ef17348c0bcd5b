"""Entry points and distribution versions, read once per installation state.

``importlib.metadata.entry_points(group=...)`` reads the metadata of every installed
distribution on every call (milliseconds with a few hundred installed), and the
leaderboard asks for its agents and env plugins on every run. Here each answer is
kept per process and read again when the installation may have changed.

**When the cache refreshes.** The key is ``sys.path`` (with the working directory
for its ``""`` entry) and the modification time of each of its directories or zip
files. Installing, upgrading or removing a distribution adds, replaces or removes
its ``*.dist-info`` directory in a ``sys.path`` directory, which changes that
directory's modification time (``pip install``, ``pip install -e``, ``uv pip`` and
copying a ``.dist-info`` in all do); adding a directory to ``sys.path`` changes the
key itself. That is the rule ``importlib.metadata`` uses for its own directory
cache. Editing a file *inside* an existing ``.dist-info`` (say, ``entry_points.txt``
by hand) changes no directory listing: call :func:`refresh` after such an edit
(a new process sees it anyway).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

_Key = tuple[tuple[str, int | None], ...]

_ENTRY_POINTS: dict[str, tuple[_Key, tuple[metadata.EntryPoint, ...]]] = {}
_VERSIONS: dict[str, tuple[_Key, str | None]] = {}


def installation_key() -> _Key:
    """``sys.path`` entries and their modification times (``None``: absent).

    What distributions ``importlib.metadata`` finds can only change when this does
    (see the module docstring for the one exception). Costs one ``stat`` per entry.
    """
    key = []
    for entry in sys.path:
        where = entry or os.getcwd()
        try:
            mtime: int | None = os.stat(where).st_mtime_ns
        except OSError:
            mtime = None
        key.append((where, mtime))
    return tuple(key)


def entry_points(group: str) -> tuple[metadata.EntryPoint, ...]:
    """``importlib.metadata.entry_points(group=group)``, cached (see the module)."""
    key = installation_key()
    cached = _ENTRY_POINTS.get(group)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = tuple(metadata.entry_points(group=group))
    _ENTRY_POINTS[group] = (key, found)
    return found


def versions(distributions: Sequence[str]) -> dict[str, str | None]:
    """:func:`version` of each of ``distributions`` (one :func:`installation_key`)."""
    key = installation_key()
    return {name: version(name, key) for name in distributions}


def version(distribution: str, key: _Key | None = None) -> str | None:
    """The installed version of ``distribution`` (``None``: not installed), cached.

    ``key`` is the current :func:`installation_key`, when the caller has it.
    """
    key = installation_key() if key is None else key
    cached = _VERSIONS.get(distribution)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        found: str | None = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        found = None
    _VERSIONS[distribution] = (key, found)
    return found


def refresh() -> None:
    """Forget every cached answer: the next call reads the metadata again."""
    _ENTRY_POINTS.clear()
    _VERSIONS.clear()


def cache_info() -> dict[str, Any]:
    """What is cached: entry-point groups and distributions (for tests, debugging)."""
    return {"entry_points": sorted(_ENTRY_POINTS), "versions": sorted(_VERSIONS)}
