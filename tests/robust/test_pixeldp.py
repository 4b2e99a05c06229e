"""PixelDP against closed forms on a linear model: the Monte-Carlo expected scores match the Gaussian
probit, and every certified radius is within the exact distance to the decision boundary."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from robust.certify import PixelDP

from .conftest import linear_model


def _two_class(seed=0):
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(16, generator=generator)
    weight = torch.stack([torch.zeros(16), w])
    model = linear_model(weight, torch.tensor([0.0, -float(w.sum()) * 0.5]))  # boundary through x = 0.5
    x = 0.5 + 0.15 * torch.randn(60, 1, 4, 4, generator=generator)
    margin = (x.flatten(1) - 0.5) @ w  # logit of class 1 minus class 0
    return model, w, x, margin


def test_expected_scores_match_the_gaussian_probit_of_a_linear_model():
    model, w, x, margin = _two_class()
    dp = PixelDP(model, construction_bound=0.2, dp_eps=1.0, dp_delta=0.05, draws=400)
    mean, lower, upper = dp.expected_scores(x)
    exact = 0.5 * (1 + torch.erf(margin / (dp.scale * w.norm() * math.sqrt(2))))  # P(class 1)
    inside = (exact >= lower[:, 1] - 1e-6) & (exact <= upper[:, 1] + 1e-6)
    assert float(inside.float().mean()) >= 1 - dp.eta  # the intervals hold with probability 1 - eta
    assert float((exact - mean[:, 1]).abs().mean()) < 0.03
    assert dp.scale == pytest.approx(math.sqrt(2 * math.log(1.25 / 0.05)) * 0.2)


@pytest.mark.parametrize("mechanism", ["gaussian", "laplace"])
def test_certified_radii_never_exceed_the_exact_distance_to_the_boundary(mechanism):
    model, w, x, margin = _two_class()
    delta = 0.05 if mechanism == "gaussian" else 0.0
    dp = PixelDP(model, construction_bound=0.2, dp_eps=1.0, dp_delta=delta, mechanism=mechanism, draws=400)
    result = dp.certify(x)
    certified = result.radius > 0
    dual = w.norm() if mechanism == "gaussian" else w.abs().max()  # L2 or L1 distance: |margin| / dual norm
    distance = margin.abs() / dual
    assert int(certified.sum()) >= 10  # it certifies a good share of these points
    assert bool((result.radius[certified] <= distance[certified]).all())
    assert bool((result.prediction[certified] == (margin[certified] > 0).long()).all())


def test_pixeldp_refuses_an_invalid_privacy_budget():
    model, *_ = _two_class()
    with pytest.raises(InputError, match="dp_eps <= 1"):
        PixelDP(model, dp_eps=2.0)
    with pytest.raises(InputError, match="dp_delta must be 0"):
        PixelDP(model, mechanism="laplace", dp_delta=0.1)
    with pytest.raises(InputError, match="unknown mechanism"):
        PixelDP(model, mechanism="cauchy")
