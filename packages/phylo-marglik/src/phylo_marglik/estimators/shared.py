"""Pieces several estimators reuse: posterior modes, the posterior MCMC run, the power-posterior
runs and the gamma reference of generalised stepping stone.

Chains start at the posterior mode (moved one Newton step towards each tempered mode) with a
block-proposal covariance from the Laplace approximation of each tempered target, so short
chains need little burn-in; the adaptive kernel then refines the covariance.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from phylo_marglik.estimators.base import EstimatorContext, gamma_draws
from phylo_marglik.mcmc import ChainSamples, power_posterior_mcmc
from phylo_marglik.optimize import Mode, find_mode, hessian_log_space

__all__ = [
    "GammaReference",
    "gss_samples",
    "log_space_mode",
    "mode",
    "posterior_samples",
    "power_samples",
]


class GammaReference:
    """Independent Gamma(shape_e, rate_e) per branch, fitted to posterior samples by moments
    (the study's GSS reference distribution). Parameters are (E,) tensors."""

    def __init__(self, shape: torch.Tensor, rate: torch.Tensor) -> None:
        self.shape = shape
        self.rate = rate

    @classmethod
    def fit(cls, branch_lengths: torch.Tensor) -> GammaReference:
        """Moment fit to (S, E) samples: shape = m^2 / v, rate = m / v."""
        mean = branch_lengths.mean(0)
        var = branch_lengths.var(0).clamp_min(1e-12)
        return cls(mean**2 / var, mean / var)

    def log_prob(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,)."""
        k, r = self.shape, self.rate
        t = branch_lengths.clamp_min(1e-300)
        return (k * torch.log(r) - torch.lgamma(k) + (k - 1) * torch.log(t) - r * t).sum(-1)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, E) draws, from `generator` alone (`gamma_draws`)."""
        return gamma_draws(self.shape, self.rate, n, generator).clamp_min(1e-12)


def mode(ctx: EstimatorContext, objective: str) -> Mode:
    """Mode of "ml", "map" or "log-space" objective (cached)."""
    return ctx.shared(
        f"mode:{objective}",
        lambda: find_mode(ctx.posterior, objective, max_iter=ctx.config.optimizer_iterations),
    )


def log_space_mode(ctx: EstimatorContext) -> tuple[Mode, torch.Tensor]:
    """Mode of the log-branch-length density and ``A = -Hessian of log L`` there, (E, E)."""
    found = mode(ctx, "log-space")
    hess = ctx.shared("hessian:log-space", lambda: hessian_log_space(ctx.posterior, found.x, "ml"))
    return found, -hess


def _inverse_psd(precision: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """Inverse of each symmetrised (..., E, E) matrix with eigenvalues floored at `floor`."""
    vals, vecs = torch.linalg.eigh(0.5 * (precision + precision.transpose(-1, -2)))
    return (vecs / vals.clamp_min(floor)[..., None, :]) @ vecs.transpose(-1, -2)


def _tempered_laplace(
    ctx: EstimatorContext, betas: torch.Tensor, reference: GammaReference | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Laplace approximations of the tempered targets in log space: means (B, E), covariances
    (B, E, E). The mean is one Newton step from the posterior mode, where the tempered target's
    gradient is ``(1 - beta)`` times the gradient of the log reference density (+ Jacobian)."""
    found, curvature = log_space_mode(ctx)
    x = found.x
    theta = torch.exp(x)
    prior_curv = torch.diag(ctx.posterior.prior.rate * theta)
    b = betas[:, None, None]
    if reference is None:
        precision = b * curvature + prior_curv
        ref_gradient = 1 - ctx.posterior.prior.rate * theta
    else:
        precision = b * (curvature + prior_curv) + (1 - b) * torch.diag(reference.rate * theta)
        ref_gradient = reference.shape - reference.rate * theta
    cov = _inverse_psd(precision)
    gradient = (1 - betas)[:, None] * ref_gradient[None]
    start = (x[None] + (cov @ gradient[..., None])[..., 0]).clamp(-12.0, 1.0)
    return start, cov


def posterior_samples(ctx: EstimatorContext) -> ChainSamples:
    """One posterior chain (temperature 1) with the configured budget (cached)."""

    def run() -> ChainSamples:
        betas = torch.ones(1, dtype=torch.float64)
        start, cov = _tempered_laplace(ctx, betas, None)
        return power_posterior_mcmc(
            ctx.posterior,
            betas,
            ctx.config.posterior_mcmc or ctx.config.mcmc,
            ctx.generator,
            start=start,
            proposal_covariance=cov,
            desc="posterior mcmc",
        )

    return ctx.shared("mcmc:posterior", run)


def _path_samples(
    ctx: EstimatorContext,
    reference: GammaReference | None,
    draw_reference: Callable[[int], torch.Tensor],
    desc: str,
) -> ChainSamples:
    """Samples at every temperature: MCMC for beta > 0 (one batch), exact independent draws from
    the reference for beta = 0 (it is the prior or the fitted gamma, both easy to sample)."""
    betas = ctx.config.temperatures()
    start, cov = _tempered_laplace(ctx, betas[1:], reference)
    chains = power_posterior_mcmc(
        ctx.posterior,
        betas[1:],
        ctx.config.mcmc,
        ctx.generator,
        reference_log_prob=None if reference is None else reference.log_prob,
        start=start,
        proposal_covariance=cov,
        desc=desc,
    )
    n = chains.x.shape[0]
    theta = draw_reference(n)
    loglik = ctx.posterior.log_likelihood(theta)
    logprior = ctx.posterior.log_prior(theta)
    return ChainSamples(
        x=torch.cat([torch.log(theta)[:, None], chains.x], 1),
        log_likelihood=torch.cat([loglik[:, None], chains.log_likelihood], 1),
        log_prior=torch.cat([logprior[:, None], chains.log_prior], 1),
        betas=betas,
        acceptance=torch.cat([torch.ones(1, dtype=torch.float64), chains.acceptance]),
        ess=torch.cat([torch.full((1,), float(n), dtype=torch.float64), chains.ess]),
        evaluations=chains.evaluations + n,
        seconds=chains.seconds,
    )


def power_samples(ctx: EstimatorContext) -> ChainSamples:
    """Samples at every power-posterior temperature (prior reference), cached."""
    dim = ctx.posterior.dim
    return ctx.shared(
        "mcmc:power",
        lambda: _path_samples(
            ctx, None, lambda n: ctx.posterior.prior.sample((n, dim), ctx.generator), "power posteriors"
        ),
    )


def gamma_reference(ctx: EstimatorContext) -> GammaReference:
    """The GSS reference fitted to the posterior run's samples (cached)."""
    samples = posterior_samples(ctx)
    return ctx.shared("gss:reference", lambda: GammaReference.fit(samples.branch_lengths[:, 0]))


def gss_samples(ctx: EstimatorContext) -> tuple[ChainSamples, GammaReference]:
    """Samples on the path from the gamma reference to the posterior (cached)."""
    reference = gamma_reference(ctx)
    run = ctx.shared(
        "mcmc:gss",
        lambda: _path_samples(
            ctx, reference, lambda n: reference.sample(n, ctx.generator), "gss power posteriors"
        ),
    )
    return run, reference
