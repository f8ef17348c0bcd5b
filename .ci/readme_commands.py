"""Print a README Quickstart command: ``main`` (line 1) or ``test`` (line 2).

CI runs these verbatim, so a README whose commands do not work fails CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def quickstart_commands(readme: str) -> list[str]:
    """Return the non-empty lines of the first fenced block under ``## Quickstart``."""
    section = readme.split("## Quickstart", 1)[1]
    match = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    if match is None:
        raise SystemExit("README.md: no fenced block under '## Quickstart'")
    lines = [line.strip() for line in match.group(1).splitlines() if line.strip()]
    if len(lines) != 2:
        raise SystemExit(
            f"README.md Quickstart must hold exactly 2 commands, found {len(lines)}"
        )
    return lines


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "test"
    commands = quickstart_commands(
        (Path(__file__).parent.parent / "README.md").read_text()
    )
    print(commands[0] if which == "main" else commands[1])
