"""Ant Maze: HIRO's U-maze protocol with MuJoCo's ant (gymnasium's Ant-v5 body).

The MJCF is written here: gymnasium's ``ant.xml`` (the standard ant body and floor) with one box per
wall cell of the layout added to the world body, each 8 x 8 in plan and 4 high (the reference code's
``maze_height`` 0.5 x scale 8), so the start cell is the origin where the ant stands. The ant is
gymnasium's ``AntEnv`` on that file, never terminated for being "unhealthy" (HIRO's episodes only end
at 500 steps), its observation including the torso's x, y: qpos (15) and qvel (14), then the
target (2). Protocol as `hrl.envs.point_maze`: reward -||(x, y) - target||, success under 5, training
targets uniform in [-4, 20]^2, evaluation targets by ``reset(options={"target": ...})``.

``layout=PUSH_MAZE`` (registered as ``hrl/AntPush-v0``) adds the movable block of Ant Push (a body
on two slide joints, so its x, y follow the ant's in qpos and qvel; it starts exactly in its cell, without
gymnasium's reset noise, which could jam it against a wall corner); evaluate it at `hrl.envs.mazes.PUSH_TARGET`. Ant Fall (a
chasm and a block movable in y, z on an elevated floor) is not written yet.
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

__all__ = ["BLOCK_LIFT", "BLOCK_MASS", "BLOCK_SHRINK", "WALL_HEIGHT", "AntMaze", "maze_mjcf"]

WALL_HEIGHT = 0.5 * MAZE_SCALE
"""Height of the wall blocks (the reference code's maze_height x scale)."""


BLOCK_LIFT = 0.02
"""A block floats this far (m) above the floor: it has no vertical joint, so touching the floor would
only add the contact solver's friction; it resists through its mass, armature 1 and damping 1."""

ANT_QPOS, ANT_QVEL = 15, 14
"""The ant's own qpos / qvel widths (torso position and orientation, 8 hinges); blocks come after."""

BLOCK_SHRINK = 0.99
"""A movable block's side as a fraction of the cell (a full cell would jam against the walls)."""

BLOCK_MASS = 1.0
"""Mass of a movable block in kg, chosen here (the ant's torso is 0.33 kg); not checked against the
reference code, nor yet that a trained ant can push it."""


def maze_mjcf(layout: tuple[str, ...] = U_MAZE, scale: float = MAZE_SCALE) -> str:
    """gymnasium's ant MJCF with a ``wall_<row>_<col>`` box geom per ``#`` cell of `layout` and a
    ``block_<row>_<col>`` body (slide joints in x and y) per ``B`` cell."""
    tree = ET.parse(Path(str(files("gymnasium.envs.mujoco") / "assets" / "ant.xml")))
    world = tree.getroot().find("worldbody")
    start_row = next(row for row, line in enumerate(layout) if "r" in line)
    start_col = layout[start_row].index("r")
    for row, line in enumerate(layout):
        for col, char in enumerate(line):
            x, y = (col - start_col) * scale, (row - start_row) * scale
            box = {"type": "box", "contype": "1", "conaffinity": "1", "condim": "3"}
            if char == "#":
                ET.SubElement(
                    world,
                    "geom",
                    {
                        **box,
                        "name": f"wall_{row}_{col}",
                        "pos": f"{x} {y} {WALL_HEIGHT / 2}",
                        "size": f"{scale / 2} {scale / 2} {WALL_HEIGHT / 2}",
                        "rgba": "0.7 0.5 0.3 1",
                    },
                )
            elif char == "B":  # a block on two slide joints, a little narrower than a cell so it slides
                body = ET.SubElement(
                    world,
                    "body",
                    {"name": f"block_{row}_{col}", "pos": f"{x} {y} {WALL_HEIGHT / 2 + BLOCK_LIFT}"},
                )
                for axis, name in (("1 0 0", "x"), ("0 1 0", "y")):
                    ET.SubElement(
                        body,
                        "joint",
                        {
                            "name": f"block_{row}_{col}_{name}",
                            "type": "slide",
                            "axis": axis,
                            "damping": "1",
                            "limited": "false",
                        },
                    )
                half = BLOCK_SHRINK * scale / 2
                ET.SubElement(
                    body,
                    "geom",
                    {
                        **box,
                        "name": f"block_{row}_{col}",
                        "size": f"{half} {half} {WALL_HEIGHT / 2}",
                        "mass": str(BLOCK_MASS),
                        "rgba": "0.9 0.9 0.2 1",
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
        data = self.ant.data
        if data.qpos.size > ANT_QPOS:  # blocks start exactly in their cells (noise could jam them)
            qpos, qvel = data.qpos.copy(), data.qvel.copy()
            qpos[ANT_QPOS:], qvel[ANT_QVEL:] = 0.0, 0.0
            self.ant.set_state(qpos, qvel)
            ant_obs = np.concatenate([data.qpos, data.qvel])  # the ant's observation with these options
        self.target = choose_target(options, self.np_random, "AntMaze")
        return self._finish(ant_obs)

    def step(self, action: np.ndarray):
        ant_obs, *_ = self.ant.step(action)
        obs, info = self._finish(ant_obs)
        return obs, -info["distance"], False, False, info

    def close(self) -> None:
        self.ant.close()
