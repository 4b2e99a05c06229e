"""Perceptually-aware PGD: budget follows local variation, flat regions untouched, less visible than PGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from robust.attacks import PGD, PerceptualPGD
from robust.attacks.perceptual import local_std, perceptual_distance


def test_local_std_matches_a_brute_force_neighbourhood_std():
    x = torch.rand(2, 1, 6, 5, dtype=torch.float64)
    got = local_std(x, 3)
    for i in range(6):
        for j in range(5):
            patch = x[0, 0, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].numpy()
            assert got[0, 0, i, j].item() == pytest.approx(float(np.std(patch)), abs=1e-9)


def test_perceptual_pgd_respects_its_per_pixel_budget_and_never_touches_flat_regions(digits_mlp, digits):
    x, y = digits.x_test[:64], digits.y_test[:64]
    attack = PerceptualPGD(digits_mlp, eps=0.15, alpha=0.04, steps=10)
    x_adv = attack(x, y)
    bound = 0.15 * attack.budget_map(x)
    assert bool(((x_adv - x).abs() <= bound + 1e-6).all())
    flat = local_std(x) == 0
    assert bool(flat.any()) and float((x_adv - x)[flat].abs().max()) == 0.0
    assert attack.budget_map(x).flatten(1).mean(1).sub(1).abs().max() < 1e-5  # mean allowance = eps


def test_perceptual_pgd_is_less_visible_than_pgd_at_the_same_mean_budget_and_still_fools(digits_mlp, digits):
    x, y = digits.x_test[:200], digits.y_test[:200]
    plain = PGD(digits_mlp, eps=0.15, alpha=0.04, steps=10, random_start=False)(x, y)
    aware = PerceptualPGD(digits_mlp, eps=0.15, alpha=0.04, steps=10)(x, y)
    assert float(perceptual_distance(x, aware).mean()) < 0.5 * float(perceptual_distance(x, plain).mean())
    clean = float((digits_mlp(x).argmax(1) == y).float().mean())
    assert float((digits_mlp(aware).argmax(1) == y).float().mean()) < clean - 0.3


def test_perceptual_pgd_refuses_bad_windows_and_budgets(digits_mlp):
    with pytest.raises(InputError, match="window must be an odd number"):
        PerceptualPGD(digits_mlp, window=4)
    with pytest.raises(InputError, match="eps must be >= 0"):
        PerceptualPGD(digits_mlp, eps=-1)
