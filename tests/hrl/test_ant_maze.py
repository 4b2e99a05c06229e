"""Ant Maze: the MJCF written here puts a wall box on every '#' cell of the U-maze (and nowhere else),
the ant starts at the origin, and the environment passes gymnasium's API checker."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrl.envs  # noqa: F401 - registers hrl/AntMaze-v0
from hrl.envs.ant_maze import WALL_HEIGHT, AntMaze
from hrl.envs.mazes import U_MAZE


@pytest.fixture(scope="module")
def maze() -> AntMaze:
    return AntMaze()


def test_wall_geoms_sit_on_the_maps_wall_cells(maze):
    import mujoco

    model = maze.ant.model
    walls = {}
    for geom in range(model.ngeom):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, geom) or ""
        if name.startswith("wall_"):
            walls[name] = (model.geom_pos[geom].copy(), model.geom_size[geom].copy())
    expected = {f"wall_{r}_{c}" for r, line in enumerate(U_MAZE) for c, ch in enumerate(line) if ch == "#"}
    assert set(walls) == expected and len(walls) == 18
    for name, (pos, size) in walls.items():
        row, col = (int(v) for v in name.split("_")[1:])
        np.testing.assert_allclose(pos, [(col - 1) * 8.0, (row - 1) * 8.0, WALL_HEIGHT / 2])
        np.testing.assert_allclose(size, [4.0, 4.0, WALL_HEIGHT / 2])


def test_the_ant_starts_at_the_origin_and_is_rewarded_by_distance(maze):
    obs, info = maze.reset(seed=0, options={"target": (16.0, 16.0)})
    assert np.linalg.norm(obs[:2]) < 0.5 and obs.shape == maze.observation_space.shape == (31,)
    np.testing.assert_allclose(obs[-2:], [16.0, 16.0])
    obs, reward, terminated, _, info = maze.step(np.full(8, 0.3, np.float32))
    assert reward == pytest.approx(-np.linalg.norm(obs[:2] - [16.0, 16.0])) and not terminated
    assert info["success"] is False


def test_ant_maze_passes_gymnasiums_env_checker_and_has_500_step_episodes():
    check_env(AntMaze(), skip_render_check=True)
    env = gym.make("hrl/AntMaze-v0")
    assert env.spec.max_episode_steps == 500
