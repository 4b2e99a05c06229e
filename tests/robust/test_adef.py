"""ADef: it fools a linear model by a smooth deformation and leaves the model untouched."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks import ADef, make_attack
from robust.attacks.adef import t_norm
from robust.attacks.flow import gaussian_smooth, resample

from .conftest import linear_model


def _blob_and_linear_model():
    """A smooth bright blob (1, 1, 10, 10) and a 2-class linear model that prefers class 0 on it."""
    grid = torch.arange(10, dtype=torch.float64)
    blob = torch.exp(-((grid[:, None] - 4.0) ** 2 + (grid[None, :] - 4.5) ** 2) / 6.0)[None, None]
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(2, 100, dtype=torch.float64, generator=generator)
    score = blob.flatten(1) @ weight.T  # (1, 2)
    bias = torch.tensor([0.0, float(score[0, 0] - score[0, 1]) - 0.5], dtype=torch.float64)  # class 0 by 0.5
    model = linear_model(weight.float(), bias.float()).double()
    return blob, model


def test_adef_fools_a_linear_model_with_a_smooth_field_and_leaves_it_untouched():
    x, model = _blob_and_linear_model()
    y = torch.zeros(1, dtype=torch.long)
    assert int(model(x).argmax(1)) == 0
    before = {key: value.clone() for key, value in model.state_dict().items()}
    model.train()
    attack = ADef(model, sigma=1.0, max_iter=20, candidates=1)
    x_adv = attack(x, y)
    assert int(model(x_adv).argmax(1)) == 1
    assert torch.allclose(resample(x, attack.field_), x_adv)
    assert 0 < float(t_norm(attack.field_)) < 3  # a deformation of at most a few pixels
    assert 1 <= int(attack.cost_[0]) <= 20
    # smooth by construction: the field is the Gaussian filter of the raw steps ...
    assert torch.allclose(gaussian_smooth(attack.raw_field_, 1.0), attack.field_, atol=1e-10)
    # ... and filtering it once more changes it less than half as much as white noise (measured 0.32 vs 0.81)

    def relative_change(field):
        return float((gaussian_smooth(field, 1.0) - field).norm() / field.norm())

    noise = torch.randn(attack.field_.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert relative_change(attack.field_) < 0.5 * relative_change(noise)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    assert model.training and all(p.grad is None and p.requires_grad for p in model.parameters())


def test_adef_respects_max_norm_and_leaves_misclassified_images_alone():
    x, model = _blob_and_linear_model()
    limited = ADef(model, max_iter=20, candidates=1, max_norm=0.05)
    limited(x, torch.zeros(1, dtype=torch.long))
    assert float(t_norm(limited.field_)) <= 0.05 + 1e-9
    already = ADef(model, max_iter=5)
    assert torch.equal(already(x, torch.ones(1, dtype=torch.long)), x)  # class 1 is already wrong
    assert int(already.cost_[0]) == 0


def test_adef_refuses_bad_budgets_and_flat_images():
    _, model = _blob_and_linear_model()
    with pytest.raises(InputError, match="max_norm must be > 0"):
        make_attack("adef", model, max_norm=0.0)
    with pytest.raises(InputError, match="at least 4 dimensions"):
        ADef(model)(torch.rand(2, 100, dtype=torch.float64), torch.zeros(2, dtype=torch.long))
