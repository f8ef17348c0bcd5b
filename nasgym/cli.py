"""The ``nasgym`` command line: ``list``, ``agents``, ``data``, ``leaderboard``, ...

Errors in user input (unknown names, missing or corrupt data) print one clear message
to stderr and exit with status 1; argparse usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nasgym import __version__
from nasgym.error import Error, UnknownOptionError


def _output_dir(option: str, value: str) -> Path:
    """Check, before any work, that an ``--out`` directory can be used or created.

    Nothing is created here: a command that fails later leaves no directory behind.

    Raises:
        Error: ``value`` is a file, or a parent of it is a file or not writable.
    """
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise Error(f"{option} {value} exists and is not a directory")
    if path.is_dir():
        return path
    ancestor = path.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise Error(
            f"{option} {value}: cannot create it: {ancestor} is not a directory"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise Error(f"{option} {value}: cannot create it: {ancestor} is not writable")
    return path


def _output_file(option: str, value: str) -> Path:
    """Check, before any work, that the file an option names can be written.

    Raises:
        Error: ``value`` is a directory, or its directory is missing or not writable.
    """
    path = Path(value).expanduser()
    parent = path.parent
    if path.is_dir():
        raise Error(f"{option} {value} is a directory; give a file name")
    if not parent.is_dir():
        raise Error(f"{option} {value}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise Error(f"{option} {value}: not writable (permission denied)")
    return path


def _table_directory() -> str:
    """Where ``nasgym data import`` writes tables now (for its ``--help``)."""
    from nasgym.data import cache_dir

    return str(cache_dir())


def _os_reason(exc: OSError) -> str:
    """``"No such file or directory: '/x'"`` from an ``OSError``."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        reason += f": {os.fspath(exc.filename)!r}"
    return reason


def _cmd_list(args: argparse.Namespace) -> int:
    import importlib

    import gymnasium as gym

    from nasgym.registration import ALL_ENVS

    plugins = _third_party_listing()  # loads the nasgym.envs plugins first
    rows = []
    for env_id, (module, cls) in ALL_ENVS.items():
        gym.spec(env_id)  # fails loudly if registration went wrong
        mod = importlib.import_module(module)
        env_cls = getattr(mod, cls)
        datasets = getattr(env_cls, "DATASETS", getattr(mod, "DATASETS", ()))
        rows.append((env_id, env_cls.mode, ", ".join(datasets)))
    width = max(len(r[0]) for r in rows)
    print(f"{'id':<{width}}  {'mode':<10}  datasets")
    for env_id, mode, datasets in rows:
        print(f"{env_id:<{width}}  {mode:<10}  {datasets}")
    print(
        "\nmake one with gym.make(ID, dataset=...); NB101 ids take table='full' or "
        "'ecnas' instead, NB301 ids read the YAHPO surrogate, Supernet201 ids train "
        "a supernet (torch; CIFAR needs data_dir=); `nasgym data status` shows data."
    )
    if plugins:
        print(f"\n{plugins}", end="")
    return 0


def _third_party_listing() -> str:
    """The ids of the ``nasgym.envs`` plugins, by namespace (empty if none)."""
    from gymnasium.envs.registration import parse_env_id

    from nasgym.registration import env_mode_of, load_env_plugins

    groups: dict[str, list[tuple[str, str, str]]] = {}
    for plugin in load_env_plugins():
        source = f"{plugin.name} ({plugin.distribution or 'unknown distribution'})"
        for env_id in plugin.env_ids:
            namespace = parse_env_id(env_id)[0] or "(no namespace)"
            mode = env_mode_of(env_id) or "-"
            groups.setdefault(namespace, []).append((env_id, mode, source))
    if not groups:
        return ""
    rows = [row for ids in groups.values() for row in ids]
    width = max(len(r[0]) for r in rows)
    lines = ["third-party envs (nasgym.envs plugins), by namespace:"]
    for namespace in sorted(groups):
        lines.append(f"  {namespace}:")
        for env_id, mode, source in groups[namespace]:
            lines.append(f"    {env_id:<{width}}  {mode:<10}  from {source}")
    return "\n".join(lines) + "\n"


def _cmd_agents(args: argparse.Namespace) -> int:
    from nasgym.leaderboard.agents import describe_agents

    rows = describe_agents()
    width = max((len(r.name) for r in rows), default=4)
    print(f"{'name':<{width}}  {'mode':<10}  {'provided by':<24}  description")
    for row in rows:
        print(f"{row.name:<{width}}  {row.mode:<10}  {row.provider:<24}  {row.summary}")
    print(
        "\nmode: the action interface an agent runs on (the leaderboard uses the "
        "--env space's env in that mode); any: it runs on the --env given."
    )
    return 0


def _cmd_draw(args: argparse.Namespace) -> int:
    from nasgym.render import save_png, space_views

    if args.space is not None:
        if args.env_kwargs:
            raise UnknownOptionError("--env-kwargs needs --env, not --space")
        views = space_views(args.space, args.arch)
        where = args.space
    else:
        import gymnasium as gym

        kwargs = dict(args.env_kwargs)
        env = gym.make(args.env, **kwargs)
        try:
            views = env.unwrapped.cell_views(args.arch)  # type: ignore[attr-defined]
        finally:
            env.close()
        where = args.env
    path = save_png(views, args.output, title=f"{where}: {args.arch}")
    print(path)
    return 0


def _add_draw(sub: Any) -> None:
    from nasgym.leaderboard.config import kwarg_argument
    from nasgym.render import SPACES

    p = sub.add_parser(
        "draw",
        help="write a PNG of an architecture's cell graph(s)",
        description="Draw an architecture string (the info['arch'] form of its env) "
        "as cell graphs with op labels. --space needs no benchmark data; --env makes "
        "the env (NB101 hashes are resolved in its table).",
    )
    p.add_argument("arch", help="architecture string, as in info['arch']")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--env", help="env id whose arch strings ARCH follows")
    where.add_argument("--space", choices=SPACES, help="search space of ARCH")
    p.add_argument(
        "--env-kwargs",
        nargs="+",
        type=kwarg_argument,
        default=[],
        metavar="KEY=VALUE",
        help="with --env: its keyword arguments (e.g. table=ecnas)",
    )
    p.add_argument(
        "-o", "--output", default="arch.png", help="PNG path (default arch.png)"
    )
    p.set_defaults(func=_cmd_draw)


def _cmd_data_status(args: argparse.Namespace) -> int:
    from nasgym.datastore import format_status, status

    print(format_status(status()))
    return 0


def _cmd_data_import(args: argparse.Namespace) -> int:
    from nasgym.datastore import import_data

    for path in import_data(args.benchmark, args.path):
        print(f"wrote {path}")
    return 0


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from nasgym.datastore import verify_data

    print(verify_data(args.benchmark))
    return 0


def _cmd_data_zc(args: argparse.Namespace) -> int:
    from nasgym.oneshot.zc_reward import precompute_report

    print(
        precompute_report(
            args.proxy,
            dataset=args.dataset,
            device=args.device,
            seed=args.seed,
            images=args.images,
            batch_size=args.batch_size,
            progress=not args.no_progress,
        )
    )
    return 0


def _cmd_freenas(args: argparse.Namespace) -> int:
    from nasgym.oneshot.zero_cost import freenas_report

    print(
        freenas_report(
            args.dataset, iterative=args.iterative, device=args.device, seed=args.seed
        )
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from nasgym.demo import format_demo, run_demo

    result = run_demo(
        dataset=args.dataset,
        budget=args.budget,
        seeds=args.seeds,
        out=_output_dir("--out", args.out),
        progress=not args.no_progress,
    )
    print(format_demo(result))
    return 0


def _cmd_perf(args: argparse.Namespace) -> int:
    from nasgym.perf import format_report, run_perf
    from nasgym.registration import load_env_plugins

    if args.env:
        load_env_plugins()  # third-party ids of --env
    if args.agents:
        return _perf_agents(args)
    if args.env_kwargs or args.budget is not None:
        raise Error("perf: --env-kwargs and --budget go with --agents")
    if args.json:
        _output_file("--json", args.json)
    results = run_perf(
        # --leaderboard alone measures the harness only; with --env, those envs too.
        envs=args.env or ([] if args.leaderboard else None),
        quick=args.quick,
        out=Path(args.json) if args.json else None,
        leaderboard=args.leaderboard,
    )
    print(format_report(results))
    return 0


def _perf_agents(args: argparse.Namespace) -> int:
    import json

    from nasgym.perf_agents import format_agent_report, run_agent_perf

    if args.env and len(args.env) > 1:
        raise Error("perf: --agents measures on one --env; give --env once")
    if args.json:
        _output_file("--json", args.json)
    result = run_agent_perf(
        args.agents,
        env_id=args.env[0] if args.env else None,
        env_kwargs=dict(args.env_kwargs),
        budget=300 if args.budget is None else args.budget,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(format_agent_report(result))
    return 0


def _cmd_leaderboard_run(args: argparse.Namespace) -> int:
    from nasgym.leaderboard.agents import parse_agent_specs
    from nasgym.leaderboard.config import EnvConfig
    from nasgym.leaderboard.errors import LeaderboardError
    from nasgym.leaderboard.runner import describe, run_leaderboard

    env_ids: list[str] = args.env
    shared: dict[str, Any] = {}
    per_env: list[dict[str, Any]] = [{} for _ in env_ids]
    for index, pairs in args.env_kwargs:
        target = shared if index is None else per_env[index]
        for key, value in pairs:
            if key in target:
                where = "" if index is None else f" for --env {env_ids[index]}"
                raise LeaderboardError(f"--env-kwargs sets {key!r} twice{where}")
            target[key] = value
    for flag, key, value in (
        ("--budget-unit", "budget_unit", args.budget_unit),
        ("--sim-workers", "sim_workers", args.sim_workers),
    ):
        if value is None or (key == "budget_unit" and value == "queries"):
            continue
        if key in shared or any(key in kwargs for kwargs in per_env):
            raise LeaderboardError(f"{flag} and --env-kwargs {key}=... both set it")
        shared[key] = value
    envs = [
        EnvConfig(env_id, {**shared, **kwargs})
        for env_id, kwargs in zip(env_ids, per_env, strict=True)
    ]
    report = run_leaderboard(
        envs=envs,
        agents=parse_agent_specs(args.agents, args.agent_kwargs),
        seeds=args.seeds,
        budget=args.budget,
        out=_output_dir("--out", args.out),
        checkpoints=args.checkpoints,
        workers=args.workers or os.cpu_count() or 1,
        backend=args.backend,
        ray_address=args.ray_address,
        argv=args.command_line,
        progress=not args.no_progress,
    )
    print(describe(report))
    return 0


def _cmd_leaderboard_report(args: argparse.Namespace) -> int:
    from nasgym.leaderboard.report import write_report

    result = write_report(
        Path(args.dir),
        _output_dir("--out", args.out) if args.out else None,
        reps=args.reps,
    )
    print(result.markdown, end="")
    print(f"\nwrote {', '.join(str(p) for p in result.files)}", file=sys.stderr)
    return 0


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer in {low}..{high}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer in {low}..{high}, got {value}"
            )
        return value

    return parse


def _agent_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated agent names, e.g. random,rea; got {text!r}"
        )
    return names


def _checkpoint_list(text: str) -> list[int]:
    from nasgym.leaderboard.config import parse_checkpoints

    try:
        return parse_checkpoints(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _EnvKwargsAction(argparse.Action):
    """Attach ``--env-kwargs`` to the ``--env`` before it (all envs if none)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        envs = getattr(namespace, "env", None) or []
        groups = list(getattr(namespace, self.dest, None) or [])
        groups.append((len(envs) - 1 if envs else None, list(values)))
        setattr(namespace, self.dest, groups)


class _ListingParser(argparse.ArgumentParser):
    """A parser whose help ends with a listing computed when help is shown."""

    def __init__(
        self, *args: Any, listing: Callable[[], str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._listing = listing

    def format_help(self) -> str:
        """The usual help, then the listing (loaded lazily: plugins load here)."""
        text = super().format_help()
        if self._listing is None:
            return text
        return f"{text}\n{self._listing()}"


def _env_id_listing() -> str:
    from nasgym.registration import ALL_ENVS

    lines = ["env ids:", "  nasgym:"]
    lines += [f"    {env_id}" for env_id in ALL_ENVS]
    third = _third_party_listing()
    return "\n".join(lines) + "\n" + (f"\n{third}" if third else "")


def _add_leaderboard(sub: Any) -> None:
    from nasgym.leaderboard.backends import BACKENDS
    from nasgym.leaderboard.config import (
        BUDGET_RANGE,
        BUDGET_UNITS,
        DEFAULT_CHECKPOINTS,
        SEEDS_RANGE,
        TIME_BUDGET_RANGE,
        kwarg_argument,
    )

    board = sub.add_parser(
        "leaderboard",
        help="run agents x envs x seeds under a query budget; report the results",
    )
    board_sub = board.add_subparsers(
        dest="leaderboard_command",
        required=True,
        metavar="ACTION",
        parser_class=_ListingParser,
    )
    p = board_sub.add_parser(
        "run",
        listing=_env_id_listing,
        help="run every (env, agent, seed) into a results directory (resumable)",
        description="Run every (env, agent, seed) with a query budget counted by the "
        "env. Each run is written to its own file when it finishes; running the same "
        "command again skips finished runs and redoes unfinished ones. Agents come "
        "from the 'nasgym.agents' entry points (and NASGYM_EXTRA_AGENTS, see "
        "docs/leaderboard.md).",
    )
    p.add_argument(
        "--env",
        action="append",
        required=True,
        metavar="ID",
        help="env id, e.g. nasgym/NB201Query-v0 (repeat for several envs): any "
        "registered Gymnasium id that follows the info contract, including "
        "plugins' ids and Gymnasium's module:ID form (the module is imported from "
        "the working directory too); the ids are listed below",
    )
    p.add_argument(
        "--env-kwargs",
        nargs="+",
        type=kwarg_argument,
        action=_EnvKwargsAction,
        default=[],
        metavar="KEY=VALUE",
        help="keyword arguments of the --env before it (of every env when given "
        "before any --env); values are Python literals (ints, floats, bools, None) "
        "or else strings",
    )
    p.add_argument(
        "--agents",
        type=_agent_list,
        required=True,
        help="comma-separated agent names, e.g. random,rea,ls,reinforce; "
        "ALIAS=NAME runs agent NAME under the name ALIAS (e.g. with other "
        "--agent-kwargs). Agents that need another action interface (sac, l2nas: "
        "Continuous; ppo: Query; maskable_ppo, apex: Edit) run on the same space's "
        "env in that mode",
    )
    p.add_argument(
        "--agent-kwargs",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="keyword arguments of agent NAME (values parsed like --env-kwargs), "
        "e.g. l2nas:init_from=policy.pt apex:num_actors=4",
    )
    p.add_argument(
        "--seeds",
        type=_int_in(*SEEDS_RANGE),
        required=True,
        metavar="N",
        help="runs per (env, agent), seeds 0..N-1 "
        f"({SEEDS_RANGE[0]}..{SEEDS_RANGE[1]})",
    )
    p.add_argument(
        "--budget",
        type=_int_in(*TIME_BUDGET_RANGE),
        required=True,
        metavar="Q",
        help=f"queries per run ({BUDGET_RANGE[0]}..{BUDGET_RANGE[1]}), or epochs "
        "or simulated seconds with --budget-unit",
    )
    p.add_argument(
        "--budget-unit",
        choices=BUDGET_UNITS,
        default=None,
        help="what --budget counts (default queries); epochs and seconds need a "
        "multi-fidelity env (nasgym/NB201Fidelity-v0, ...); seconds also need "
        "training times in its data",
    )
    p.add_argument(
        "--sim-workers",
        type=_positive,
        default=None,
        metavar="K",
        help="simulated asynchronous workers of a multi-fidelity env (default 1): "
        "each takes the next job when its last one finishes in simulated time; "
        "results do not depend on --workers",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="results directory")
    p.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="W",
        help="parallel runs (default: the number of CPUs)",
    )
    p.add_argument(
        "--backend", choices=BACKENDS, default="local", help="local processes or Ray"
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to connect to (default: start a local one)",
    )
    p.add_argument(
        "--checkpoints",
        type=_checkpoint_list,
        default=None,
        metavar="Q1,Q2,...",
        help="query counts the report tabulates (default "
        f"{','.join(map(str, DEFAULT_CHECKPOINTS))} up to the budget, plus the budget)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_leaderboard_run)

    p = board_sub.add_parser(
        "report",
        help="tables, CSV and plots of a results directory",
        description="Summarise a results directory: a Markdown table per env and "
        "checkpoint (also printed), a CSV of the same numbers, regret-vs-queries "
        "plots and, for several envs, performance profiles.",
    )
    p.add_argument("dir", metavar="DIR", help="results directory of leaderboard run")
    p.add_argument(
        "--out", default=None, metavar="REPORTDIR", help="default: DIR/report"
    )
    p.add_argument(
        "--reps",
        type=_int_in(100, 1_000_000),
        default=2000,
        help="bootstrap samples of the confidence intervals (default 2000)",
    )
    p.set_defaults(func=_cmd_leaderboard_report)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_zc(data_sub: Any, sub: Any) -> None:
    from nasgym.oneshot.zc_reward import DATASET_SHAPES, IMAGE_SETS, PROXIES

    p = data_sub.add_parser(
        "zc",
        help="precompute a zero-cost proxy for every NB201 cell (zc: rewards)",
        description="Score all 15,625 NB201 cells with one zero-cost proxy and write "
        "them to the cache the envs' reward_metric='zc:PROXY' reads "
        "(NASGYM_CACHE_DIR/zc/). Envs compute missing cells on first use anyway; "
        "this fills the cache in one go. Options must match the envs' zc_* options.",
    )
    p.add_argument("space", choices=("nb201",), help="search space: nb201")
    p.add_argument("--proxy", required=True, choices=PROXIES)
    p.add_argument("--dataset", default="cifar10", choices=tuple(DATASET_SHAPES))
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="the envs' zc_seed")
    p.add_argument("--images", default="mnist5k", choices=IMAGE_SETS)
    p.add_argument("--batch-size", type=int, default=16, help="the envs' zc_batch_size")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_data_zc)

    p = sub.add_parser(
        "freenas",
        help="FreeNAS training-free search on NB201; prints the cell and wall-clock",
    )
    p.add_argument("--dataset", default="cifar10", choices=tuple(DATASET_SHAPES))
    p.add_argument("--iterative", action="store_true", help="iterative pruning")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_freenas)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nasgym`` command."""
    from nasgym.leaderboard.config import kwarg_argument

    parser = argparse.ArgumentParser(
        prog="nasgym", description="NAS benchmarks as Gymnasium environments."
    )
    parser.add_argument("--version", action="version", version=f"nasgym {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "list", help="list the registered environments (nasgym's, then plugins')"
    )
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser(
        "agents",
        help="list the installed leaderboard agents, their env mode and package",
    )
    p.set_defaults(func=_cmd_agents)

    data = sub.add_parser("data", help="benchmark data: status and import")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser(
        "status", help="show every benchmark, where it is, its checksum"
    )
    p.set_defaults(func=_cmd_data_status)
    p = data_sub.add_parser(
        "import",
        help="import official benchmark files into nasgym's compact table",
        description="Import benchmark files into nasgym's compact table in the "
        "table directory: $NASGYM_CACHE_DIR when set, else $NASGYM_DATA_DIR/nasgym "
        "when that directory is writable, else the platform cache directory (e.g. "
        f"~/.cache/nasgym); here: {_table_directory()}. nb201 accepts a NATS-Bench "
        "topology archive directory "
        "(NATS-tss-v1_0-3ffb9-simple), the directory of the derived CSV tables "
        "(nats_bench.csv.xz, mini-bench-arch-cell-accs.csv.xz), or a parent of both. "
        "nb101 accepts nasbench_full.tfrecord or nasbench_only108.tfrecord (or their "
        "directory). ecnas accepts EC-NAS-Bench's results archive "
        "(ec_nasbench_energy_results_and_graphs.tar.xz), its extracted tree, or a "
        "parent directory holding ec-nas-bench/. hw-nas-bench-360 accepts its "
        "dataset.parquet (needs pyarrow) or its directory: on-device latency and "
        "energy of every NB201 cell, offered as NB201 cost objectives.",
    )
    p.add_argument(
        "benchmark",
        help="benchmark name: nb201, nb101, ecnas, hw-nas-bench-360 or ofa",
    )
    p.add_argument("path", help="file or directory to import")
    p.set_defaults(func=_cmd_data_import)
    p = data_sub.add_parser(
        "verify",
        help="check an imported table against independent reference values",
        description="nb101: compare the imported table with the 500 real 108-epoch "
        "validation accuracies in $NASGYM_DATA_DIR/naslib-zc/zc_nasbench101.json.xz.",
    )
    p.add_argument("benchmark", help="benchmark name: nb101")
    p.set_defaults(func=_cmd_data_verify)
    _add_zc(data_sub, sub)

    p = sub.add_parser(
        "demo",
        help="local search vs random search on NAS-Bench-Graph, with paired tests "
        "(offline, seconds)",
    )
    p.add_argument(
        "--dataset", default="arxiv", help="NAS-Bench-Graph dataset (default arxiv)"
    )
    p.add_argument(
        "--budget", type=_positive, default=100, help="queries per run (default 100)"
    )
    p.add_argument(
        "--seeds", type=_positive, default=20, help="runs per searcher (default 20)"
    )
    p.add_argument(
        "--out", default="nasgym-demo", help="output directory for plot and JSON"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("perf", help="measure env and benchmark speed and memory")
    p.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    p.add_argument("--env", action="append", help="only this env id (repeatable)")
    p.add_argument("--json", help="also write the results as JSON to this path")
    p.add_argument(
        "--leaderboard",
        action="store_true",
        help="time the leaderboard harness (share of worker time in agent.run, Ray "
        "vs local); alone it measures only that, with --env those envs too",
    )
    p.add_argument(
        "--agents",
        type=_agent_list,
        default=None,
        help="instead: time one leaderboard run of each agent (env steps/s while "
        "training), e.g. --agents l2nas,sac,maskable_ppo; on --env (default "
        "nasgym/NB201Query-v0 dataset=cifar10)",
    )
    p.add_argument(
        "--env-kwargs",
        nargs="+",
        type=kwarg_argument,
        default=[],
        metavar="KEY=VALUE",
        help="with --agents: keyword arguments of the --env",
    )
    p.add_argument(
        "--budget",
        type=_int_in(1, 100_000),
        default=None,
        metavar="Q",
        help="with --agents: queries per run (default 300)",
    )
    p.set_defaults(func=_cmd_perf)

    _add_leaderboard(sub)
    _add_draw(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasgym`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except Error as exc:  # e.g. a broken nasgym.envs plugin while showing --help
        print(f"nasgym: error: {exc}", file=sys.stderr)
        return 1
    args.command_line = list(sys.argv) if argv is None else ["nasgym", *argv]
    try:
        code: int = args.func(args)
    except Error as exc:
        print(f"nasgym: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the file system refused a user's path: not a bug
        print(f"nasgym: error: {_os_reason(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nasgym: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
