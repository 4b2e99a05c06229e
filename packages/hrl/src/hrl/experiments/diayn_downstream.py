"""DIAYN's downstream uses (Eysenbach et al., ICLR 2019, sec. 4.2 and 4.3) on the point room.

Skills are pretrained without reward (`hrl.experiments.exploration.run_diayn_study`, which saves them),
then a sparse task is posed: `SparseGoal` pays 1 and ends the episode when the point comes within
`radius` of `goal`. Three agents meet it at the same number of environment steps:

- the best pretrained skill: each skill's deterministic rollout on the task, the best return kept
  (the paper's "policy initialisation" reads the best skill before fine-tuning; not fine-tuned here);
- a hierarchical controller over the frozen skills (the paper's sec. 4.3): PPO choosing a skill every
  ``skill_steps`` steps on `SkillEnv` (a Discrete(K) action runs that skill's deterministic policy
  for ``skill_steps`` steps, summing the task reward);
- SAC from scratch on the task.

The reading is the deterministic return (0 or 1: reached or not) and the training episodes that
reached the goal. The paper's finding: the controller over DIAYN skills solves sparse tasks SAC from
scratch does not (its cheetah hurdle and ant navigation; no single number to set beside ours).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from core.errors import InputError

__all__ = [
    "DOWNSTREAM_FULL",
    "DOWNSTREAM_SMOKE",
    "DownstreamStudy",
    "SkillEnv",
    "SparseGoal",
    "run_diayn_downstream",
]


class SparseGoal(gym.Wrapper):
    """Reward 1 and termination when the first two observation entries (x, y) come within `radius`
    of `goal`, else reward 0: a sparse task on top of a reward-free env."""

    def __init__(self, env: gym.Env, goal: tuple[float, float], radius: float) -> None:
        super().__init__(env)
        goal_array = np.asarray(goal, dtype=np.float64)
        if goal_array.shape != (2,) or not np.isfinite(goal_array).all():
            raise InputError("SparseGoal.goal must be two finite numbers (x, y)", item=goal)
        if not radius > 0:
            raise InputError("SparseGoal.radius must be positive", item=radius)
        self.goal, self.radius = goal_array, float(radius)

    def step(self, action: Any):
        obs, _, terminated, truncated, info = self.env.step(action)
        reached = bool(np.linalg.norm(np.asarray(obs[:2], dtype=np.float64) - self.goal) < self.radius)
        return obs, float(reached), terminated or reached, truncated, info


class SkillEnv(gym.Env):
    """A controller's view of `env`: action k runs skill k of `skills` (an agent with DIAYN's
    ``predict(obs, state=skill)``) deterministically for `skill_steps` steps or until the episode
    ends; the reward is the sum of `env`'s rewards over them; the observation is `env`'s."""

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(self, env: gym.Env, skills: Any, skill_steps: int) -> None:
        if not isinstance(skill_steps, int) or isinstance(skill_steps, bool) or skill_steps < 1:
            raise InputError("SkillEnv.skill_steps must be a positive integer", item=skill_steps)
        self.env, self.skills, self.skill_steps = env, skills, skill_steps
        self.observation_space = env.observation_space
        self.action_space = gym.spaces.Discrete(int(skills.skills))
        self._obs: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._obs, info = self.env.reset(seed=seed, options=options)
        return self._obs, info

    def step(self, action: Any):
        skill = int(action)
        if not 0 <= skill < self.action_space.n:
            raise InputError(
                "SkillEnv action is not a skill", item=action, expected=f"0 .. {self.action_space.n - 1}"
            )
        total, terminated, truncated, info = 0.0, False, False, {}
        for _ in range(self.skill_steps):
            low, _ = self.skills.predict(self._obs, state=skill, deterministic=True)
            self._obs, reward, terminated, truncated, info = self.env.step(low)
            total += float(reward)
            if terminated or truncated:
                break
        return self._obs, total, terminated, truncated, info


@dataclass(frozen=True)
class DownstreamStudy:
    """The sparse task and the downstream budgets.

    Attributes:
        goal, radius: `SparseGoal`'s (the room is 24 x 24 around the start at (0, 0)).
        steps: environment steps of the controller and of SAC from scratch, each.
        skill_steps: steps per controller decision.
        hidden, lr: the controller's and SAC's widths and Adam step. learning_starts: SAC's random steps.
        controller_envs, controller_rollout: PPO's envs and decisions per env per rollout.
    """

    goal: tuple[float, float] = (9.0, 9.0)
    radius: float = 2.5
    steps: int = 5_000
    skill_steps: int = 10
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3
    learning_starts: int = 500
    controller_envs: int = 4
    controller_rollout: int = 25

    def __post_init__(self) -> None:
        for name in ("steps", "skill_steps", "learning_starts", "controller_envs", "controller_rollout"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"DownstreamStudy.{name} must be a positive integer", item=value)


DOWNSTREAM_SMOKE = DownstreamStudy()
"""One corner goal, 5 000 steps each for the controller and SAC, on the smoke skills (timed in the README)."""

DOWNSTREAM_FULL = DownstreamStudy(steps=50_000, hidden=(300, 300), lr=3e-4, learning_starts=1_000)
"""10 x the steps with the paper's widths, on `DIAYN_FULL`'s skills (not run)."""


def _task(study: DownstreamStudy, episode_steps: int) -> gym.Env:
    from hrl.envs.point_maze import make_point_room

    return SparseGoal(make_point_room(episode_steps), study.goal, study.radius)


def _reached(history: list[dict]) -> int:
    return int(sum(item["return"] > 0 for item in history))


def run_diayn_downstream(options: Any, skills_study: Any, study: DownstreamStudy) -> list[Any]:
    """For each seed of `skills_study` (a `DiaynStudy`): its saved skills (``<out>/diayn_skills_<seed>``,
    trained here if missing), then the best skill, the controller and SAC from scratch on the task."""
    from core.results import ResultTable, mean_sd
    from hrl.agents.diayn import DIAYN
    from hrl.agents.ppo import PPO
    from hrl.agents.sac import SAC
    from hrl.config import PPOConfig, SACConfig
    from hrl.evaluation import evaluate_policy
    from hrl.experiments.exploration import diayn_config, train_diayn_skills

    out = Path(options.out)
    episode_steps = skills_study.episode_steps
    rows: dict[str, list[tuple[float, int | None]]] = {
        "best pretrained skill": [],
        "controller over skills (PPO)": [],
        "SAC from scratch": [],
    }
    per_seed = []
    for i in range(skills_study.seeds):
        seed = options.seed + i
        path = out / f"diayn_skills_{seed}.safetensors"
        skills = DIAYN.load(path) if path.exists() else None
        if skills is None or skills.config != diayn_config(skills_study, seed):
            skills = train_diayn_skills(skills_study, seed, path)
        task = _task(study, episode_steps)
        skill_returns = [
            float(evaluate_policy(_Fixed(skills, k), task, 1, seed=seed)[0]) for k in range(skills.skills)
        ]
        rows["best pretrained skill"].append((max(skill_returns), None))

        decisions = study.steps // study.skill_steps
        rollout = study.controller_envs * study.controller_rollout
        controller = PPO(
            lambda skills=skills: SkillEnv(_task(study, episode_steps), skills, study.skill_steps),
            PPOConfig(
                hidden=study.hidden,
                n_envs=study.controller_envs,
                n_steps=study.controller_rollout,
                batch_size=rollout // 4,
                n_epochs=10,
                learning_rate=study.lr,
                gamma=0.99,
                ent_coef=0.01,
                total_timesteps=decisions,
                seed=seed,
            ),
        )
        controller.learn()
        controller_return = float(
            evaluate_policy(
                controller, SkillEnv(_task(study, episode_steps), skills, study.skill_steps), 1, seed=seed
            )[0]
        )
        rows["controller over skills (PPO)"].append((controller_return, _reached(controller.history)))

        sac = SAC(
            _task(study, episode_steps),
            SACConfig(
                hidden=study.hidden,
                actor_lr=study.lr,
                critic_lr=study.lr,
                alpha_lr=study.lr,
                batch_size=100,
                learning_starts=study.learning_starts,
                total_timesteps=study.steps,
                seed=seed,
            ),
        )
        sac.learn()
        sac_return = float(evaluate_policy(sac, _task(study, episode_steps), 1, seed=seed)[0])
        rows["SAC from scratch"].append((sac_return, _reached(sac.history)))
        per_seed.append(
            {
                "seed": seed,
                "skill_returns": skill_returns,
                "controller_return": controller_return,
                "controller_reached_in_training": _reached(controller.history),
                "controller_episodes": len(controller.history),
                "sac_return": sac_return,
                "sac_reached_in_training": _reached(sac.history),
                "sac_episodes": len(sac.history),
            }
        )
    (out / "diayn_downstream_runs.json").write_text(json.dumps({"study": asdict(study), "runs": per_seed}))
    table = ResultTable(
        "exploration_diayn_downstream",
        [
            {
                "agent": name,
                "deterministic_return": mean_sd([r for r, _ in values]),
                "training_episodes_reaching_goal": mean_sd([n for _, n in values], 1),
            }
            for name, values in rows.items()
        ],
        title=f"DIAYN downstream: reach {study.goal} (radius {study.radius}) in the point room, sparse reward",
        notes=(
            f"{skills_study.skills} skills pretrained without reward for {skills_study.steps} steps; then "
            f"{study.steps} environment steps each for the controller (PPO over skills, one decision per "
            f"{study.skill_steps} steps) and SAC from scratch (networks {study.hidden}, lr {study.lr}); "
            f"{skills_study.seeds} seeds from {options.seed}; {episode_steps}-step episodes from (0, 0); return 1 "
            "when the goal is reached. Eysenbach et al.: a controller over DIAYN skills solves sparse tasks "
            "that SAC from scratch does not (curves, no single number)"
        ),
        data="hrl.envs.point_maze.make_point_room + SparseGoal (simulated)",
    )
    options.publish(table)
    return [table]


class _Fixed:
    """One skill of a DIAYN agent as an SB3-shaped policy (for `evaluate_policy`)."""

    def __init__(self, agent: Any, skill: int) -> None:
        self.agent, self.skill = agent, skill

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ):
        return self.agent.predict(observation, state=self.skill, deterministic=True)[0], None
