"""L2NAS (Mills et al., CIKM 2021) in plain PyTorch, as a leaderboard agent.

A quantile-critic actor-critic over continuous architecture hyperparameters
(docs/methods/l2nas.md) for nasgym's ``...Continuous-v0`` envs, registered as the
``nasgym.agents`` entry point ``l2nas``. See ``docs/agents.md``.
"""

from nasgym.error import require

try:
    from .agent import L2NAS, L2NASConfig
    from .networks import SlotLayout, infer_layout, pinball_loss
except ImportError:  # name the extra to install
    require("torch", extra="rl", purpose="the L2NAS agent")
    raise

__all__ = ["L2NAS", "L2NASConfig", "SlotLayout", "infer_layout", "pinball_loss"]
