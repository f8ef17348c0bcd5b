"""The ``nasgym`` command line: ``list``, ``data status|import``, ``demo``, ``perf``.

Errors in user input (unknown names, missing or corrupt data) print one clear message
to stderr and exit with status 1; argparse usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nasgym import __version__
from nasgym.error import Error


def _cmd_list(args: argparse.Namespace) -> int:
    import importlib

    import gymnasium as gym

    from nasgym.registration import ENVS

    rows = []
    for env_id, (module, cls) in ENVS.items():
        gym.spec(env_id)  # fails loudly if registration went wrong
        mod = importlib.import_module(module)
        datasets = getattr(mod, "DATASETS", ())
        rows.append((env_id, getattr(mod, cls).mode, ", ".join(datasets)))
    width = max(len(r[0]) for r in rows)
    print(f"{'id':<{width}}  {'mode':<10}  datasets")
    for env_id, mode, datasets in rows:
        print(f"{env_id:<{width}}  {mode:<10}  {datasets}")
    print("\nmake one with gym.make(ID, dataset=...); `nasgym data status` shows data.")
    return 0


def _cmd_data_status(args: argparse.Namespace) -> int:
    from nasgym.datastore import format_status, status

    print(format_status(status()))
    return 0


def _cmd_data_import(args: argparse.Namespace) -> int:
    from nasgym.datastore import import_data

    for path in import_data(args.benchmark, args.path):
        print(f"wrote {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from nasgym.demo import format_demo, run_demo

    result = run_demo(
        dataset=args.dataset,
        budget=args.budget,
        seeds=args.seeds,
        out=Path(args.out),
        progress=not args.no_progress,
    )
    print(format_demo(result))
    return 0


def _cmd_perf(args: argparse.Namespace) -> int:
    from nasgym.perf import format_report, run_perf

    results = run_perf(
        envs=args.env or None,
        quick=args.quick,
        out=Path(args.json) if args.json else None,
    )
    print(format_report(results))
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nasgym`` command."""
    parser = argparse.ArgumentParser(
        prog="nasgym", description="NAS benchmarks as Gymnasium environments."
    )
    parser.add_argument("--version", action="version", version=f"nasgym {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the registered environments")
    p.set_defaults(func=_cmd_list)

    data = sub.add_parser("data", help="benchmark data: status and import")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser(
        "status", help="show every benchmark, where it is, its checksum"
    )
    p.set_defaults(func=_cmd_data_status)
    p = data_sub.add_parser(
        "import",
        help="import official benchmark files into nasgym's compact table",
        description="Import benchmark files into nasgym's compact table in "
        "NASGYM_CACHE_DIR. nb201 accepts a NATS-Bench topology archive directory "
        "(NATS-tss-v1_0-3ffb9-simple), the directory of the derived CSV tables "
        "(nats_bench.csv.xz, mini-bench-arch-cell-accs.csv.xz), or a parent of both.",
    )
    p.add_argument("benchmark", help="benchmark name, e.g. nb201")
    p.add_argument("path", help="file or directory to import")
    p.set_defaults(func=_cmd_data_import)

    p = sub.add_parser(
        "demo",
        help="random search vs MaskablePPO on NAS-Bench-Graph (offline, ~1 min)",
    )
    p.add_argument(
        "--dataset", default="cora", help="NAS-Bench-Graph dataset (default cora)"
    )
    p.add_argument(
        "--budget", type=_positive, default=300, help="queries per run (default 300)"
    )
    p.add_argument(
        "--seeds", type=_positive, default=5, help="runs per method (default 5)"
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
    p.set_defaults(func=_cmd_perf)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasgym`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except Error as exc:
        print(f"nasgym: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nasgym: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
