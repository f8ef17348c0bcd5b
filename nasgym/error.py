"""Exceptions raised by nasgym.

Every error names the problem and, where one exists, the fix.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class Error(Exception):
    """Base class of every nasgym error."""


class InvalidArchitectureError(Error, ValueError):
    """An architecture (or its encoding) is not a member of the search space."""


class InvalidActionError(Error, ValueError):
    """An action is out of range or masked in the current state."""


class UnknownOptionError(Error, ValueError):
    """A keyword option (dataset, metric, reward, ...) has no such value."""


class BenchmarkDataMissingError(Error, FileNotFoundError):
    """A benchmark's data file is not where nasgym expects it."""


class CorruptDataError(Error, ValueError):
    """A benchmark data file exists but fails its integrity checks."""


def unknown_option(kind: str, value: object, valid: object) -> UnknownOptionError:
    """Build an :class:`UnknownOptionError` that lists the valid choices.

    Args:
        kind: What the option is, e.g. ``"dataset"``.
        value: The value the caller passed.
        valid: An iterable of valid values.

    Returns:
        The error, ready to raise.
    """
    choices = ", ".join(repr(v) for v in valid)  # type: ignore[attr-defined]
    return UnknownOptionError(f"unknown {kind} {value!r}; valid choices: {choices}")


#: pip distribution of every optional module nasgym imports, where the two names
#: differ.
_DISTRIBUTIONS: dict[str, str] = {
    "sklearn": "scikit-learn",
    "sb3_contrib": "sb3-contrib",
    "stable_baselines3": "stable-baselines3",
    "mo_gymnasium": "mo-gymnasium",
}


class MissingExtraError(Error, ImportError):
    """An optional dependency is not installed; the message names the extra.

    ``pip install nasgym`` installs only what the envs, the baselines, the data
    importers and ``nasgym leaderboard run`` need. Everything else comes with an
    extra (``rl``, ``nb301``, ``oneshot``, ``report``, ``render``, ``graph``, ``ray``,
    ``data``, ``mo``, ``demo``; ``all`` holds them all), and a path that needs one
    raises this error, e.g. ``pip install "nasgym[report]"``. It is an
    :class:`ImportError`, so ``except ImportError`` catches it too.

    Attributes:
        module: The module that could not be imported (``"torch"``).
        extra: The nasgym extra that installs it (``"rl"``).
    """

    def __init__(self, module: str, extra: str, purpose: str | None = None) -> None:
        self.module = module
        self.extra = extra
        top = module.split(".")[0]
        dist = _DISTRIBUTIONS.get(top, top)
        what = purpose or f"this feature of nasgym ({module})"
        super().__init__(
            f"{what}: needs {dist}, which is not installed (the core install "
            f'leaves it out); install the extra: pip install "nasgym[{extra}]"',
            name=top,
        )


def require(module: str, *, extra: str, purpose: str | None = None) -> ModuleType:
    """Import an optional dependency, or raise an error naming the extra to install.

    Every import of a module the core install leaves out goes through here, so each
    missing-dependency error reads alike and names its extra.

    Args:
        module: Dotted module name, e.g. ``"onnxruntime"`` or ``"matplotlib.figure"``.
        extra: The nasgym extra that installs it, e.g. ``"nb301"``.
        purpose: What needs it, for the message (``"the NB301 surrogate"``).

    Returns:
        The imported module.

    Raises:
        MissingExtraError: The module (or one it needs) cannot be imported.

    Example:
        >>> require("json", extra="core").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, extra, purpose) from exc
