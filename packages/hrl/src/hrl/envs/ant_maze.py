"""Ant Maze: HIRO's U-maze protocol with MuJoCo's ant (gymnasium's Ant-v5 body).

The MJCF is written here: gymnasium's ``ant.xml`` (the standard ant body and floor) with one box per
wall cell of the layout added to the world body, each 8 x 8 in plan and 4 high (the reference code's
``maze_height`` 0.5 x scale 8), so the start cell is the origin where the ant stands. The ant is
gymnasium's ``AntEnv`` on that file, never terminated for being "unhealthy" (HIRO's episodes only end
at 500 steps), its observation including the torso's x, y: qpos (15) and qvel (14), then the
target (2). Protocol as `hrl.envs.point_maze`: reward -||(x, y) - target||, success under 5, training
targets uniform in [-4, 20]^2, evaluation targets by ``reset(options={"target": ...})``.

Ant Push and Ant Fall (movable blocks, a chasm) are not written yet.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hrl.envs.mazes import MAZE_SCALE, U_MAZE, wall_boxes
from hrl.envs.point_maze import SUCCESS_RADIUS, choose_target

__all__ = ["WALL_HEIGHT", "AntMaze", "maze_mjcf"]

WALL_HEIGHT = 0.5 * MAZE_SCALE
"""Height of the wall blocks (the reference code's maze_height x scale)."""


def maze_mjcf(layout: tuple[str, ...] = U_MAZE, scale: float = MAZE_SCALE) -> str:
    """gymnasium's ant MJCF with a ``wall_<row>_<col>`` box geom per ``#`` cell of `layout`."""
    tree = ET.parse(Path(str(files("gymnasium.envs.mujoco") / "assets" / "ant.xml")))
    world = tree.getroot().find("worldbody")
    start_row = next(row for row, line in enumerate(layout) if "r" in line)
    start_col = layout[start_row].index("r")
    for row, line in enumerate(layout):
        for col, char in enumerate(line):
            if char != "#":
                continue
            ET.SubElement(
                world,
                "geom",
                {
                    "name": f"wall_{row}_{col}",
                    "type": "box",
                    "pos": f"{(col - start_col) * scale} {(row - start_row) * scale} {WALL_HEIGHT / 2}",
                    "size": f"{scale / 2} {scale / 2} {WALL_HEIGHT / 2}",
                    "rgba": "0.7 0.5 0.3 1",
                    "contype": "1",
                    "conaffinity": "1",
                    "condim": "3",
                },
            )
    return ET.tostring(tree.getroot(), encoding="unicode")


class AntMaze(gym.Env):
    """The U-maze with MuJoCo's ant (see the module docstring for the protocol)."""

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(self, layout: tuple[str, ...] = U_MAZE, scale: float = MAZE_SCALE) -> None:
        from gymnasium.envs.mujoco.ant_v5 import AntEnv

        self.layout, self.walls = layout, wall_boxes(layout, scale)
        with tempfile.TemporaryDirectory() as folder:  # MuJoCo reads the model from a file, once
            path = Path(folder) / "ant_maze.xml"
            path.write_text(maze_mjcf(layout, scale))
            self.ant = AntEnv(
                xml_file=str(path),
                terminate_when_unhealthy=False,
                exclude_current_positions_from_observation=False,
                include_cfrc_ext_in_observation=False,
            )
        width = self.ant.observation_space.shape[0] + 2
        self.observation_space = spaces.Box(-np.inf, np.inf, (width,), np.float64)
        self.action_space = self.ant.action_space
        self.target = np.zeros(2)

    def _finish(self, ant_obs: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        distance = float(np.linalg.norm(ant_obs[:2] - self.target))
        return np.concatenate([ant_obs, self.target]), {
            "distance": distance,
            "success": distance < SUCCESS_RADIUS,
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        ant_obs, _ = self.ant.reset(seed=int(self.np_random.integers(2**31)))
        self.target = choose_target(options, self.np_random, "AntMaze")
        return self._finish(ant_obs)

    def step(self, action: np.ndarray):
        ant_obs, *_ = self.ant.step(action)
        obs, info = self._finish(ant_obs)
        return obs, -info["distance"], False, False, info

    def close(self) -> None:
        self.ant.close()
