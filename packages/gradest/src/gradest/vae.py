"""A VAE with one categorical latent on binarised digits; its ELBO is estimated with any estimator.

``q(z | x) = Cat(softmax(encoder(x)))`` over K categories, uniform prior, ``p(x | z) = Bernoulli(decoder(z))``.
The reconstruction term ``E_q[-log p(x | z)]`` is the expectation whose gradient the estimators
estimate (the paper's setting: a categorical latent, as in its semi-supervised MNIST experiment); the KL
term to the uniform prior is computed exactly. With K small the exact ELBO and marginal likelihood are
computed by enumeration for evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gradest.estimators import Estimate, Estimator

__all__ = ["CategoricalVAE", "VAEConfig", "independent_bernoulli_nll"]


@dataclass(frozen=True)
class VAEConfig:
    """Architecture of the categorical VAE.

    Attributes:
        num_pixels: input dimension (64 for 8x8 digits).
        num_categories: K, the size of the categorical latent.
        hidden: width of the one-hidden-layer encoder and decoder.
    """

    num_pixels: int = 64
    num_categories: int = 32
    hidden: int = 128


class CategoricalVAE(nn.Module):
    """Encoder ``x (B, D) -> logits (B, K)``; decoder ``z (..., K) -> Bernoulli logits (..., D)``."""

    def __init__(self, config: VAEConfig = VAEConfig()) -> None:
        super().__init__()
        self.config = config
        self.encoder = nn.Sequential(
            nn.Linear(config.num_pixels, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_categories),
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.num_categories, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_pixels),
        )

    def reconstruction_nll(self, z: Tensor, x: Tensor) -> Tensor:
        """``-log p(x | z)``: z ``(S, B, K)`` (one-hot or relaxed), x ``(B, D)`` -> ``(S, B)`` nats."""
        logits = self.decoder(z)
        return F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)

    def kl_to_uniform(self, logits: Tensor) -> Tensor:
        """``KL(q(z | x) || Uniform(K))`` per row, ``(B,)`` nats."""
        log_q = torch.log_softmax(logits, -1)
        return (log_q.exp() * log_q).sum(-1) + math.log(logits.shape[-1])

    def loss(
        self, x: Tensor, estimator: Estimator, num_samples: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Estimate]:
        """Surrogate of the mean negative ELBO over the batch (its gradient is the estimate) and the estimate."""
        logits = self.encoder(x)
        estimate = estimator(
            logits, lambda z: self.reconstruction_nll(z, x), num_samples=num_samples, generator=generator
        )
        total = estimate.loss + self.kl_to_uniform(logits).sum()
        return total / x.shape[0], estimate

    @torch.no_grad()
    def exact_bounds(self, x: Tensor) -> tuple[float, float]:
        """Exact mean ``(-ELBO, -log p(x))`` in nats per image, by enumerating the K categories."""
        logits = self.encoder(x)
        k = logits.shape[-1]
        eye = torch.eye(k, dtype=x.dtype, device=x.device).unsqueeze(1).expand(k, x.shape[0], k)
        nll = self.reconstruction_nll(eye, x).transpose(0, 1)  # (B, K)
        q = torch.softmax(logits, -1)
        neg_elbo = (q * nll).sum(-1) + self.kl_to_uniform(logits)
        neg_log_marginal = -(torch.logsumexp(-nll, -1) - math.log(k))
        return float(neg_elbo.mean()), float(neg_log_marginal.mean())


def independent_bernoulli_nll(train: Tensor, test: Tensor) -> float:
    """Trivial baseline: ``-log p(x)`` per test image under independent pixels with smoothed train means."""
    means = (train.sum(0) + 1.0) / (train.shape[0] + 2.0)
    return float(F.binary_cross_entropy(means.expand_as(test), test, reduction="none").sum(-1).mean())
