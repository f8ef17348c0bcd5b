"""Image rendering: ``render_mode="rgb_array"``/``"human"`` and ``nasgym draw``.

Every space draws the current and the incumbent architecture as cell graphs; frames
keep one shape per env (``RecordVideo`` needs that) and differ between different
architectures. The checkers of test_env_api.py / test_keyed_envs.py also exercise
both modes, as ``check_env`` makes an env per declared render mode.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from test_env_api import draw_action
from tiny_supernet import tiny_supernet

from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.benchmarks.nbgraph import NBGraphBenchmark
from nasgym.cli import main
from nasgym.error import InvalidArchitectureError
from nasgym.registration import ENVS
from nasgym.render import SPACES, CellView, draw_cells, figure_rgb, space_views
from nasgym.spaces.nb201 import OPS, NB201Space

Make = Callable[..., gym.Env[Any, Any]]
PNG = b"\x89PNG\r\n\x1a\n"
FAKE_NB201 = FakeBenchmark(NB201Space(), seed=0)
CORA = NBGraphBenchmark("cora")


def _tabular(env_id: str) -> Make:
    bench = CORA if "NBGraph" in env_id else FAKE_NB201
    return lambda **kw: gym.make(env_id, benchmark=bench, **kw)


MAKERS: dict[str, Any] = {env_id: _tabular(env_id) for env_id in ENVS}


@pytest.fixture(
    params=[
        *ENVS,
        pytest.param("nasgym/NB101Query-v0", marks=pytest.mark.data),
        pytest.param("nasgym/NB101Edit-v0", marks=pytest.mark.data),
        pytest.param("nasgym/NB301Query-v0", marks=pytest.mark.data),
        pytest.param("nasgym/NB301Edit-v0", marks=pytest.mark.data),
        "nasgym/Supernet201Query-v0",
    ]
)
def make(request: pytest.FixtureRequest) -> Make:
    env_id: str = request.param
    if env_id in MAKERS:
        maker: Make = MAKERS[env_id]
        return maker
    if "NB101" in env_id:
        base = {"benchmark": request.getfixturevalue("ecnas_bench")}
    elif "NB301" in env_id:
        base = {"surrogate": request.getfixturevalue("nb301_surrogate")}
    else:
        base = tiny_supernet()
    return lambda **kw: gym.make(env_id, **{**base, **kw})


def _frames(env: gym.Env[Any, Any], steps: int) -> tuple[list[Any], list[str]]:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    frames, archs = [env.render()], []
    for _ in range(steps):
        _, _, _, _, info = env.step(draw_action(env, rng))
        frames.append(env.render())
        archs.append(info["arch"])
    return frames, archs


def test_rgb_array_frames(make: Make) -> None:
    env = make(render_mode="rgb_array", max_queries=50)
    assert {"ansi", "rgb_array", "human"} <= set(env.metadata["render_modes"])
    assert env.metadata["render_fps"] > 0
    frames, archs = _frames(env, 4)
    shape = frames[0].shape
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape == shape
    assert shape[0] >= 200 and shape[1] >= 600
    # Frames follow the architecture: a new current architecture redraws.
    for k in range(1, len(frames)):
        if archs[k - 1] != (archs[k - 2] if k >= 2 else None):
            assert not np.array_equal(frames[k], frames[k - 1])


def test_cell_views_follow_the_arch(make: Make) -> None:
    env = make(max_queries=50)
    _, archs = _frames(env, 3)
    base = env.unwrapped
    views = base.cell_views(archs[-1])  # type: ignore[attr-defined]
    assert views and all(isinstance(v, CellView) for v in views)
    for view in views:
        n = len(view.labels)
        assert view.edges and all(0 <= u < n and 0 <= w < n for u, w in view.edges)
        view.layers()  # a DAG
    with pytest.raises(InvalidArchitectureError):
        base.cell_views("not an architecture")  # type: ignore[attr-defined]


def test_human_mode_without_display_draws_and_returns_none(make: Make) -> None:
    env = make(render_mode="human", max_queries=10)
    env.reset(seed=0)  # human mode renders on reset and step by itself
    env.step(draw_action(env, np.random.default_rng(0)))
    assert env.render() is None
    env.close()
    env.close()


def test_ansi_mode_unchanged(make: Make) -> None:
    env = make(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and text.startswith("t=0 ")


def test_record_video(tmp_path: Path) -> None:
    if importlib.util.find_spec("moviepy") is None:
        pytest.skip("moviepy is not installed (frames are checked above)")
    env = gym.wrappers.RecordVideo(
        _tabular("nasgym/NB201Query-v0")(render_mode="rgb_array", max_queries=6),
        str(tmp_path),
        episode_trigger=lambda episode: True,
        disable_logger=True,
    )
    env.reset(seed=0)
    for _ in range(6):
        *_, truncated, _ = env.step(env.action_space.sample())
        if truncated:
            break
    env.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 0


def test_nb201_views_label_every_op() -> None:
    arch = (
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|"
        "+|skip_connect~0|none~1|nor_conv_3x3~2|"
    )
    (view,) = space_views("nb201", arch)
    ops = [part.split("~")[0] for part in arch.split("|") if "~" in part]
    assert sorted(view.labels) == sorted(["input", "output", "sum", "sum", *ops])
    assert set(ops) <= set(OPS)


def test_different_architectures_draw_differently() -> None:
    a = space_views("nbgraph", "link=[0,0,0,0] ops=[gcn,gat,sage,fc]")
    b = space_views("nbgraph", "link=[0,1,2,3] ops=[gcn,gat,sage,fc]")
    frame_a = figure_rgb(draw_cells([("x", a)]))
    frame_b = figure_rgb(draw_cells([("x", b)]))
    assert frame_a.shape == frame_b.shape
    assert not np.array_equal(frame_a, frame_b)


def test_cycle_is_rejected() -> None:
    with pytest.raises(InvalidArchitectureError, match="cycle"):
        CellView("c", ("a", "b"), ((0, 1), (1, 0))).layers()


# ------------------------------------------------------------------ nasgym draw
DRAWABLE = {
    "nb201": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
    "nor_conv_3x3~1|skip_connect~2|",
    "nbgraph": "link=[0,0,1,2] ops=[gcn,gat,skip,fc]",
    "nbgraph-proteins": "link=[0,0,1,2] ops=[gcn,sage,skip,fc]",
    "nb301": "4051103101220204|5011614230436053",
}


def test_draw_covers_every_space() -> None:
    assert set(DRAWABLE) == set(SPACES)


@pytest.mark.parametrize("space", sorted(DRAWABLE))
def test_draw_space_writes_a_png(space: str, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "sub" / "a.png"
    assert main(["draw", DRAWABLE[space], "--space", space, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert str(out) in capsys.readouterr().out


def test_draw_env_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "g.png"
    argv = ["draw", DRAWABLE["nbgraph"], "--env", "nasgym/NBGraphQuery-v0"]
    assert main([*argv, "--env-kwargs", "dataset=cora", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)


@pytest.mark.data
def test_draw_nb101_hash_through_its_env(ecnas_bench: Any) -> None:
    env = gym.make("nasgym/NB101Query-v0", benchmark=ecnas_bench)
    _, info = env.reset(seed=0)
    while info["arch"] is None:
        _, _, _, _, info = env.step(env.action_space.sample())
    views = env.unwrapped.cell_views(info["arch"])  # type: ignore[attr-defined]
    assert views[0].labels[0] == "input" and views[0].labels[-1] == "output"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["|nor_conv_3x3~0|+|bad", "--space", "nb201"], "NB201 arch string"),
        (["x", "--space", "nb301"], "8 (input, op) digit pairs"),
        (["link=[9] ops=[]", "--space", "nbgraph"], "link patterns"),
        (["gcn,gat", "--space", "nbgraph"], "expected the form"),
        (["x", "--space", "nb201", "--env-kwargs", "a=1"], "--env-kwargs needs"),
    ],
)
def test_draw_rejects_malformed(
    argv: list[str], message: str, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "x.png"
    assert main(["draw", *argv, "-o", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()
