"""A two-room maze for Causal InfoGAN (Kurutach et al. 2018): a point moved in small steps, rendered to images.

The plane is the unit square split by a vertical wall at x = 0.5 with one door (the paper's
two-room environment, where points close in the plane can be far apart in moves). A move is at
most `Maze.step` long and never crosses the wall outside the door; `feasible` checks this for any
pair of positions, so the transitions of a plan decoded from images can be checked against the
true environment. Images are ``size x size`` with a Gaussian blob at the point (the wall is not
drawn); `locate` reads the position back as the best-matching rendering on a fine grid of
positions (a centroid would be biased towards the centre where the blob is cut by the border). Torch-free (NumPy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError

__all__ = ["Maze"]


@dataclass(frozen=True)
class Maze:
    """The two-room maze.

    Attributes:
        size: image side in pixels.
        step: longest move per transition (plane units; the plane is [0, 1]^2).
        door: (low, high) y-range of the door in the wall at x = 0.5.
        blob: standard deviation of the rendered point, in pixels (3: wide enough that a small
            MLP GAN learns to move it; at 0.8 and 1.5 pixels its generator collapsed to one
            position, measured).
        grid: `locate` matches images against renderings on a ``grid x grid`` lattice of positions.
        slack: extra distance `feasible` allows for reading positions back from images.
    """

    size: int = 16
    step: float = 0.15
    door: tuple[float, float] = (0.75, 0.95)
    blob: float = 3.0
    grid: int = 65
    slack: float = 0.05

    def __post_init__(self) -> None:
        if self.size < 4 or not 0 < self.step < 0.5 or self.blob <= 0 or self.slack < 0:
            raise InputError("maze needs size >= 4, 0 < step < 0.5, blob > 0, slack >= 0", item=self)
        if not 0 <= self.door[0] < self.door[1] <= 1:
            raise InputError("door must be a (low, high) range inside [0, 1]", item=self.door)

    def crosses_wall(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Whether each segment start -> end crosses the wall outside the door; ``(n, 2), (n, 2) -> (n,)`` bool.

        A point on the wall line (x = 0.5) belongs to the left room, so a path that steps onto the
        line and then off it to the right is caught on its second segment (with a strict test of
        sides, left -> line -> right passed through the wall unseen); moving along the line is not
        a crossing.
        """
        start, end = np.atleast_2d(start), np.atleast_2d(end)
        sides = (start[:, 0] <= 0.5) != (end[:, 0] <= 0.5)
        dx = end[:, 0] - start[:, 0]
        t = np.divide(0.5 - start[:, 0], dx, out=np.zeros_like(dx), where=dx != 0)
        y = start[:, 1] + t * (end[:, 1] - start[:, 1])
        return sides & ((y < self.door[0]) | (y > self.door[1]))

    def feasible(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Whether each transition start -> end is one move: short enough and not through the wall; ``(n,)`` bool."""
        start, end = np.atleast_2d(start), np.atleast_2d(end)
        short = np.linalg.norm(end - start, axis=1) <= self.step + self.slack
        return short & ~self.crosses_wall(start, end)

    def render(self, positions: np.ndarray) -> np.ndarray:
        """Images of points; ``(n, 2)`` in [0, 1]^2 -> ``(n, size * size)`` float32 in [0, 1] (row = y)."""
        positions = np.atleast_2d(np.asarray(positions, dtype=np.float64))
        centres = (np.arange(self.size) + 0.5) / self.size
        sigma = self.blob / self.size
        gx = np.exp(-0.5 * ((centres[None, :] - positions[:, :1]) / sigma) ** 2)
        gy = np.exp(-0.5 * ((centres[None, :] - positions[:, 1:]) / sigma) ** 2)
        return (gy[:, :, None] * gx[:, None, :]).reshape(len(positions), -1).astype(np.float32)

    def locate(self, images: np.ndarray) -> np.ndarray:
        """Positions read back from images: the grid position whose rendering is nearest in squared error.

        ``(n, size * size) -> (n, 2)``; within one grid spacing ``1 / (grid - 1)`` for rendered images.
        """
        images = np.asarray(images, dtype=np.float64).reshape(-1, self.size * self.size)
        axis = np.linspace(0, 1, self.grid)
        lattice = np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)
        templates = self.render(lattice).astype(np.float64)
        distance = (templates**2).sum(1)[None, :] - 2 * images @ templates.T
        return lattice[np.argmin(distance, axis=1)]

    def transitions(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """`n` random one-move transitions (start uniform, move uniform in the disc, redrawn if blocked).

        Returns:
            ``(start, end)``, each ``(n, 2)``; every pair is `feasible`.
        """
        rng = np.random.default_rng(seed)
        start = rng.uniform(0, 1, size=(n, 2))
        end = start.copy()
        todo = np.arange(n)
        for _ in range(100):
            if len(todo) == 0:
                break
            angle = rng.uniform(0, 2 * np.pi, len(todo))
            radius = self.step * np.sqrt(rng.uniform(0, 1, len(todo)))
            move = np.stack([np.cos(angle), np.sin(angle)], axis=1) * radius[:, None]
            candidate = np.clip(start[todo] + move, 0, 1)
            ok = ~self.crosses_wall(start[todo], candidate)
            end[todo[ok]] = candidate[ok]
            todo = todo[~ok]
        return start, end

    def pairs(self, n: int, seed: int) -> np.ndarray:
        """Images of `n` random transitions (o, o'); ``(n, 2, size * size)`` float32."""
        start, end = self.transitions(n, seed)
        return np.stack([self.render(start), self.render(end)], axis=1)
