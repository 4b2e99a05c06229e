"""BPDA and EOT: the identities that make them trustworthy adaptive attacks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import BIM, BPDA, EOT, PGD


def _quantize(x: torch.Tensor) -> torch.Tensor:
    """256-level quantisation: identity-like in value, zero gradient almost everywhere."""
    return torch.round(x * 255) / 255


def _success(model, x_adv, y):
    return float((model(x_adv).argmax(1) != y).float().mean())


def test_bpda_value_is_the_defense_and_gradient_the_approximation():
    x = torch.rand(3, 1, 4, 4, requires_grad=True)
    out = BPDA(_quantize)(x)
    assert torch.equal(out, _quantize(x))
    out.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))  # identity approximation
    x.grad = None
    BPDA(_quantize, approximation=lambda t: 3 * t)(x).sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 3.0))


def test_bpda_through_an_identity_like_defense_recovers_the_undefended_success(digits_mlp, digits):
    x, y = digits.x_test[:150], digits.y_test[:150]
    budget = {"eps": 0.15, "alpha": 0.04, "steps": 8}
    undefended = _success(digits_mlp, BIM(digits_mlp, **budget)(x, y), y)
    defended = nn.Sequential(nn.Module(), digits_mlp)
    defended[0].forward = _quantize  # the defense in front of the classifier, gradient zero
    masked = _success(defended, BIM(defended, **budget)(x, y), y)
    adapted = nn.Sequential(BPDA(_quantize), digits_mlp)
    recovered = _success(adapted, BIM(adapted, **budget)(x, y), y)
    assert undefended > 0.6
    assert masked < 0.2  # the obfuscated gradient hides the model: the plain attack fails
    assert recovered >= undefended - 0.05


def test_eot_over_a_deterministic_model_equals_the_plain_attack(digits_mlp, digits):
    x, y = digits.x_test[:32], digits.y_test[:32]
    plain = PGD(digits_mlp, eps=0.1, alpha=0.03, steps=4, seed=3)
    wrapped = EOT(PGD(digits_mlp, eps=0.1, alpha=0.03, steps=4, seed=3), samples=5)
    assert torch.equal(wrapped(x, y), plain(x, y))
    assert wrapped.cost_.tolist() == [20] * len(x)
    assert wrapped.budget()["eot_samples"] == 5


class _NoisyInput(nn.Module):
    """A randomised defense: Gaussian noise at the input, from its own generator."""

    def __init__(self, model, sigma):
        super().__init__()
        self.model, self.sigma = model, sigma
        self.generator = torch.Generator().manual_seed(0)

    def forward(self, x):
        return self.model(x + self.sigma * torch.randn(x.shape, generator=self.generator))


def test_eot_averages_away_the_noise_of_a_randomised_defense(digits_mlp, digits):
    x, y = digits.x_test[:8], digits.y_test[:8]
    noisy = _NoisyInput(digits_mlp, 0.3)
    single = BIM(noisy, eps=0.1, alpha=0.02, steps=1)
    many = EOT(BIM(noisy, eps=0.1, alpha=0.02, steps=1), samples=400).inner
    reference = torch.stack([single.loss_gradient(x, y) for _ in range(400)]).mean(0)  # independent draws
    one_draw = single.loss_gradient(x, y)
    averaged = many.loss_gradient(x, y)
    # the EOT gradient is much closer to the expected gradient over the noise than a single draw is
    assert (averaged - reference).norm() < 0.5 * (one_draw - reference).norm()


def test_eot_refuses_what_it_cannot_wrap(digits_mlp):
    with pytest.raises(InputError, match="EOT wraps an Attack"):
        EOT(digits_mlp)
    with pytest.raises(InputError, match="samples must be > 0"):
        EOT(PGD(digits_mlp), samples=0)
    with pytest.raises(InputError, match="BPDA needs a callable"):
        BPDA(3)
