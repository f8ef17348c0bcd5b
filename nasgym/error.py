"""Exceptions raised by nasgym.

Every error names the problem and, where one exists, the fix.
"""

from __future__ import annotations


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
