"""Rotation/translation attacks: the resampler is exact on pixel-aligned transforms; the grid finds flips."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks import SpatialGrid
from robust.attacks.spatial import rotate_translate


def test_zero_transform_is_the_identity_and_pixel_aligned_ones_are_exact():
    x = torch.rand(3, 2, 8, 8, dtype=torch.float64)
    zero = torch.zeros(3, dtype=torch.float64)
    assert torch.allclose(rotate_translate(x, zero, zero, zero), x, atol=1e-12)
    quarter = rotate_translate(x, torch.full((3,), 90.0, dtype=torch.float64), zero, zero)
    assert torch.allclose(
        quarter, torch.rot90(x, k=1, dims=(-2, -1)), atol=1e-9
    )  # 90 degrees counter-clockwise
    shifted = rotate_translate(
        x, zero, torch.full((3,), 2.0, dtype=torch.float64), torch.full((3,), -1.0, dtype=torch.float64)
    )
    expected = torch.zeros_like(x)
    expected[..., :7, 2:] = x[..., 1:, :6]  # two pixels right, one up, zeros shifted in
    assert torch.allclose(shifted, expected, atol=1e-12)


def test_grid_attack_fools_a_digits_model_and_worst_of_k_is_weaker(digits_mlp, digits):
    x, y = digits.x_test[:60], digits.y_test[:60]
    grid = SpatialGrid(digits_mlp, max_degrees=30, max_shift=2, rotations=7, shifts=5)
    fooled_grid = digits_mlp(grid(x, y)).argmax(1) != y
    worst_of_3 = SpatialGrid(digits_mlp, max_degrees=30, max_shift=2, random=3, seed=0)
    fooled_random = digits_mlp(worst_of_3(x, y)).argmax(1) != y
    clean_wrong = digits_mlp(x).argmax(1) != y
    assert float(fooled_grid.float().mean()) > 0.8  # 8x8 digits shifted by 2 px are easy to break
    assert float(fooled_grid.float().mean()) >= float(fooled_random.float().mean())
    assert int(grid.cost_.max()) <= 7 * 25 and bool(
        (grid.cost_[clean_wrong] == 1).all()
    )  # identity tried first


def test_spatial_attack_refuses_bad_budgets_and_flat_inputs(digits_mlp, digits):
    with pytest.raises(InputError, match="max_degrees must be >= 0"):
        SpatialGrid(digits_mlp, max_degrees=-1)
    with pytest.raises(InputError, match="at least 4 dimensions"):
        SpatialGrid(digits_mlp)(digits.x_test[:2].flatten(1), digits.y_test[:2])
