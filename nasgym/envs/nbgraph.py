"""NAS-Bench-Graph environments: the embedded default, no download needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from nasgym.benchmarks.base import TabularBenchmark
from nasgym.benchmarks.nbgraph import DATASETS, NBGraphBenchmark
from nasgym.envs.docstring import EnvDoc, build_docstring
from nasgym.envs.tabular import DEFAULT_HORIZON, TabularNASEnv, TabularNASVectorEnv
from nasgym.spaces.nbgraph import NBGraphSpace

_ARGS = (
    """\
| param | type | default | description |
|---|---|---|---|
| `dataset` | str | `"cora"` | one of """
    + ", ".join(f"`{d}`" for d in DATASETS)
    + " |"
)

_DATA = """\
The `nas-bench-graph` PyPI wheel (1.4.0, Apache-2.0) ships every table inside the
package: for each dataset, `valid_perf` (validation accuracy, used for rewards), `perf`
(test accuracy, reported), `latency` and parameter count of 26,206 distinct GNN
architectures (2,021 for proteins). Values are the means over the benchmark's training
repeats, so queries are deterministic. nasgym reports accuracies in percent. Isomorphic
architectures share one entry, so querying one makes the others free revisits.
Cost objectives (`objectives=[...]`): `latency` (s) and `params` (millions), from
the same tables."""

_REFS = """\
* Qin et al., "NAS-Bench-Graph: Benchmarking Graph Neural Architecture Search",
  NeurIPS 2022 Datasets and Benchmarks. https://github.com/THUMNLab/NAS-Bench-Graph"""

_SPACE = """\
Four computing nodes; node `i` reads from node `link[i]` (0 is the input) for one of
the 9 link patterns of the benchmark, and runs one of 9 GNN ops (gat, gcn, gin, cheb,
sage, arma, graph, fc, skip; proteins: gcn, sage, arma, fc, skip). Nodes that feed no
other node are combined into the output. 59,049 choice vectors; those with all four
ops `skip` are invalid (59,040 valid); they collapse to 26,206 distinct
architectures under the benchmark's own isomorphism rules (`space.canonical`)."""


class _NBGraphEnv(TabularNASEnv):
    space_type = NBGraphSpace

    def __init__(
        self,
        dataset: str | None = None,
        *,
        benchmark: TabularBenchmark[Any] | None = None,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        top_k: int = 10,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        objectives: Sequence[str] | None = None,
        **mo_options: Any,
    ) -> None:
        benchmark = self.resolve_benchmark(dataset, benchmark, default_dataset="cora")
        self.dataset = benchmark.dataset
        super().__init__(
            benchmark,
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            top_k=top_k,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            objectives=objectives,
            **mo_options,
        )

    @classmethod
    def make_benchmark(cls, dataset: str, **kwargs: Any) -> TabularBenchmark[Any]:
        """Return the (cached) NAS-Bench-Graph table of ``dataset``."""
        return NBGraphBenchmark(dataset)


def _doc(mode: str, env_id: str, title: str, description: str) -> str:
    space = NBGraphSpace()
    return build_docstring(
        EnvDoc(title, description, _SPACE, _DATA, _ARGS, _REFS, env_id, offline=True),
        mode,
        slot_names=space.slot_names,
        slot_choices=space.slot_choices,
        node_types=space.node_types,
        max_nodes=space.max_nodes,
        reward_default="valid",
        alpha_default=6.0,
    )


class NBGraphEditEnv(_NBGraphEnv):
    """NBGraph graph-edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"


class NBGraphQueryEnv(_NBGraphEnv):
    """NBGraph black-box query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"


class NBGraphContinuousEnv(_NBGraphEnv):
    """NBGraph continuous env (full docstring assigned below)."""

    mode: ClassVar[str] = "continuous"


NBGraphEditEnv.__doc__ = _doc(
    "edit",
    "nasgym/NBGraphEdit-v0",
    "Graph-edit search over NAS-Bench-Graph GNN architectures.",
    "The agent holds one GNN architecture and edits it one slot at a time (link "
    "pattern or one node's op), walking the neighbourhood graph of the space "
    "(Cassimon et al.'s search-behaviour MDP). Each new architecture reached is "
    "a benchmark query.",
)
NBGraphQueryEnv.__doc__ = _doc(
    "query",
    "nasgym/NBGraphQuery-v0",
    "Black-box search over NAS-Bench-Graph: each step proposes a whole architecture.",
    "One step is one query of a complete GNN architecture, the interface of random "
    "search, evolution and REINFORCE controllers.",
)
NBGraphContinuousEnv.__doc__ = _doc(
    "continuous",
    "nasgym/NBGraphContinuous-v0",
    "Continuous architecture-hyperparameter search over NAS-Bench-Graph (for SAC/TD3).",
    "The action is a vector of architecture hyperparameters, one score per slot and "
    "choice, decoded by argmax (L2NAS, Mills et al. 2021); the state summarises the "
    "best architectures found so far.",
)


class NBGraphEditVectorEnv(TabularNASVectorEnv):
    """Batched :class:`NBGraphEditEnv` (``gym.make_vec("nasgym/NBGraphEdit-v0", N)``)."""

    env_class = NBGraphEditEnv


class NBGraphQueryVectorEnv(TabularNASVectorEnv):
    """Batched :class:`NBGraphQueryEnv`."""

    env_class = NBGraphQueryEnv


class NBGraphContinuousVectorEnv(TabularNASVectorEnv):
    """Batched :class:`NBGraphContinuousEnv`."""

    env_class = NBGraphContinuousEnv
