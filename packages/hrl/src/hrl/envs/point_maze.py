"""Point Maze: HIRO's U-maze protocol with a kinematic point body, for CPU-scale runs.

The protocol is the reference code's (Nachum et al. 2018): the U-maze (`hrl.envs.mazes.U_MAZE`)
with cells scaled by 8, the start at the origin, 500-step episodes (the registered time limit), the
reward -||(x, y) - target||_2, success when the final distance is under 5. Training targets are drawn
uniformly from [-4, 20]^2 (the reference range); evaluation passes a fixed target with
``reset(options={"target": (16, 16)})`` (the paper's (16, 0), (16, 16), (0, 16): `EVALUATION_TARGETS`).

The body is a disc of radius 0.5 moved by the action (dx, dy) in [-1, 1]^2 per step; a move that
would overlap a wall is replaced by its x-only or y-only part when that one is free (sliding along
walls), else the body stays. Observation: (x, y, target_x, target_y), float32.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from core.errors import InputError
from hrl.envs.mazes import MAZE_SCALE, U_MAZE, wall_boxes

__all__ = [
    "EVALUATION_TARGETS",
    "SUCCESS_RADIUS",
    "TRAINING_TARGET_RANGE",
    "PointMaze",
    "choose_target",
    "make_point_room",
]

EVALUATION_TARGETS: tuple[tuple[float, float], ...] = ((16.0, 0.0), (16.0, 16.0), (0.0, 16.0))
SUCCESS_RADIUS = 5.0
TRAINING_TARGET_RANGE = (-4.0, 20.0)
BODY_RADIUS = 0.5


def choose_target(options: dict[str, Any] | None, rng: np.random.Generator, env_name: str) -> np.ndarray:
    """The episode's target: ``options["target"]`` when given, else uniform in the training range.

    Raises:
        InputError: a given target that is not two finite numbers.
    """
    if options and "target" in options:
        target = np.asarray(options["target"], dtype=np.float64)
        if target.shape != (2,) or not np.isfinite(target).all():
            raise InputError(f"{env_name} target must be two finite numbers (x, y)", item=options["target"])
        return target
    return rng.uniform(*TRAINING_TARGET_RANGE, size=2)


class PointMaze(gym.Env):
    """The U-maze with a point body (see the module docstring for the protocol).

    Args:
        layout: maze rows (``#`` wall, ``r`` start, space free); default HIRO's U-maze.
        scale: cell side in world units (default 8).
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(self, layout: tuple[str, ...] = U_MAZE, scale: float = MAZE_SCALE) -> None:
        self.layout, self.scale = layout, scale
        self.walls = wall_boxes(layout, scale)
        extent = np.abs(self.walls).max()
        self.observation_space = spaces.Box(-extent, extent, (4,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.position = np.zeros(2)
        self.target = np.zeros(2)

    def blocked(self, position: np.ndarray) -> bool:
        """Whether the body at `position` (x, y) overlaps a wall."""
        x, y = position
        nearest_x = np.clip(x, self.walls[:, 0], self.walls[:, 1])
        nearest_y = np.clip(y, self.walls[:, 2], self.walls[:, 3])
        return bool(np.any((nearest_x - x) ** 2 + (nearest_y - y) ** 2 < BODY_RADIUS**2))

    def _obs(self) -> np.ndarray:
        return np.concatenate([self.position, self.target]).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        distance = float(np.linalg.norm(self.position - self.target))
        return {"distance": distance, "success": distance < SUCCESS_RADIUS}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.position = np.zeros(2)
        self.target = choose_target(options, self.np_random, "PointMaze")
        return self._obs(), self._info()

    def step(self, action: np.ndarray):
        move = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        for candidate in (move, np.array([move[0], 0.0]), np.array([0.0, move[1]])):
            if not self.blocked(self.position + candidate):
                self.position = self.position + candidate
                break
        info = self._info()
        return self._obs(), -info["distance"], False, False, info


def make_point_room(max_episode_steps: int = 50) -> gym.Env:
    """DIAYN's arena: the point body in `hrl.envs.mazes.OPEN_ROOM` (a walled 24 x 24 room, start at
    its centre) observing only its (x, y) (no target: the task has no reward), `max_episode_steps` long."""
    from hrl.envs.mazes import OPEN_ROOM

    room = PointMaze(layout=OPEN_ROOM)
    box = spaces.Box(room.observation_space.low[:2], room.observation_space.high[:2], (2,), np.float32)
    only_xy = gym.wrappers.TransformObservation(room, lambda obs: obs[:2], box)
    return gym.wrappers.TimeLimit(only_xy, max_episode_steps)
