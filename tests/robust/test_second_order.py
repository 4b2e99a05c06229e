"""DeepFool (closed form on an affine model), the second-order attack and the random-noise defense."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks import PGD, DeepFool, SecondOrder
from robust.attacks.norms import l2_norm
from robust.defenses import GaussianNoise, RandomNoise
from robust.models import accuracy

from .conftest import linear_model


def test_deepfool_finds_the_closed_form_minimal_l2_perturbation_of_an_affine_model():
    generator = torch.Generator().manual_seed(0)
    weight = 0.1 * torch.randn(4, 16, generator=generator)
    bias = torch.zeros(4)
    model = linear_model(weight, bias)
    x = 0.5 + 0.01 * torch.randn(8, 1, 4, 4, generator=generator)
    y = model(x).argmax(1)
    logits = model(x)
    # the exact minimal L2 distance: min over l != y of (Z_y - Z_l) / ||w_l - w_y||
    distance = torch.full((8,), float("inf"))
    for label in range(4):
        gap = logits[:, y].diagonal() - logits[:, label]
        norm = (weight[label] - weight[y]).norm(dim=1)
        distance = torch.where(label == y, distance, torch.minimum(distance, gap / norm))
    attack = DeepFool(model, steps=5, overshoot=0.0)
    x_adv = attack(x, y)
    assert torch.allclose(l2_norm(x_adv - x), distance * (1 + 1e-4), rtol=1e-4)
    assert bool((model(x_adv).argmax(1) != y).all())
    assert attack.cost_.tolist() == [3] * 8  # one iteration, 3 candidate classes


def test_second_order_attack_with_zero_noise_is_l2_pgd_and_costs_steps_times_samples(digits_mlp, digits):
    x, y = digits.x_test[:32], digits.y_test[:32]
    plain = PGD(digits_mlp, eps=1.0, alpha=0.2, steps=5, norm="l2", seed=3)(x, y)
    attack = SecondOrder(digits_mlp, eps=1.0, alpha=0.2, steps=5, sigma=0.0, samples=1, seed=3)
    assert torch.equal(attack(x, y), plain)
    noisy = SecondOrder(digits_mlp, eps=1.0, alpha=0.2, steps=5, sigma=0.1, samples=3)
    x_adv = noisy(x, y)
    assert float(l2_norm(x_adv - x).max()) <= 1.0 + 1e-5
    assert noisy.cost_.tolist() == [15] * 32


def test_random_noise_defense_votes_like_the_model_at_zero_noise_and_is_a_fixed_function(digits_mlp, digits):
    x = digits.x_test[:50]
    assert torch.equal(RandomNoise(digits_mlp, sigma=0.0, samples=3)(x).argmax(1), digits_mlp(x).argmax(1))
    defense = RandomNoise(digits_mlp, sigma=0.2, samples=16)
    assert torch.equal(defense(x), defense(x))
    assert accuracy(defense, digits.x_test, digits.y_test) > 0.85  # the vote keeps clean accuracy
    shares = defense(x).exp()
    assert torch.allclose((shares * (shares > 1e-5)).sum(1), torch.ones(50), atol=1e-4)


class _Saddle(torch.nn.Module):
    """Two classes: a constant logit 1 against ``10 (u . (x - x0))^2``: the loss gradient is exactly
    zero at ``x0`` while its curvature points along ``u`` (the case the second-order attack targets)."""

    def __init__(self, x0, u):
        super().__init__()
        self.x0, self.u = x0.flatten(), u

    def forward(self, x):
        t = (x.flatten(1) - self.x0) @ self.u
        return torch.stack([torch.ones_like(t), 10 * t**2], 1)


def test_second_order_attack_escapes_a_zero_gradient_along_the_curvature_where_pgd_is_stuck():
    generator = torch.Generator().manual_seed(0)
    u = torch.randn(16, generator=generator)
    u = u / u.norm()
    x0 = torch.full((1, 1, 4, 4), 0.5)
    model, y = _Saddle(x0, u), torch.tensor([0])
    stuck = PGD(model, eps=1.0, alpha=0.25, steps=4, norm="l2", random_start=False)(x0, y)
    assert torch.equal(stuck, x0)  # a zero gradient never moves first-order PGD
    attack = SecondOrder(model, eps=1.0, alpha=0.25, steps=4, sigma=0.2, samples=8, random_start=False)
    x_adv = attack(x0, y)
    step = (x_adv - x0).flatten()
    assert abs(float(step @ u)) / float(step.norm()) > 0.99  # along the dominant Hessian eigenvector
    assert int(model(x_adv).argmax(1)) == 1


def test_gaussian_noise_draws_from_its_own_generator():
    model = torch.nn.Flatten()
    state = torch.random.get_rng_state()
    a = GaussianNoise(model, 1.0, seed=4)(torch.zeros(2, 1, 2, 2))
    b = GaussianNoise(model, 1.0, seed=4)(torch.zeros(2, 1, 2, 2))
    assert torch.equal(a, b) and torch.equal(state, torch.random.get_rng_state())


def test_bad_budgets_of_the_new_attacks_and_defenses_are_refused(digits_mlp):
    with pytest.raises(InputError, match="sigma must be >= 0"):
        SecondOrder(digits_mlp, sigma=-1.0)
    with pytest.raises(InputError, match="samples must be > 0"):
        RandomNoise(digits_mlp, samples=0)
    with pytest.raises(InputError, match="overshoot must be >= 0"):
        DeepFool(digits_mlp, overshoot=-0.1)
