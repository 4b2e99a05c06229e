"""The continuous task of the MAX study and its coverage measure.

`make_point_u_maze`: HIRO's U-maze (`hrl.envs.mazes.U_MAZE`, cells of side 8) with the point body of
`hrl.envs.point_maze.PointMaze`, observing only its (x, y) (no target: exploration only), episodes of
`episode_steps` from the start cell. `MazeCoverage`: the free cells cut into square bins of side
``bin_size`` (4 x 4 bins per cell by default); coverage is the fraction of those bins whose area the
body's centre has visited. The body's centre always lies inside a free cell, so every visited position
falls in one of the counted bins, and 1.0 means every part of the maze was reached.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import InputError

__all__ = ["MazeCoverage", "make_point_u_maze"]


def make_point_u_maze(episode_steps: int = 100) -> Any:
    """The point body in HIRO's U-maze observing (x, y); `episode_steps` steps per episode.

    Raises:
        InputError: `episode_steps` is not a positive integer.
    """
    import gymnasium as gym
    from gymnasium import spaces

    from hrl.envs.point_maze import PointMaze

    if not isinstance(episode_steps, int) or isinstance(episode_steps, bool) or episode_steps < 1:
        raise InputError("episode_steps must be a positive integer", item=episode_steps)
    maze = PointMaze()
    box = spaces.Box(maze.observation_space.low[:2], maze.observation_space.high[:2], (2,), np.float32)
    only_xy = gym.wrappers.TransformObservation(maze, lambda obs: obs[:2], box)
    return gym.wrappers.TimeLimit(only_xy, episode_steps)


class MazeCoverage:
    """Which bins of a maze's free cells the (x, y) positions have visited.

    Args:
        layout: the maze rows (default HIRO's U-maze). scale: cell side (default 8).
        bin_size: bin side; must divide `scale`.

    Attributes:
        bins: the number of bins in the free cells.
    """

    def __init__(
        self, layout: tuple[str, ...] | None = None, scale: float = 8.0, bin_size: float = 2.0
    ) -> None:
        from hrl.envs.mazes import U_MAZE, free_cells, start_cell

        self.layout = layout or U_MAZE
        per_cell = scale / bin_size
        if bin_size <= 0 or abs(per_cell - round(per_cell)) > 1e-9:
            raise InputError(
                "MazeCoverage.bin_size must divide the cell side",
                item=bin_size,
                expected=f"a divisor of {scale}",
            )
        self.scale, self.bin_size, self.per_cell = scale, bin_size, round(per_cell)
        self.start_row, self.start_col = start_cell(self.layout)
        self.free = set(free_cells(self.layout))
        self.bins = len(self.free) * self.per_cell**2
        self.visited: set[tuple[int, int]] = set()

    def bin_of(self, xy: np.ndarray) -> np.ndarray:
        """Global integer bin indices (n, 2) of positions (n, 2): column first, then row."""
        origin = -self.scale / 2  # the start cell spans [-scale/2, scale/2) in x and y
        return np.floor((np.asarray(xy, dtype=np.float64) - origin) / self.bin_size).astype(np.int64)

    def update(self, xy: np.ndarray) -> float:
        """Add positions (n, 2) (only those inside free cells count); returns the coverage so far."""
        bins = self.bin_of(np.asarray(xy).reshape(-1, 2))
        rows = bins[:, 1] // self.per_cell + self.start_row
        cols = bins[:, 0] // self.per_cell + self.start_col
        inside = np.array([(int(r), int(c)) in self.free for r, c in zip(rows, cols)], dtype=bool)
        self.visited.update(map(tuple, np.unique(bins[inside], axis=0).tolist()))
        return self.fraction

    @property
    def fraction(self) -> float:
        return len(self.visited) / self.bins
