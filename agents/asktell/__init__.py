"""Ask/tell optimizers as leaderboard agents, with Optuna as the worked example.

:class:`AskTellAgent` drives any object with ``ask()``/``tell()`` (the
:class:`AskTellOptimizer` protocol) on a ``...Query-v0`` env; the Optuna agents
(``optuna-tpe``, ``optuna-cmaes``, ``optuna-random``, ``optuna-nsga2``) build on it.
Optuna itself is imported only when one of those is constructed.
"""

from .adapter import (
    FITNESS,
    MAX_RESTARTS,
    ON_STALL,
    AskTellAgent,
    AskTellOptimizer,
    OptimizerFactory,
    Outcome,
    SearchProblem,
    restart_seed,
    search_problem,
)
from .optuna_agents import (
    OptunaAgent,
    OptunaCMAES,
    OptunaNSGA2,
    OptunaOptimizer,
    OptunaRandom,
    OptunaTPE,
)

__all__ = [
    "FITNESS",
    "MAX_RESTARTS",
    "ON_STALL",
    "AskTellAgent",
    "AskTellOptimizer",
    "OptimizerFactory",
    "OptunaAgent",
    "OptunaCMAES",
    "OptunaNSGA2",
    "OptunaOptimizer",
    "OptunaRandom",
    "OptunaTPE",
    "Outcome",
    "SearchProblem",
    "restart_seed",
    "search_problem",
]
