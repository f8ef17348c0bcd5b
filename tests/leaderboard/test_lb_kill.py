"""Killing `nasgym leaderboard run` at any moment loses no finished run."""

import os
import signal
import subprocess
import sys
import time

from lb_helpers import (
    EXTRA_AGENTS,
    HERE,
    ROOT,
    run_args,
    run_files,
    snapshot,
    temp_files,
    use_test_agents,
)

from nasgym.cli import main
from nasgym.leaderboard.store import read_run


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigkill_then_rerun_finishes_every_run(tmp_path, monkeypatch, capsys):
    out = tmp_path / "killed"
    argv = run_args(out, agents="slow", seeds=8, budget=20)
    env = dict(os.environ)
    env["NASGYM_EXTRA_AGENTS"] = EXTRA_AGENTS
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), env.get("PYTHONPATH")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasgym", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the workers' too
    )
    try:
        started = _wait_for(lambda: run_files(out) or proc.poll() is not None, 60)
        assert started and proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)  # the harness only; its workers live on
        proc.wait(10)
        # Orphaned workers notice at their next query and stop without writing.
        assert _wait_for(lambda: not _group_alive(proc.pid), 20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    done = snapshot(out)
    assert 1 <= len(done) < 8
    # A kill during a write leaves a temporary file behind: it must be ignored.
    run_dir = run_files(out)[0].parent
    (run_dir / ".seed-7.jsonl.k1ll3d.tmp").write_text('{"type": "header"')
    time.sleep(0.05)  # a rewritten file would get a later mtime

    use_test_agents(monkeypatch)
    assert main(argv) == 0
    assert f"{8 - len(done)} runs done, {len(done)} skipped" in capsys.readouterr().out
    after = snapshot(out)
    assert len(after) == 8
    assert {k: after[k] for k in done} == done
    assert temp_files(out) == []
    for path in run_files(out):
        assert len(read_run(path).records) == 20


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_that_never_query_exit_soon_after_a_sigkill(tmp_path):
    # Issue 15.11: a worker used to notice a dead harness only at its next query.
    marks = tmp_path / "thinking"
    marks.mkdir()
    argv = run_args(tmp_path / "out", agents="think", seeds=2, budget=20)
    env = dict(os.environ)
    env["NASGYM_EXTRA_AGENTS"] = "think=lb_agents:Thinking"
    env["LB_THINKING_DIR"] = str(marks)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), env.get("PYTHONPATH")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasgym", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        started = _wait_for(
            lambda: len(list(marks.iterdir())) == 2 or proc.poll() is not None, 90
        )
        assert started and proc.poll() is None, proc.stderr.read().decode()
        workers = [int(p.name) for p in marks.iterdir()]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert _wait_for(lambda: not any(map(_pid_alive, workers)), 10), workers
        assert _wait_for(lambda: not _group_alive(proc.pid), 10)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
