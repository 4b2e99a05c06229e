"""The ELBO and the IWAE bound on a linear-Gaussian VAE, whose log-likelihood is known in closed form.

Model: z ~ N(0, I_d), x | z ~ N(W z + b, sigma^2 I_D), so x ~ N(b, W W^T + sigma^2 I) (scipy gives
the density). With orthogonal columns of W the exact posterior is diagonal,
q*(z | x) = N(s^2 W^T (x - b) / sigma^2, s^2 I) with s^2 = sigma^2 / (c + sigma^2) where W^T W = c I,
and then log p(x, z) - log q*(z | x) = log p(x) for every z.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from scipy.stats import multivariate_normal
from torch import nn

from genmodels.vae import VAE, Gaussian, elbo, gaussian_kl, iwae_bound

D_SIDE, LATENT, SIGMA, SCALE = 3, 2, 0.5, 1.5  # images 1x3x3 = 9 pixels


class _Affine(nn.Module):
    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, shape: tuple[int, ...] | None = None):
        super().__init__()
        self.weight, self.bias, self.shape = nn.Parameter(weight), nn.Parameter(bias), shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x.flatten(1) @ self.weight.T + self.bias
        return out if self.shape is None else out.unflatten(1, self.shape)


def _linear_gaussian(posterior_shift: float = 0.0, posterior_log_var_shift: float = 0.0):
    generator = torch.Generator().manual_seed(0)
    pixels = D_SIDE * D_SIDE
    q, _ = torch.linalg.qr(torch.randn(pixels, LATENT, generator=generator, dtype=torch.float64))
    w = SCALE * q  # W^T W = SCALE^2 I
    b = 0.3 * torch.randn(pixels, generator=generator, dtype=torch.float64)
    s2 = SIGMA**2 / (SCALE**2 + SIGMA**2)
    enc_w = torch.cat([s2 * w.T / SIGMA**2, torch.zeros(LATENT, pixels, dtype=torch.float64)])
    enc_b = torch.cat(
        [
            -s2 * (w.T @ b) / SIGMA**2 + posterior_shift,
            torch.full((LATENT,), math.log(s2) + posterior_log_var_shift, dtype=torch.float64),
        ]
    )
    model = VAE(
        _Affine(enc_w, enc_b),
        _Affine(w, b, (1, D_SIDE, D_SIDE)),
        Gaussian(SIGMA),
        LATENT,
        (1, D_SIDE, D_SIDE),
    ).double()
    covariance = (w @ w.T + SIGMA**2 * torch.eye(pixels, dtype=torch.float64)).numpy()
    x = b[:, None] + w @ torch.randn(LATENT, 6, generator=generator, dtype=torch.float64)
    x = (x + SIGMA * torch.randn(pixels, 6, generator=generator, dtype=torch.float64)).T
    log_px = multivariate_normal(mean=b.numpy(), cov=covariance).logpdf(x.numpy())
    return model, x.reshape(-1, 1, D_SIDE, D_SIDE), torch.as_tensor(log_px)


def test_gaussian_kl_matches_the_closed_form_of_two_gaussians():
    mean, log_var = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.2, -0.7]])
    var = log_var.exp()
    by_hand = 0.5 * (var + mean**2 - 1 - torch.log(var)).sum(-1)
    torch_kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, var.sqrt()), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    assert torch.allclose(gaussian_kl(mean, log_var), by_hand)
    assert torch.allclose(gaussian_kl(mean, log_var), torch_kl)


@pytest.mark.parametrize(("shift", "log_var_shift"), [(0.0, 0.0), (0.4, -0.6)])
def test_elbo_is_log_likelihood_minus_the_posterior_kl(shift, log_var_shift):
    """E_q[ELBO estimate] = log p(x) - KL(q || exact posterior); zero gap at the exact posterior."""
    model, x, log_px = _linear_gaussian(shift, log_var_shift)
    draws = 20000
    with torch.no_grad():
        estimates = elbo(model, x.repeat(draws, 1, 1, 1), torch.Generator().manual_seed(0)).elbo
    estimates = estimates.reshape(draws, len(x))
    s2 = SIGMA**2 / (SCALE**2 + SIGMA**2)
    kl = LATENT * 0.5 * (math.exp(log_var_shift) + shift**2 / s2 - 1 - log_var_shift)
    standard_error = estimates.std(0) / math.sqrt(draws)
    assert torch.all((estimates.mean(0) - (log_px - kl)).abs() < 4 * standard_error)


def test_iwae_bound_rises_with_k_toward_the_log_likelihood():
    model, x, log_px = _linear_gaussian(0.8, 0.9)  # a poor q: the ELBO is far below log p(x)
    means = {}
    for k in (1, 4, 32, 512):
        with torch.no_grad():
            draws = torch.stack(
                [iwae_bound(model, x, k, torch.Generator().manual_seed(s)) for s in range(60)]
            )
        means[k] = draws.mean(0)
    gaps = [float((log_px - means[k]).mean()) for k in (1, 4, 32, 512)]
    assert all(a > b for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[0] > 1.0 and 0 <= gaps[-1] < 0.1 * gaps[0]
    assert torch.all(means[512] <= log_px + 1e-3)


def test_iwae_with_the_exact_posterior_is_exact_for_every_k():
    model, x, log_px = _linear_gaussian()
    for k in (1, 7):
        assert torch.allclose(iwae_bound(model, x, k, torch.Generator().manual_seed(1), chunk=3), log_px)


def test_iwae_refuses_a_non_positive_k():
    model, x, _ = _linear_gaussian()
    with pytest.raises(ValueError, match="k"):
        iwae_bound(model, x, 0)


def test_encode_refuses_images_of_another_shape():
    model, _, _ = _linear_gaussian()
    with pytest.raises(ValueError, match=r"shape \(2, 1, 4, 4\)"):
        model.encode(torch.zeros(2, 1, 4, 4, dtype=torch.float64))
