"""Flow fields and stAdv: the resampler equals grid_sample, the smoothness loss its double sum,
and stAdv's small smooth flows fool a trained digits model."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from robust.attacks import StAdv, make_attack
from robust.attacks.flow import flow_smoothness, resample


def test_zero_flow_is_the_identity():
    x = torch.rand(3, 2, 5, 7, dtype=torch.float64)
    assert torch.allclose(resample(x, torch.zeros(3, 2, 5, 7, dtype=torch.float64)), x, atol=1e-12)


def _eq1(x, flow):
    """Xiao et al.'s eq. 1 pixel by pixel: the four neighbours of (i + v, j + u), zeros outside."""
    n, _, h, w = x.shape
    out = torch.zeros_like(x)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                sy, sx = i + float(flow[b, 1, i, j]), j + float(flow[b, 0, i, j])
                for qy in (math.floor(sy), math.floor(sy) + 1):
                    for qx in (math.floor(sx), math.floor(sx) + 1):
                        if 0 <= qy < h and 0 <= qx < w:
                            out[b, :, i, j] += x[b, :, qy, qx] * (1 - abs(sy - qy)) * (1 - abs(sx - qx))
    return out


def test_resampler_matches_grid_sample_and_the_papers_bilinear_formula_on_random_flows():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=generator)
    flow = 2 * torch.randn(
        2, 2, 5, 6, dtype=torch.float64, generator=generator
    )  # many samples leave the image
    h, w = x.shape[-2:]
    grid = torch.stack(  # align_corners=True: -1 and 1 are the centres of the corner pixels
        [
            2 * (torch.arange(w, dtype=torch.float64) + flow[:, 0]) / (w - 1) - 1,
            2 * (torch.arange(h, dtype=torch.float64)[:, None] + flow[:, 1]) / (h - 1) - 1,
        ],
        dim=-1,
    )
    expected = torch.nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="zeros", align_corners=True
    )
    assert torch.allclose(resample(x, flow), expected, atol=1e-12)
    assert torch.allclose(resample(x, flow), _eq1(x, flow), atol=1e-12)
    whole = torch.full_like(flow, 1.0)  # one pixel right and down: an exact shift
    assert torch.allclose(resample(x, whole)[..., :-1, :-1], x[..., 1:, 1:], atol=1e-12)


def test_flow_smoothness_equals_the_double_sum_over_neighbours():
    flow = torch.randn(2, 2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    eps = 1e-8
    for k in range(2):
        total = 0.0
        for i in range(3):
            for j in range(4):
                for di, dj in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                    qi, qj = i + di, j + dj
                    if 0 <= qi < 3 and 0 <= qj < 4:
                        d = flow[k, :, i, j] - flow[k, :, qi, qj]
                        total += math.sqrt(float(d.pow(2).sum()) + eps)
        assert float(flow_smoothness(flow, eps)[k]) == pytest.approx(total, rel=1e-12)


def test_stadv_fools_a_trained_digits_model_with_small_flows(digits_mlp, digits):
    x, y = digits.x_test[:40], digits.y_test[:40]
    correct = digits_mlp(x).argmax(1) == y
    x, y = x[correct][:12], y[correct][:12]
    attack = StAdv(digits_mlp, steps=15, lr=0.1)
    x_adv = attack(x, y)
    accuracy = float((digits_mlp(x_adv).argmax(1) == y).float().mean())
    assert accuracy <= 0.25  # from 1.0 on these 12 digits
    assert bool((attack.cost_ == 15).all())
    assert float(attack.flow_.abs().amax()) < 1.5  # displacements of about a pixel at most
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1


def test_stadv_with_the_papers_lbfgs_fools_the_digits_model_within_its_evaluation_budget(digits_mlp, digits):
    x, y = digits.x_test[:40], digits.y_test[:40]
    correct = digits_mlp(x).argmax(1) == y
    x, y = x[correct][:12], y[correct][:12]
    attack = StAdv(digits_mlp, tau=0.005, steps=20, optimizer="lbfgs")
    x_adv = attack(x, y)
    assert float((digits_mlp(x_adv).argmax(1) == y).float().mean()) <= 0.25
    assert bool((attack.cost_ <= 25).all()) and bool((attack.cost_ >= 2).all())  # the line search may overrun


def test_stadv_refuses_bad_budgets_and_flat_images(digits_mlp, digits):
    with pytest.raises(InputError, match="unknown optimizer"):
        StAdv(digits_mlp, optimizer="sgd")
    with pytest.raises(InputError, match="tau must be >= 0"):
        make_attack("stadv", digits_mlp, tau=-1.0)
    with pytest.raises(InputError, match="at least 4 dimensions"):
        StAdv(digits_mlp)(digits.x_test[:2].flatten(1), digits.y_test[:2])
