"""Baseline search agents: random search, REA, local search and REINFORCE.

They act only through the public env API and know nothing of particular search
spaces, so they run on every nasgym ``...Query-v0`` env (and local search also on
``...Edit-v0`` envs). Each is constructed as ``Agent(env, seed=seed, **config)`` and
searches until the env's query budget is spent when ``run()`` is called; they are
registered as the ``nasgym.agents`` entry points ``random``, ``rea``, ``ls`` and
``reinforce``.
"""

from .evolution import RegularizedEvolution
from .local_search import LocalSearch
from .random_search import RandomSearch
from .reinforce import Reinforce

__all__ = ["LocalSearch", "RandomSearch", "RegularizedEvolution", "Reinforce"]
