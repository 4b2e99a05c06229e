"""Pieces several estimators reuse: posterior modes, the posterior MCMC run, the power-posterior
runs and the gamma reference of generalised stepping stone.

Chains start at the posterior mode (moved one Newton step towards each tempered mode) with a
block-proposal covariance from the Laplace approximation of each tempered target, so short
chains need little burn-in; the adaptive kernel then refines the covariance.
"""

from __future__ import annotations

import torch

from phylo_marglik.estimators.base import EstimatorContext
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
        """(n, E) draws (Marsaglia-Tsang via torch's gamma sampler, seeded from `generator`)."""
        seed = int(torch.randint(2**62, (1,), generator=generator))
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return torch.distributions.Gamma(self.shape, self.rate).sample((n,)).clamp_min(1e-12)


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


def power_samples(ctx: EstimatorContext) -> ChainSamples:
    """Chains at every power-posterior temperature (prior reference), one batch (cached)."""

    def run() -> ChainSamples:
        betas = ctx.config.temperatures()
        start, cov = _tempered_laplace(ctx, betas, None)
        return power_posterior_mcmc(
            ctx.posterior,
            betas,
            ctx.config.mcmc,
            ctx.generator,
            start=start,
            proposal_covariance=cov,
            desc="power posteriors",
        )

    return ctx.shared("mcmc:power", run)


def gamma_reference(ctx: EstimatorContext) -> GammaReference:
    """The GSS reference fitted to the posterior run's samples (cached)."""
    samples = posterior_samples(ctx)
    return ctx.shared("gss:reference", lambda: GammaReference.fit(samples.branch_lengths[:, 0]))


def gss_samples(ctx: EstimatorContext) -> tuple[ChainSamples, GammaReference]:
    """Chains on the path from the gamma reference to the posterior (cached)."""
    reference = gamma_reference(ctx)

    def run() -> ChainSamples:
        betas = ctx.config.temperatures()
        start, cov = _tempered_laplace(ctx, betas, reference)
        return power_posterior_mcmc(
            ctx.posterior,
            betas,
            ctx.config.mcmc,
            ctx.generator,
            reference_log_prob=reference.log_prob,
            start=start,
            proposal_covariance=cov,
            desc="gss power posteriors",
        )

    return ctx.shared("mcmc:gss", run), reference
