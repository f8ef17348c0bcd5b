"""Builds the standard Markdown docstring of every registered environment.

The sections follow ``docs`` conventions of Gymnasium's classic-control envs; the
docs pages in ``docs/envs/`` are generated from these docstrings.
"""

from __future__ import annotations

from dataclasses import dataclass

from nasgym.envs.core import STATS_DOC

INFO_DOC = """\
Every step and reset returns the same keys (`None` where a value does not exist yet):

| key | meaning |
|---|---|
| `arch` | the current architecture in the space's standard string form (`None` before the first query) |
| `arch_code` / `arch_class` | integer code of the architecture / code of its isomorphism-class representative |
| `valid_accuracy` | validation accuracy (%) of the current architecture, the metric rewards use |
| `test_accuracy` | test accuracy (%) of the current architecture (reporting only, never rewarded) |
| `new_query` | whether this step evaluated an architecture not seen before |
| `queries` | distinct architectures evaluated since the search started (revisits are free) |
| `best_arch`, `best_valid_accuracy` | incumbent: the best architecture by validation accuracy |
| `best_test_accuracy` | test accuracy of the incumbent |
| `regret` | optimum test accuracy of the benchmark minus `best_test_accuracy` |
| `sim_time_s` | simulated training seconds of all distinct queries (`None` when the data has no training time) |
| `budget_exhausted` | `queries >= max_queries` |
"""

#: ``info`` rows of the envs that take ``objectives=[...]``.
MO_INFO = """| `objectives`, `incumbent_objectives` | with `objectives=[...]` only: name -> raw value (accuracy %, costs in their units) of the current architecture / of the incumbent (`best_arch`); NaN before the first query |
| `constraint_violated` | with `mo_reward="constrained"` only: whether the current architecture breaks a `cost_threshold` |
"""

MO_REWARDS_DOC = """**Multi-objective rewards.** `objectives=["valid_accuracy", <cost>, ...]` adds cost
objectives (minimised; the costs of this env are listed under Benchmark Data and by
`nasgym data status`; asking for another is an error that lists them). Costs are
normalised with the benchmark's own range, `c_norm = (c - min) / (max - min)` over
every architecture the env can query. `mo_reward="vector"` (the default) follows
MO-Gymnasium: the reward is a float32 vector in `objectives` order, the shaped accuracy
reward and `-c_norm` per cost, with `env.unwrapped.reward_space` a `Box` (make it with
`mo_gymnasium.make` or `gym.make(..., disable_env_checker=True)`; wrap it in
`nasgym.wrappers.LinearScalarization` for SB3). MONAS's forms give a scalar:
`"weighted"`, `mo_alpha * acc - (1 - mo_alpha) * sum_i cost_weights[i] * c_norm_i`, and
`"constrained"`, `acc` while every cost is at most its `cost_threshold` (raw units),
else `constraint_penalty`. See `docs/multi_objective.md`."""

MODE_DOCS = {
    "edit": {
        "action": """\
`Discrete({n})`: action `offset[slot] + choice` sets one slot to one choice:

{table}

`env.action_masks()` (sb3-contrib's MaskablePPO convention) and `info["action_mask"]`
give the legal edits: those that change the architecture and keep it valid. An
out-of-range action raises `nasgym.error.InvalidActionError`. A masked action follows
`invalid_action`: `"penalize"` (default) leaves the state unchanged, costs no query,
gives reward `invalid_reward` and names the action and why it is illegal in
`info["invalid_action"]`; `"raise"` raises `InvalidActionError` with that message.""",
        "obs": """\
`Dict` of fixed-shape `Box`es (usable by SB3's `MultiInputPolicy`):

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | ({v}, {v}) | float32 | {{0, 1}} | padded adjacency of the graph view, row = source |
| `ops` | ({v}, {t}) | float32 | {{0, 1}} | one-hot vertex label: {types} |
| `node_mask` | ({v},) | float32 | {{0, 1}} | 1 for real vertices, 0 for padding |
| `stats` | (4,) | float32 | [0, 1] | {stats} |""",
        "start": "A uniformly sampled valid architecture; evaluating it is the episode's "
        "first query. Once `max_queries` is spent, episodes start from the incumbent "
        "instead (a free revisit), so a search never exceeds its budget.",
    },
    "query": {
        "action": """\
`MultiDiscrete({nvec})`: one choice per slot, i.e. a whole architecture per step:

{table}

An out-of-range vector raises `nasgym.error.InvalidActionError`. A vector the space
rules out follows `invalid_action`: `"penalize"` (default) costs no query, leaves the
state unchanged, gives reward `invalid_reward` and explains itself in
`info["invalid_action"]`; `"raise"` raises `InvalidActionError`.

Every choice is legal, so the masks are all ones: `env.action_masks()` in
sb3-contrib's flat form (`sum(nvec)` booleans, for MaskablePPO) and
`env.action_mask_tuple()` in Gymnasium's (one `int8` array per slot, the form
`env.action_space.sample(mask=...)` takes; it rejects the flat one).""",
        "obs": """\
The same `Dict` as the Edit env, describing the last queried architecture (all zeros
before the first query):

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | ({v}, {v}) | float32 | {{0, 1}} | padded adjacency of the graph view |
| `ops` | ({v}, {t}) | float32 | {{0, 1}} | one-hot vertex label: {types} |
| `node_mask` | ({v},) | float32 | {{0, 1}} | 1 for real vertices |
| `stats` | (4,) | float32 | [0, 1] | {stats} |""",
        "start": "No architecture: nothing is queried at reset.",
    },
    "continuous": {
        "action": """\
`Box(-1, 1, ({width},), float32)`: one score per (slot, choice), slot-major, i.e.
score `a[slot * {c} + choice]` (L2NAS architecture hyperparameters, docs/methods/l2nas.md#action-space-and-decoding).
Each slot takes the argmax of its scores (padding choices of smaller slots are ignored);
if the result is invalid, the single-slot change with the smallest score loss that
makes it valid is taken. Slots:

{table}

Non-finite or wrongly shaped actions raise `nasgym.error.InvalidActionError`.
There are no action masks: the env has no `action_masks` attribute, so
`hasattr`-based detection (sb3-contrib's `is_masking_supported`) says so.""",
        "obs": """\
`Box(0, 1, ({obs},), float32)`, built from the search history (docs/methods/l2nas.md#history-and-state): the
element-wise mean ({width} values) and standard deviation ({width} values) of the
slot one-hot encodings of the top-`top_k` architectures by validation accuracy, then
`stats` (4 values): {stats}.""",
        "start": "No architecture: nothing is queried at reset; the history carries over between episodes of one search.",
    },
}


EPISODE_END = (
    "Episodes never terminate. They are truncated after `horizon` steps (default "
    "100) or on the step that spends the query budget `max_queries` (if set). "
    "`reset(seed=...)` starts a fresh search (cache, budget and incumbent cleared); "
    "`reset()` without a seed continues the same search in a new episode."
)

COMMON_ARGS = """\
| `reward` | str | see Rewards | `'valid'`, `'power'`, `'exp'` or `'improvement'` |
| `alpha` | float | see Rewards | exponent of `'power'` and `'exp'` |
| `horizon` | int | 100 | steps per episode |
| `max_queries` | int or None | None | query budget; the episode is truncated when it is spent |
| `top_k` | int | 10 | history size behind the Continuous observation |
| `invalid_action` | str | `"penalize"` | `"penalize"` or `"raise"` for masked edits / invalid proposals |
| `invalid_reward` | float | 0.0 | reward of a rejected action |
| `render_mode` | str or None | None | `'ansi'`: a text summary; `'rgb_array'`: an (H, W, 3) uint8 frame of the current and the incumbent cell graph(s) with op labels (needs the `render` extra; `nasgym draw` writes one as a PNG); `'human'`: that frame in a matplotlib window |
"""

#: Arguments of the envs that take ``objectives=[...]``.
MO_ARGS = """| `objectives` | list of str or None | None | `["valid_accuracy", <cost>, ...]`: multi-objective reward (see Rewards) |
| `mo_reward` | str | `"vector"` | `"vector"`, `"weighted"` or `"constrained"` (with `objectives`) |
| `mo_alpha` | float | 0.5 | accuracy weight of `"weighted"`, in [0, 1] |
| `cost_weights` | float or list | equal, sum 1 | per-cost weights of `"weighted"` |
| `cost_threshold` | float or list | None | per-cost limits (raw units) of `"constrained"` (required there) |
| `constraint_penalty` | float | 0.0 | reward of an architecture that breaks a limit |
"""


def rewards_text(reward_default: str, alpha_default: float) -> str:
    """The Rewards section: shaping options and the defaults of one env."""
    return (
        f"The reward is a shaping of the new architecture's *validation* accuracy "
        f"`acc` (a fraction), selected by `reward` (default `{reward_default!r}`, "
        f"`alpha={alpha_default:g}`): `'valid'` gives `acc`, `'power'` `acc ** alpha` "
        f"(Cassimon et al.), `'exp'` `exp(alpha * (acc - 1))`, `'improvement'` "
        f"`max(0, acc - best_before)`. Test accuracy never enters the reward."
    )


def _head_sections(title: str, description: str, search_space: str) -> list[str]:
    """Title, Description, Search Space and the Action Space heading."""
    return [
        title,
        "",
        "## Description",
        "",
        description,
        "",
        "## Search Space",
        "",
        search_space,
        "",
        "## Action Space",
        "",
    ]


def _tail_sections(registered: str, references: str) -> list[str]:
    """Registered Configurations, Version History and References."""
    return [
        "## Registered Configurations",
        "",
        registered,
        "",
        "## Version History",
        "",
        "* v0: initial release",
        "",
        "## References",
        "",
        references,
    ]


def _shared_sections(
    mode: str,
    start: str,
    reward_default: str,
    alpha_default: float,
    multi_objective: bool = True,
) -> list[str]:
    """Rewards, Starting State, Episode End and the common Information table."""
    return [
        "## Rewards",
        "",
        rewards_text(reward_default, alpha_default)
        + ("\n\n" + MO_REWARDS_DOC if multi_objective else ""),
        "",
        "## Starting State",
        "",
        start,
        "",
        "## Episode End",
        "",
        EPISODE_END,
        "",
        "## Information",
        "",
        INFO_DOC
        + (MO_INFO if multi_objective else "")
        + (
            "| `action_mask` | legal edits now (bool array) |\n"
            if mode == "edit"
            else ""
        )
        + "| `invalid_action` | why the last action was rejected, else `None` |\n",
    ]


@dataclass(frozen=True)
class EnvDoc:
    """Space- and benchmark-specific text for an env docstring."""

    title: str
    description: str
    search_space: str
    benchmark_data: str
    arguments: str
    references: str
    env_id: str
    #: Whether the ``gym.make`` example can run without downloaded data.
    offline: bool = False


def slot_table(
    slot_names: tuple[str, ...],
    choices: tuple[tuple[str, ...], ...],
    offsets: list[int] | None,
) -> str:
    """Markdown table of the slots and their choices."""
    lines = [
        "| slot | name | choices |"
        if offsets is None
        else "| slot | name | actions: choice |",
        "|---|---|---|",
    ]
    for i, (name, opts) in enumerate(zip(slot_names, choices, strict=True)):
        if offsets is None:
            text = ", ".join(f"{k}={o}" for k, o in enumerate(opts))
        else:
            text = ", ".join(f"{offsets[i] + k}: {o}" for k, o in enumerate(opts))
        lines.append(f"| {i} | `{name}` | {text} |")
    return "\n".join(lines)


def build_docstring(
    doc: EnvDoc,
    mode: str,
    *,
    slot_names: tuple[str, ...],
    slot_choices: tuple[tuple[str, ...], ...],
    node_types: tuple[str, ...],
    max_nodes: int,
    reward_default: str,
    alpha_default: float,
) -> str:
    """Assemble the full docstring with the standard sections."""
    nvec = [len(c) for c in slot_choices]
    offsets = [sum(nvec[:i]) for i in range(len(nvec))]
    c = max(nvec)
    width = len(nvec) * c
    text = MODE_DOCS[mode]
    fmt = {
        "n": sum(nvec),
        "nvec": nvec,
        "table": slot_table(
            slot_names, slot_choices, offsets if mode == "edit" else None
        ),
        "v": max_nodes,
        "t": len(node_types),
        "types": ", ".join(node_types),
        "stats": STATS_DOC,
        "width": width,
        "c": c,
        "obs": 2 * width + 4,
    }
    sections = [
        *_head_sections(doc.title, doc.description, doc.search_space),
        text["action"].format(**fmt),
        "",
        "## Observation Space",
        "",
        text["obs"].format(**fmt),
        "",
        *_shared_sections(mode, text["start"], reward_default, alpha_default),
        "## Arguments",
        "",
        doc.arguments
        + """
| `benchmark` | TabularBenchmark | `None` | a backend instance to use instead of the built-in table (e.g. a fake table in tests, or one built with `nasgym.extend`); `dataset` must then be omitted or equal its dataset, and `reward_metric` / `report_metric` default to its own and, when given, select its columns |
"""
        + COMMON_ARGS
        + MO_ARGS
        + (
            f"""
```python
>>> import gymnasium as gym
>>> import nasgym
>>> env = gym.make("{doc.env_id}")
>>> obs, info = env.reset(seed=0)
>>> info["queries"] <= 1
True

```
"""
            if doc.offline
            else f"""
```python
>>> import gymnasium as gym
>>> import nasgym
>>> env = gym.make("{doc.env_id}")  # doctest: +SKIP
```
(needs the imported table: `nasgym data import nb201 PATH`)
"""
        ),
        "## Benchmark Data",
        "",
        doc.benchmark_data,
        "",
        *_tail_sections(
            f'* `{doc.env_id}`; `gym.make_vec("{doc.env_id}", num_envs=N)` gives the '
            "batched NumPy vector env.",
            doc.references,
        ),
    ]
    return "\n".join(sections)


@dataclass(frozen=True)
class GraphEnvDoc:
    """The sections of a non-enumerated (NB101, NB301) env's docstring."""

    title: str
    description: str
    search_space: str
    action_space: str
    #: May hold ``{stats}``, replaced by the stats description.
    observation_space: str
    starting_state: str
    #: Markdown table rows (no header) of env-specific ``info`` details.
    information: str
    arguments: str
    benchmark_data: str
    references: str
    env_id: str
    #: How to get the data the ``gym.make`` example needs.
    data_hint: str
    #: What ``gym.make_vec`` gives for this id.
    vector: str = (
        "Gymnasium's `SyncVectorEnv` (there is no batched NumPy vector env yet)."
    )
    #: Whether the env takes ``objectives=[...]`` (documents the MO options).
    multi_objective: bool = False


def build_graph_docstring(
    doc: GraphEnvDoc, mode: str, *, reward_default: str, alpha_default: float
) -> str:
    """Assemble a :class:`GraphEnvDoc` into the standard docstring sections."""
    common = "\n".join(
        line
        for line in (
            COMMON_ARGS + (MO_ARGS if doc.multi_objective else "")
        ).splitlines()
        if mode == "continuous" or "`top_k`" not in line
    )
    sections = [
        *_head_sections(doc.title, doc.description, doc.search_space),
        doc.action_space,
        "",
        "## Observation Space",
        "",
        doc.observation_space.replace("{stats}", STATS_DOC),
        "",
        *_shared_sections(
            mode,
            doc.starting_state,
            reward_default,
            alpha_default,
            doc.multi_objective,
        ),
        "In this env:",
        "",
        "| key | value |",
        "|---|---|",
        doc.information,
        "",
        "## Arguments",
        "",
        doc.arguments + "\n" + common,
        "",
        "```python",
        ">>> import gymnasium as gym",
        ">>> import nasgym",
        f'>>> env = gym.make("{doc.env_id}")  # doctest: +SKIP',
        "```",
        f"({doc.data_hint})",
        "",
        "## Benchmark Data",
        "",
        doc.benchmark_data,
        "",
        *_tail_sections(
            f'* `{doc.env_id}`; `gym.make_vec("{doc.env_id}", num_envs=N)` gives '
            + doc.vector,
            doc.references,
        ),
    ]
    return "\n".join(sections)
