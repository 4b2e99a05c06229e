"""Galloway et al.'s scaling (weight decay) vs shifting (adversarial training) on a linear model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.analyses import weight_decay as wd


def test_adversarial_loss_is_the_margin_loss_shifted_by_eps_and_scaled_by_the_norm():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(50, 7, generator=generator)
    y = torch.where(torch.rand(50, generator=generator) < 0.5, -1.0, 1.0)
    w, b = torch.randn(7, generator=generator), torch.tensor(0.3)
    for eps in (0.0, 0.4, 1.5):
        x_adv = wd.adversarial_examples(x, y, w, eps)
        torch.testing.assert_close((x_adv - x).norm(dim=1), torch.full((50,), eps), atol=1e-5, rtol=0)
        explicit = nn.functional.softplus(-y * (x_adv @ w + b)).mean()  # loss on the worst-case points
        torch.testing.assert_close(wd.shifted_loss(x, y, w, b, eps), explicit)
        torch.testing.assert_close(wd.signed_distance(x_adv, y, w, b), wd.signed_distance(x, y, w, b) - eps)
        # the worst case among random directions of the same norm never does worse than the closed form
        u = torch.randn(200, 7, generator=generator)
        moved = x[:, None, :] + eps * u / u.norm(dim=1, keepdim=True)
        random_worst = (y[:, None] * (moved @ w + b)).min(1).values
        assert bool((random_worst >= y * (x_adv @ w + b) - 1e-5).all())
    assert wd.linear_robust_accuracy(x, y, w, b, 0.0) == pytest.approx(
        float((y * (x @ w + b) > 0).float().mean())
    )


def test_weight_decay_and_adversarial_training_both_beat_plain_training_under_l2_attack():
    generator = torch.Generator().manual_seed(1)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:  # one signal axis, 49 noise axes
        y = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        x = torch.randn(n, 50, generator=generator) * 0.5
        x[:, 0] += y
        return x, y

    (x, y), (x_test, y_test) = sample(40), sample(2000)
    plain = wd.fit_logistic(x, y, steps=300, lr=0.05)
    decayed = wd.fit_logistic(x, y, weight_decay=0.1, steps=300, lr=0.05)
    shifted = wd.fit_logistic(x, y, eps=0.6, steps=300, lr=0.05)
    assert float(decayed[0].norm()) < 0.5 * float(plain[0].norm())  # scaling: the norm shrinks
    base = wd.linear_robust_accuracy(x_test, y_test, *plain, 0.3)  # measured 0.41
    assert wd.linear_robust_accuracy(x_test, y_test, *decayed, 0.3) > base + 0.2  # measured 0.86
    assert wd.linear_robust_accuracy(x_test, y_test, *shifted, 0.3) > base + 0.2  # measured 0.81
    with pytest.raises(InputError, match="labels"):
        wd.fit_logistic(x, (y > 0).float(), steps=1)
