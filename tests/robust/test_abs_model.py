"""Analysis by synthesis: the bound against torch.distributions, the latent optimisation and its Danskin /
unrolled gradients against the closed form of linear decoders, the random search by brute force, a tiny
learning test on digits with rejection at the configured FPR, the L0 attack's budget, and bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from core.errors import InputError
from robust.defenses.abs_model import ABS, ABSConfig, L0Greedy, MarginPGD, elbo_bound, fit_abs, margin_loss

SIGMA_X = 0.5


def test_elbo_bound_equals_log_likelihood_minus_kl():
    torch.manual_seed(0)
    x, decoded, z = torch.rand(4, 7), torch.rand(4, 7), torch.randn(4, 3)
    for sigma_q in (1.0, 0.4):
        expected = Normal(decoded, SIGMA_X).log_prob(x).sum(-1) - kl_divergence(
            Normal(z, sigma_q), Normal(torch.zeros_like(z), 1.0)
        ).sum(-1)
        assert torch.allclose(elbo_bound(x, decoded, z, SIGMA_X, sigma_q), expected, atol=1e-4)


def _linear_abs(gradient: str = "danskin", steps: int = 400) -> tuple[ABS, list[torch.nn.Linear]]:
    torch.manual_seed(1)
    decoders = [torch.nn.Linear(2, 6) for _ in range(3)]
    net = ABS(decoders, 2, (1, 2, 3), sigma_x=SIGMA_X, samples=200, steps=steps, lr=0.02, gradient=gradient)
    return net, decoders


def _closed_form(x: torch.Tensor, decoder: torch.nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """``l*(x)`` and its x-gradient for ``G(z) = W z + b``: ``z* = (W^T W + s^2 I)^-1 W^T (x - b)``."""
    w, b = decoder.weight.detach().double(), decoder.bias.detach().double()
    flat = x.flatten(1).double()
    z = torch.linalg.solve(w.T @ w + SIGMA_X**2 * torch.eye(2, dtype=w.dtype), w.T @ (flat - b).T).T
    value = elbo_bound(flat, z @ w.T + b, z, SIGMA_X, 1.0)
    return value, -(flat - (z @ w.T + b)) / SIGMA_X**2


def test_latent_optimisation_and_danskin_gradient_match_the_closed_form_of_linear_decoders():
    net, decoders = _linear_abs()
    x = torch.rand(5, 1, 2, 3, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    bounds = net.bounds(x)
    for c, decoder in enumerate(decoders):
        value, grad = _closed_form(x.detach(), decoder)
        assert torch.allclose(bounds[:, c].double().detach(), value, atol=1e-3, rtol=1e-4)
        (autograd,) = torch.autograd.grad(bounds[:, c].sum(), x, retain_graph=True)
        assert torch.allclose(autograd.flatten(1).double(), grad, atol=1e-2)


def test_unrolled_gradient_approaches_the_danskin_gradient_at_convergence():
    net, decoders = _linear_abs("unrolled", steps=150)
    x = torch.rand(3, 1, 2, 3, generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    (autograd,) = torch.autograd.grad(net.bounds(x)[:, 0].sum(), x)
    _, grad = _closed_form(x.detach(), decoders[0])
    cosine = torch.nn.functional.cosine_similarity(autograd.flatten(1).double(), grad, dim=1)
    assert bool((cosine > 0.99).all()), cosine


def test_random_search_picks_the_best_prior_sample_by_brute_force():
    net, decoders = _linear_abs(steps=0)
    x = torch.rand(4, 1, 2, 3, generator=torch.Generator().manual_seed(4))
    best = net.search(x)
    for n in range(4):
        for c, decoder in enumerate(decoders):
            with torch.no_grad():
                values = [float(elbo_bound(x[n].flatten(), decoder(z), z, SIGMA_X, 1.0)) for z in net.prior]
            assert torch.equal(best[n, c], net.prior[max(range(len(values)), key=values.__getitem__)])


def test_margin_loss_by_hand():
    logits = torch.tensor([[3.0, 1.0, 2.5], [0.0, 4.0, -1.0]])
    y = torch.tensor([0, 2])
    assert torch.allclose(margin_loss(logits, y), torch.tensor([-0.5, 5.0]))
    assert torch.allclose(margin_loss(logits, y, targeted=True), torch.tensor([0.5, -5.0]))


def test_abs_learns_digits_rejects_at_the_fpr_and_falls_to_white_box_attacks(digits):
    config = ABSConfig(
        latent=4, hidden=64, image_shape=(1, 8, 8), data="digits", epochs=5, batch_size=64, learning_rate=1e-2
    )
    vaes, history = fit_abs(digits, config)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    net = ABS([v.decoder for v in vaes], 4, (1, 8, 8), sigma_x=config.sigma_x, samples=300, steps=5)
    x, y = digits.x_test[:150], digits.y_test[:150]
    with torch.no_grad():
        assert float((net(x).argmax(1) == y).float().mean()) > 0.75  # chance is 0.1
    net.calibrate(digits.x_test[150:330], 0.1)
    rate = float(net.reject(digits.x_test[330:]).float().mean())
    held = len(digits.x_test) - 330
    assert abs(rate - 0.1) < 3 * math.sqrt(0.09 / 180) + 3 * math.sqrt(0.09 / held), rate
    noise = torch.rand(50, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert float(net.reject(noise).float().mean()) > 0.9
    xa, ya = x[:40], y[:40]
    x_adv = MarginPGD(net, eps=0.3, alpha=0.05, steps=10)(xa, ya)
    with torch.no_grad():
        assert float((net(x_adv).argmax(1) == ya).float().mean()) < 0.5
    attack = L0Greedy(net, pixels=6, pixels_per_step=2)
    x_l0 = attack(xa, ya)
    changed = (x_l0 != xa).flatten(1)
    assert int(changed.sum(1).max()) <= 6
    assert bool(((x_l0.flatten(1)[changed] == 0) | (x_l0.flatten(1)[changed] == 1)).all())


def test_bad_input_raises_clear_errors(digits):
    decoder = torch.nn.Linear(2, 6)
    with pytest.raises(InputError, match="one decoder per class"):
        ABS([decoder], 2, (1, 2, 3))
    with pytest.raises(InputError, match="gradient"):
        ABS([decoder, decoder], 2, (1, 2, 3), gradient="exact")
    with pytest.raises(InputError, match="ABS expects images"):
        ABS([decoder, decoder], 2, (1, 2, 3))(torch.zeros(2, 1, 3, 3))
    with pytest.raises(InputError, match="image_shape"):
        ABSConfig(image_shape=(28, 28))
    with pytest.raises(InputError, match="does not fit"):
        fit_abs(digits, ABSConfig())
    with pytest.raises(InputError, match="pixels"):
        L0Greedy(torch.nn.Linear(2, 2), pixels=0)
