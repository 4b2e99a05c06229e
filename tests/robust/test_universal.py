"""Universal perturbations: inside the eps-ball, far better than random noise of the same size."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks.universal import fit_universal_perturbation, fooling_rate


def test_universal_perturbation_fools_held_out_images_far_more_than_random_signs(digits_mlp, digits):
    eps = 0.15
    result = fit_universal_perturbation(digits_mlp, digits.x_train[:600], digits.y_train[:600], eps, epochs=4)
    v = result.perturbation
    assert v.shape == (1, 1, 8, 8) and float(v.abs().max()) <= eps + 1e-7
    random_signs = eps * torch.sign(torch.randn(v.shape, generator=torch.Generator().manual_seed(0)))
    held_out = fooling_rate(digits_mlp, digits.x_test, v)
    baseline = fooling_rate(digits_mlp, digits.x_test, random_signs)
    assert held_out > baseline + 0.15
    assert result.gradient_calls == 4 * 6 and len(result.history) == 4


def test_fooling_rate_of_a_zero_perturbation_is_zero(digits_mlp, digits):
    assert fooling_rate(digits_mlp, digits.x_test, torch.zeros(1, 1, 8, 8)) == 0.0


def test_universal_generator_refuses_bad_input(digits_mlp, digits):
    with pytest.raises(InputError, match="eps must be >= 0"):
        fit_universal_perturbation(digits_mlp, digits.x_train, digits.y_train, -0.1)
    with pytest.raises(InputError, match=r"images must be floating point in \[0, 1\]"):
        fit_universal_perturbation(digits_mlp, digits.x_train * 3, digits.y_train, 0.1)
    with pytest.raises(InputError, match="labels must have shape"):
        fit_universal_perturbation(digits_mlp, digits.x_train, digits.y_train[:5], 0.1)
