"""DIAYN on MuJoCo: the task wrappers, the skill evaluation and a tiny resumable study."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputError
from hrl.experiments.diayn_mujoco import DiaynMujocoStudy, _config, make_skill_env


def test_the_torso_position_is_observed_first_and_hidden_from_the_discriminator():
    env = make_skill_env("HalfCheetah-v5", 5)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (18,) and obs[0] == pytest.approx(env.unwrapped.data.qpos[0])
    config = _config(DiaynMujocoStudy(), "HalfCheetah-v5", 18, 0)
    assert config.discriminator_indices == tuple(range(1, 18))  # the task's usual 17-dim observation
    ant = make_skill_env("Ant-v5", 5)
    assert ant.observation_space.shape == (29,)  # x, y first; no contact forces
    assert _config(DiaynMujocoStudy(), "Ant-v5", 29, 0).discriminator_indices[0] == 2


def test_bad_studies_raise_naming_the_item():
    with pytest.raises(InputError, match="unknown task"):
        DiaynMujocoStudy(envs=("Hopper-v5",))
    with pytest.raises(InputError, match="eval_every"):
        DiaynMujocoStudy(steps=1000, eval_every=300, episode_steps=200)


def test_a_tiny_study_publishes_its_tables_and_resumes_from_its_runs(tmp_path):
    from core.cli import RunOptions
    from hrl.experiments.diayn_mujoco import run_diayn_mujoco_study

    study = DiaynMujocoStudy(
        skills=2, steps=40, episode_steps=10, hidden=(8,), learning_starts=10, eval_every=20
    )
    tables = run_diayn_mujoco_study(RunOptions(out=tmp_path, seed=0), study)
    assert [t.name for t in tables] == ["exploration_diayn_mujoco_curve", "exploration_diayn_mujoco_skills"]
    assert [row["step"] for row in tables[0].rows] == [0, 20, 40]
    record = tmp_path / "diayn_mujoco_runs" / "HalfCheetah-v5_0.json"
    saved = json.loads(record.read_text())
    final = saved["evals"]["40"]
    assert saved["done"] and len(final["returns"]) == 2 and 0 <= final["accuracy"] <= 1
    assert np.asarray(final["traces"]).shape == (2, 11, 1)  # x at every step of each skill's rollout
    assert (tmp_path / "exploration_diayn_mujoco.png").exists()
    stamp = record.stat().st_mtime_ns
    run_diayn_mujoco_study(RunOptions(out=tmp_path, seed=0), study)  # reuses the finished run
    assert record.stat().st_mtime_ns == stamp
