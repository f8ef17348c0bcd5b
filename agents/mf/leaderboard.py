r"""The multi-fidelity optimizers as leaderboard agents.

A leaderboard agent is ``factory(env, seed=..., **config).run()``. :class:`MFAgent`
builds an ask/tell optimizer for the benchmark behind a
:class:`~nasgym.mf.env.FidelityQueryEnv` and drives it with
:func:`~nasgym.mf.env.run_optimizer`, so a leaderboard run equals
:func:`nasgym.mf.simulate.simulate` with the same optimizer, budget and
``sim_workers``. The subclasses are the ``nasgym.agents`` entry points ``hyperband``,
``bohb``, ``asha``, ``sh``, ``rs-time``, ``rea-time`` and ``optuna-hb``::

    nasgym leaderboard run --env nasgym/NB201Fidelity-v0 \
        --agents hyperband,asha,rs-time --budget 20000 --budget-unit epochs \
        --sim-workers 4 --seeds 10 --out runs/
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym

from .asha import ASHA
from .bohb import BOHB
from .brackets import Hyperband, SuccessiveHalving
from .optuna_hb import OptunaHyperband
from .timed import RandomSearchTime, REATime


class MFAgent:
    """Run a multi-fidelity optimizer on a multi-fidelity env until its budget ends.

    Args:
        env: A :class:`~nasgym.mf.env.FidelityQueryEnv` (possibly wrapped), e.g.
            ``nasgym/NB201Fidelity-v0``.
        seed: Seeds the env's first ``reset`` and the optimizer.
        **config: The optimizer's settings (e.g. ``eta=3`` for Hyperband).

    Raises:
        ValueError: ``env`` is not a multi-fidelity env.
        UnknownKeywordError: A setting the optimizer does not take.
    """

    #: The :class:`~nasgym.mf.protocol.MFOptimizer` class the agent runs.
    optimizer_class: ClassVar[type[Any]]

    @classmethod
    def check_env(cls, env: gym.Env[Any, Any]) -> None:
        """Refuse an env that is not multi-fidelity (the leaderboard asks first).

        Raises:
            ValueError: ``env.unwrapped`` is not a
                :class:`~nasgym.mf.env.FidelityQueryEnv`.
        """
        from nasgym.mf.env import FidelityQueryEnv

        if not isinstance(env.unwrapped, FidelityQueryEnv):
            raise ValueError(
                f"{cls.__name__} needs a multi-fidelity env (an epoch budget per "
                "query: nasgym/NB201Fidelity-v0, nasgym/NB101Fidelity-v0, "
                "nasgym/NB301Fidelity-v0 or a nasgym.mf.env.FidelityQueryEnv), got "
                f"{type(env.unwrapped).__name__}"
            )

    def __init__(self, env: gym.Env[Any, Any], *, seed: int, **config: Any) -> None:
        from nasgym.mf.env import FidelityQueryEnv

        self.check_env(env)
        base = env.unwrapped
        assert isinstance(base, FidelityQueryEnv)
        self.env = env
        self.seed = int(seed)
        self.settings = dict(config)
        self.optimizer = self.optimizer_class(
            nvec=base.bench.nvec,
            fidelities=base.bench.fidelities,
            seed=self.seed,
            **config,
        )

    def config(self) -> dict[str, Any]:
        """The optimizer's settings as given (recorded by the harness)."""
        return dict(self.settings)

    def run(self) -> None:
        """From ``env.reset(seed=seed)``, ask and tell until the budget is spent."""
        from nasgym.mf.env import run_optimizer

        self.env.reset(seed=self.seed)
        run_optimizer(self.env, self.optimizer)


class HyperbandAgent(MFAgent):
    """Hyperband (:class:`~nasgym_agents.mf.Hyperband`) as a leaderboard agent."""

    optimizer_class = Hyperband


class BOHBAgent(MFAgent):
    """BOHB (:class:`~nasgym_agents.mf.BOHB`) as a leaderboard agent."""

    optimizer_class = BOHB


class ASHAAgent(MFAgent):
    """ASHA (:class:`~nasgym_agents.mf.ASHA`) as a leaderboard agent."""

    optimizer_class = ASHA


class SuccessiveHalvingAgent(MFAgent):
    """Successive halving (:class:`~nasgym_agents.mf.SuccessiveHalving`)."""

    optimizer_class = SuccessiveHalving


class RandomSearchTimeAgent(MFAgent):
    """Time-budgeted random search (:class:`~nasgym_agents.mf.RandomSearchTime`)."""

    optimizer_class = RandomSearchTime


class REATimeAgent(MFAgent):
    """Time-budgeted regularized evolution (:class:`~nasgym_agents.mf.REATime`)."""

    optimizer_class = REATime


class OptunaHyperbandAgent(MFAgent):
    """Optuna's Hyperband pruner (:class:`~nasgym_agents.mf.OptunaHyperband`)."""

    optimizer_class = OptunaHyperband


__all__ = [
    "ASHAAgent",
    "BOHBAgent",
    "HyperbandAgent",
    "MFAgent",
    "OptunaHyperbandAgent",
    "REATimeAgent",
    "RandomSearchTimeAgent",
    "SuccessiveHalvingAgent",
]
