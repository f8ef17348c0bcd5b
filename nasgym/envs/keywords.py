"""Unknown keyword arguments to an env are an error, never swallowed.

Env constructors pass options down a chain of ``**kwargs``; a misspelt option would
otherwise reach a catch-all and be ignored (``max_queris=3``: no budget, no error).
:class:`StrictKeywords` checks every keyword against the parameters of the
constructor chain before ``__init__`` runs.
"""

from __future__ import annotations

import inspect
from typing import Any

from nasgym.error import UnknownOptionError, unknown_keywords

_ACCEPTED: dict[type, frozenset[str]] = {}


def accepted_keywords(cls: type) -> frozenset[str]:
    """The keyword arguments ``cls(...)`` takes.

    The named parameters of ``cls.__init__``; where it has a ``**kwargs`` catch-all,
    also those of the next ``__init__`` in the MRO, until one without.
    """
    cached = _ACCEPTED.get(cls)
    if cached is not None:
        return cached
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        )
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    result = _ACCEPTED[cls] = frozenset(names)
    return result


class StrictKeywords:
    """Mixin: constructing the class with an unknown keyword raises at once.

    Raises:
        UnknownKeywordError: Naming each unknown keyword, the closest valid name and
            every valid one (a ``TypeError`` and an ``UnknownOptionError``).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Check ``kwargs`` against :func:`accepted_keywords`, then create."""
        error = unknown_keywords(cls.__name__, kwargs, accepted_keywords(cls))
        if error is not None:
            raise error
        return super().__new__(cls)


def check_single_dataset(space: str, dataset: str, datasets: tuple[str, ...]) -> None:
    """Refuse a ``dataset`` other than the one a single-dataset space has.

    Raises:
        UnknownOptionError: ``dataset`` is not ``datasets[0]``.
    """
    if dataset not in datasets:
        raise UnknownOptionError(
            f"unknown dataset {dataset!r}: {space}'s only dataset is "
            f"{datasets[0]!r} (drop dataset=, or pass dataset={datasets[0]!r})"
        )
