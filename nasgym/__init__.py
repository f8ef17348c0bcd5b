"""nasgym: neural architecture search benchmarks as Gymnasium environments.

Importing nasgym registers its environments (``nasgym/NB201Edit-v0``, ...); it does no
I/O and imports neither torch nor any benchmark data. Data loads lazily on first use.

Example:
    >>> import gymnasium as gym
    >>> import nasgym
    >>> env = gym.make("nasgym/NBGraphEdit-v0", dataset="cora")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)
    ['adjacency', 'node_mask', 'ops', 'stats']
"""

from __future__ import annotations

from nasgym.registration import ALL_ENVS, ENVS, register_nasgym_envs

__version__ = "0.1.0"
__all__ = ["ALL_ENVS", "ENVS", "__version__", "register_nasgym_envs"]

register_nasgym_envs()
