"""Repository-level pytest configuration (used by ``pytest --doctest-modules nasgym``).

The former module paths of :mod:`nasgym.oneshot` (``nasgym.supernet``,
``nasgym.zero_cost``, ``nasgym.nn`` ...) are aliases that replace themselves in
``sys.modules`` with the new modules. Collecting them for doctests would import the
same module under two file names, so they are skipped: their doctests run once, under
the new paths.
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent / "nasgym"
_ALIAS_MARK = "sys.modules[__name__] = "


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Skip the alias modules under ``nasgym/``; defer to pytest for anything else."""
    path = collection_path.resolve()
    if path.suffix != ".py" or _ROOT not in path.parents:
        return None
    return True if _ALIAS_MARK in path.read_text(encoding="utf-8") else None
