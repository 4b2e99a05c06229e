"""Maze layouts of HIRO's tasks and their geometry, in the reference code's coordinates.

A layout is a tuple of strings, one per row: ``#`` a wall block, ``r`` the start cell, a space a
free cell, ``B`` a block the agent can push in x and y (Ant Push), ``Z`` a block movable in y and z
(Ant Fall's, which can be pushed into the chasm), ``-`` a chasm (no floor: a layout with a chasm is
built on an elevated floor, Ant Fall). Cell (row, col) is a square of side ``scale`` centred at
((col - start_col) * scale, (row - start_row) * scale), so the start is the origin, x grows with the
column and y with the row. With HIRO's U-maze and scale 8 the evaluation targets (16, 0), (16, 16) and
(0, 16) are the centres of free cells (tested).
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = [
    "FALL_MAZE",
    "FALL_TARGET",
    "MAZE_SCALE",
    "OPEN_ROOM",
    "PUSH_MAZE",
    "PUSH_TARGET",
    "TRAINING_TARGET_RANGES",
    "U_MAZE",
    "cell_of",
    "chasm_cells",
    "free_cells",
    "reachable_cells",
    "start_cell",
    "wall_boxes",
]

U_MAZE: tuple[str, ...] = (
    "#####",
    "#r  #",
    "### #",
    "#   #",
    "#####",
)
"""HIRO's Ant Maze / Point Maze layout (the reference code's U-maze)."""

OPEN_ROOM: tuple[str, ...] = (
    "#####",
    "#   #",
    "# r #",
    "#   #",
    "#####",
)
"""A walled 3 x 3-cell room (24 x 24 at scale 8) around the start: DIAYN's 2-D navigation arena."""

PUSH_MAZE: tuple[str, ...] = (
    "#####",
    "# r##",
    "# B #",
    "## ##",
    "#####",
)
"""HIRO's Ant Push layout: the block below the start must be pushed aside to reach the target."""

PUSH_TARGET = (0.0, 19.0)
"""Ant Push's evaluation target."""

FALL_MAZE: tuple[str, ...] = (
    "####",
    "#r #",
    "# Z#",
    "#--#",
    "#  #",
    "####",
)
"""HIRO's Ant Fall layout (the reference code's ``Fall`` structure): the block right of the start's
column must be pushed into the chasm (row 3) to bridge it; the target lies beyond, on the far side."""

FALL_TARGET = (0.0, 27.0, 4.5)
"""Ant Fall's evaluation target (x, y, z): z 4.5 is the torso's height standing on the elevated floor."""

TRAINING_TARGET_RANGES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "maze": ((-4.0, -4.0), (20.0, 20.0)),
    "push": ((-16.0, -4.0), (16.0, 20.0)),
    "fall": ((-4.0, -4.0, 0.0), (12.0, 28.0, 5.0)),
}
"""The reference code's training target ranges per task (its ``meta_context_range``), (low, high)."""

MAZE_SCALE = 8.0
"""Side of one cell in world units (the reference code's ``maze_size_scaling``)."""


def start_cell(layout: tuple[str, ...]) -> tuple[int, int]:
    """(row, col) of the ``r`` cell."""
    for row, line in enumerate(layout):
        if "r" in line:
            return row, line.index("r")
    raise ValueError("the layout has no start cell 'r'")


def wall_boxes(layout: tuple[str, ...], scale: float = MAZE_SCALE) -> np.ndarray:
    """(n_walls, 4) axis-aligned boxes [x_min, x_max, y_min, y_max] of the ``#`` cells."""
    start_row, start_col = start_cell(layout)
    boxes = [
        [
            (col - start_col) * scale - scale / 2,
            (col - start_col) * scale + scale / 2,
            (row - start_row) * scale - scale / 2,
            (row - start_row) * scale + scale / 2,
        ]
        for row, line in enumerate(layout)
        for col, char in enumerate(line)
        if char == "#"
    ]
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def cell_of(point: np.ndarray, layout: tuple[str, ...], scale: float = MAZE_SCALE) -> tuple[int, int]:
    """(row, col) of the cell holding the world point (x, y)."""
    start_row, start_col = start_cell(layout)
    return int(np.floor(point[1] / scale + 0.5)) + start_row, int(
        np.floor(point[0] / scale + 0.5)
    ) + start_col


def free_cells(layout: tuple[str, ...]) -> list[tuple[int, int]]:
    """(row, col) of every cell that is not a wall (chasm cells included)."""
    return [(row, col) for row, line in enumerate(layout) for col, char in enumerate(line) if char != "#"]


def chasm_cells(layout: tuple[str, ...]) -> list[tuple[int, int]]:
    """(row, col) of every ``-`` cell (no floor)."""
    return [(row, col) for row, line in enumerate(layout) for col, char in enumerate(line) if char == "-"]


def reachable_cells(layout: tuple[str, ...], *, walk_chasms: bool = True) -> set[tuple[int, int]]:
    """Free cells connected to the start through free neighbours (breadth-first search).

    With ``walk_chasms=False`` a chasm cell is impassable (Ant Fall before the block bridges it).
    """
    free = set(free_cells(layout))
    if not walk_chasms:
        free -= set(chasm_cells(layout))
    seen, queue = {start_cell(layout)}, deque([start_cell(layout)])
    while queue:
        row, col = queue.popleft()
        for neighbour in ((row + 1, col), (row - 1, col), (row, col + 1), (row, col - 1)):
            if neighbour in free and neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen
