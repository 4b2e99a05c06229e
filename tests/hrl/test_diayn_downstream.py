"""DIAYN's downstream wrappers: the sparse goal and the controller's skill env."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.envs.point_maze import make_point_room
from hrl.experiments.diayn_downstream import DownstreamStudy, SkillEnv, SparseGoal


class _Compass:
    """Stand-in skills: skill k moves one unit along one of the four compass directions."""

    skills = 4
    moves = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], dtype=np.float32)

    def predict(self, observation, state=None, deterministic=True):
        return self.moves[int(state)], state


def test_sparse_goal_pays_one_and_ends_only_inside_the_radius():
    env = SparseGoal(make_point_room(50), goal=(3.0, 0.0), radius=1.5)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(np.array([1.0, 0.0], dtype=np.float32))  # at x = 1: 2 away
    assert reward == 0.0 and not terminated
    _, reward, terminated, _, _ = env.step(np.array([1.0, 0.0], dtype=np.float32))  # at x = 2: 1 away
    assert reward == 1.0 and terminated


def test_skill_env_runs_a_skill_for_its_steps_and_sums_the_reward():
    env = SkillEnv(SparseGoal(make_point_room(50), goal=(0.0, 9.0), radius=2.5), _Compass(), skill_steps=4)
    obs, _ = env.reset(seed=0)
    obs, reward, terminated, _, _ = env.step(0)  # east 4
    assert np.allclose(obs, [4.0, 0.0]) and reward == 0.0 and not terminated
    obs, _, _, _, _ = env.step(2)  # west 4: back at the start
    assert np.allclose(obs, [0.0, 0.0])
    env.step(1)  # north 4: y = 4
    obs, reward, terminated, _, _ = env.step(1)  # north: reaches y = 7 (2 from the goal) on its 3rd step
    assert np.allclose(obs, [0.0, 7.0]) and reward == 1.0 and terminated


def test_skill_env_passes_check_env_and_bad_inputs_raise():
    check_env(SkillEnv(make_point_room(20), _Compass(), skill_steps=5), skip_render_check=True)
    with pytest.raises(InputError, match="skill_steps"):
        SkillEnv(make_point_room(20), _Compass(), skill_steps=0)
    env = SkillEnv(make_point_room(20), _Compass(), skill_steps=2)
    env.reset(seed=0)
    with pytest.raises(InputError, match="not a skill"):
        env.step(4)
    with pytest.raises(InputError, match="radius"):
        SparseGoal(make_point_room(20), goal=(1.0, 1.0), radius=0.0)
    with pytest.raises(InputError, match="steps"):
        DownstreamStudy(steps=0)


def test_a_tiny_downstream_study_reuses_the_saved_skills_and_publishes(tmp_path):
    import json
    from dataclasses import replace

    from core.cli import RunOptions
    from hrl.experiments.diayn_downstream import run_diayn_downstream
    from hrl.experiments.exploration import DIAYN_SMOKE, train_diayn_skills

    skills = replace(
        DIAYN_SMOKE, skills=2, steps=40, seeds=1, episode_steps=20, hidden=(8,), learning_starts=20
    )
    path = tmp_path / "diayn_skills_0.safetensors"
    train_diayn_skills(skills, 0, path)
    stamp = path.stat().st_mtime_ns
    study = DownstreamStudy(
        steps=40, skill_steps=5, hidden=(8,), learning_starts=20, controller_envs=2, controller_rollout=2
    )
    tables = run_diayn_downstream(RunOptions(out=tmp_path, seed=0), skills, study)
    assert path.stat().st_mtime_ns == stamp  # the saved skills were loaded, not retrained
    saved = json.loads((tmp_path / "exploration_diayn_downstream.json").read_text())
    assert [row["agent"] for row in saved["rows"]] == [
        "best pretrained skill",
        "controller over skills (PPO)",
        "SAC from scratch",
    ]
    runs = json.loads((tmp_path / "diayn_downstream_runs.json").read_text())["runs"]
    assert len(runs[0]["skill_returns"]) == 2 and tables[0].name == "exploration_diayn_downstream"
