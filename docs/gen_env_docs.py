"""Generate one Markdown page per registered env from its docstring.

Run ``python docs/gen_env_docs.py`` after changing an env docstring; a test checks that
the committed pages match.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).parent


def render_pages() -> dict[str, str]:
    """Return ``{filename: markdown}`` for every registered env."""
    from nasgym.registration import ALL_ENVS

    pages: dict[str, str] = {}
    index = ["# Environments", "", "| id | mode | summary |", "|---|---|---|"]
    for env_id, (module, cls) in ALL_ENVS.items():
        env_cls = getattr(importlib.import_module(module), cls)
        doc = (env_cls.__doc__ or "").strip()
        title, _, body = doc.partition("\n")
        name = env_id.split("/", 1)[1]
        pages[f"{name}.md"] = f"# {env_id}\n\n{title}\n{body}\n"
        index.append(f"| [`{env_id}`]({name}.md) | {env_cls.mode} | {title} |")
    pages["README.md"] = "\n".join(index) + "\n"
    return pages


def main() -> int:
    """Write the pages into ``docs/envs``."""
    out = HERE / "envs"
    out.mkdir(exist_ok=True)
    for filename, text in render_pages().items():
        (out / filename).write_text(text)
        print(f"wrote {out / filename}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
