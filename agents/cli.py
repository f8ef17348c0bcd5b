"""The command-line plumbing the standalone one-shot searches share.

``python -m nasgym_agents.darts``, ``.unas``, ``.radars`` and ``.advantagenas``
take the same data, model-size and run options and finish the same way: the report
is printed, optionally written as JSON (non-finite floats as ``null``), and bad
input exits with status 2 and one line naming the problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_model_arguments", "add_run_arguments", "report_main"]


def add_model_arguments(
    parser: argparse.ArgumentParser,
    *,
    dataset: str,
    channels: int,
    num_cells: int,
    batch_size: int,
) -> None:
    """Add the data and model-size options.

    ``--dataset --data-dir --image-size --channels --num-cells --batch-size``.
    """
    parser.add_argument("--dataset", default=dataset)
    parser.add_argument("--data-dir", default=None, help="torchvision-format CIFAR dir")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--channels", type=int, default=channels)
    parser.add_argument("--num-cells", type=int, default=num_cells)
    parser.add_argument("--batch-size", type=int, default=batch_size)


def add_run_arguments(
    parser: argparse.ArgumentParser,
    *,
    device: str = "cpu",
    checkpoint_every_help: str | None = None,
) -> None:
    """Add the run options.

    ``--seed --device --no-amp --checkpoint --checkpoint-every --log-every --table
    --json``; ``checkpoint_every_help`` says what ``--checkpoint-every`` counts when
    a search has more than one kind of step.
    """
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--device", default=device, help=f"cpu, cuda or auto (default {device})"
    )
    parser.add_argument("--no-amp", action="store_true", help="no bfloat16 on CUDA")
    parser.add_argument("--checkpoint", default=None, help="resumed when it exists")
    parser.add_argument(
        "--checkpoint-every", type=int, default=0, help=checkpoint_every_help
    )
    parser.add_argument("--log-every", type=int, default=50, help="0: quiet")
    parser.add_argument("--table", default=None, help="the NB201 table file")
    parser.add_argument("--json", type=Path, default=None, help="write the report")


def report_main(
    run: Callable[[], dict[str, Any]],
    format_report: Callable[[dict[str, Any]], str],
    json_path: Path | None,
) -> int:
    """Run ``run()``, print its report and write it to ``json_path``.

    Returns the exit status: 0, or 2 with ``error: ...`` on standard error when
    the search refuses its input (:class:`~nasgym.error.Error` or ``ValueError``).
    """
    from nasgym.data import json_safe
    from nasgym.error import Error

    try:
        report = run()
    except (Error, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(json_safe(report), indent=2) + "\n")
    return 0
