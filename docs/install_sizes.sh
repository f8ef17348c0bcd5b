#!/usr/bin/env bash
# Measure what installing nasgym costs: venv size (du -sh) and install time of
#   (a) the core install, `pip install .`, into a fresh virtual environment, and
#   (b) the README Quickstart's first command's install (`pip install -e ".[demo]"`,
#       no torch: the demo runs the numpy baselines) into a fresh virtual environment,
#   (c) torch==2.13.0 (CPU, as .ci/run installs it) alone, for the `rl`/`oneshot`
#       extras,
# and list what a default `pip install torch` would pull from PyPI on Linux (the
# CUDA build), without downloading it (pip --dry-run reads the wheels' metadata).
# Each venv gets an empty pip cache, so downloads count as on a fresh machine.
# Writes the table into docs/install.md between the install-sizes markers.
#
# Usage: bash docs/install_sizes.sh   (a few minutes; needs PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

seconds() { # run "$@", print wall seconds
    local start end
    start=$(date +%s.%N)
    "$@" >"$WORK/log" 2>&1 || { cat "$WORK/log" >&2; return 1; }
    end=$(date +%s.%N)
    "$PYTHON" -c "print(f'{$end - $start:.0f}')"
}
size() { du -sh "$1" | cut -f1; }
fresh() { # fresh venv $1 with an empty pip cache
    "$PYTHON" -m venv "$WORK/$1"
    export PIP_CACHE_DIR="$WORK/cache-$1"
}
packages() { "$WORK/$1/bin/python" -m pip list --format=freeze | wc -l | tr -d ' '; }

echo "(a) core install" >&2
fresh core
core_s=$(seconds "$WORK/core/bin/pip" install "$ROOT")
core_size=$(size "$WORK/core")
core_n=$(packages core)
core_torch=$("$WORK/core/bin/python" -c "import importlib.util as u; print('no' if u.find_spec('torch') is None else 'yes')")

echo "(b) Quickstart install" >&2
fresh demo
demo_s=$(seconds "$WORK/demo/bin/pip" install -e "$ROOT[demo]")
demo_size=$(size "$WORK/demo")
demo_n=$(packages demo)
demo_torch=$("$WORK/demo/bin/python" -c "import importlib.util as u; print('no' if u.find_spec('torch') is None else 'yes')")

echo "(c) torch CPU alone" >&2
fresh torch
torch_s=$(seconds "$WORK/torch/bin/pip" install "torch==2.13.0")
torch_build=$("$WORK/torch/bin/python" -c "import torch; print(torch.__version__)")
torch_size=$(size "$WORK/torch")

echo "(d) what a default torch install pulls from PyPI" >&2
fresh dry
env -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
    "$WORK/dry/bin/pip" install --dry-run --ignore-installed --quiet \
    --index-url https://pypi.org/simple --report "$WORK/report.json" "torch==2.13.0"
cuda=$("$PYTHON" - "$WORK/report.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["install"]
names = sorted(i["metadata"]["name"] for i in items if "nvidia" in i["metadata"]["name"].lower() or i["metadata"]["name"] == "triton")
torch = next(i for i in items if i["metadata"]["name"] == "torch")
wheel = torch["download_info"]["url"].rsplit("/", 1)[-1]
print(f"`{wheel}` plus {len(names)} CUDA/Triton wheels ({', '.join(names)})")
PY
)

table="| install | what | venv size | install time | packages |
|---|---|---|---|---|
| \`pip install .\` (core) | envs, baselines, data importers, \`leaderboard run\`; torch installed: $core_torch | $core_size | ${core_s} s | $core_n |
| \`pip install -e \".[demo]\"\` (Quickstart, first command) | the demo (random vs local search) and its plot; torch installed: $demo_torch | $demo_size | ${demo_s} s | $demo_n |
| \`pip install torch==2.13.0\` (CI's CPU build, $torch_build) | torch alone, in a fresh venv (needed by the \`rl\` and \`oneshot\` extras) | $torch_size | ${torch_s} s | |

A default \`pip install torch==2.13.0\` on Linux x86-64 from PyPI resolves to the CUDA
build instead: $cuda, several GB in all.

Measured by \`bash docs/install_sizes.sh\` on $(date -u +%Y-%m-%d), Python $("$PYTHON" -c 'import platform; print(platform.python_version())'), $(nproc) CPU cores, an empty pip cache per venv (times include downloads and vary with the network)."

"$PYTHON" - "$ROOT/docs/install.md" "$table" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- install-sizes:start -->", "<!-- install-sizes:end -->"
if start not in text or end not in text:
    raise SystemExit(f"{path}: no {start} ... {end} block")
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(f"{head}{start}\n{table}\n{end}{tail}")
PY
echo "$table"
