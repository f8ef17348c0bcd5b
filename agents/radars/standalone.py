"""Standalone RADARS searches with a wall-clock report.

``python -m nasgym_agents.radars --dataset mnist5k --memory-budget-mib 32`` runs one
search (:class:`~.search.RadarsSearch`): it prints every pruning round (what went,
what is left, the memory estimate against the budget), then DARTS's progress on the
remaining subspace; it evaluates the derived cell with DARTS's shared weights on the
whole validation split, looks it up in the NB201 table (CIFAR-10, CIFAR-100 and
ImageNet16-120, when the table is imported) and prints (or writes as JSON) the
report of :func:`search_report`. :func:`radars_search` is the same for scripts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from nasgym.error import unknown_keywords

from ..cli import add_model_arguments, add_run_arguments, report_main
from ..darts.search import METHODS as DARTS_METHODS
from ..darts.search import StepLog
from ..darts.standalone import cell_summary, nb201_lookup
from .search import PRUNE_RULES, RadarsConfig, RadarsSearch, RoundLog


def search_report(
    config: RadarsConfig,
    *,
    round_progress: Callable[[RoundLog], None] | None = None,
    step_progress: Callable[[StepLog], None] | None = None,
    checkpoint: str | None = None,
    checkpoint_every: int = 0,
    table_path: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) one RADARS search and return its report.

    Args:
        config: The search settings.
        round_progress: Called after every pruning round.
        step_progress: Called after every DARTS step.
        checkpoint: Checkpoint file; an existing one is resumed (same settings).
        checkpoint_every: DARTS steps between checkpoints (0: rounds and the end).
        table_path: The NB201 table (default: nasgym's data search path).

    Returns:
        Settings, wall-clock seconds (setup, pruning, DARTS, evaluation), every
        pruning round with its memory estimate, the subspace handed to DARTS and
        its estimate against the budget, the derived cell, DARTS's
        ``softmax(alpha)``, the cell's supernet validation accuracy, its NB201
        accuracies (``None`` without the table) and its op counts.
    """
    from nasgym.spaces.nb201 import OPS, NB201Arch

    tick = time.perf_counter()
    search = RadarsSearch(config)
    resumed = False
    if checkpoint is not None and Path(checkpoint).exists():
        search.load_checkpoint(checkpoint)
        resumed = True
    resumed_rounds = len(search.rounds) - 1
    resumed_steps = 0 if search.darts is None else search.darts.step
    setup_s = time.perf_counter() - tick
    result = search.run(
        round_progress=round_progress,
        step_progress=step_progress,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
    )
    tick = time.perf_counter()
    assert search.darts is not None
    valid = search.darts.evaluate(result.arch)
    eval_s = time.perf_counter() - tick
    full = search.estimate(tuple(tuple(range(len(OPS))) for _ in result.candidates))
    return {
        "method": "radars",
        "dataset": config.dataset,
        "device": str(search.device),
        "seed": config.seed,
        "config": asdict(config),
        "image_size": search.shape["image_size"],
        "memory_budget_mib": config.memory_budget_mib,
        "full_space_estimate_mib": full.total_mib,
        "resumed": resumed,
        "resumed_rounds": resumed_rounds,
        "resumed_darts_steps": resumed_steps,
        "setup_s": setup_s,
        "prune_s": result.prune_s,
        "darts_s": result.darts_s,
        "eval_s": eval_s,
        "wall_s": setup_s + result.prune_s + result.darts_s + eval_s,
        "rounds": [asdict(r) for r in result.rounds],
        "pruning_rounds": len(result.rounds) - 1,
        "candidates": [list(c) for c in result.candidates],
        "candidate_ops": [[OPS[k] for k in c] for c in result.candidates],
        "subspace_estimate_mib": result.estimate.total_mib,
        "subspace_estimate": {
            "activation_bytes": result.estimate.activation_bytes,
            "parameter_bytes": result.estimate.parameter_bytes,
            "workspace_bytes": result.estimate.workspace_bytes,
        },
        "darts_method": config.darts_method,
        "darts_steps": result.darts_steps,
        "arch": NB201Arch(result.arch).to_str(),
        "arch_ops": list(result.arch),
        "darts_probabilities": result.darts_probabilities,
        "supernet_valid_accuracy": valid,
        "nb201": nb201_lookup(result.arch, table_path),
        **cell_summary(result.arch),
    }


def radars_search(
    seed: int,
    memory_budget_mib: float = RadarsConfig.memory_budget_mib,
    *,
    overrides: Mapping[str, Any] | None = None,
    checkpoint: str | None = None,
    table_path: str | None = None,
) -> dict[str, Any]:
    """One RADARS search for scripts (e.g. a comparison over seeds and budgets).

    Args:
        seed: Seeds the supernet, the controller and DARTS.
        memory_budget_mib: The dense supernet's memory budget (MiB).
        overrides: Other :class:`~.search.RadarsConfig` fields (``dataset``,
            ``darts_steps``, ``controller_steps``, ``prune_rule``, ``device``, ...).
        checkpoint: Checkpoint file (resumed when it exists).
        table_path: The NB201 table (default: nasgym's data search path).

    Returns:
        :func:`search_report`'s report (wall-clock ``wall_s``, ``rounds``, ``arch``,
        ``nb201``, ...).

    Raises:
        UnknownKeywordError: An override that is not a setting (or is ``seed`` /
            ``memory_budget_mib``, given as arguments).
        MemoryBudgetError: A budget nothing fits.
    """
    given = dict(overrides or {})
    names = [f.name for f in fields(RadarsConfig) if f.name not in ("seed",)]
    names.remove("memory_budget_mib")
    error = unknown_keywords("radars_search overrides", given, names)
    if error is not None:
        raise error
    config = RadarsConfig(seed=seed, memory_budget_mib=memory_budget_mib, **given)
    return search_report(config, checkpoint=checkpoint, table_path=table_path)


def format_report(report: dict[str, Any]) -> str:
    """Human-readable lines of a :func:`search_report`."""
    cfg = report["config"]
    lines = [
        f"RADARS on {report['dataset']} ({report['device']}, C={cfg['channels']}, "
        f"N={cfg['num_cells']}, batch {cfg['batch_size']}, seed {report['seed']})",
        f"  memory budget {report['memory_budget_mib']:g} MiB; full space "
        f"estimated at {report['full_space_estimate_mib']:.1f} MiB",
        f"  pruning rounds: {report['pruning_rounds']} (rule "
        f"{cfg['prune_rule']}); subspace estimate "
        f"{report['subspace_estimate_mib']:.1f} MiB",
        f"  subspace: {' | '.join(','.join(ops) for ops in report['candidate_ops'])}",
        f"  wall-clock: setup {report['setup_s']:.1f} s, pruning "
        f"{report['prune_s']:.1f} s, DARTS {report['darts_s']:.1f} s, evaluation "
        f"{report['eval_s']:.1f} s",
        f"  DARTS ({report['darts_method']}) steps: {report['darts_steps']}",
        f"  derived cell: {report['arch']}",
        f"  parameter-free edges: {report['parameter_free_edges']}/6 "
        f"(skip {report['skip_edges']}, pool {report['pool_edges']}, "
        f"none {report['none_edges']}){'  COLLAPSED' if report['collapsed'] else ''}",
        f"  supernet validation accuracy: {report['supernet_valid_accuracy']:.2f} %",
    ]
    nb201 = report["nb201"]
    if nb201 is None:
        lines.append("  NB201 table not imported (nasgym data import nb201 PATH)")
    else:
        for dataset, acc in nb201.items():
            lines.append(
                f"  NB201 {dataset}: test@200 {acc['test@200']:.2f} %, "
                f"valid@12 {acc['valid@12']:.2f} %"
            )
    return "\n".join(lines)


def _round_printer(budget: float) -> Callable[[RoundLog], None]:
    def show(log: RoundLog) -> None:
        pruned = "; ".join(
            f"e{slot}-{','.join(ops)}" for slot, ops in enumerate(log.pruned) if ops
        )
        verdict = "fits" if log.fits else "over"
        print(
            f"round {log.round}: mean reward {log.mean_reward:.3f}, pruned "
            f"{pruned or 'nothing'}; estimate {log.estimate_mib:.1f} MiB "
            f"({verdict} the {budget:g} MiB budget) in {log.wall_s:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    return show


def _step_printer(every: int, total: int) -> Callable[[StepLog], None]:
    def show(log: StepLog) -> None:
        if every > 0 and (log.step % every == 0 or log.step == total):
            from nasgym.spaces.nb201 import NB201Arch

            print(
                f"DARTS step {log.step}/{total}: train loss {log.train_loss:.4f}, "
                f"val loss {log.val_loss:.4f}, cell "
                f"{NB201Arch(tuple(log.arch)).to_str()}",
                file=sys.stderr,
                flush=True,
            )

    return show


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m nasgym_agents.radars``."""
    d = RadarsConfig()
    p = argparse.ArgumentParser(
        prog="python -m nasgym_agents.radars",
        description="RADARS on the NB201 space: REINFORCE-guided pruning of each "
        "edge's ops until the dense supernet's estimated memory fits a budget, "
        "then DARTS on the remaining subspace; wall-clock report and NB201 table "
        "look-ups of the derived cell.",
    )
    add_model_arguments(
        p,
        dataset=d.dataset,
        channels=d.channels,
        num_cells=d.num_cells,
        batch_size=d.batch_size,
    )
    p.add_argument("--memory-budget-mib", type=float, default=d.memory_budget_mib)
    p.add_argument("--prune-rule", choices=PRUNE_RULES, default=d.prune_rule)
    p.add_argument("--prune-per-round", type=int, default=d.prune_per_round)
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument("--controller-steps", type=int, default=d.controller_steps)
    p.add_argument("--controller-lr", type=float, default=d.controller_lr)
    p.add_argument("--reward-batch-size", type=int, default=d.reward_batch_size)
    p.add_argument("--supernet-lr", type=float, default=d.supernet_lr)
    p.add_argument("--darts-method", choices=DARTS_METHODS, default=d.darts_method)
    p.add_argument("--darts-steps", type=int, default=d.darts_steps)
    p.add_argument("--darts-arch-lr", type=float, default=None)
    add_run_arguments(p, checkpoint_every_help="DARTS steps")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 on bad input)."""
    args = build_parser().parse_args(argv)

    def run() -> dict[str, Any]:
        config = RadarsConfig(
            dataset=args.dataset,
            data_dir=args.data_dir,
            image_size=args.image_size,
            channels=args.channels,
            num_cells=args.num_cells,
            batch_size=args.batch_size,
            memory_budget_mib=args.memory_budget_mib,
            prune_rule=args.prune_rule,
            prune_per_round=args.prune_per_round,
            warmup_steps=args.warmup_steps,
            controller_steps=args.controller_steps,
            controller_lr=args.controller_lr,
            reward_batch_size=args.reward_batch_size,
            supernet_lr=args.supernet_lr,
            darts_method=args.darts_method,
            darts_steps=args.darts_steps,
            darts_arch_lr=args.darts_arch_lr,
            seed=args.seed,
            device=args.device,
            amp=not args.no_amp,
        )
        return search_report(
            config,
            round_progress=(
                _round_printer(args.memory_budget_mib) if args.log_every else None
            ),
            step_progress=_step_printer(args.log_every, args.darts_steps),
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            table_path=args.table,
        )

    return report_main(run, format_report, args.json)
