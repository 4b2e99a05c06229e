"""The VAE objectives: analytic KL, the ELBO and the importance-weighted bound (IWAE).

Kingma & Welling 2014 (ELBO with the reparameterisation trick and the Gaussian KL in closed form,
their eq. 10); Burda, Grosse & Salakhutdinov 2016 (IWAE, eq. 8): with k draws from q(z | x),

    L_k(x) = E[ log (1/k) sum_i p(x, z_i) / q(z_i | x) ],   L_1 = ELBO <= L_k <= L_{k+1} <= log p(x).

Randomness comes from an explicit `torch.Generator`, so a training run can be replayed exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from genmodels.distributions import gaussian_log_density as _gaussian_log_density

_LOG_2PI = math.log(2 * math.pi)

if TYPE_CHECKING:
    from genmodels.vae.networks import VAE

__all__ = ["ELBOTerms", "elbo", "gaussian_kl", "importance_log_likelihood", "iwae_bound"]


def gaussian_kl(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL( N(mean, diag(exp(log_var))) || N(0, I) ) summed over the last axis; shape ``(...)``, nats."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(-1)


@dataclass(frozen=True)
class ELBOTerms:
    """Per-image terms of one ELBO evaluation (all ``(batch,)``, nats, except `reconstruction`).

    Attributes:
        log_likelihood: one-sample estimate of E_q[log p(x | z)].
        kl: KL(q(z | x) || p(z)) in closed form.
        squared_error: ||x - mean of p(x | z)||^2 summed over pixels (pixel units squared).
        reconstruction: the mean of p(x | z) for the sampled z, ``(batch, c, h, w)``.
    """

    log_likelihood: Tensor
    kl: Tensor
    squared_error: Tensor
    reconstruction: Tensor

    kl_dims: int = 0

    @property
    def elbo(self) -> Tensor:
        return self.log_likelihood - self.kl


def elbo(model: VAE, x: Tensor, generator: torch.Generator | None = None) -> ELBOTerms:
    """One reparameterised draw z ~ q(z | x) per image; images ``x (batch, c, h, w)`` in [0, 1]."""
    mean, log_var = model.encode(x)
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    z = mean + (0.5 * log_var).exp() * noise
    output = model.decode(z)
    reconstruction = model.likelihood.mean(output)
    return ELBOTerms(
        log_likelihood=model.likelihood.log_prob(x, output),
        kl=gaussian_kl(mean, log_var),
        squared_error=(x - reconstruction).pow(2).flatten(1).sum(-1),
        reconstruction=reconstruction,
        kl_dims=mean.shape[-1],
    )


def iwae_bound(
    model: VAE, x: Tensor, k: int, generator: torch.Generator | None = None, chunk: int = 256
) -> Tensor:
    """The importance-weighted bound L_k per image, ``(batch,)`` nats; k = 1 is a one-sample ELBO.

    Args:
        x: images ``(batch, c, h, w)``.
        k: importance samples per image (>= 1).
        chunk: samples decoded at once (bounds memory; the result does not depend on it).
    """
    from core.errors import InputError

    if not isinstance(k, int) or k < 1:
        raise InputError("k (importance samples) must be a positive integer", item=k)
    mean, log_var = model.encode(x)
    std = (0.5 * log_var).exp()
    log_weights = []
    for start in range(0, k, chunk):
        size = min(chunk, k - start)
        noise = torch.randn((size, *mean.shape), generator=generator, device=mean.device, dtype=mean.dtype)
        z = mean + std * noise  # (size, batch, latent)
        output = model.decode(z.flatten(0, 1)).unflatten(0, (size, len(x)))
        log_joint = model.likelihood.log_prob(x, output) - 0.5 * (z.pow(2) + _LOG_2PI).sum(-1)
        log_weights.append(log_joint - _gaussian_log_density(z, mean, log_var))
    weights = torch.cat(log_weights)
    return torch.logsumexp(weights, 0) - math.log(k)


def importance_log_likelihood(
    model: VAE, x: Tensor, k: int = 1000, generator: torch.Generator | None = None, batch_size: int = 100
) -> Tensor:
    """log p(x) estimated by L_k (the evaluation protocol of Burda et al.), ``(n,)`` nats, no gradients."""
    with torch.no_grad():
        return torch.cat(
            [iwae_bound(model, x[i : i + batch_size], k, generator) for i in range(0, len(x), batch_size)]
        )
