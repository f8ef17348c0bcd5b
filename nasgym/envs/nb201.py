"""NAS-Bench-201 environments on nasgym's imported NB201 table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from nasgym.benchmarks.base import TabularBenchmark
from nasgym.envs.docstring import EnvDoc, build_docstring
from nasgym.envs.tabular import DEFAULT_HORIZON, TabularNASEnv, TabularNASVectorEnv
from nasgym.error import UnknownOptionError
from nasgym.oneshot.zc_reward import parse_metric
from nasgym.rewards import RewardSignal
from nasgym.spaces.nb201 import NB201Space

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")

_ARGS = """\
| param | type | default | description |
|---|---|---|---|
| `dataset` | str | `"cifar10"` | `cifar10`, `cifar100` or `ImageNet16-120` |
| `reward_metric` | str | `"valid@12"` | validation metric rewards use (`valid@12`, or `valid@200` when imported), or `"zc:<proxy>"` for a training-free zero-cost reward (see Rewards) |
| `report_metric` | str | `"test@200"` | test metric reported in `info` (`test@200` or `test@12`) |
| `zc_device` | str | `"cpu"` | `zc:` only: torch device of the proxy networks (`"cpu"`, `"cuda"`, `"cuda:N"`) |
| `zc_seed` | int | 0 | `zc:` only: seeds the networks' initialisation and the image batch |
| `zc_images` | str | `"mnist5k"` | `zc:` only: image set of the batch of data-dependent proxies: `"mnist5k"`, `"digits"`, or the path of a local torchvision-format CIFAR directory (CIFAR-10/100 envs; its training images of the env's dataset) |
| `zc_batch_size` | int | 16 | `zc:` only: images in that batch |"""

_ZC_REWARDS = """\
**Training-free rewards.** With `reward_metric="zc:<proxy>"` (`<proxy>` one of
`synflow`, `snip`, `grad_norm`, `fisher`, `jacov`, `naswot`, `params`, `flops`) the
shaping receives, in place of `acc`, the cell's zero-cost proxy score normalised to
`[0, 1]`: `Phi((t(score) - mu) / sigma)`, `t = log` for the positive proxies and the
identity for `jacov`/`naswot`, `mu`/`sigma` fitted on a fixed sample of 64 cells
(strictly increasing, about the cell's percentile in the space). The score is that of
the real NB201 network at initialisation (seed `zc_seed`); data-dependent proxies see
`zc_batch_size` MNIST training images (or digits, or CIFAR from a local directory
given as `zc_images`). The incumbent is the
cell with the best score; `valid_accuracy`, `test_accuracy`, `best_*` and `regret`
still report the benchmark (validation accuracy `valid@12`, or the reward metric of
a `benchmark=` passed in), for evaluation only. A `benchmark=` over NB201 cells whose
dataset is not one of the three (e.g. a third-party table) gets proxy networks with
CIFAR-10's input shape and 10 classes.
Scores are computed per cell on first use (tens of ms on a CPU for `synflow`,
<1 ms for `flops`) and cached in memory and in `$NASGYM_CACHE_DIR/zc/`;
`nasgym data zc nb201 --proxy P` precomputes all cells (`nasgym.oneshot.zc_reward`)."""

_DATA = """\
nasgym's compact NB201 table (`nb201.npz` in `NASGYM_CACHE_DIR`), built once by
`nasgym data import nb201 PATH` from an official NATS-Bench topology archive
(`NATS-tss-v1_0-3ffb9-simple`) or from the two complete derived CSV tables
(12-epoch validation/test for all cells, 200-epoch test). The default protocol is
NATS-Bench's: reward from 12-epoch validation accuracy, report 200-epoch test accuracy.
For CIFAR-10 the validation split is `cifar10-valid`'s; its 200-epoch test accuracy
comes from training on train+valid. Values are means over training seeds, so queries
are deterministic. `nasgym data status` shows the table's path and checksum. Licences:
NATS-Bench MIT; see the data docs for the derived tables. Cost objectives
(`objectives=[...]`): `latency:<device>` (ms) and `energy:<device>` (mJ) from
HW-NAS-Bench-360 (`nasgym data import hw-nas-bench-360 PATH`; devices `pi5-litert`,
`pi5-onnx`, `pi5-torchmobile`, `pixel-litert`, energy not on the Pixel; its cifar100
task for every dataset), and `flops` (MFLOPs), `params` (M), `latency` (s, GPU) and
`train_time` (s, 200 epochs) where an imported NATS-Bench archive covers every cell."""

_REFS = """\
* Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture
  Search", ICLR 2020.
* Dong et al., "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and
  Size", TPAMI 2021."""

_SPACE = """\
A 4-node cell whose 6 edges `j<-i` each carry one of 5 ops (none, skip_connect,
nor_conv_1x1, nor_conv_3x3, avg_pool_3x3): 15,625 cells, all valid, in the 6,466
official NATS-Bench classes (`space.canonical`) and 4,930 classes of cells computing
the same function (`space.functional_codes`, invariant under node relabelling). Slots follow the official arch string
`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`. The graph view puts ops on vertices: input,
the 6 edge ops, the 2 intermediate sum nodes and the output (10 vertices)."""


class _NB201Env(TabularNASEnv):
    space_type = NB201Space

    def __init__(
        self,
        dataset: str | None = None,
        *,
        reward_metric: str | None = None,
        report_metric: str | None = None,
        benchmark: TabularBenchmark[Any] | None = None,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        top_k: int = 10,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        zc_device: str = "cpu",
        zc_seed: int = 0,
        zc_images: str = "mnist5k",
        zc_batch_size: int = 16,
        objectives: Sequence[str] | None = None,
        **mo_options: Any,
    ) -> None:
        proxy = parse_metric(reward_metric) if reward_metric is not None else None
        if proxy is None and (zc_device, zc_seed, zc_images, zc_batch_size) != (
            "cpu",
            0,
            "mnist5k",
            16,
        ):
            raise UnknownOptionError(
                f"zc_device, zc_seed, zc_images and zc_batch_size only apply to a "
                f"zero-cost reward; pass reward_metric='zc:<proxy>' (got "
                f"reward_metric={reward_metric!r})"
            )
        benchmark = self.resolve_benchmark(
            dataset,
            benchmark,
            default_dataset="cifar10",
            reward_metric=None if proxy is not None else reward_metric,
            report_metric=report_metric,
        )
        self.dataset = benchmark.dataset
        signal: RewardSignal | None = None
        if proxy is not None:
            from nasgym.oneshot.zc_reward import DATASET_SHAPES, ZeroCostReward

            signal = ZeroCostReward(
                proxy,
                dataset=benchmark.dataset
                if benchmark.dataset in DATASET_SHAPES
                else "cifar10",
                device=zc_device,
                seed=zc_seed,
                images=zc_images,
                batch_size=zc_batch_size,
            )
        #: The zero-cost reward signal (``None`` unless ``reward_metric="zc:..."``).
        self.zc_reward = signal
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
            signal=signal,
            objectives=objectives,
            **mo_options,
        )

    def close(self) -> None:
        """Write newly computed zero-cost scores to their cache file."""
        flush = getattr(self.zc_reward, "flush", None)
        if flush is not None:
            flush()
        super().close()

    @classmethod
    def make_benchmark(cls, dataset: str, **kwargs: Any) -> TabularBenchmark[Any]:
        """Return the (cached) NB201 table of ``dataset``."""
        from nasgym.benchmarks.nb201 import NB201Benchmark

        return NB201Benchmark(dataset, **kwargs)


def _doc(mode: str, env_id: str, title: str, description: str) -> str:
    space = NB201Space()
    text = build_docstring(
        EnvDoc(title, description, _SPACE, _DATA, _ARGS, _REFS, env_id),
        mode,
        slot_names=space.slot_names,
        slot_choices=space.slot_choices,
        node_types=space.node_types,
        max_nodes=space.max_nodes,
        reward_default="valid",
        alpha_default=6.0,
    )
    info_row = "| `invalid_action` | why the last action was rejected, else `None` |\n"
    text = text.replace("\n## Starting State", f"\n{_ZC_REWARDS}\n\n## Starting State")
    return text.replace(
        info_row,
        info_row + "| `zc_score` | `zc:` rewards only: the raw proxy score of the "
        "current cell (NaN before the first query) |\n"
        "| `zc_value` | `zc:` rewards only: that score normalised to `[0, 1]`, what "
        "the shaping receives (agents use it as fitness) |\n",
    )


class NB201EditEnv(_NB201Env):
    """NB201 graph-edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"


class NB201QueryEnv(_NB201Env):
    """NB201 black-box query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"


class NB201ContinuousEnv(_NB201Env):
    """NB201 continuous env (full docstring assigned below)."""

    mode: ClassVar[str] = "continuous"


NB201EditEnv.__doc__ = _doc(
    "edit",
    "nasgym/NB201Edit-v0",
    "Graph-edit search over NAS-Bench-201 cells.",
    "The agent holds one cell and changes one edge's op per step, walking the "
    "neighbourhood graph of the space (Cassimon et al.'s search-behaviour MDP). "
    "Each new cell reached is a benchmark query.",
)
NB201QueryEnv.__doc__ = _doc(
    "query",
    "nasgym/NB201Query-v0",
    "Black-box search over NAS-Bench-201: each step proposes a whole cell.",
    "One step is one query of a complete cell, the interface of random search, "
    "regularized evolution and REINFORCE controllers (the NAS-Bench-201 baselines).",
)
NB201ContinuousEnv.__doc__ = _doc(
    "continuous",
    "nasgym/NB201Continuous-v0",
    "Continuous architecture-hyperparameter search over NAS-Bench-201 (for SAC/TD3).",
    "The action holds one score per edge and op, decoded by argmax (L2NAS, Mills et "
    "al. 2021, docs/methods/l2nas.md#action-space-and-decoding); the state summarises the top-K cells found so far.",
)


class _NB201VectorEnv(TabularNASVectorEnv):
    def close_extras(self, **kwargs: Any) -> None:
        """Write newly computed zero-cost scores to their cache file."""
        flush = getattr(self._core.signal, "flush", None)
        if flush is not None:
            flush()


class NB201EditVectorEnv(_NB201VectorEnv):
    """Batched :class:`NB201EditEnv` (``gym.make_vec("nasgym/NB201Edit-v0", N)``)."""

    env_class = NB201EditEnv


class NB201QueryVectorEnv(_NB201VectorEnv):
    """Batched :class:`NB201QueryEnv`."""

    env_class = NB201QueryEnv


class NB201ContinuousVectorEnv(_NB201VectorEnv):
    """Batched :class:`NB201ContinuousEnv`."""

    env_class = NB201ContinuousEnv
