"""The high-level guided denoiser: identity at initialisation, the guided loss by hand, and the
white-box attack through the denoiser undoing what it gives against the oblivious attack."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import BPDA, PGD
from robust.defenses.guided_denoiser import DenoiserConfig, DenoisingUNet, fit_guided_denoiser, guided_loss
from robust.models import accuracy


def test_untrained_denoiser_is_the_identity():
    x = torch.rand(3, 1, 9, 12)  # odd sides too
    assert torch.equal(DenoisingUNet(1, 4)(x), x)


def test_guided_losses_equal_their_hand_formulas():
    torch.manual_seed(0)
    target = nn.Sequential(nn.Flatten(), nn.Linear(16, 5), nn.ReLU(), nn.Linear(5, 3))
    denoised, clean = torch.rand(4, 1, 4, 4), torch.rand(4, 1, 4, 4)
    w1, b1, w2 = target[1].weight, target[1].bias, target[3].weight

    def hidden(x):
        return (x.flatten(1) @ w1.T + b1).clamp_min(0)

    with torch.no_grad():
        pixel = (denoised - clean).abs().mean()
        feature = (hidden(denoised) - hidden(clean)).abs().mean()
        logits = ((hidden(denoised) - hidden(clean)) @ w2.T).abs().mean()
        assert float(guided_loss(target, denoised, clean, "pixel")) == pytest.approx(float(pixel), rel=1e-6)
        assert float(guided_loss(target, denoised, clean, "feature", -2)) == pytest.approx(
            float(feature), rel=1e-6
        )
        assert float(guided_loss(target, denoised, clean, "logits")) == pytest.approx(float(logits), rel=1e-6)


def test_bad_denoiser_input_is_refused_by_name():
    with pytest.raises(InputError, match="loss='perceptual'"):
        DenoiserConfig(loss="perceptual")
    with pytest.raises(InputError, match="train_eps"):
        DenoiserConfig(train_eps=(0.1, 2.0))
    with pytest.raises(InputError, match="width"):
        DenoiserConfig(width=0)
    with pytest.raises(InputError, match="feature_layer"):
        guided_loss(nn.Sequential(nn.Flatten()), torch.rand(1, 1, 2, 2), torch.rand(1, 1, 2, 2), "feature", 5)
    with pytest.raises(InputError, match="c=1"):
        DenoisingUNet(1, 4)(torch.rand(2, 3, 8, 8))


def test_white_box_pgd_through_the_logits_guided_denoiser_breaks_it(digits_mlp, digits):
    """Measured (digits, 8 epochs, eps 0.1): undefended 0.40, oblivious PGD vs denoised 0.71, white-box
    through the denoiser 0.08, BPDA 0.37; clean 0.94 -> 0.93."""
    config = DenoiserConfig(loss="logits", width=8, train_eps=(0.05, 0.1, 0.15), attack_steps=5, epochs=8)
    small = dataclasses.replace(digits, x_test=digits.x_test[:150], y_test=digits.y_test[:150])
    before = [p.detach().clone() for p in digits_mlp.parameters()]
    denoiser, history = fit_guided_denoiser(digits_mlp, small, config)
    assert all(torch.equal(a, b) for a, b in zip(before, digits_mlp.parameters(), strict=True))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    x, y = small.x_test, small.y_test
    defended = nn.Sequential(denoiser, digits_mlp)

    budget = {"eps": 0.1, "alpha": 0.025, "steps": 10, "seed": 0}
    oblivious = PGD(digits_mlp, **budget)(x, y)
    white_box = PGD(defended, **budget)(x, y)
    bpda = PGD(nn.Sequential(BPDA(denoiser), digits_mlp), **budget)(x, y)
    print(
        accuracy(digits_mlp, oblivious, y),
        accuracy(defended, oblivious, y),
        accuracy(defended, white_box, y),
        accuracy(defended, bpda, y),
        accuracy(digits_mlp, x, y),
        accuracy(defended, x, y),
    )
    assert accuracy(defended, x, y) > accuracy(digits_mlp, x, y) - 0.05
    assert (
        accuracy(defended, oblivious, y) > accuracy(digits_mlp, oblivious, y) + 0.15
    )  # it defends the oblivious attack
    assert (
        accuracy(defended, white_box, y) < accuracy(defended, oblivious, y) - 0.3
    )  # and falls to the adapted one
