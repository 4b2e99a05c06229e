"""Rotation and translation attacks (Engstrom, Tran, Tsipras, Schmidt & Madry, ICML 2019).

The adversary picks a rotation ``theta`` (degrees) and a translation ``(dx, dy)`` (pixels) within
a budget, and the image is resampled (bilinear, zero padding outside the image, as the paper).
`SpatialGrid` tries every transform on a grid and keeps, per example, the first that fools the
model (else the one with the highest loss): the paper's exhaustive "grid" adversary (their MNIST
budget: +-30 degrees, +-3 pixels; grid 31 rotations x 5 x 5 translations). With ``random=k``
it instead tries k transforms drawn uniformly from the budget: the "worst-of-k" adversary (k = 10
in the paper). Cost: one query per transform tried (until the example is fooled).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget

__all__ = ["SpatialGrid", "rotate_translate"]


def rotate_translate(x: Tensor, degrees: Tensor, dx: Tensor, dy: Tensor) -> Tensor:
    """Rotate each image of ``x (n, c, h, w)`` by ``degrees (n,)`` about its centre, then shift by
    ``dx, dy (n,)`` pixels (right, down); bilinear resampling, zeros outside the image."""
    n, _, h, w = x.shape
    angle = degrees.to(x) * math.pi / 180
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output coordinates (normalised to [-1, 1]) to input coordinates
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
    theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
    theta[:, 0, 2] = -2 * dx.to(x) / w
    theta[:, 1, 2] = -2 * dy.to(x) / h
    grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class SpatialGrid(Attack):
    """Grid (or worst-of-k random) search over rotations and translations.

    Args:
        max_degrees: rotations in [-max_degrees, max_degrees].
        max_shift: translations in [-max_shift, max_shift] pixels on each axis.
        rotations, shifts: grid points per range (the paper: 31 and 5 for MNIST).
        random: 0 for the grid; k > 0 for k uniform random transforms (worst-of-k).
    """

    name = "spatial"
    cost_unit = "queries"
    min_image_dims = 4

    def __init__(
        self,
        model: nn.Module,
        max_degrees: float = 30.0,
        max_shift: float = 3.0,
        rotations: int = 31,
        shifts: int = 5,
        random: int = 0,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, seed=seed)
        check_budget("max_degrees", max_degrees)
        check_budget("max_shift", max_shift)
        check_budget("rotations", rotations, positive=True, integer=True)
        check_budget("shifts", shifts, positive=True, integer=True)
        check_budget("random", random, integer=True)
        self.max_degrees, self.max_shift = float(max_degrees), float(max_shift)
        self.rotations, self.shifts, self.random = rotations, shifts, random

    def transforms(self) -> Tensor:
        """``(m, 3)`` rows of (degrees, dx, dy) the attack tries, the identity first for the grid."""
        if self.random:
            u = torch.rand(self.random, 3, generator=self.generator) * 2 - 1
            return u * torch.tensor([self.max_degrees, self.max_shift, self.max_shift])
        angles = torch.linspace(-self.max_degrees, self.max_degrees, self.rotations)
        offsets = torch.linspace(-self.max_shift, self.max_shift, self.shifts)
        grid = torch.cartesian_prod(angles, offsets, offsets)
        order = grid.abs().sum(1).argsort(stable=True)  # smallest transforms first
        return grid[order]

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        if x.ndim != 4:
            raise InputError("spatial attacks need images (n, c, h, w)", item=f"shape {tuple(x.shape)}")
        best = x.clone()
        best_loss = torch.full((len(x),), -float("inf"), device=x.device)
        fooled = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        used = torch.zeros(len(x), dtype=torch.long)
        for degrees, dx, dy in self.transforms().tolist():
            open_ = ~fooled
            if not bool(open_.any()):
                break
            index = open_.nonzero()[:, 0]
            n = len(index)
            moved = rotate_translate(
                x[index], torch.full((n,), degrees), torch.full((n,), dx), torch.full((n,), dy)
            )
            with torch.no_grad():
                logits = self.logits(moved)
            loss = self.loss(logits, y[index])
            used[index.cpu()] += 1
            hit = logits.argmax(1) != y[index]
            better = hit | (loss > best_loss[index])
            take = index[better]
            best[take] = moved[better]
            best_loss[take] = loss[better]
            fooled[index[hit]] = True
        if self._counter is not None:
            self._counter += used
        return best.clamp(0.0, 1.0)

    def budget(self) -> dict[str, object]:
        return {
            "max_degrees": self.max_degrees,
            "max_shift": self.max_shift,
            "rotations": self.rotations,
            "shifts": self.shifts,
            "random": self.random,
        }
