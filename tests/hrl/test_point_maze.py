"""Point Maze: gymnasium's API checker, the U-maze geometry against its map (walls where the map says,
evaluation targets free and reachable by breadth-first search), the paper's protocol, wall collisions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrl.envs  # noqa: F401 - registers hrl/PointMaze-v0
from core.errors import InputError
from hrl.envs.mazes import MAZE_SCALE, U_MAZE, cell_of, free_cells, reachable_cells, start_cell, wall_boxes
from hrl.envs.point_maze import EVALUATION_TARGETS, SUCCESS_RADIUS, PointMaze


def test_point_maze_passes_gymnasiums_env_checker():
    check_env(PointMaze(), skip_render_check=True)


def test_registered_env_has_the_papers_500_step_episodes():
    env = gym.make("hrl/PointMaze-v0")
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        *_, terminated, truncated, _ = env.step(np.zeros(2, np.float32))
        steps, done = steps + 1, terminated or truncated
    assert steps == 500 and truncated and not terminated


def test_walls_stand_where_the_map_says_and_the_start_is_the_origin():
    maze = PointMaze()
    assert start_cell(U_MAZE) == (1, 1) and MAZE_SCALE == 8.0
    for row, line in enumerate(U_MAZE):
        for col, char in enumerate(line):
            centre = np.array([(col - 1) * 8.0, (row - 1) * 8.0])
            assert cell_of(centre, U_MAZE) == (row, col)
            assert maze.blocked(centre) == (char == "#"), (row, col)
    assert len(wall_boxes(U_MAZE)) == 25 - len(free_cells(U_MAZE)) == 18
    assert not maze.blocked(np.zeros(2))


def test_evaluation_targets_are_free_cell_centres_reachable_from_the_start():
    reachable = reachable_cells(U_MAZE)
    assert len(reachable) == 7  # the whole U
    for target in EVALUATION_TARGETS:
        row, col = cell_of(np.array(target), U_MAZE)
        assert U_MAZE[row][col] != "#" and (row, col) in reachable
        assert np.allclose(target, [(col - 1) * 8.0, (row - 1) * 8.0])


def test_the_wall_between_the_arms_blocks_the_straight_path_and_the_u_path_succeeds():
    maze = PointMaze()
    maze.reset(seed=0, options={"target": (0.0, 16.0)})
    for _ in range(30):  # straight up towards the target: stopped by the wall row y in [4, 12]
        obs, *_ = maze.step(np.array([0.0, 1.0], np.float32))
    assert obs[1] < 4.0 - 0.5 + 1e-9 and not maze.blocked(maze.position)
    maze.reset(seed=0, options={"target": (0.0, 16.0)})
    info = {}
    for waypoint in ((16.0, 0.0), (16.0, 16.0), (0.0, 16.0)):  # around the U
        for _ in range(40):
            step = np.clip(np.array(waypoint) - maze.position, -1, 1).astype(np.float32)
            obs, reward, _, _, info = maze.step(step)
    assert info["success"] and info["distance"] < SUCCESS_RADIUS
    assert reward == pytest.approx(-info["distance"])
    np.testing.assert_allclose(obs[2:], [0.0, 16.0])


def test_training_targets_are_drawn_from_the_reference_range_and_bad_targets_are_refused():
    maze = PointMaze()
    targets = np.array([maze.reset(seed=seed)[0][2:] for seed in range(200)])
    assert targets.min() >= -4.0 and targets.max() <= 20.0 and targets.std() > 5
    with pytest.raises(InputError, match="target"):
        maze.reset(options={"target": (1.0, float("nan"))})
