import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasgym.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in ("nasgym/NB201Edit-v0", "nasgym/NBGraphContinuous-v0"):
        assert env_id in out
    assert "cifar100" in out and "cora" in out


def test_data_status_lists_benchmarks(capsys):
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "nb201" in out and "nbgraph" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["demo", "--budget", "0"],
        ["demo", "--budget", "many"],
        ["demo", "--seeds", "-1"],
        ["data"],
        ["data", "import", "nb201"],
    ],
)
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: nasgym" in capsys.readouterr().err


def test_import_unknown_benchmark_names_valid_ones(tmp_path, capsys):
    assert main(["data", "import", "nb999", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "nb999" in err and "nb201" in err
    assert "Traceback" not in err


def test_import_missing_path_is_clear(tmp_path, capsys):
    missing = tmp_path / "does-not-exist"
    assert main(["data", "import", "nb201", str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err


def test_demo_unknown_dataset(capsys, tmp_path):
    assert main(["demo", "--dataset", "imagenet", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "imagenet" in err and "cora" in err


def test_demo_small_run_writes_plot_and_json(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--dataset", "cora", "--budget", "15", "--seeds", "4"]
    code = main([*argv, "--out", str(out), "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "random search" in text and "local search" in text and "optimum" in text
    assert "MaskablePPO" not in text
    png = (out / "regret.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    payload = json.loads((out / "results.json").read_text())
    assert payload["budget"] == 15
    assert len(payload["runs"]) == 8
    for run in payload["runs"]:
        queries = [r["query"] for r in run["records"]]
        # every run spends exactly the budget, one record per distinct query
        assert queries == list(range(1, 16))
        best = [r["best_valid"] for r in run["records"]]
        assert best == sorted(best)
    # the printed paired statistic is the one recomputed from the runs
    finals: dict[str, dict[int, float]] = {}
    for run in payload["runs"]:
        finals.setdefault(run["method"], {})[run["seed"]] = run["records"][-1][
            "best_test"
        ]
    diff = np.array(
        [finals["local search"][s] - finals["random search"][s] for s in range(4)]
    )
    se = diff.std(ddof=1) / 2.0
    assert f"test acc %    {diff.mean():+.2f} ± {se:.2f}" in text
    stored = payload["comparison"]["test"]
    assert stored["mean_diff"] == pytest.approx(diff.mean())
    # exact sign-flip p-value over the 16 sign patterns
    signs = 1.0 - 2.0 * ((np.arange(16)[:, None] >> np.arange(4)) & 1)
    p = np.mean(np.abs(signs @ diff) / 4 >= abs(diff.mean()) - 1e-12)
    assert stored["p_value"] == pytest.approx(p)
    # a verdict sentence for each metric and the explanation of rising test regret
    for name in ("validation regret:", "test accuracy:"):
        line = next(x for x in text.splitlines() if x.startswith(name))
        assert ("significantly" in line) != ("no significant difference" in line)
        assert ("no significant" in line) == (
            payload["comparison"]["valid_regret" if "valid" in name else "test"][
                "p_value"
            ]
            >= 0.05
        )
    assert "Test regret can rise" in text


def test_console_script_module_entry():
    result = subprocess.run(
        [sys.executable, "-m", "nasgym", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert result.stdout.startswith("nasgym ")


def test_readme_quickstart_has_exactly_two_commands():
    sys.path.insert(0, str(ROOT / ".ci"))
    try:
        from readme_commands import quickstart_commands
    finally:
        sys.path.pop(0)
    main_cmd, test_cmd = quickstart_commands((ROOT / "README.md").read_text())
    assert "pip install" in main_cmd and "nasgym demo" in main_cmd
    assert "pip install" in test_cmd and "pytest" in test_cmd


def test_generated_env_docs_are_current():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from gen_env_docs import render_pages
    finally:
        sys.path.pop(0)
    for filename, text in render_pages().items():
        page = ROOT / "docs" / "envs" / filename
        assert page.is_file(), f"missing {page}: run python docs/gen_env_docs.py"
        assert page.read_text() == text, (
            f"{page} is stale: run python docs/gen_env_docs.py"
        )


def test_data_status_lists_every_benchmark(capsys):
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    for name in ("nb201", "hw-nas-bench-360", "nbgraph", "nb101", "ecnas", "nb301"):
        assert f"\n{name} " in f"\n{out}"


def test_nb301_needs_no_import(tmp_path, capsys):
    assert main(["data", "import", "nb301", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "needs no import" in err and "new_model.onnx" in err


def test_verify_unknown_benchmark(capsys):
    assert main(["data", "verify", "nb999"]) == 1
    assert "nb101" in capsys.readouterr().err


@pytest.mark.data
def test_import_ecnas_then_verify_says_not_covered(
    data_root, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    assert main(["data", "import", "ecnas", str(data_root / "ec-nas-bench")]) == 0
    assert (tmp_path / "ecnas.npz").is_file()
    capsys.readouterr()
    assert main(["data", "status"]) == 0
    assert "cells (ecnas) 2,532" in capsys.readouterr().out
    # EC-NAS holds 4-epoch results only: the 108-epoch references cannot be checked.
    assert main(["data", "verify", "nb101"]) == 1
    err = capsys.readouterr().err
    assert "NOT COVERED" in err and "nasgym data import nb101" in err


# ------------------------------------------- user path errors: one line (issue 15.9)
def _one_line_error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nasgym: error: "), err
    assert "Traceback" not in err
    return lines[0]


LB = ["leaderboard", "run", "--env", "nasgym/NB201Query-v0", "--agents", "random"]
LB += ["--seeds", "1", "--budget", "3", "--no-progress", "--out"]


def test_out_that_is_a_file(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for argv in (
        [*LB, str(afile)],
        ["demo", "--out", str(afile)],
        ["leaderboard", "report", str(tmp_path), "--out", str(afile)],
    ):
        line = _one_line_error(argv, capsys)
        assert f"--out {afile} exists and is not a directory" in line


def test_out_that_cannot_be_created(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    below = afile / "sub"
    for argv in ([*LB, str(below)], ["demo", "--out", str(below)]):
        line = _one_line_error(argv, capsys)
        assert f"--out {below}: cannot create it" in line


def test_perf_unknown_env(capsys):
    line = _one_line_error(["perf", "--env", "nasgym/Bogus-v0", "--quick"], capsys)
    assert "unknown env id(s) nasgym/Bogus-v0" in line


@pytest.mark.parametrize("agents", [[], ["--agents", "random"]])
def test_perf_json_unwritable(tmp_path, capsys, agents):
    missing = tmp_path / "missing" / "x.json"
    line = _one_line_error(["perf", *agents, "--json", str(missing)], capsys)
    assert f"directory {missing.parent} does not exist" in line
    line = _one_line_error(["perf", *agents, "--json", str(tmp_path)], capsys)
    assert "is a directory" in line


def test_os_errors_at_the_boundary_are_one_line(tmp_path, capsys, monkeypatch):
    import nasgym.cli as cli

    def refuse(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(cli, "_cmd_list", refuse)
    line = _one_line_error(["list"], capsys)
    assert line == f"nasgym: error: Permission denied: {str(tmp_path / 'x')!r}"


def test_programming_errors_still_raise(monkeypatch):
    import nasgym.cli as cli

    def bug(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_cmd_list", bug)
    with pytest.raises(KeyError):
        main(["list"])


def test_data_import_help_names_the_table_directory(tmp_path, monkeypatch, capsys):
    # Issue 15.21: the help named NASGYM_CACHE_DIR even when tables go elsewhere.
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.delenv("NASGYM_CACHE_DIR", raising=False)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(data))
    with pytest.raises(SystemExit):
        main(["data", "import", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"here: {data / 'nasgym'}" in out.replace("\n", " ")
    assert "$NASGYM_DATA_DIR/nasgym when that directory is writable" in out
