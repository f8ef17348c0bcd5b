"""Search, retrain and compare RL-DARTS encoders with SB3 PPO on MinAtar.

``search`` trains the supernet and alpha jointly (the supernet acts during data
collection) and discretises it; ``retrain`` trains a fixed encoder (a genotype,
the MinAtar conv baseline or a random cell) from scratch; ``compare`` runs all of
them for several games and seeds into one resumable JSON-lines results file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from .model import (
    AlphaAdam,
    DartsExtractor,
    MinAtarConv,
    genotype_from_str,
    genotype_to_str,
    op_names,
    random_genotype,
)

GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")
_IDS = {
    "asterix": "Asterix",
    "breakout": "Breakout",
    "freeway": "Freeway",
    "seaquest": "Seaquest",
    "space_invaders": "SpaceInvaders",
}


class ChannelsFirst(gym.ObservationWrapper[np.ndarray, Any, Any]):
    """MinAtar's (10, 10, C) bool frames as (C, 10, 10) float32 in [0, 1]."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        h, w, c = env.observation_space.shape  # type: ignore[misc]
        self.observation_space = gym.spaces.Box(0.0, 1.0, (c, h, w), np.float32)

    def observation(self, observation: Any) -> np.ndarray:
        """Transpose HWC to CHW as float32."""
        return np.ascontiguousarray(
            np.transpose(observation, (2, 0, 1)), dtype=np.float32
        )


def make_env(game: str) -> gym.Env[Any, Any]:
    """A channels-first MinAtar env (``game`` in :data:`GAMES`); imports minatar."""
    if game not in _IDS:
        raise ValueError(f"unknown MinAtar game {game!r}; choose one of {list(GAMES)}")
    try:
        import minatar.gym
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "RL-DARTS on MinAtar needs the GPL-licensed minatar package: "
            "pip install 'nasgym[rldarts]'"
        ) from exc
    env_id = f"MinAtar/{_IDS[game]}-v1"
    if env_id not in gym.registry:
        minatar.gym.register_envs()
    return ChannelsFirst(gym.make(env_id))


def _policy_kwargs(
    encoder: str,
    genotype: str | None,
    op_set: str,
    n_nodes: int,
    alpha_lr: float,
    seed: int,
) -> dict[str, Any]:
    opt = {"eps": 1e-5}
    if encoder == "conv":
        return {"features_extractor_class": MinAtarConv, "optimizer_kwargs": opt}
    if encoder == "random":
        genotype = genotype_to_str(
            random_genotype(n_nodes, op_set, np.random.default_rng(seed))
        )
    ext: dict[str, Any] = {"op_set": op_set, "n_nodes": n_nodes}
    if encoder == "supernet":
        return {
            "features_extractor_class": DartsExtractor,
            "features_extractor_kwargs": ext,
            "optimizer_class": AlphaAdam,
            "optimizer_kwargs": {**opt, "alpha_lr": alpha_lr},
        }
    if encoder == "genotype":
        if not genotype:
            raise ValueError("encoder 'genotype' needs --genotype 'op~0|op~0+op~1|...'")
        genotype_from_str(genotype, op_set)
    return {
        "features_extractor_class": DartsExtractor,
        "features_extractor_kwargs": {**ext, "genotype": genotype},
        "optimizer_kwargs": opt,
    }


ENCODERS = ("supernet", "genotype", "conv", "random")


def run(
    game: str,
    encoder: str,
    seed: int,
    steps: int,
    *,
    genotype: str | None = None,
    op_set: str = "default",
    n_nodes: int = 3,
    alpha_lr: float = 3e-3,
    n_envs: int = 4,
    n_steps: int = 128,
    device: str = "auto",
    checkpoint: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train PPO with one encoder for ``steps`` env steps; return a results record.

    The record has the per-episode training returns (``curve``: ``[step, return]``),
    ``final_return`` (mean return of the episodes ending in the last 20 % of steps),
    wall time, and for ``supernet`` the derived ``genotype`` and the final ``alpha``.
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    from nasgym.sb3 import quiet_logger

    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; choose one of {list(ENCODERS)}")
    op_names(op_set)
    if steps <= 0:
        raise ValueError(f"steps must be positive, got {steps}")
    pk = _policy_kwargs(encoder, genotype, op_set, n_nodes, alpha_lr, seed)
    venv = VecMonitor(DummyVecEnv([lambda: make_env(game) for _ in range(n_envs)]))
    venv.seed(seed)
    model = PPO(
        "MlpPolicy",
        venv,
        learning_rate=5e-4,
        n_steps=n_steps,
        batch_size=n_steps * n_envs // 2,
        n_epochs=4,
        gamma=0.99,
        gae_lambda=0.95,
        clip_range=0.2,
        ent_coef=0.01,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs=pk,
        seed=seed,
        device=device,
        verbose=0,
    )
    curve: list[list[float]] = []

    class _Log(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.bar: Any = None

        def _on_training_start(self) -> None:
            if progress:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=steps, desc=f"{game} {encoder} seed {seed}", unit="step"
                )

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    curve.append(
                        [float(self.num_timesteps), float(info["episode"]["r"])]
                    )
            if self.bar is not None:
                self.bar.update(self.training_env.num_envs)
            return True

        def _on_training_end(self) -> None:
            if self.bar is not None:
                self.bar.close()

    t0 = time.perf_counter()
    quiet_logger(model).learn(total_timesteps=steps, callback=_Log())
    wall = time.perf_counter() - t0
    tail = [r for s, r in curve if s >= 0.8 * steps]
    record: dict[str, Any] = {
        "game": game,
        "encoder": encoder,
        "seed": seed,
        "steps": int(model.num_timesteps),
        "op_set": op_set,
        "n_nodes": n_nodes,
        "wall_s": wall,
        "steps_per_s": model.num_timesteps / wall,
        "final_return": float(np.mean(tail)) if tail else float("nan"),
        "curve": curve,
        "device": str(model.device),
        "torch_threads": torch.get_num_threads(),
    }
    ext = model.policy.features_extractor
    if isinstance(ext, DartsExtractor):
        if ext.alpha is not None:
            record["genotype"] = genotype_to_str(ext.derive())
            record["alpha"] = ext.alpha.detach().cpu().tolist()
        else:
            assert ext.genotype is not None
            record["genotype"] = genotype_to_str(ext.genotype)
    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        model.save(checkpoint)
        record["checkpoint"] = str(checkpoint)
    venv.close()
    return record


def _key(r: dict[str, Any]) -> tuple[str, str, int, int]:
    return (r["game"], r["role"], int(r["seed"]), int(r.get("replicate", 0)))


def compare(
    games: list[str],
    seeds: list[int],
    steps: int,
    out: Path,
    *,
    n_random: int = 1,
    op_set: str = "default",
    n_nodes: int = 3,
    alpha_lr: float = 3e-3,
    device: str = "auto",
    checkpoints: Path | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Per game and seed: search, then the derived cell, conv baseline, random cells.

    Every run appends one JSON line (with a ``role``: ``search``, ``derived``,
    ``conv``, ``random``) to ``out``; runs already in ``out`` are skipped, so an
    interrupted comparison resumes where it stopped.
    """
    done: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    if out.exists():
        for n, line in enumerate(out.read_text().splitlines(), start=1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{out}:{n} is not a JSON line ({exc}); remove the line to resume"
                ) from exc
            done[_key(r)] = r
    out.parent.mkdir(parents=True, exist_ok=True)

    def once(
        game: str, role: str, seed: int, replicate: int, **kw: Any
    ) -> dict[str, Any]:
        key = (game, role, seed, replicate)
        if key in done:
            return done[key]
        ckpt = (
            None
            if checkpoints is None
            else checkpoints / f"{game}-{role}-{seed}-{replicate}.zip"
        )
        r = run(
            game,
            seed=seed,
            steps=steps,
            op_set=op_set,
            n_nodes=n_nodes,
            alpha_lr=alpha_lr,
            device=device,
            checkpoint=ckpt,
            progress=progress,
            **kw,
        )
        r.update(role=role, replicate=replicate)
        with out.open("a") as f:
            f.write(json.dumps(r) + "\n")
        done[key] = r
        return r

    for seed in seeds:
        for game in games:
            found = once(game, "search", seed, 0, encoder="supernet")
            once(
                game, "derived", seed, 0, encoder="genotype", genotype=found["genotype"]
            )
            once(game, "conv", seed, 0, encoder="conv")
            for k in range(n_random):
                key = (game, "random", seed, k)
                if key not in done:
                    rng_seed = 1000 * (k + 1) + seed
                    g = genotype_to_str(
                        random_genotype(
                            n_nodes, op_set, np.random.default_rng(rng_seed)
                        )
                    )
                    once(game, "random", seed, k, encoder="genotype", genotype=g)
    return list(done.values())


def main(argv: list[str] | None = None) -> int:
    """The ``search|retrain|compare`` command line."""
    p = argparse.ArgumentParser(
        prog="python -m nasgym_agents.rl_darts", description=__doc__
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--steps", type=int, default=20_000, help="env steps per training run"
        )
        q.add_argument("--op-set", default="default", choices=["default", "darts"])
        q.add_argument("--n-nodes", type=int, default=3)
        q.add_argument(
            "--alpha-lr",
            type=float,
            default=3e-3,
            help="Adam lr of alpha (weights: 5e-4)",
        )
        q.add_argument(
            "--device",
            default="auto",
            help="auto (CUDA when present, else CPU), cpu, cuda",
        )
        q.add_argument("--no-progress", action="store_true")

    s = sub.add_parser(
        "search", help="joint supernet + alpha training, then discretise"
    )
    s.add_argument("--game", default="breakout", choices=GAMES)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--out", type=Path, default=Path("rl_darts_search.json"), help="results JSON"
    )
    s.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="save the trained PPO model (.zip)",
    )
    common(s)
    r = sub.add_parser("retrain", help="train a fixed encoder from scratch")
    r.add_argument("--game", default="breakout", choices=GAMES)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument(
        "--encoder", default="genotype", choices=["genotype", "conv", "random"]
    )
    r.add_argument(
        "--genotype", default=None, help="genotype string, or @file.json from search"
    )
    r.add_argument("--out", type=Path, default=Path("rl_darts_retrain.json"))
    r.add_argument("--checkpoint", type=Path, default=None)
    common(r)
    c = sub.add_parser(
        "compare", help="search + derived + conv + random cells, games x seeds"
    )
    c.add_argument(
        "--games", nargs="+", default=["breakout", "space_invaders"], choices=GAMES
    )
    c.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    c.add_argument(
        "--n-random", type=int, default=1, help="random cells per game and seed"
    )
    c.add_argument(
        "--out",
        type=Path,
        default=Path("rl_darts_runs.jsonl"),
        help="resumable JSON lines",
    )
    c.add_argument(
        "--checkpoints", type=Path, default=None, help="folder for the PPO models"
    )
    common(c)
    a = p.parse_args(argv)
    kw: dict[str, Any] = dict(
        op_set=a.op_set,
        n_nodes=a.n_nodes,
        alpha_lr=a.alpha_lr,
        device=a.device,
        progress=not a.no_progress,
    )
    if a.cmd == "compare":
        recs = compare(
            a.games,
            a.seeds,
            a.steps,
            a.out,
            n_random=a.n_random,
            checkpoints=a.checkpoints,
            **kw,
        )
        print(f"{len(recs)} runs in {a.out}")
        return 0
    if a.cmd == "search":
        rec = run(a.game, "supernet", a.seed, a.steps, checkpoint=a.checkpoint, **kw)
        print(f"derived genotype: {rec['genotype']}")
    else:
        g = a.genotype
        if g is not None and g.startswith("@"):
            path = Path(g[1:])
            if not path.exists():
                p.error(f"--genotype {g}: {path} does not exist")
            g = json.loads(path.read_text())["genotype"]
        if a.encoder == "genotype" and not g:
            p.error(
                "--encoder genotype needs --genotype STRING or --genotype @search.json"
            )
        rec = run(
            a.game,
            a.encoder,
            a.seed,
            a.steps,
            genotype=g,
            checkpoint=a.checkpoint,
            **kw,
        )
    a.out.write_text(json.dumps(rec))
    print(f"final return {rec['final_return']:.2f} in {rec['wall_s']:.1f} s -> {a.out}")
    return 0
