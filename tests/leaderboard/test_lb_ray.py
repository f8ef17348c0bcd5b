"""`--backend ray` gives the same runs as the local process pool."""

import json

import pytest
from lb_helpers import records, run_args, run_files, use_test_agents

from nasgym.cli import main

ray = pytest.importorskip("ray")


@pytest.mark.ray
def test_ray_and_local_backends_agree(tmp_path, monkeypatch, capsys):
    use_test_agents(monkeypatch)  # the local Ray cluster inherits the variables
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(run_args(local, agents="rs,mut", seeds=2, budget=20)) == 0
    argv = run_args(remote, "--backend", "ray", agents="rs,mut", seeds=2, budget=20)
    assert main(argv) == 0
    assert "4 runs done" in capsys.readouterr().out
    assert not ray.is_initialized()  # the harness stopped the cluster it started
    names = [p.relative_to(local) for p in run_files(local)]
    assert names == [p.relative_to(remote) for p in run_files(remote)]
    assert len(names) == 4
    for name in names:
        assert records(remote / name) == records(local / name)
        header = json.loads((remote / name).read_text().splitlines()[0])
        assert header["backend"] == "ray"
    # Resuming with the other backend is allowed: same configuration.
    assert main(run_args(remote, agents="rs,mut", seeds=2, budget=20)) == 0
    assert "0 runs done, 4 skipped" in capsys.readouterr().out
