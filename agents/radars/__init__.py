"""RADARS: memory-aware RL pruning of the NB201 space, then DARTS on what is left.

A REINFORCE controller samples cells from the ops each edge still has, rewarded by
their accuracy with a weight-sharing supernet's weights; after every round the
lowest-probability (or lowest-average-reward) ops of each edge are pruned and the
dense supernet's memory is re-estimated, until it fits a budget; DARTS then searches
the remaining subspace. Standalone: ``python -m nasgym_agents.radars``; for scripts:
:func:`radars_search`. See ``docs/methods/radars.md``.
"""

from .controller import MaskedReinforce
from .memory import (
    TOLERANCE,
    TOLERANCE_BYTES,
    MemoryEstimate,
    estimate_memory,
    measure_peak_memory,
)
from .search import (
    PRUNE_RULES,
    MemoryBudgetError,
    RadarsConfig,
    RadarsResult,
    RadarsSearch,
    RoundLog,
    smallest_estimate,
)
from .standalone import radars_search, search_report

__all__ = [
    "PRUNE_RULES",
    "TOLERANCE",
    "TOLERANCE_BYTES",
    "MaskedReinforce",
    "MemoryBudgetError",
    "MemoryEstimate",
    "RadarsConfig",
    "RadarsResult",
    "RadarsSearch",
    "RoundLog",
    "estimate_memory",
    "measure_peak_memory",
    "radars_search",
    "search_report",
    "smallest_estimate",
]
