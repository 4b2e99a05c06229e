"""Mean-field variational inference: the evidence lower bound (ELBO) as an estimate, and the fitted
approximation as an importance-sampling proposal (VBIS, in `importance`).

The family is ``q(theta) = prod_e LogNormal(mu_e, sigma_e)``, i.e. ``x = log theta ~ N(mu, diag sigma^2)``;
``ELBO = E_q[log L(theta) + log p(theta) + sum x] + H[N(mu, sigma)]`` is maximised with Adam on
reparameterised gradients (Kucukelbir et al. 2017, ADVI), starting from the Laplace fit at the mode.
The reported ELBO is a fresh Monte Carlo average over ``importance_samples`` draws with its
standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.progress import progress
from phylo_marglik.estimators.base import EstimatorContext, register
from phylo_marglik.estimators.shared import log_space_mode
from phylo_marglik.posterior import to_branch_lengths

__all__ = ["MeanFieldLogNormal", "fit_mean_field"]


@dataclass(frozen=True)
class MeanFieldLogNormal:
    """Independent lognormal branch lengths: ``log theta_e ~ N(mu_e, sigma_e^2)``; (E,) tensors."""

    mu: torch.Tensor
    sigma: torch.Tensor

    def sample_log(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, E) draws of ``x = log theta``."""
        z = torch.randn(n, self.mu.shape[0], generator=generator, dtype=torch.float64)
        return self.mu + self.sigma * z

    def log_prob_log(self, x: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,) log density of ``x = log theta``."""
        z = (x - self.mu) / self.sigma
        return (-0.5 * z**2 - torch.log(self.sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)


class _Adam:
    """Adam (Kingma & Ba 2015) ascent on a few tensors, with the paper's betas and epsilon."""

    def __init__(self, params: list[torch.Tensor], lr: float) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def ascend(self, grads: tuple[torch.Tensor, ...]) -> None:
        self.t += 1
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m.mul_(0.9).add_(0.1 * g)
                v.mul_(0.999).add_(0.001 * g * g)
                m_hat = m / (1 - 0.9**self.t)
                v_hat = v / (1 - 0.999**self.t)
                p.add_(self.lr * m_hat / (v_hat.sqrt() + 1e-8))


def _elbo_terms(ctx: EstimatorContext, x: torch.Tensor) -> torch.Tensor:
    theta = to_branch_lengths(x)
    return ctx.posterior.log_likelihood(theta) + ctx.posterior.log_prior(theta) + x.sum(-1)


def fit_mean_field(ctx: EstimatorContext) -> MeanFieldLogNormal:
    """Fit (cached) the mean-field lognormal by maximising the ELBO with Adam."""

    def fit() -> MeanFieldLogNormal:
        found, curvature = log_space_mode(ctx)
        prior_curv = ctx.posterior.prior.rate * torch.exp(found.x)
        precision = torch.diagonal(curvature).clamp_min(0) + prior_curv
        mu = found.x.clone().requires_grad_(True)
        log_sigma = (-0.5 * torch.log(precision.clamp_min(1e-6))).requires_grad_(True)
        adam = _Adam([mu, log_sigma], ctx.config.vi_learning_rate)
        n, dim = ctx.config.vi_samples, found.x.shape[0]
        for _ in progress(range(ctx.config.vi_iterations), desc="variational fit"):
            z = torch.randn(n, dim, generator=ctx.generator, dtype=torch.float64)
            x = mu + torch.exp(log_sigma) * z
            elbo = _elbo_terms(ctx, x).mean() + log_sigma.sum()
            adam.ascend(torch.autograd.grad(elbo, [mu, log_sigma]))
        return MeanFieldLogNormal(mu.detach().clone(), torch.exp(log_sigma.detach()))

    return ctx.shared("vi:mean-field", fit)


@register("elbo", "evidence lower bound of a mean-field lognormal fit (ADVI-style)")
def evidence_lower_bound(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    q = fit_mean_field(ctx)
    values = []
    remaining = ctx.config.importance_samples
    while remaining > 0:
        size = min(remaining, ctx.config.batch_size)
        x = q.sample_log(size, ctx.generator)
        with torch.no_grad():
            values.append(_elbo_terms(ctx, x) - q.log_prob_log(x))
        remaining -= size
    terms = torch.cat(values)
    return float(terms.mean()), float(terms.std() / math.sqrt(terms.shape[0])), {}
