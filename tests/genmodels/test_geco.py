"""GECO's moving average and multiplier (Rezende & Viola 2018, Algorithm 1), checked step by step."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from genmodels.geco import GECO

PIXELS = 64


def _errors(rms: float, batch: int = 4) -> torch.Tensor:
    """Per-image squared errors of images whose RMS pixel error is `rms`."""
    return torch.full((batch,), PIXELS * rms**2)


def test_multiplier_rises_while_the_constraint_is_violated_and_falls_once_it_holds():
    geco = GECO(tolerance=0.1, alpha=0.99, rate=0.01)
    kl = torch.zeros(4)
    signs = []
    for rms in [0.2] * 200 + [0.05] * 1500:  # violated (C = 64 * 0.03 > 0), then satisfied (C < 0)
        before = geco.multiplier
        geco.loss(kl, _errors(rms), PIXELS)
        signs.append((geco.moving_average > 0, geco.multiplier > before))
    assert all(violated == rose for violated, rose in signs)
    assert all(violated for violated, _ in signs[:200])  # rose throughout the violated phase
    assert not signs[-1][0]  # the average crossed zero, so the multiplier fell at the end
    assert sum(not rose for _, rose in signs) > 1000


def test_moving_average_and_update_follow_the_algorithm_by_hand():
    geco = GECO(tolerance=0.1, alpha=0.9, rate=0.01, initial_lambda=2.0)
    first, second = PIXELS * 0.04 - PIXELS * 0.01, PIXELS * 0.0025 - PIXELS * 0.01
    _, metrics = geco.loss(torch.zeros(4), _errors(0.2), PIXELS)
    assert metrics["constraint_ma"] == pytest.approx(first)  # first step: the batch value
    scale = PIXELS * 0.01  # D tol^2
    assert geco.multiplier == pytest.approx(2.0 * math.exp(0.01 * first / scale))
    _, metrics = geco.loss(torch.zeros(4), _errors(0.05), PIXELS)
    average = 0.9 * first + 0.1 * second
    assert metrics["constraint_ma"] == pytest.approx(average)
    assert metrics["lambda"] == pytest.approx(2.0 * math.exp(0.01 * first / scale))
    assert geco.multiplier == pytest.approx(2.0 * math.exp(0.01 * (first + average) / scale))


def test_loss_has_the_moving_average_value_and_the_batch_gradient():
    geco = GECO(tolerance=0.1, alpha=0.5, rate=0.01)
    geco.loss(torch.zeros(2), _errors(0.3, 2), PIXELS)
    squared = _errors(0.1, 2).requires_grad_()
    kl = torch.tensor([1.0, 3.0], requires_grad=True)
    loss, metrics = geco.loss(kl, squared, PIXELS)
    assert float(loss.detach()) == pytest.approx(2.0 + metrics["lambda"] * metrics["constraint_ma"])
    loss.backward()
    assert torch.allclose(squared.grad, torch.full((2,), metrics["lambda"] / 2))
    assert torch.allclose(kl.grad, torch.full((2,), 0.5))


def test_state_round_trips_including_the_first_step_flag():
    geco = GECO(tolerance=0.1)
    fresh = GECO(tolerance=0.1)
    fresh.load_state_dict(geco.state_dict())
    assert fresh.moving_average is None
    geco.loss(torch.zeros(2), _errors(0.3, 2), PIXELS)
    fresh.load_state_dict(geco.state_dict())
    assert (fresh.moving_average, fresh.multiplier) == (geco.moving_average, geco.multiplier)


@pytest.mark.parametrize(
    "options", [{"tolerance": 0.0}, {"tolerance": 0.1, "alpha": 1.0}, {"tolerance": 0.1, "rate": -1}]
)
def test_bad_settings_are_refused(options):
    with pytest.raises(InputError):
        GECO(**options)
