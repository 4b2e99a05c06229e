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
gymnasium's reset noise, which could jam it against a wall corner); evaluate it at `hrl.envs.mazes.PUSH_TARGET`.

``layout=FALL_MAZE`` (``hrl/AntFall-v0``) is built as the reference code builds it: every cell but
the chasm (``-``) gets a floor box of height 4 (the reference's ``elevated`` platform), the walls and
the ant stand on it (torso at z 0.75 + 4), and the ``Z`` block has slide joints in y (range +-8) and z
(range [-4, 0]) so that pushed over the chasm it drops into it and bridges it. Its target is 3-D
(x, y, z of the torso, `hrl.envs.mazes.FALL_TARGET` (0, 27, 4.5)), the distance and the success
radius 5 are taken in 3-D, training targets uniform in the reference range ((-4, -4, 0), (12, 28, 5)).

Block masses and damping are chosen here (`BLOCK_MASS` 1 kg, damping 1); the reference code uses
much lighter blocks (0.0002 kg for Push's, 0.001 kg for Fall's, no damping) with a stiffer contact
``solimp``: not reproduced, and no trained ant has yet been seen to push either block.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError

os.environ.setdefault(
    "MUJOCO_GL", "egl"
)  # headless offscreen renders (`hrl.rollouts`); read when mujoco loads
from hrl.envs.mazes import FALL_MAZE, MAZE_SCALE, PUSH_MAZE, TRAINING_TARGET_RANGES, U_MAZE, wall_boxes
from hrl.envs.point_maze import SUCCESS_RADIUS

__all__ = [
    "ANT_RAW_GOAL_HIGH",
    "ANT_RAW_GOAL_LOW",
    "BLOCK_LIFT",
    "BLOCK_MASS",
    "BLOCK_SHRINK",
    "WALL_HEIGHT",
    "AntMaze",
    "maze_mjcf",
]

WALL_HEIGHT = 0.5 * MAZE_SCALE
"""Height of the wall blocks (the reference code's maze_height x scale)."""


BLOCK_LIFT = 0.02
"""A block floats this far (m) above the floor: it has no vertical joint, so touching the floor would
only add the contact solver's friction; it resists through its mass, armature 1 and damping 1."""

ANT_QPOS, ANT_QVEL = 15, 14
"""The ant's own qpos / qvel widths (torso position and orientation, 8 hinges); blocks come after."""

BLOCK_SHRINK = 0.99
"""A movable block's side as a fraction of the cell (a full cell would jam against the walls)."""

ANT_RAW_GOAL_LOW = (-10, -10, -0.5, -1, -1, -1, -1, -0.5, -0.3, -0.5, -0.3, -0.5, -0.3, -0.5, -0.3)
ANT_RAW_GOAL_HIGH = (10, 10, 0.5, 1, 1, 1, 1, 0.5, 0.3, 0.5, 0.3, 0.5, 0.3, 0.5, 0.3)
"""The reference code's goal range for HIRO's raw-observation goal on the ant (``hiro_orig.gin``):
the 15 qpos dimensions (torso x, y, z, orientation quaternion, 8 hinge angles). Use with
``HIROConfig(goal_indices=tuple(range(15)), goal_low=ANT_RAW_GOAL_LOW, goal_high=ANT_RAW_GOAL_HIGH)``."""

BLOCK_MASS = 1.0
"""Mass of a movable block in kg, chosen here (the ant's torso is 0.33 kg); not checked against the
reference code, nor yet that a trained ant can push it."""


def _slide(body: ET.Element, name: str, axis: str, limits: str | None) -> None:
    attributes = {"name": name, "type": "slide", "axis": axis, "damping": "1", "limited": "false"}
    if limits is not None:
        attributes.update(limited="true", range=limits)
    ET.SubElement(body, "joint", attributes)


def maze_mjcf(layout: tuple[str, ...] = U_MAZE, scale: float = MAZE_SCALE) -> str:
    """gymnasium's ant MJCF with a ``wall_<row>_<col>`` box geom per ``#`` cell of `layout`, a
    ``block_<row>_<col>`` body per ``B`` (slide joints x, y) or ``Z`` cell (slide joints y, z), and,
    when the layout has a chasm (``-``), a floor box ``elevated_<row>_<col>`` under every other cell."""
    tree = ET.parse(Path(str(files("gymnasium.envs.mujoco") / "assets" / "ant.xml")))
    world = tree.getroot().find("worldbody")
    start_row = next(row for row, line in enumerate(layout) if "r" in line)
    start_col = layout[start_row].index("r")
    elevated = any("-" in line for line in layout)
    lift = WALL_HEIGHT if elevated else 0.0  # the floor's top
    if elevated:
        torso = world.find(".//body[@name='torso']")
        x, y, z = (float(v) for v in torso.get("pos").split())
        torso.set("pos", f"{x} {y} {z + lift}")
    box = {"type": "box", "contype": "1", "conaffinity": "1", "condim": "3"}
    half_height = WALL_HEIGHT / 2
    for row, line in enumerate(layout):
        for col, char in enumerate(line):
            x, y = (col - start_col) * scale, (row - start_row) * scale
            if elevated and char != "-":
                ET.SubElement(
                    world,
                    "geom",
                    {
                        **box,
                        "name": f"elevated_{row}_{col}",
                        "pos": f"{x} {y} {half_height}",
                        "size": f"{scale / 2} {scale / 2} {half_height}",
                        "rgba": "0.9 0.9 0.9 1",
                    },
                )
            if char == "#":
                ET.SubElement(
                    world,
                    "geom",
                    {
                        **box,
                        "name": f"wall_{row}_{col}",
                        "pos": f"{x} {y} {lift + half_height}",
                        "size": f"{scale / 2} {scale / 2} {half_height}",
                        "rgba": "0.7 0.5 0.3 1",
                    },
                )
            elif char in "BZ":  # a movable block, a little narrower than a cell so it slides
                falls = char == "Z"  # Ant Fall's: moves in y and z (gravity drops it into the chasm)
                height = lift + half_height + BLOCK_LIFT
                body = ET.SubElement(
                    world, "body", {"name": f"block_{row}_{col}", "pos": f"{x} {y} {height}"}
                )
                if falls:
                    _slide(body, f"block_{row}_{col}_y", "0 1 0", f"{-scale} {scale}")
                    _slide(body, f"block_{row}_{col}_z", "0 0 1", f"{-lift - BLOCK_LIFT} 0")
                else:
                    _slide(body, f"block_{row}_{col}_x", "1 0 0", None)
                    _slide(body, f"block_{row}_{col}_y", "0 1 0", None)
                half = BLOCK_SHRINK * scale / 2
                ET.SubElement(
                    body,
                    "geom",
                    {
                        **box,
                        "name": f"block_{row}_{col}",
                        "size": f"{half} {half} {half_height}",
                        "mass": str(BLOCK_MASS),
                        "rgba": "0.9 0.9 0.2 1",
                    },
                )
    return ET.tostring(tree.getroot(), encoding="unicode")


def _task(layout: tuple[str, ...]) -> str:
    return {PUSH_MAZE: "push", FALL_MAZE: "fall"}.get(layout, "maze")


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
        self.target_low, self.target_high = (
            np.asarray(b, np.float64) for b in TRAINING_TARGET_RANGES[_task(layout)]
        )
        self.target_dim = self.target_low.size  # 2 (x, y), or 3 (x, y, z) for Ant Fall
        width = self.ant.observation_space.shape[0] + self.target_dim
        self.observation_space = spaces.Box(-np.inf, np.inf, (width,), np.float64)
        self.action_space = self.ant.action_space
        self.target = np.zeros(self.target_dim)

    def _choose_target(self, options: dict[str, Any] | None) -> np.ndarray:
        if options and "target" in options:
            target = np.asarray(options["target"], dtype=np.float64)
            if target.shape != (self.target_dim,) or not np.isfinite(target).all():
                raise InputError(
                    f"AntMaze target must be {self.target_dim} finite numbers", item=options["target"]
                )
            return target
        return self.np_random.uniform(self.target_low, self.target_high)

    def _finish(self, ant_obs: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        distance = float(np.linalg.norm(ant_obs[: self.target_dim] - self.target))
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
        self.target = self._choose_target(options)
        return self._finish(ant_obs)

    def step(self, action: np.ndarray):
        ant_obs, *_ = self.ant.step(action)
        obs, info = self._finish(ant_obs)
        return obs, -info["distance"], False, False, info

    def close(self) -> None:
        self.ant.close()
