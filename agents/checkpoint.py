"""Checkpoint files of the one-shot searches (DARTS/GDAS, UNAS, RADARS).

Each search saves its ``state_dict()`` with :func:`save_atomic` and reads it back
with :func:`read_checkpoint`, then checks :func:`check_version` and
:func:`check_settings` before restoring: a file that cannot be read, was written by
another checkpoint version or by a search with other settings is refused with a
:class:`~nasgym.error.CorruptDataError` that names the problem and the fix.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from nasgym.error import CorruptDataError

__all__ = [
    "DEVICE_SETTINGS",
    "check_settings",
    "check_version",
    "read_checkpoint",
    "save_atomic",
]

#: Config fields a search may be resumed with changed: where it runs and where its
#: data lies (the results are the same within tolerance).
DEVICE_SETTINGS = ("device", "amp", "data_dir")


def save_atomic(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it there."""
    import torch  # the searches that call this have imported it (oneshot extra)

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checkpoint(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """The state saved at ``path`` (tensors on the CPU, ``weights_only`` loading).

    Raises:
        CorruptDataError: Not readable, or without a ``version`` entry (``what``
            names the kind of checkpoint in the message).
    """
    import torch

    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
        if "version" not in state:
            raise KeyError("version")
    except Exception as exc:  # torch raises many types on a bad file
        raise CorruptDataError(
            f"{path} is not a readable {what} checkpoint ({exc}); delete it to "
            "start afresh"
        ) from exc
    return state


def check_version(state: Mapping[str, Any], expected: int, source: str) -> None:
    """Refuse a state saved by another checkpoint version."""
    version = state.get("version")
    if version != expected:
        raise CorruptDataError(
            f"{source} has checkpoint version {version}, expected {expected}; "
            "delete it to start afresh"
        )


def _norm(value: Any) -> Any:
    return [_norm(v) for v in value] if isinstance(value, list | tuple) else value


def check_settings(
    config: Any, saved: Mapping[str, Any], source: str, skip: Collection[str] = ()
) -> None:
    """Refuse a state whose saved config (a dataclass as a dict) differs.

    Fields in ``skip`` may differ; lists and tuples compare by their items (a
    checkpoint may hold either).
    """
    mine = asdict(config)
    differ = sorted(
        f.name
        for f in fields(config)
        if f.name not in skip and _norm(saved.get(f.name)) != _norm(mine[f.name])
    )
    if differ:
        raise CorruptDataError(
            f"{source} was saved by a search with other settings "
            f"({', '.join(differ)}); use the same settings or another path"
        )
