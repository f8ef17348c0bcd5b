"""Ape-X transformer Q-learning (Cassimon et al., docs/methods/cassimon.md).

A transformer Q-network over graph tokens, trained by Ape-X (N epsilon-greedy actors,
one double-Q learner on prioritized n-step replay) on any nasgym ``...Edit-v0``
env, then reused as a greedy searcher. Registered as the ``nasgym.agents`` entry
point ``apex``. See ``docs/agents.md``.
"""

from nasgym.error import require

try:
    from .actor import Actor
    from .agent import (
        LEADERBOARD_DEFAULTS,
        Apex,
        ApexSearcher,
        SearchResult,
        TrainStats,
        drive,
        train,
    )
    from .config import ApexConfig
    from .learner import Learner
    from .network import ObsLayout, QNetwork, infer_layout, tokenize
    from .replay import PrioritizedReplay, SumTree, nstep_return
except ImportError:  # name the extra to install
    require("torch", extra="rl", purpose="the Ape-X agent")
    raise

__all__ = [
    "LEADERBOARD_DEFAULTS",
    "Actor",
    "Apex",
    "ApexConfig",
    "ApexSearcher",
    "Learner",
    "ObsLayout",
    "PrioritizedReplay",
    "QNetwork",
    "SearchResult",
    "SumTree",
    "TrainStats",
    "drive",
    "infer_layout",
    "nstep_return",
    "tokenize",
    "train",
]
