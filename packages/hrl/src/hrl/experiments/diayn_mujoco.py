"""DIAYN on MuJoCo (``reproduce hrl --only diayn-mujoco``): skills without reward on HalfCheetah-v5 (and Ant-v5).

Eysenbach, Gupta, Ibarz and Levine, "Diversity is All You Need" (ICLR 2019), sec. 4: `hrl.agents.diayn.DIAYN`
(skill-conditioned SAC, alpha 0.1, reward log q(z | s') - log p(z)) on gymnasium's MuJoCo tasks, the
observation extended with the torso's position (``exclude_current_positions_from_observation=False``)
so the skills' traces can be drawn, the discriminator shown the task's usual observation (everything
but that position: the paper's discriminator on the state, no x-y prior). Ant: its contact forces
left out and no early termination, so every episode has ``episode_steps`` steps.

Every ``eval_every`` steps (and before training) each skill's deterministic rollout is scored: the
discriminator's accuracy on its states (chance 1 / K), its task return (the environment's reward,
which DIAYN never sees) and its final x. Reported: accuracy against steps, the best skill's return
against a random policy's, the skills' x (x-y) traces as a figure. The paper's finding: distinct
skills (running forward and backward, flipping) emerge without reward, and the best skill's return is
far above a random policy's (a figure; no number in our notes).

Each seed is checkpointed at every evaluation (``<out>/diayn_mujoco_runs/<env>_<seed>.safetensors``)
with its evaluations in a JSON beside it; a rerun whose configuration matches resumes there.

Budgets: `SMOKE` (HalfCheetah) and `FULL` (HalfCheetah and Ant, the paper's network sizes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["FULL", "SMOKE", "DiaynMujocoStudy", "diayn_mujoco", "make_skill_env", "run_diayn_mujoco_study"]

POSITION_DIMS = {"HalfCheetah-v5": 1, "Ant-v5": 2}
"""How many leading observation dimensions are the torso's position (x, or x and y)."""


@dataclass(frozen=True)
class DiaynMujocoStudy:
    """Budget of the study: per task in ``envs``, ``seeds`` runs of ``steps`` steps.

    Attributes:
        skills: K. episode_steps: steps per episode. hidden: widths of policy, critics, discriminator.
        lr: Adam step size of all of them. learning_starts: random steps first.
        eval_every: steps between evaluations (a multiple of ``episode_steps``).
    """

    envs: tuple[str, ...] = ("HalfCheetah-v5",)
    skills: int = 5
    steps: int = 10_000
    seeds: int = 1
    episode_steps: int = 200
    hidden: tuple[int, ...] = (128, 128)
    lr: float = 1e-3
    learning_starts: int = 1_000
    eval_every: int = 2_000

    def __post_init__(self) -> None:
        unknown = [name for name in self.envs if name not in POSITION_DIMS]
        if unknown:
            raise InputError(
                "DIAYN MuJoCo study: unknown task",
                item=unknown[0],
                expected=f"one of {sorted(POSITION_DIMS)}",
            )
        if self.eval_every % self.episode_steps or self.steps % self.eval_every:
            raise InputError(
                "DiaynMujocoStudy.eval_every must be a multiple of episode_steps and divide steps",
                item=(self.eval_every, self.episode_steps, self.steps),
            )


SMOKE = DiaynMujocoStudy()
"""HalfCheetah-v5, 5 skills, 10 000 steps (50 episodes of 200), 1 seed, 128-128."""

FULL = DiaynMujocoStudy(
    envs=("HalfCheetah-v5", "Ant-v5"),
    skills=20,
    steps=300_000,
    seeds=3,
    episode_steps=1_000,
    hidden=(300, 300),
    lr=3e-4,
    learning_starts=10_000,
    eval_every=20_000,
)
"""HalfCheetah-v5 and Ant-v5, 20 skills, 300 000 steps x 3 seeds, 1 000-step episodes, the paper's
300-300 networks and lr 3e-4; not run (hours in the README)."""


def make_skill_env(name: str, episode_steps: int) -> Any:
    """`name` with the torso position observed first (Ant: no contact forces, no early termination)."""
    import gymnasium as gym

    kwargs: dict[str, Any] = {"exclude_current_positions_from_observation": False}
    if name == "Ant-v5":
        kwargs.update(include_cfrc_ext_in_observation=False, terminate_when_unhealthy=False)
    return gym.make(name, max_episode_steps=episode_steps, **kwargs)


def _config(study: DiaynMujocoStudy, name: str, obs_dim: int, seed: int) -> Any:
    from hrl.config import DIAYNConfig

    return DIAYNConfig(
        skills=study.skills,
        hidden=study.hidden,
        discriminator_hidden=study.hidden,
        lr=study.lr,
        discriminator_lr=study.lr,
        discriminator_indices=tuple(range(POSITION_DIMS[name], obs_dim)),
        learning_starts=study.learning_starts,
        buffer_size=study.steps,
        total_timesteps=study.steps,
        seed=seed,
    )


def evaluate_skills(agent: Any, env: Any, seed: int) -> dict[str, Any]:
    """Every skill's deterministic rollout from one seeded start: accuracy, returns, traces.

    Returns:
        ``accuracy`` (the discriminator's guess over all states after the first), ``returns`` (K,),
        ``final_x`` (K,), ``traces`` (K lists of positions per step: x, or x and y).
    """
    import torch

    correct = total = 0
    returns, traces = [], []
    for skill in range(agent.skills):
        obs, _ = env.reset(seed=seed)
        states, episode_return, done = [np.asarray(obs, dtype=np.float32)], 0.0, False
        while not done:
            action, _ = agent.predict(np.asarray(obs, dtype=np.float32), state=skill, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            states.append(np.asarray(obs, dtype=np.float32))
            episode_return += float(reward)
            done = terminated or truncated
        trace = np.stack(states)
        with torch.no_grad():
            guess = agent.discriminate(torch.from_numpy(trace[1:])).argmax(-1)
        correct, total = correct + int((guess == skill).sum()), total + len(trace) - 1
        returns.append(episode_return)
        traces.append(trace[:, : POSITION_DIMS.get(env.spec.id, 1)].round(3).tolist())
    return {
        "accuracy": correct / total,
        "returns": returns,
        "final_x": [trace[-1][0] for trace in traces],
        "traces": traces,
    }


def random_return(env: Any, seed: int) -> float:
    """The task return of uniform random actions over one episode from the same seeded start."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, _ = env.step(
            rng.uniform(env.action_space.low, env.action_space.high)
        )
        total, done = total + float(reward), terminated or truncated
    return total


def run_seed(study: DiaynMujocoStudy, name: str, seed: int, folder: Path | None) -> dict[str, Any]:
    """One seed on task `name`: evaluations at 0, eval_every, ... steps (resumable via `folder`)."""
    from hrl.agents.diayn import DIAYN

    env, eval_env = make_skill_env(name, study.episode_steps), make_skill_env(name, study.episode_steps)
    config = _config(study, name, env.observation_space.shape[0], seed)
    settings = json.loads(json.dumps({"config": asdict(config), "study": asdict(study), "env": name}))
    record = {"settings": settings, "evals": {}, "done": False}
    log = folder / f"{name}_{seed}.json" if folder is not None else None
    checkpoint = log.with_suffix(".safetensors") if log is not None else None
    if log is not None and log.exists():
        saved = json.loads(log.read_text())
        if saved.get("settings") == settings:
            if saved["done"]:
                return saved
            record = saved
    if not record["evals"] and checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()  # another configuration's run
    agent = DIAYN(env, config)
    if "0" not in record["evals"]:
        record["evals"]["0"] = evaluate_skills(agent, eval_env, seed)
    record["random_return"] = random_return(eval_env, seed)
    for target in range(study.eval_every, study.steps + 1, study.eval_every):
        if str(target) in record["evals"] and checkpoint is not None and checkpoint.exists():
            continue
        agent.learn(target, checkpoint=checkpoint, checkpoint_every=study.eval_every, progress_bar=True)
        record["evals"][str(target)] = evaluate_skills(agent, eval_env, seed)
        if log is not None:
            log.write_text(json.dumps(record))
    record["done"] = True
    if log is not None:
        log.write_text(json.dumps(record))
    return record


def run_diayn_mujoco_study(options: Any, study: DiaynMujocoStudy) -> list[Any]:
    """Run `study`; publish the accuracy-against-steps and the skills tables, draw the traces figure."""
    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd

    folder = Path(options.out) / "diayn_mujoco_runs"
    folder.mkdir(parents=True, exist_ok=True)
    notes = (
        f"{study.skills} skills, {study.steps} steps per seed, {study.seeds} seeds from {options.seed}, "
        f"{study.episode_steps}-step episodes, networks {study.hidden}, lr {study.lr}, alpha 0.1; accuracy: the "
        "discriminator's guess on each state of each skill's deterministic rollout (chance 1/K); return: the "
        "task's reward, never seen by DIAYN; the paper: distinct skills without reward, the best skill far above "
        "random (a figure, no number in our notes)"
    )
    runs = {
        name: [run_seed(study, name, options.seed + i, folder) for i in range(study.seeds)]
        for name in study.envs
    }
    curve_rows, final_rows = [], []
    for name, records in runs.items():
        for step in sorted({int(s) for s in records[0]["evals"]}):
            evals = [r["evals"][str(step)] for r in records]
            curve_rows.append(
                {
                    "env": name,
                    "step": step,
                    "discriminator_accuracy": mean_sd([e["accuracy"] for e in evals]),
                    "chance": 1.0 / study.skills,
                    "best_skill_return": mean_sd([max(e["returns"]) for e in evals]),
                    "final_x_spread": mean_sd([float(np.std(e["final_x"])) for e in evals]),
                }
            )
        last = [r["evals"][str(study.steps)] for r in records]
        first = [r["evals"]["0"] for r in records]
        final_rows.append(
            {
                "env": name,
                "best_skill_return": mean_sd([max(e["returns"]) for e in last]),
                "best_skill_return_before_training": mean_sd([max(e["returns"]) for e in first]),
                "random_policy_return": mean_sd([r["random_return"] for r in records]),
                "skill_returns_seed0": [round(x, 1) for x in last[0]["returns"]],
                "skill_final_x_seed0": [round(x, 2) for x in last[0]["final_x"]],
                "discriminator_accuracy": mean_sd([e["accuracy"] for e in last]),
            }
        )
    data = "gymnasium MuJoCo " + ", ".join(study.envs) + " (simulated), torso position observed"
    curve = ResultTable(
        "exploration_diayn_mujoco_curve",
        curve_rows,
        title="DIAYN on MuJoCo: discriminator accuracy and the best skill's return against steps",
        notes=notes,
        data=data,
    )
    options.publish(curve)
    final = ResultTable(
        "exploration_diayn_mujoco_skills",
        final_rows,
        title=f"DIAYN on MuJoCo after {study.steps} steps: the best skill against random actions",
        notes=notes + f"; {study.episode_steps}-step episodes for every return",
        data=data,
    )
    options.publish(final)
    figure = new_figure(4.2 * (len(study.envs) + 1), 3.8)
    for column, (name, records) in enumerate(runs.items()):
        axes = figure.add_subplot(1, len(study.envs) + 1, column + 1)
        for skill, trace in enumerate(records[0]["evals"][str(study.steps)]["traces"]):
            trace = np.asarray(trace)
            if trace.shape[1] == 2:
                axes.plot(trace[:, 0], trace[:, 1], label=f"skill {skill}")
                axes.set_xlabel("x")
                axes.set_ylabel("y")
                axes.set_aspect("equal", adjustable="datalim")
            else:
                axes.plot(np.arange(len(trace)), trace[:, 0], label=f"skill {skill}")
                axes.set_xlabel("step")
                axes.set_ylabel("x")
        axes.set_title(f"{name} skills (seed {options.seed})")
        axes.legend(fontsize=6)
    axes = figure.add_subplot(1, len(study.envs) + 1, len(study.envs) + 1)
    for name, records in runs.items():
        steps = sorted({int(s) for s in records[0]["evals"]})
        values = np.array([[r["evals"][str(s)]["accuracy"] for s in steps] for r in records])
        axes.plot(steps, values.mean(0), marker=".", label=name)
    axes.axhline(1.0 / study.skills, color="0.5", linestyle=":", label="chance")
    axes.set_xlabel("environment steps")
    axes.set_ylabel("discriminator accuracy")
    axes.set_ylim(0, 1)
    axes.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "exploration_diayn_mujoco.png")
    return [curve, final]


def diayn_mujoco(options: Any) -> list[Any]:
    """``reproduce hrl --only diayn-mujoco`` at ``options.scale``."""
    return run_diayn_mujoco_study(options, SMOKE if options.scale == "smoke" else FULL)
