"""UNAS on the NB201 supernet (see docs/methods/unas.md).

A categorical distribution over the op of every NB201 edge, trained with UNAS's
unified (REBAR-style) gradient estimator or REINFORCE with an EMA baseline, on the
generalisation-gap objective ``L_train + lambda |L_val - L_train|`` plus a
non-differentiable latency penalty on measured HW-NAS-Bench-360 latencies. Standalone,
with a wall-clock report and NB201 table look-ups: ``python -m nasgym_agents.unas``
(from a checkout also ``python -m agents.unas``). :func:`run_unas` is the Python entry
for comparisons under a step or wall-clock budget. :class:`UNAS` is the leaderboard
agent ``unas`` on the env's sparse supernet (``nasgym/Supernet201Query-v0``).
"""

from .agent import UNAS, UnasAgentConfig, UnasAgentResult
from .estimators import ESTIMATORS, exact_gradient, rebar_estimate, reinforce_estimate
from .latency import LatencyTable, LinearLatencySurrogate, SurrogateFit
from .search import SearchResult, StepLog, UnasConfig, UnasSearch
from .standalone import run_unas, search_report

__all__ = [
    "ESTIMATORS",
    "UNAS",
    "LatencyTable",
    "LinearLatencySurrogate",
    "SearchResult",
    "StepLog",
    "SurrogateFit",
    "UnasAgentConfig",
    "UnasAgentResult",
    "UnasConfig",
    "UnasSearch",
    "exact_gradient",
    "rebar_estimate",
    "reinforce_estimate",
    "run_unas",
    "search_report",
]
