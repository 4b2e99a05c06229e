"""Not-so-Clevr (Liu et al. 2018, sec. 4): a 9x9 square on a 64x64 canvas at every one of 3136 positions.

The square's top-left pixel takes every (row, column) in 0..55, so its centre pixel runs over 4..59 on
each axis: 56 x 56 = 3136 examples, the whole data set (nothing is sampled). Two splits, as in the paper:

- ``uniform``: a random 80/20 split of the positions (2509 train, 627 test; seeded).
- ``quadrant``: the test set is every square whose centre lies in the bottom-right quadrant, i.e. both
  centre coordinates > 32: 27 x 27 = 729 held-out positions, 2407 train.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import InputError

__all__ = [
    "CANVAS",
    "NUM_POSITIONS",
    "QUADRANT_TEST_SIZE",
    "SQUARE",
    "NotSoClevr",
    "not_so_clevr",
    "split_indices",
]

CANVAS = 64
SQUARE = 9
NUM_POSITIONS = (CANVAS - SQUARE + 1) ** 2  # 3136
QUADRANT_TEST_SIZE = 729
UNIFORM_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class NotSoClevr:
    """The whole data set, one row per position, ordered row-major by the square's top-left corner.

    Attributes:
        centers: ``(3136, 2)`` long, the centre pixel as (x = column, y = row), each in 4..59.
        coordinates: ``(3136, 2)`` float, the centre scaled to [-1, 1] (pixel p -> 2 p / 63 - 1).
        pixel: ``(3136,)`` long, the centre's index in the flattened canvas (row * 64 + column).
        onehot: ``(3136, 1, 64, 64)`` float, 1 at the centre pixel.
        squares: ``(3136, 1, 64, 64)`` float, 1 on the 9x9 square.
    """

    centers: torch.Tensor
    coordinates: torch.Tensor
    pixel: torch.Tensor
    onehot: torch.Tensor
    squares: torch.Tensor

    def __len__(self) -> int:
        return len(self.centers)


def not_so_clevr() -> NotSoClevr:
    """Generate the data set (deterministic: there is nothing random in it)."""
    side = CANVAS - SQUARE + 1
    top, left = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    top, left = top.reshape(-1), left.reshape(-1)
    half = SQUARE // 2
    centers = torch.stack([left + half, top + half], dim=1)
    pixel = centers[:, 1] * CANVAS + centers[:, 0]
    onehot = torch.zeros(len(pixel), CANVAS * CANVAS)
    onehot[torch.arange(len(pixel)), pixel] = 1.0
    rows = torch.arange(CANVAS)
    inside_rows = (rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + SQUARE)
    inside_cols = (rows[None, :] >= left[:, None]) & (rows[None, :] < left[:, None] + SQUARE)
    squares = (inside_rows[:, :, None] & inside_cols[:, None, :]).float().unsqueeze(1)
    return NotSoClevr(
        centers=centers,
        coordinates=centers.float() * (2.0 / (CANVAS - 1)) - 1.0,
        pixel=pixel,
        onehot=onehot.reshape(-1, 1, CANVAS, CANVAS),
        squares=squares,
    )


def split_indices(centers: torch.Tensor, split: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, test)`` row indices of the named split (see the module docstring).

    Raises:
        InputError: an unknown split name.
    """
    count = len(centers)
    if split == "quadrant":
        held_out = (centers[:, 0] > CANVAS // 2) & (centers[:, 1] > CANVAS // 2)
        return torch.nonzero(~held_out).squeeze(1), torch.nonzero(held_out).squeeze(1)
    if split == "uniform":
        order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
        test_size = int(UNIFORM_TEST_FRACTION * count)
        return order[test_size:].sort().values, order[:test_size].sort().values
    raise InputError("unknown Not-so-Clevr split", item=split, expected="'uniform' or 'quadrant'")
