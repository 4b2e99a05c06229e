"""The curiosity study (``reproduce hrl --only curiosity``): Burda et al.'s large-scale study at smoke scale.

Burda, Edwards, Pathak, Storkey, Darrell and Efros, "Large-Scale Study of Curiosity-Driven Learning"
(ICLR 2019): PPO trained on the intrinsic reward alone (``extrinsic_coef=0``), the forward model's
error in a feature space (`hrl.curiosity.features.FeatureCuriosity`: pixels, a frozen random CNN,
VAE features, inverse-dynamics features), with the paper's reward normalisation (the running sd of
the discounted intrinsic return), advantage normalisation and no end-of-episode signal
(``infinite_horizon``). The agent never sees the extrinsic reward; the study reads it, and how much
of the maze the agent visits, against a uniform random policy.

Smoke: a MiniGrid maze from pixels (`hrl.curiosity.envs.make_minigrid`: FourRooms, one fixed layout,
38 x 38 grayscale at 2 pixels a cell) with a TV screen under it and a remote action, in two
conditions: TV off (the screen stays black; the main feature-space comparison) and TV on (the remote
shows fresh noise: the noisy-TV failure, read as the fraction of steps spent pressing the remote).
Beside the four feature spaces, the maze runs Savinov et al.'s episodic curiosity through reachability
(method ``"ecr"``, `hrl.curiosity.episodic`, ICLR 2019): its R-network fitted first on the random
agent's trajectories (the paper's pre-trained variant), then PPO on the episodic bonus alone, with
the TV off and on (their claim: the episodic bonus is not drawn to the noisy TV as the forward
model's is). Full: the same maze for longer and more seeds, then Atari games (`hrl.envs.atari.make_atari`) as the
paper, where only the extrinsic return is read.

The paper's findings, set beside ours in the notes (it gives curves, not single numbers to match):
curiosity alone raises the extrinsic return; random features are competitive with learnt ones and
IDF features generalise best, pixels are the worst space; a noisy TV in a maze attracts the agent.

Every finished run is cached as JSON under ``<out>/curiosity_runs/`` and reused by a rerun (Atari
runs also keep PPO checkpoints), so a killed study resumes at the run it was in.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrl.curiosity.config import FEATURE_SPACES

__all__ = [
    "ATARI_FULL",
    "ATARI_SMOKE",
    "FULL",
    "SMOKE",
    "CuriosityStudy",
    "curiosity",
    "curiosity_atari",
    "run_curiosity_study",
    "run_one",
]

METHODS = ("random-policy", *FEATURE_SPACES, "ecr")


@dataclass(frozen=True)
class CuriosityStudy:
    """Budget and settings of the curiosity study.

    Attributes:
        envs: MiniGrid ids (run in each `tv` condition) and/or ALE ids (run once, no TV).
        features: feature spaces to train (a subset of `FEATURE_SPACES`); the random policy always runs.
        tv: TV conditions of the MiniGrid runs: False (screen and remote, screen black), True (noise).
        steps: environment steps per MiniGrid run, all envs together.
        atari_steps: environment steps per Atari run.
        seeds: runs per method and condition (seeds ``options.seed + i``).
        n_envs, n_steps, epochs, minibatches, lr, ent_coef, clip_range, gamma, gae_lambda: PPO's
            (the paper: 128 envs x 128 steps, 3 epochs, 8 minibatches, lr 1e-4, entropy 0.001,
            clip 0.1, gamma 0.99, lambda 0.95; the smoke budget takes lr 5e-4 for PPO and the
            curiosity models, as 16 rollouts at 1e-4 barely move the policy, and 32 x 32 rollouts).
        feature_dim, hidden, curiosity_lr: the feature width, forward-model width and its Adam step.
        tile_size, max_steps, layout_seed, tv_rows: the MiniGrid maze (`make_minigrid`).
        atari_max_steps: Atari episode cap in agent steps (the paper: 18 000 frames = 4 500 steps).
        atari_screen: side of the square grayscale Atari frames (the paper: 84).
        stats_steps: random-agent steps for the observation statistics (the paper: 10 000) and,
            split into episodes, the reachability network's training trajectories.
        episodic: also run episodic curiosity (`hrl.curiosity.episodic`, method ``"ecr"``) on the
            MiniGrid maze, its R-network fitted first on the random agent's trajectories.
        ecr_pairs, ecr_lr, ecr_epochs, ecr_minibatches: that fit (pairs, Adam step, passes, minibatches).
        ecr_online_pairs: 0: R frozen during the RL; > 0: `EpisodicConfig.online_pairs` (the online variant).
        report_every: environment steps between rows of the curve table (rounded to rollouts).
    """

    envs: tuple[str, ...] = ("MiniGrid-FourRooms-v0",)
    features: tuple[str, ...] = FEATURE_SPACES
    tv: tuple[bool, ...] = (False, True)
    steps: int = 16_384
    atari_steps: int = 16_384
    seeds: int = 1
    n_envs: int = 32
    n_steps: int = 32
    epochs: int = 3
    minibatches: int = 8
    lr: float = 5e-4
    ent_coef: float = 0.001
    clip_range: float = 0.1
    gamma: float = 0.99
    gae_lambda: float = 0.95
    feature_dim: int = 512
    hidden: int = 512
    curiosity_lr: float = 5e-4
    tile_size: int = 2
    max_steps: int = 100
    layout_seed: int = 6
    tv_rows: int = 8
    atari_max_steps: int = 4_500
    atari_screen: int = 84
    stats_steps: int = 2_000
    episodic: bool = True
    ecr_pairs: int = 8_192
    ecr_lr: float = 1e-3
    ecr_epochs: int = 4
    ecr_minibatches: int = 64
    ecr_online_pairs: int = 0
    report_every: int = 1_024

    def __post_init__(self) -> None:
        from core.errors import InputError

        unknown = [name for name in self.features if name not in FEATURE_SPACES]
        if unknown:
            raise InputError(
                "unknown curiosity feature space", item=unknown[0], expected=f"one of {FEATURE_SPACES}"
            )
        for env_id in self.envs:
            if not (env_id.startswith("MiniGrid-") or env_id.startswith("ALE/")):
                raise InputError("curiosity study envs must be MiniGrid-... or ALE/... ids", item=env_id)
        if any(not isinstance(on, bool) for on in self.tv):
            raise InputError("CuriosityStudy.tv holds True / False conditions", item=self.tv)
        integers = ("steps", "atari_steps", "seeds", "n_envs", "n_steps", "stats_steps", "report_every")
        integers += ("atari_max_steps", "atari_screen")
        for name in (*integers, "ecr_pairs", "ecr_epochs", "ecr_minibatches"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"CuriosityStudy.{name} must be a positive integer", item=value)
        if not self.ecr_lr > 0:
            raise InputError("CuriosityStudy.ecr_lr must be positive", item=self.ecr_lr)


SMOKE = CuriosityStudy()
"""FourRooms (fixed layout), TV off and on, the random policy, four feature spaces and episodic
curiosity, 16 384 steps each (16 rollouts of 32 x 32), one seed: 12 runs, timed in the README."""

FULL = CuriosityStudy(
    envs=(
        "MiniGrid-FourRooms-v0",
        "ALE/Breakout-v5",
        "ALE/Pong-v5",
        "ALE/Seaquest-v5",
        "ALE/MontezumaRevenge-v5",
    ),
    steps=1_048_576,
    atari_steps=10_000_000,
    seeds=3,
    n_envs=128,
    n_steps=128,
    lr=1e-4,
    curiosity_lr=1e-4,
    stats_steps=10_000,
    report_every=65_536,
)
"""The paper's PPO and curiosity settings (128 envs x 128 steps, lr 1e-4): the maze for 2^20 steps x 3
seeds (TV off and on), then four Atari games for 10^7 agent steps (4 x 10^7 frames) x 3 seeds x the
four feature spaces. Hours in the README (from the smoke run's measured rate); not run."""

ATARI_SMOKE = CuriosityStudy(
    envs=("ALE/Breakout-v5",),
    features=("random", "pixels", "idf"),
    tv=(False,),
    atari_steps=8_192,
    n_envs=8,
    n_steps=64,
    feature_dim=512,
    hidden=256,
    atari_screen=42,
    stats_steps=1_000,
    episodic=False,
    report_every=1_024,
)
"""``reproduce hrl --only curiosity-atari --scale smoke``: Breakout from 42 x 42 frames (4 stacked),
8 envs x 64 steps, 8 192 agent steps (32 768 frames) per run, the random policy and PPO on
curiosity alone in the random-feature, pixel and IDF spaces, one seed; timed in the README."""

ATARI_FULL = CuriosityStudy(
    envs=tuple(env for env in FULL.envs if env.startswith("ALE/")),
    features=FULL.features,
    tv=(False,),
    atari_steps=FULL.atari_steps,
    seeds=FULL.seeds,
    n_envs=FULL.n_envs,
    n_steps=FULL.n_steps,
    lr=FULL.lr,
    curiosity_lr=FULL.curiosity_lr,
    stats_steps=FULL.stats_steps,
    episodic=False,
    report_every=FULL.report_every,
)
"""The Atari part of `FULL` alone: four games, 10^7 agent steps x 3 seeds x four feature spaces, the
paper's PPO settings and 84 x 84 frames; hours in the README; not run."""


def _steps(study: CuriosityStudy, env_id: str) -> int:
    return study.atari_steps if env_id.startswith("ALE/") else study.steps


def _make_env(study: CuriosityStudy, env_id: str, tv: bool | None):
    if env_id.startswith("MiniGrid-"):
        from hrl.curiosity.envs import make_minigrid

        return make_minigrid(
            env_id,
            tile_size=study.tile_size,
            max_steps=study.max_steps,
            layout_seed=study.layout_seed,
            noisy_tv=tv,
            tv_rows=study.tv_rows,
        )
    from hrl.envs.atari import make_atari

    return make_atari(env_id, max_episode_steps=study.atari_max_steps, screen_size=study.atari_screen)


class _Tracker:
    """Rows every `every` steps: cells visited so far (the vector env's `VisitCounter`s together), and
    since the previous row the fraction of steps on the remote and the mean extrinsic episode return."""

    def __init__(self, envs: list[Any], every: int) -> None:
        self.counters = [env for env in envs if hasattr(env, "visited")]
        self.every, self.rows, self.last = every, [], 0
        self.presses = self.steps = 0

    def read(self, step: int, history: list[dict]) -> None:
        if step - self.last < self.every:
            return
        row: dict[str, Any] = {"step": step}
        if self.counters:
            presses = sum(env.remote_presses for env in self.counters)
            steps = sum(env.steps for env in self.counters)
            row["cells_visited"] = len(set().union(*(env.visited for env in self.counters)))
            row["remote_fraction"] = (presses - self.presses) / max(1, steps - self.steps)
            self.presses, self.steps = presses, steps
        recent = [item["return"] for item in history if item["step"] > self.last]
        row["extrinsic_return"] = float(np.mean(recent)) if recent else None
        self.rows.append(row)
        self.last = step


def _summary(rows: list[dict], history: list[dict], total_steps: int, envs: list[Any]) -> dict[str, Any]:
    """Final readings: cells visited, remote fraction and extrinsic return over the last quarter."""
    late = [row["return"] for row in history if row["step"] > 0.75 * total_steps]
    early = [row["return"] for row in history if row["step"] <= 0.25 * total_steps]
    out: dict[str, Any] = {
        "episodes": len(history),
        "extrinsic_return_last_quarter": float(np.mean(late)) if late else None,
        "extrinsic_return_first_quarter": float(np.mean(early)) if early else None,
        "goal_rate_last_quarter": float(np.mean([r > 0 for r in late])) if late else None,
        "extrinsic_return_all": float(np.mean([row["return"] for row in history])) if history else None,
    }
    counters = [env for env in envs if hasattr(env, "visited")]
    if counters:
        out["cells_visited"] = len(set().union(*(env.visited for env in counters)))
        quarter = [row["remote_fraction"] for row in rows if row["step"] > 0.75 * total_steps]
        out["remote_fraction_last_quarter"] = float(np.mean(quarter)) if quarter else None
        out["remote_fraction_all"] = sum(env.remote_presses for env in counters) / max(
            1, sum(env.steps for env in counters)
        )
    return out


def _random_policy_run(study: CuriosityStudy, env_id: str, tv: bool | None, seed: int) -> dict[str, Any]:
    """Uniform random actions on `n_envs` copies stepped like PPO's, for the same steps."""
    from hrl.agents.common import episode_seed

    envs = [_make_env(study, env_id, tv) for _ in range(study.n_envs)]
    rng = np.random.default_rng([seed, 17])
    tracker, history, episodes = _Tracker(envs, study.report_every), [], 0
    returns = [0.0] * study.n_envs
    for env in envs:
        env.reset(seed=episode_seed(seed, episodes))
        episodes += 1
    step, rollout = 0, study.n_envs * study.n_steps
    while step < _steps(study, env_id):
        for i, env in enumerate(envs):
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
            returns[i] += float(reward)
            if terminated or truncated:
                history.append({"step": step + study.n_envs, "return": returns[i]})
                returns[i] = 0.0
                env.reset(seed=episode_seed(seed, episodes))
                episodes += 1
        step += study.n_envs
        if step % rollout == 0:
            tracker.read(step, history)
    return {"curve": tracker.rows, **_summary(tracker.rows, history, step, envs)}


def run_one(
    study: CuriosityStudy,
    env_id: str,
    method: str,
    tv: bool | None,
    seed: int,
    checkpoint: Path | None = None,
) -> dict[str, Any]:
    """One run: the random policy, or PPO on curiosity alone in the feature space `method`.

    Returns:
        ``curve`` (rows of step, cells visited, remote fraction and extrinsic return since the last
        row) and the final readings (`_summary`).
    """
    import torch

    from hrl.agents.ppo import PPO
    from hrl.config import PPOConfig
    from hrl.curiosity.config import CuriosityConfig, EpisodicConfig
    from hrl.curiosity.episodic import EpisodicCuriosity
    from hrl.curiosity.features import FeatureCuriosity

    if method == "random-policy":
        return _random_policy_run(study, env_id, tv, seed)
    probe = _make_env(study, env_id, tv)
    obs_shape, n_actions = tuple(probe.observation_space.shape), int(probe.action_space.n)
    rng, episodes = np.random.default_rng([seed, 23]), [[]]
    obs, _ = probe.reset(seed=seed)
    for _ in range(study.stats_steps):  # a random agent: the observation statistics, R's pairs
        episodes[-1].append(np.asarray(obs, np.float32).reshape(-1))
        obs, _, terminated, truncated, _ = probe.step(int(rng.integers(n_actions)))
        if terminated or truncated:
            obs, _ = probe.reset()
            episodes.append([])
    trajectories = [torch.from_numpy(np.stack(steps)) for steps in episodes if steps]
    extra: dict[str, Any] = {}
    if method == "ecr":
        module: Any = EpisodicCuriosity(
            obs_shape,
            study.n_envs,
            EpisodicConfig(
                lr=study.ecr_lr,
                epochs=study.ecr_epochs,
                minibatches=study.ecr_minibatches,
                online_pairs=study.ecr_online_pairs,
                seed=seed,
            ),
        )
        fit = module.fit_reachability(trajectories, pairs=study.ecr_pairs)
        extra["reachability_accuracy"] = fit["accuracy"]
    else:
        module = FeatureCuriosity(
            obs_shape,
            n_actions,
            CuriosityConfig(
                features=method,
                feature_dim=study.feature_dim,
                hidden=study.hidden,
                lr=study.curiosity_lr,
                epochs=study.epochs,
                minibatches=study.minibatches,
                seed=seed,
            ),
        )
        module.fit_observation_stats(torch.cat(trajectories))
    rollout = study.n_envs * study.n_steps
    config = PPOConfig(
        n_envs=study.n_envs,
        n_steps=study.n_steps,
        batch_size=max(1, rollout // study.minibatches),
        n_epochs=study.epochs,
        learning_rate=study.lr,
        gamma=study.gamma,
        gae_lambda=study.gae_lambda,
        clip_range=study.clip_range,
        ent_coef=study.ent_coef,
        extrinsic_coef=0.0,
        intrinsic_coef=1.0,
        normalize_intrinsic=True,
        infinite_horizon=True,
        total_timesteps=_steps(study, env_id),
        seed=seed,
    )
    agent = PPO(lambda: _make_env(study, env_id, tv), config, intrinsic=module)
    tracker = _Tracker(list(agent.env.envs), study.report_every)
    agent.learn(
        checkpoint=checkpoint,
        callback=lambda a: tracker.read(a.num_timesteps, a.history),
        progress_bar=True,
    )
    summary = _summary(tracker.rows, agent.history, agent.num_timesteps, list(agent.env.envs))
    return {"curve": tracker.rows, **summary, **extra}


_NOT_PER_RUN = ("envs", "features", "tv", "seeds", "episodic", "atari_steps")
_ECR_ONLY = ("ecr_pairs", "ecr_lr", "ecr_epochs", "ecr_minibatches", "ecr_online_pairs")


def _same_run(saved: dict[str, Any], study: CuriosityStudy, method: str) -> bool:
    """Whether a cached run of `method` was made with the settings `study` would run it with (the
    lists of envs, methods, conditions and seeds may differ; the R-network's settings matter only
    to ``"ecr"``)."""
    current, defaults = asdict(study), asdict(CuriosityStudy())
    skip = _NOT_PER_RUN if method == "ecr" else _NOT_PER_RUN + _ECR_ONLY
    # a setting added after a run was cached counts as its default there
    return all(saved.get(key, defaults[key]) == current[key] for key in current if key not in skip)


def _condition(env_id: str, tv: bool | None) -> str:
    if tv is None:
        return "no TV"
    return "TV on" if tv else "TV off"


def run_curiosity_study(options: Any, study: CuriosityStudy) -> list[Any]:
    """Run every (env, TV condition, method, seed), publish the tables, save the figure."""
    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd

    out = Path(options.out)
    cache = out / "curiosity_runs"
    cache.mkdir(parents=True, exist_ok=True)
    methods = ("random-policy", *study.features, *(("ecr",) if study.episodic else ()))
    results: dict[tuple[str, str, str], list[dict]] = {}
    notes = (
        f"PPO on curiosity alone (extrinsic reward never seen, reward normalised by the running sd of its "
        f"discounted return, advantages normalised, no end-of-episode signal), {study.steps} steps per maze run "
        f"({study.n_envs} envs x {study.n_steps}), {study.seeds} seed(s) from {options.seed}, lr {study.lr}, "
        f"features {study.feature_dim}; MiniGrid: {study.max_steps}-step episodes in one fixed layout "
        f"(seed {study.layout_seed}), extrinsic return 1 - 0.9 t / {study.max_steps} on reaching the goal. "
        "Burda et al. (curves, no single numbers): returns rise without any reward; random features "
        "competitive, IDF generalising best, pixels worst; a noisy TV attracts the agent"
    )
    tables: list[Any] = []
    for env_id in study.envs:
        conditions: tuple[bool | None, ...] = study.tv if env_id.startswith("MiniGrid-") else (None,)
        for tv in conditions:
            for method in (
                methods if env_id.startswith("MiniGrid-") else tuple(m for m in methods if m != "ecr")
            ):
                for i in range(study.seeds):
                    seed = options.seed + i
                    name = f"{env_id.replace('/', '_')}_{_condition(env_id, tv).replace(' ', '_')}_{method}_{seed}"
                    path = cache / f"{name}.json"
                    if path.exists() and _same_run(json.loads(path.read_text())["study"], study, method):
                        result = json.loads(path.read_text())["result"]
                    else:
                        checkpoint = cache / f"{name}.ckpt" if env_id.startswith("ALE/") else None
                        result = run_one(study, env_id, method, tv, seed, checkpoint)
                        path.write_text(json.dumps({"study": asdict(study), "result": result}))
                    results.setdefault((env_id, _condition(env_id, tv), method), []).append(result)
        rows = []
        for (env, condition, method), runs in results.items():
            if env != env_id:
                continue
            rows.append(
                {
                    "env": env,
                    "condition": condition,
                    "method": method,
                    "cells_visited": mean_sd([r.get("cells_visited") for r in runs], 1),
                    "extrinsic_return_last_quarter": mean_sd(
                        [r["extrinsic_return_last_quarter"] for r in runs]
                    ),
                    "goal_rate_last_quarter": mean_sd([r["goal_rate_last_quarter"] for r in runs]),
                    "remote_fraction_last_quarter": mean_sd(
                        [r.get("remote_fraction_last_quarter") for r in runs]
                    ),
                    "episodes": mean_sd([r["episodes"] for r in runs], 1),
                    "reachability_accuracy": mean_sd([r.get("reachability_accuracy") for r in runs]),
                    **(_atari_columns(runs) if env_id.startswith("ALE/") else {}),
                }
            )
            if env_id.startswith("ALE/"):  # no maze, TV or R-network readings
                for key in ("cells_visited", "goal_rate_last_quarter", "remote_fraction_last_quarter"):
                    del rows[-1][key]
                del rows[-1]["reachability_accuracy"]
        table = ResultTable(
            f"curiosity_{env_id.replace('/', '_').replace('-', '_').lower()}",
            rows,
            title=f"Curiosity-only PPO in four feature spaces and episodic curiosity (ecr) against a random "
            f"policy on {env_id}",
            notes=_ATARI_NOTES
            if env_id.startswith("ALE/")
            else notes
            + "; remote_fraction: share of steps pressing the TV remote (4 actions: 0.25 at random); ecr: "
            "Savinov et al.'s episodic curiosity (R-network fitted first on the random agent's "
            f"{study.stats_steps} steps, {study.ecr_pairs} pairs, k = 5, gamma = 5, memory 200, 90th "
            "percentile, bonus 0.5 - F; reachability_accuracy on those pairs, chance 0.5). Savinov et al. "
            "(DMLab, noisy TV): the forward-model bonus collapses onto the TV, the episodic one keeps exploring",
            data=f"{env_id} (gymnasium: minigrid / ale-py; simulated)",
        )
        options.publish(table)
        tables.append(table)
    curve_rows = [
        {"env": env, "condition": condition, "method": method, **row}
        for (env, condition, method), runs in results.items()
        for row in runs[0]["curve"]
    ]
    maze_study = any(env.startswith("MiniGrid-") for env in study.envs)
    curve = ResultTable(
        "curiosity_curves",
        curve_rows,
        title="Curiosity study curves (first seed)",
        notes=notes if maze_study else _ATARI_NOTES,
    )
    options.publish(curve, quiet=True)
    tables.append(curve)
    _figure(results, out / "curiosity.png", new_figure, save_figure)
    _atari_figure(results, out / "curiosity_atari.png", new_figure, save_figure)
    return tables


_ATARI_NOTES = (
    "Atari: extrinsic_return is the game score per episode (5 lives; the agent never sees it), "
    "first/last quarter by the episode's end step; frames = 4 x agent steps (frame skip 4, sticky actions "
    "0.25, up to 30 no-op starts); random-policy: uniform actions on the same envs. Burda et al. "
    "(curves, no single numbers in the summary): intrinsic-only agents gain game score, random features "
    "do well"
)


def _atari_columns(runs: list[dict]) -> dict[str, Any]:
    """Atari readings: the first quarter's mean score per episode beside the last quarter's."""
    from core.results import mean_sd

    return {
        "extrinsic_return_first_quarter": mean_sd([r.get("extrinsic_return_first_quarter") for r in runs]),
        "extrinsic_return_all": mean_sd([r["extrinsic_return_all"] for r in runs]),
    }


def _atari_figure(results: dict, path: Path, new_figure: Any, save_figure: Any) -> None:
    """Extrinsic score per episode against frames, one panel per Atari game, one line per method."""
    games = sorted({key[0] for key in results if key[0].startswith("ALE/")})
    if not games:
        return
    figure = new_figure(4.5 * len(games), 3.4)
    for column, game in enumerate(games):
        axes = figure.add_subplot(1, len(games), column + 1)
        for key, runs in results.items():
            if key[0] != game:
                continue
            points = [(4 * row["step"], row["extrinsic_return"]) for row in runs[0]["curve"]]
            points = [(frames, value) for frames, value in points if value is not None]
            axes.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=key[2])
        axes.set_title(f"{game}, intrinsic reward only")
        axes.set_xlabel("frames")
        axes.set_ylabel("extrinsic score per episode")
        axes.legend(fontsize=7)
    save_figure(figure, path)


def _figure(results: dict, path: Path, new_figure: Any, save_figure: Any) -> None:
    maze = [key for key in results if key[0].startswith("MiniGrid-")]
    conditions = sorted({key[1] for key in maze})
    if not conditions:
        return
    figure = new_figure(4.0 * len(conditions), 6.4)
    for column, condition in enumerate(conditions):
        top = figure.add_subplot(2, len(conditions), column + 1)
        bottom = figure.add_subplot(2, len(conditions), len(conditions) + column + 1)
        for key in maze:
            if key[1] != condition:
                continue
            curve = results[key][0]["curve"]
            steps = [row["step"] for row in curve]
            top.plot(steps, [row["cells_visited"] for row in curve], marker=".", label=key[2])
            bottom.plot(steps, [row["remote_fraction"] for row in curve], marker=".", label=key[2])
        top.set_title(f"{maze[0][0]}, {condition}")
        top.set_ylabel("cells visited (all envs)")
        bottom.set_ylabel("fraction of steps on the remote")
        bottom.set_xlabel("environment steps")
        top.legend(fontsize=7)
    save_figure(figure, path)


def curiosity(options: Any) -> list[Any]:
    """``reproduce hrl --only curiosity``: the study at ``options.scale``."""
    return run_curiosity_study(options, SMOKE if options.scale == "smoke" else FULL)


def curiosity_atari(options: Any) -> list[Any]:
    """``reproduce hrl --only curiosity-atari``: the Atari part of the study at ``options.scale``."""
    return run_curiosity_study(options, ATARI_SMOKE if options.scale == "smoke" else ATARI_FULL)
