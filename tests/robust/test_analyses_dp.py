"""DP-SGD: per-example gradients against a loop over examples, the clipping bound, the noise scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from core.errors import InputError
from robust.analyses import dp_sgd as dp
from robust.analyses import secret_sharer as ss


def _loop_gradients(model, loss_of_example, n):
    out = []
    for i in range(n):
        model.zero_grad()
        loss_of_example(i).backward()
        out.append({k: p.grad.clone() for k, p in model.named_parameters()})
    return {k: torch.stack([g[k] for g in out]) for k in out[0]}


def test_per_example_gradients_equal_a_loop_for_an_mlp_and_the_character_gru():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    x, y = torch.randn(6, 5), torch.randint(0, 3, (6,))

    def mlp_loss(model, params, xi, yi):
        return nn.functional.cross_entropy(functional_call(model, params, (xi[None],)), yi[None])

    fast = dp.per_example_gradients(mlp, mlp_loss, x, y)
    slow = _loop_gradients(mlp, lambda i: nn.functional.cross_entropy(mlp(x[i : i + 1]), y[i : i + 1]), 6)
    for k in slow:
        torch.testing.assert_close(fast[k], slow[k], atol=1e-6, rtol=1e-5)

    lm = ss.CharLM(vocab=6, hidden=8)
    seq = torch.randint(0, 6, (4, 11))
    params = dict(lm.named_parameters())
    with torch.no_grad():  # the written-out GRU is nn.GRU
        torch.testing.assert_close(
            dp.functional_gru(params, "gru.", lm.embed(seq[0])),
            lm.gru(lm.embed(seq[:1]))[0][0],
            atol=1e-6,
            rtol=1e-5,
        )
    fast = dp.per_example_gradients(lm, dp._lm_loss, seq, seq)
    slow = _loop_gradients(
        lm, lambda i: nn.functional.cross_entropy(lm(seq[i : i + 1, :-1])[0], seq[i, 1:]), 4
    )  # through nn.GRU, not the written-out cell
    for k in slow:
        torch.testing.assert_close(fast[k], slow[k], atol=1e-6, rtol=1e-4)


def test_clipping_bounds_every_example_and_the_noise_has_std_sigma_clip():
    generator = torch.Generator().manual_seed(0)
    grads = {"a": torch.randn(8, 3, 4, generator=generator), "b": torch.randn(8, 2, generator=generator)}
    grads["a"][0] *= 1e-3  # one example already inside the ball stays as it is
    norms = torch.sqrt(grads["a"].flatten(1).pow(2).sum(1) + grads["b"].pow(2).sum(1))
    for i in range(8):  # a batch of one: the DP gradient without noise is that example's clipped gradient
        one = {k: g[i : i + 1] for k, g in grads.items()}
        clipped, raw = dp.privatize(one, clip=1.0, noise_multiplier=0.0)
        size = torch.sqrt(sum(g.pow(2).sum() for g in clipped.values()))
        assert float(size) <= 1.0 + 1e-6 and float(raw[0]) == pytest.approx(float(norms[i]), rel=1e-6)
        if norms[i] < 1.0:
            torch.testing.assert_close(clipped["a"], grads["a"][i])
    zero = {"w": torch.zeros(10, 20000)}
    noisy, _ = dp.privatize(zero, clip=0.5, noise_multiplier=2.0, generator=generator)
    assert float(noisy["w"].std()) == pytest.approx(2.0 * 0.5 / 10, rel=0.03)  # sigma C / n
    with pytest.raises(InputError, match="clip"):
        dp.privatize(zero, clip=0.0, noise_multiplier=1.0)
    assert dp.rdp_epsilon(0.01, 1.0, 1000, 1e-5) < dp.rdp_epsilon(0.01, 0.5, 1000, 1e-5)


def test_subsampled_gaussian_rdp_equals_quadrature_of_the_renyi_divergence_and_the_gaussian_closed_form():
    import numpy as np

    orders = np.arange(2, 9)
    z = np.linspace(-40.0, 40.0, 400_001)
    for q, sigma in [(0.05, 0.8), (0.3, 1.5)]:
        ours = dp.sampled_gaussian_rdp(q, sigma, orders)
        # D_a((1-q) N(0, s^2) + q N(1, s^2) || N(0, s^2)) = log E_{N(0, s^2)}[ratio^a] / (a - 1), by quadrature
        density = np.exp(-(z**2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))
        ratio = (1 - q) + q * np.exp((2 * z - 1) / (2 * sigma**2))
        for a, value in zip(orders, ours, strict=True):
            moment = np.trapezoid(density * ratio**a, z)
            assert value == pytest.approx(np.log(moment) / (a - 1), rel=1e-7)
    np.testing.assert_allclose(dp.sampled_gaussian_rdp(1.0, 2.0, orders), orders / 8.0)  # Gaussian mechanism
    # eps = min_a T RDP(a) + log((a-1)/a) - (log delta + log a)/(a-1), here with the Gaussian closed form at q = 1
    a = dp.RDP_ORDERS
    expected = np.min(10 * a / 8.0 + np.log((a - 1) / a) - (np.log(1e-5) + np.log(a)) / (a - 1))
    assert dp.rdp_epsilon(1.0, 2.0, 10, 1e-5) == pytest.approx(expected)
    assert dp.rdp_epsilon(0.01, 1.0, 1000, 1e-5) < dp.rdp_epsilon(0.02, 1.0, 1000, 1e-5)
    with pytest.raises(InputError, match="integer orders"):
        dp.sampled_gaussian_rdp(0.1, 1.0, np.array([1.5]))
