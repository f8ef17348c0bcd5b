"""stable-baselines3 and sb3-contrib algorithms as ready leaderboard agents.

SAC and TD3 on ``...Continuous-v0`` envs, PPO on ``...Query-v0`` envs and sb3-contrib
MaskablePPO on ``...Edit-v0`` envs, each built on a ``gym.make`` env as
``Agent(env, seed=seed, **config)``; ``run()`` trains until the env's query budget
is spent. Registered as the ``nasgym.agents`` entry points ``sac``, ``td3``, ``ppo``
and ``maskable_ppo``. See ``docs/agents.md``.
"""

from nasgym.error import require

try:
    from .agent import SB3Agent, SB3Config
    from .algorithms import (
        MaskablePPOAgent,
        PPOAgent,
        PPOConfig,
        SACAgent,
        SACConfig,
        TD3Agent,
        TD3Config,
    )
except ImportError:  # name the extra to install
    for _module in ("torch", "stable_baselines3", "sb3_contrib"):
        require(_module, extra="rl", purpose="the stable-baselines3 agents")
    raise

__all__ = [
    "MaskablePPOAgent",
    "PPOAgent",
    "PPOConfig",
    "SACAgent",
    "SACConfig",
    "SB3Agent",
    "SB3Config",
    "TD3Agent",
    "TD3Config",
]
