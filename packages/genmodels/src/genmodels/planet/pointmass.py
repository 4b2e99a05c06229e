"""A small pixel control task written here: a point mass pushed towards a target, seen as a 16 x 16 image.

It was written as a stand-in while DeepMind Control did not run here (it does now,
`genmodels.planet.dmc`), and stays as a task that trains in minutes: it has what PlaNet's loop needs (observations only as pixels, continuous actions, a dense reward,
seeded episodes) and runs in microseconds per step. State: position p and velocity v in the
square [-1, 1]^2; action a in [-1, 1]^2; per step ``v <- 0.8 v + 0.05 a``, ``p <- clip(p + v)``
(velocity zeroed at a wall); reward ``1 - ||p - target|| / (2 sqrt 2)`` (in [0, 1]). The start
is drawn from the episode's seed, and so is the target unless ``fixed_target`` puts it at the
centre (the layout of dm_control's point_mass task: a fixed target, random starts). The frame
shows the target as a dim 3 x 3 square (0.5) and the mass as a bright one (1.0, drawn on top).
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["SIZE", "PointMass", "render"]

SIZE = 16
"""Side of a frame in pixels."""


def render(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The frame ``(SIZE * SIZE,)`` float32 of a mass at `position` and a target at `target` (both in [-1, 1]^2)."""
    frame = np.zeros((SIZE, SIZE), np.float32)
    for point, value in ((target, 0.5), (position, 1.0)):
        col, row = np.clip(np.round((np.asarray(point) + 1) / 2 * (SIZE - 1)).astype(int), 0, SIZE - 1)
        frame[max(0, row - 1) : row + 2, max(0, col - 1) : col + 2] = value
    return frame.reshape(-1)


class PointMass:
    """``reset(seed) -> frame``; ``step(action (2,)) -> (frame, reward, done)`` after `max_steps` steps.

    Args:
        max_steps: environment steps per episode.
        action_repeat: each `step` applies the action this many times and sums the rewards
            (PlaNet's action repeat).
        fixed_target: the target is always the centre (0, 0) instead of drawn per episode.
    """

    action_dim = 2
    obs_dim = SIZE * SIZE

    def __init__(self, max_steps: int = 100, action_repeat: int = 2, fixed_target: bool = False) -> None:
        if max_steps < 1 or action_repeat < 1:
            raise InputError("max_steps and action_repeat must be >= 1", item=(max_steps, action_repeat))
        self.max_steps, self.action_repeat, self.fixed_target = max_steps, action_repeat, fixed_target
        self.position = self.velocity = self.target = np.zeros(2)
        self.steps = 0

    def reset(self, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        self.position, self.target = rng.uniform(-0.9, 0.9, 2), rng.uniform(-0.9, 0.9, 2)
        if self.fixed_target:
            self.target = np.zeros(2)
        self.velocity = np.zeros(2)
        self.steps = 0
        return render(self.position, self.target)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        action = np.asarray(action, np.float64)
        if action.shape != (2,) or not np.isfinite(action).all():
            raise InputError("point-mass actions are 2 finite numbers", item=action)
        action = np.clip(action, -1.0, 1.0)
        total = 0.0
        for _ in range(self.action_repeat):
            self.velocity = 0.8 * self.velocity + 0.05 * action
            moved = self.position + self.velocity
            wall = np.abs(moved) > 1.0
            self.velocity[wall] = 0.0
            self.position = np.clip(moved, -1.0, 1.0)
            total += 1.0 - float(np.linalg.norm(self.position - self.target)) / (2 * np.sqrt(2))
            self.steps += 1
            if self.steps >= self.max_steps:
                break
        return render(self.position, self.target), total, self.steps >= self.max_steps
