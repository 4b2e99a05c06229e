"""Ant Maze: the MJCF written here puts a wall box on every '#' cell of the U-maze (and nowhere else),
the ant starts at the origin, and the environment passes gymnasium's API checker."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrl.envs  # noqa: F401 - registers hrl/AntMaze-v0
from core.errors import InputError
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


def test_ant_fall_stands_on_an_elevated_floor_with_a_chasm_the_block_can_bridge():
    import mujoco

    from hrl.envs.mazes import FALL_MAZE, FALL_TARGET, cell_of, chasm_cells, reachable_cells

    env = gym.make("hrl/AntFall-v0").unwrapped
    model, data = env.ant.model, env.ant.data
    geoms = {
        mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "": (model.geom_pos[g], model.geom_size[g])
        for g in range(model.ngeom)
    }
    chasm = set(chasm_cells(FALL_MAZE))
    assert chasm == {(3, 1), (3, 2)}
    floors = {name for name in geoms if name.startswith("elevated_")}
    cells = {(r, c) for r, line in enumerate(FALL_MAZE) for c in range(len(line))}
    assert floors == {f"elevated_{r}_{c}" for r, c in cells - chasm}  # a floor everywhere but the chasm
    for name in (n for n in geoms if n.startswith("wall_")):  # the walls stand on that floor
        row, col = (int(v) for v in name.split("_")[1:])
        assert FALL_MAZE[row][col] == "#"
        np.testing.assert_allclose(geoms[name][0], [(col - 1) * 8.0, (row - 1) * 8.0, 1.5 * WALL_HEIGHT])
    obs, info = env.reset(seed=0, options={"target": FALL_TARGET})
    assert obs.shape == (36,) and env.observation_space.shape == (36,)  # qpos 17, qvel 16, target 3
    np.testing.assert_allclose(obs[-3:], FALL_TARGET)
    assert np.linalg.norm(obs[:2]) < 0.5 and obs[2] > WALL_HEIGHT + 0.5  # standing on the raised floor
    assert info["distance"] == pytest.approx(np.linalg.norm(obs[:3] - FALL_TARGET))
    target_cell = cell_of(np.array(FALL_TARGET[:2]), FALL_MAZE)
    assert target_cell in reachable_cells(FALL_MAZE)  # once the chasm is bridged
    assert target_cell not in reachable_cells(FALL_MAZE, walk_chasms=False)  # not before
    block = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "block_2_2")
    np.testing.assert_allclose(data.xpos[block][:2], [8.0, 8.0])
    data.xfrc_applied[block] = [0.0, 20.0, 0.0, 0.0, 0.0, 0.0]  # push it along +y, over the chasm
    for _ in range(150):
        env.step(np.zeros(8, np.float32))
    data.xfrc_applied[block] = 0.0
    for _ in range(20):
        env.step(np.zeros(8, np.float32))
    x, y, z = data.xpos[block]  # it dropped into the chasm cell: its top is level with the floor
    assert (x, y) == pytest.approx((8.0, 16.0), abs=0.05) and z + WALL_HEIGHT / 2 == pytest.approx(
        WALL_HEIGHT, abs=0.05
    )


def test_ant_tasks_sample_training_targets_from_the_reference_ranges():
    from hrl.envs.mazes import TRAINING_TARGET_RANGES

    for env_id, task in (("hrl/AntPush-v0", "push"), ("hrl/AntFall-v0", "fall")):
        env = gym.make(env_id).unwrapped
        low, high = (np.asarray(b) for b in TRAINING_TARGET_RANGES[task])
        targets = np.array([env.reset(seed=s)[0][-low.size :] for s in range(200)])
        assert np.all(targets >= low) and np.all(targets <= high)
        assert np.all(targets.min(0) < low + 0.1 * (high - low)) and np.all(
            targets.max(0) > high - 0.1 * (high - low)
        )
    with pytest.raises(InputError, match="3 finite numbers"):
        gym.make("hrl/AntFall-v0").unwrapped.reset(options={"target": (0.0, 27.0)})
