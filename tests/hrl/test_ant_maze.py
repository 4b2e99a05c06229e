"""Ant Maze: the MJCF written here puts a wall box on every '#' cell of the U-maze (and nowhere else),
the ant starts at the origin, and the environment passes gymnasium's API checker."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrl.envs  # noqa: F401 - registers hrl/AntMaze-v0
from hrl.envs.ant_maze import BLOCK_LIFT, WALL_HEIGHT, AntMaze
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


def test_ant_push_has_its_walls_and_a_block_that_slides_in_x_and_y():
    import mujoco

    from hrl.envs.mazes import PUSH_MAZE, PUSH_TARGET, cell_of, reachable_cells

    env = gym.make("hrl/AntPush-v0").unwrapped
    model, data = env.ant.model, env.ant.data
    names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "" for g in range(model.ngeom)]
    expected = {f"wall_{r}_{c}" for r, line in enumerate(PUSH_MAZE) for c, ch in enumerate(line) if ch == "#"}
    assert {name for name in names if name.startswith("wall_")} == expected
    obs, _ = env.reset(seed=0, options={"target": PUSH_TARGET})
    assert obs.shape == (35,)  # qpos 15 + block 2, qvel 14 + block 2, target 2
    block = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "block_2_2")
    np.testing.assert_allclose(data.xpos[block], [0.0, 8.0, WALL_HEIGHT / 2 + BLOCK_LIFT], atol=1e-9)
    np.testing.assert_allclose(obs[15:17], 0.0)  # the block's slide joints, after the ant's 15
    row, col = cell_of(np.array(PUSH_TARGET), PUSH_MAZE)
    assert PUSH_MAZE[row][col] == " " and (row, col) in reachable_cells(PUSH_MAZE)
    start = data.xpos[block].copy()
    data.xfrc_applied[block] = [50.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # a push along +x
    for _ in range(20):
        env.step(np.zeros(8, np.float32))
    moved = data.xpos[block] - start
    assert moved[0] > 0.5 and abs(moved[1]) < 0.1 and abs(moved[2]) < 1e-9
