"""Multi-fidelity optimizers: successive halving, Hyperband, BOHB, ASHA and more.

Each class is a :class:`nasgym.mf.protocol.MFOptimizer`: built as
``cls(nvec=..., fidelities=..., seed=..., **config)``, it proposes jobs (an
architecture at an epoch budget) with ``ask()`` and learns their scores with
``tell(job, score)``; a driver decides when jobs run, e.g.
:func:`nasgym.mf.simulate.simulate` with K simulated workers, or
:func:`nasgym.mf.env.run_optimizer` through a multi-fidelity env. On the leaderboard
they run as the agents of :mod:`nasgym_agents.mf.leaderboard` (``hyperband``,
``asha``, ...). docs/multifidelity.md shows how.
Optuna is imported only when ``OptunaHyperband`` is built.
"""

from .asha import ASHA
from .bohb import BOHB
from .brackets import Bracket, BracketSearch, Hyperband, SuccessiveHalving
from .common import MFBase, rung_ladder
from .optuna_hb import OptunaHyperband, optuna_rungs
from .timed import RandomSearchTime, REATime

__all__ = [
    "ASHA",
    "BOHB",
    "Bracket",
    "BracketSearch",
    "Hyperband",
    "MFBase",
    "OptunaHyperband",
    "REATime",
    "RandomSearchTime",
    "SuccessiveHalving",
    "optuna_rungs",
    "rung_ladder",
]
