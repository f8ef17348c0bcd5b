"""DARTS (first and second order) and GDAS on the NB201 supernet (see docs/methods).

Both are bilevel gradient searches on the dense all-ops supernet: the weights learn on
the training split, the architecture parameter ``alpha`` on the validation split, and
the derived cell is the argmax of ``alpha`` per edge. Standalone, with a wall-clock
report and NB201 table look-ups: ``python -m nasgym_agents.darts --method gdas``.
GDAS also runs as the leaderboard agent ``gdas`` (:class:`GDAS`) on the
``nasgym/Supernet201Query-v0`` env's sparse supernet. See
``docs/methods/darts-gdas.md``.
"""

from .agent import GDAS, GDASAgentConfig, GDASResult, gdas_alpha_grad
from .search import (
    METHODS,
    PAPER_STEPS,
    DartsConfig,
    DartsSearch,
    MixedSupernet,
    PrunedOp,
    SearchResult,
    StepLog,
    candidate_mask,
    check_candidates,
)

__all__ = [
    "GDAS",
    "METHODS",
    "PAPER_STEPS",
    "DartsConfig",
    "DartsSearch",
    "GDASAgentConfig",
    "GDASResult",
    "MixedSupernet",
    "PrunedOp",
    "SearchResult",
    "StepLog",
    "candidate_mask",
    "check_candidates",
    "gdas_alpha_grad",
]
