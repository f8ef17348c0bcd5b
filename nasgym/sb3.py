"""stable-baselines3 helpers: end ``learn()`` when the env's query budget is spent.

A NAS env's budget is a number of distinct queries, not of steps: ``learn(N)`` with a
step count keeps training (and stepping through free revisits, or a spent budget)
long after the search is over. :class:`StopOnBudget` ends ``learn`` on the step whose
``info`` says ``budget_exhausted``::

    from nasgym.sb3 import StopOnBudget
    model.learn(1_000_000, callback=StopOnBudget())  # stops at max_queries

:func:`quiet_logger` gives a model a logger that writes no files: by default every
``learn()`` without ``tensorboard_log`` creates an empty ``SB3-<date>`` directory in
the temporary directory, one per run of a leaderboard or a test suite.

This module imports stable-baselines3 (and so torch); ``import nasgym`` does not
import it.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "nasgym.sb3 needs stable-baselines3: pip install stable-baselines3 "
        f"(or sb3-contrib) ({exc})"
    ) from exc


class StopOnBudget(BaseCallback):
    """Ends ``learn`` on the step whose ``info`` reports the query budget spent.

    Works with one env or a vector env (it stops when any sub-env's ``info`` has
    ``budget_exhausted`` true).

    Attributes:
        exhausted: Whether the budget was spent.
        steps: Env steps taken in this ``learn`` call.
    """

    def __init__(self) -> None:
        super().__init__()
        self.exhausted = False
        self.steps = 0

    def _on_step(self) -> bool:
        self.steps += 1
        infos: list[dict[str, Any]] = self.locals.get("infos", [])
        if any(info.get("budget_exhausted") for info in infos):
            self.exhausted = True
            return False
        return True


def quiet_logger(model: BaseAlgorithm) -> BaseAlgorithm:
    """Log to standard output only (``verbose >= 1``) or nowhere, creating no folder.

    A model with ``tensorboard_log`` keeps stable-baselines3's own logger (its
    TensorBoard files are wanted). Call it before ``learn()``.

    Args:
        model: A stable-baselines3 model.

    Returns:
        ``model`` (for chaining).

    Example:
        >>> from stable_baselines3 import PPO  # doctest: +SKIP
        >>> model = quiet_logger(PPO("MlpPolicy", "CartPole-v1"))  # doctest: +SKIP
    """
    if model.tensorboard_log is None:
        formats: list[KVWriter] = (
            [HumanOutputFormat(sys.stdout)] if model.verbose >= 1 else []
        )
        model.set_logger(Logger(folder=None, output_formats=formats))
    return model


__all__ = ["StopOnBudget", "quiet_logger"]
