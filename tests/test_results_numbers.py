"""The numbers in the nb201-baselines README are those its script computes."""

import importlib.util
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "docs" / "results" / "nb201-baselines"


def _script():
    spec = importlib.util.spec_from_file_location("gen_numbers", DIR / "gen_numbers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_blocks_match_the_committed_csv() -> None:
    gen = _script()
    readme = gen.read_blocks((DIR / "README.md").read_text())
    computed = gen.blocks(gen.load(DIR / "leaderboard.csv"), None)
    assert set(computed) <= set(readme)
    for name, text in computed.items():
        assert readme[name] == text, name
    assert "ls-seeds" in readme  # generated from the run files (--runs)


def test_ls_seed_count_agrees_with_the_csv_mean_regret() -> None:
    """The seeds named as misses add up to the CSV's mean regret of local search."""
    gen = _script()
    text = gen.read_blocks((DIR / "README.md").read_text())["ls-seeds"]
    import re

    misses = [float(x) for x in re.findall(r"regret (\d+\.\d+)", text)]
    hit, total = map(int, re.search(r"in (\d+) of (\d+) seeds", text).groups())
    assert hit + len(misses) == total
    row = gen.load(DIR / "leaderboard.csv")[("cifar10", 300, "ls")]
    assert math.isclose(sum(misses) / total, float(row["regret_mean"]), abs_tol=1e-3)
