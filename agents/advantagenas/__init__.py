"""AdvantageNAS and its REINFORCE baseline on the NB201 supernet (see docs/methods).

Both train ``nasgym.oneshot.supernet.Supernet`` one-shot, with sparse propagation.
They run as leaderboard agents on ``nasgym/Supernet201Query-v0`` (entry points
``advantagenas`` and ``reinforce_supernet``; one query per architecture step) and as
a standalone search with a wall-clock report
(``python -m nasgym_agents.advantagenas``). See ``docs/supernet.md``.
"""

from .agent import (
    AdvantageNAS,
    AdvantageNASConfig,
    OneShotSearch,
    ReinforceSupernet,
    SearchResult,
    zero_op_credit,
)

__all__ = [
    "AdvantageNAS",
    "AdvantageNASConfig",
    "OneShotSearch",
    "ReinforceSupernet",
    "SearchResult",
    "zero_op_credit",
]
