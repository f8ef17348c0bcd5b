"""Exceptions raised by nasgym.

Every error names the problem and, where one exists, the fix.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class Error(Exception):
    """Base class of every nasgym error."""


class InvalidArchitectureError(Error, ValueError):
    """An architecture (or its encoding) is not a member of the search space."""


class InvalidActionError(Error, ValueError):
    """An action is out of range or masked in the current state."""


class UnknownOptionError(Error, ValueError):
    """A keyword option (dataset, metric, reward, ...) has no such value."""


class UnknownKeywordError(UnknownOptionError, TypeError):
    """A keyword argument no parameter of the callee takes (also a ``TypeError``)."""


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


#: The section of the data page (``docs/data.md``) of each benchmark's files.
DATA_PAGE_ANCHORS: dict[str, str] = {
    "nbgraph": "nas-bench-graph",
    "nb201": "nas-bench-201",
    "nb101": "nas-bench-101",
    "ecnas": "ec-nas-bench",
    "hw-nas-bench-360": "hw-nas-bench-360",
    "nb301": "nas-bench-301",
    "ofa": "once-for-all-mobilenetv3",
    "zero-cost": "zero-cost-proxy-scores",
}


def data_page(benchmark: str) -> str:
    """The data page section that says how to obtain ``benchmark``'s files.

    Every "missing file", "table not found" and corrupt-file error ends with it.

    Args:
        benchmark: A key of :data:`DATA_PAGE_ANCHORS` (``"nb201"``, ``"nb301"`` ...).

    Returns:
        ``"see docs/data.md#<anchor>"``.

    Example:
        >>> data_page("nb301")
        'see docs/data.md#nas-bench-301'
    """
    return f"see docs/data.md#{DATA_PAGE_ANCHORS[benchmark]}"


def add_data_page(exc: Error, benchmark: str) -> Error:
    """End ``exc``'s message with :func:`data_page` (unless it already points there).

    Returns:
        ``exc`` itself, its message extended in place.
    """
    message = str(exc)
    if "docs/data.md#" not in message:
        exc.args = (f"{message.rstrip('. ')}; {data_page(benchmark)}",)
    return exc


def data_errors(benchmark: str) -> Callable[[_F], _F]:
    """Decorator: data errors raised inside the function point to the data page.

    A :class:`BenchmarkDataMissingError` or :class:`CorruptDataError` leaving the
    function ends with :func:`data_page` of ``benchmark``.
    """

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (BenchmarkDataMissingError, CorruptDataError) as exc:
                raise add_data_page(exc, benchmark) from exc.__cause__

        return wrapper  # type: ignore[return-value]

    return decorate


def unknown_keywords(
    owner: str, given: Iterable[str], valid: Iterable[str]
) -> UnknownKeywordError | None:
    """Build the error for keyword arguments that ``owner`` does not take.

    Args:
        owner: Who was called, e.g. ``"NB301QueryEnv"``.
        given: The keyword names passed.
        valid: The keyword names ``owner`` takes.

    Returns:
        ``None`` when every name in ``given`` is valid, else the error naming each
        unknown one, the closest valid name where one is close, and every valid name.

    Example:
        >>> str(unknown_keywords("f", ["max_queris"], ["max_queries", "horizon"]))
        "f got an unknown keyword argument 'max_queris' (did you mean 'max_queries'?); \
valid keyword arguments: horizon, max_queries"
    """
    names = sorted(set(valid))
    unknown = [key for key in given if key not in names]
    if not unknown:
        return None
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{key!r}{hint}")
    noun = (
        "an unknown keyword argument"
        if len(unknown) == 1
        else "unknown keyword arguments"
    )
    return UnknownKeywordError(
        f"{owner} got {noun} {', '.join(parts)}; valid keyword arguments: "
        f"{', '.join(names)}"
    )


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
