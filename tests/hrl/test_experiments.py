"""The HIRO study: success rates counted right (a scripted agent always succeeds, a still one never),
and a tiny run of every variant publishes its tables and figure."""

from __future__ import annotations

import json
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest

from core.cli import RunOptions
from core.errors import InputError
from hrl.envs.point_maze import EVALUATION_TARGETS, PointMaze
from hrl.experiments.hiro import SMOKE, VARIANTS, run_hiro_study, success_rate

SHORT_ID = "hrl-test/PointMaze150-v0"
if SHORT_ID not in gym.registry:
    gym.register(SHORT_ID, entry_point="hrl.envs.point_maze:PointMaze", max_episode_steps=150)


class _Scripted:
    """Walks the U to whichever evaluation target the observation names (a perfect policy)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        target = obs[2:]
        route = {
            (16.0, 0.0): [(16, 0)],
            (16.0, 16.0): [(16, 0), (16, 16)],
            (0.0, 16.0): [(16, 0), (16, 16), (0, 16)],
        }
        waypoints = route[tuple(float(v) for v in target)]
        index = 0 if state is None or np.any(episode_start) else state
        while index < len(waypoints) - 1 and np.linalg.norm(obs[:2] - waypoints[index]) < 0.5:
            index += 1
        return np.clip(np.array(waypoints[index]) - obs[:2], -1, 1).astype(np.float32), index


class _Still:
    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.zeros(2, np.float32), None


def test_success_rate_counts_final_distances_under_five():
    env = gym.wrappers.TimeLimit(PointMaze(), max_episode_steps=150)
    perfect = success_rate(_Scripted(), env, EVALUATION_TARGETS, 2, seed=0)
    assert perfect == {**dict.fromkeys(EVALUATION_TARGETS, 1.0), "all": 1.0}
    assert success_rate(_Still(), env, EVALUATION_TARGETS, 1, seed=0)["all"] == 0.0  # 16 away from each


def test_a_tiny_study_of_every_variant_publishes_tables_and_a_figure(tmp_path):
    study = replace(
        SMOKE,
        env_id=SHORT_ID,
        steps=40,
        eval_every=20,
        eval_episodes=1,
        seeds=1,
        hidden=(8,),
        learning_starts=15,
    )
    tables = run_hiro_study(RunOptions(out=tmp_path, seed=0), study)
    slug = "pointmaze150_v0"
    assert [table.name for table in tables] == [f"hiro_success_curve_{slug}", f"hiro_final_success_{slug}"]
    curve = json.loads((tmp_path / f"hiro_success_curve_{slug}.json").read_text())
    assert [(row["variant"], row["step"]) for row in curve["rows"]] == [
        (v, s) for v in VARIANTS for s in (20, 40)
    ]
    assert all(0.0 <= row["success"]["mean"] <= 1.0 for row in curve["rows"])
    assert "PointMaze" in curve["data"] and curve["provenance"]["seed"] == 0
    assert (tmp_path / f"hiro_final_success_{slug}.json").exists() and (
        tmp_path / f"hiro_success_curve_{slug}.png"
    ).stat().st_size > 0
    assert all((tmp_path / f"rollout_{slug}_{name}.png").stat().st_size > 0 for name in ("hiro", "flat_td3"))
    with pytest.raises(InputError, match="unknown HIRO study variant"):
        run_hiro_study(RunOptions(out=tmp_path), replace(study, variants=("HAC",)))


def test_the_ant_fall_study_runs_end_to_end_with_its_3d_target(tmp_path, monkeypatch):
    from hrl.envs.mazes import FALL_MAZE
    from hrl.experiments import hiro

    short = "hrl-test/AntFall40-v0"  # Ant Fall with 40-step episodes, studied as Ant Fall
    if short not in gym.registry:
        gym.register(
            short, entry_point="hrl.envs.ant_maze:AntMaze", max_episode_steps=40, kwargs={"layout": FALL_MAZE}
        )
    monkeypatch.setitem(hiro.TASKS, short, hiro.TASKS["hrl/AntFall-v0"])
    study = replace(
        SMOKE,
        env_id=short,
        steps=30,
        eval_every=30,
        eval_episodes=1,
        seeds=1,
        hidden=(8,),
        learning_starts=10,
        variants=("HIRO", "flat TD3"),
    )
    tables = run_hiro_study(RunOptions(out=tmp_path, seed=0), study)
    final = tables[1].rows
    assert tables[1].name == "hiro_final_success_ant_fall" and [row["variant"] for row in final] == [
        "HIRO",
        "flat TD3",
    ]
    assert "0.66" in tables[1].notes  # the paper's number stands beside ours
    assert (tmp_path / "rollout_ant_fall_hiro.png").stat().st_size > 0


def test_a_rollout_records_one_subgoal_per_c_steps_at_s_plus_g(tmp_path):
    from hrl.agents.hiro import HIRO
    from hrl.config import HIROConfig
    from hrl.rollouts import maze_rollout, plot_maze_rollout

    env = gym.make(SHORT_ID)
    agent = HIRO(env, HIROConfig(hidden=(8,), c=10))
    rollout = maze_rollout(agent, env, (0.0, 16.0), seed=3)
    assert rollout["positions"].shape == (151, 2) and rollout["subgoals"].shape == (15, 2)
    obs, _ = env.reset(seed=3, options={"target": (0.0, 16.0)})
    _, state = agent.predict(obs)
    np.testing.assert_allclose(rollout["subgoals"][0], obs[:2] + state[0], rtol=1e-6)
    flat = maze_rollout(_Still(), env, (0.0, 16.0))
    assert flat["subgoals"].shape == (0, 2) and not flat["success"]
    assert plot_maze_rollout(rollout, env.unwrapped.walls, (0.0, 16.0), tmp_path / "r.png").stat().st_size > 0


def test_a_point_maze_recording_draws_body_target_and_subgoal_where_they_are(tmp_path):
    from PIL import Image

    from hrl.agents.hiro import HIRO
    from hrl.config import HIROConfig
    from hrl.rollouts import record_rollout, save_recording

    env = gym.make(SHORT_ID)
    walls, size, target = env.unwrapped.walls, 96, (0.0, 16.0)
    recording = record_rollout(
        HIRO(env, HIROConfig(hidden=(8,), c=10)), env, target, seed=3, size=size, every=10
    )
    assert recording["steps"] == 150 and len(recording["frames"]) == 16  # steps 0, 10, ..., 140 and the end
    low_x, low_y = walls[:, 0].min(), walls[:, 2].min()
    pixel = max(walls[:, 1].max() - low_x, walls[:, 3].max() - low_y) / size

    def at(frame, x, y):  # the pixel of world point (x, y), row 0 at the top
        return tuple(frame[size - 1 - int((y - low_y) / pixel), int((x - low_x) / pixel)])

    first = recording["frames"][0]
    assert at(first, 0.0, 0.0) == (30, 80, 220) and at(first, *target) == (40, 160, 40)  # body at the start
    assert (first == (220, 40, 40)).all(axis=-1).any()  # the first subgoal is drawn
    gif, strip = save_recording(recording, tmp_path / "video", strip_frames=4)
    assert 1 < Image.open(gif).n_frames <= 16  # Pillow merges repeated frames
    assert Image.open(strip).size == (4 * size, size)
