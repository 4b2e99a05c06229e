"""Importance-sampling estimators: naive Monte Carlo (NMC, the prior as proposal), gamma Laplus
importance sampling (GLIS) and variational Bayes importance sampling (VBIS).

``log Z ~ log mean_i exp(log L(theta_i) + log p(theta_i) - log g(theta_i))``, ``theta_i ~ g``,
with the delta-method standard error ``sd(w) / (sqrt(n) mean(w))``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from phylo_marglik.estimators.base import EstimatorContext, log_mean_exp, register
from phylo_marglik.estimators.laplace import laplus
from phylo_marglik.estimators.variational import fit_mean_field


def _importance(
    ctx: EstimatorContext,
    draw: Callable[[int], torch.Tensor],
    log_proposal: Callable[[torch.Tensor], torch.Tensor] | None,
) -> tuple[float, float, dict[str, float]]:
    weights = []
    remaining = ctx.config.importance_samples
    with torch.no_grad():
        while remaining > 0:
            size = min(remaining, ctx.config.batch_size)
            theta = draw(size)
            logw = ctx.posterior.log_likelihood(theta)
            if log_proposal is not None:
                logw = logw + ctx.posterior.log_prior(theta) - log_proposal(theta)
            weights.append(logw)
            remaining -= size
    logw = torch.cat(weights)
    value, se = log_mean_exp(logw)
    normalised = torch.softmax(logw, 0)
    ess = float(1.0 / (normalised**2).sum())
    return value, se, {"importance_ess": ess}


@register("nmc", "naive Monte Carlo: mean likelihood over draws from the prior")
def naive_monte_carlo(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    prior = ctx.posterior.prior
    dim = ctx.posterior.dim
    return _importance(ctx, lambda n: prior.sample((n, dim), ctx.generator), None)


@register("glis", "importance sampling from the gamma Laplus approximation")
def gamma_laplus_importance_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    approx = laplus(ctx, "gamma")
    return _importance(ctx, lambda n: approx.sample(n, ctx.generator), approx.log_prob)


@register("vbis", "importance sampling from the mean-field variational approximation")
def variational_importance_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    q = fit_mean_field(ctx)

    def draw(n: int) -> torch.Tensor:
        return torch.exp(q.sample_log(n, ctx.generator))

    def log_density(theta: torch.Tensor) -> torch.Tensor:
        x = torch.log(theta)
        return q.log_prob_log(x) - x.sum(-1)

    return _importance(ctx, draw, log_density)
