"""Estimators from one posterior MCMC run: harmonic mean (HM), stabilised harmonic mean (SHM),
bridge sampling (BS), conditional predictive ordinates (CPO) and pointwise predictive density (PPD).

- HM (Newton & Raftery 1994): ``Z ~ 1 / mean_j 1 / L(theta_j)``; known to be biased upward.
- SHM (Newton & Raftery 1994, their eq. 13 with imaginary prior draws): the fixed point of
  ``Z = [d m / (1-d) + sum_j L_j / (d Z + (1-d) L_j)] / [d m / ((1-d) Z) + sum_j 1 / (d Z + (1-d) L_j)]``
  with mixture weight ``d`` = 0.01 and ``m`` samples.
- BS (Meng & Wong 1996, optimal bridge, as in Gronau et al. 2017): a Gaussian in log branch
  lengths fitted to the first half of the chain is the proposal; the second half and as many
  proposal draws enter the iterative bridge estimate, which stops when its relative change is
  below ``config.bridge_tolerance``. Reaching ``config.bridge_max_iterations``, fewer fitting
  samples than branches + 1, a singular covariance or non-finite weights mark the estimate
  unconverged (`Estimate.converged`, `Estimate.problems`; NaN for a degenerate sample).
- CPO (Gelfand & Dey 1994): ``sum_i log CPO_i``, ``CPO_i = 1 / mean_j 1 / p(y_i | theta_j)``.
- PPD: ``sum_i log mean_j p(y_i | theta_j)`` (log pointwise predictive density).
Sites enter CPO and PPD with their pattern weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from phylo_marglik.estimators.base import EstimatorContext, log_mean_exp, register
from phylo_marglik.estimators.shared import posterior_samples
from phylo_marglik.mcmc import ChainSamples, conservative_ess


def _diagnostics(samples: ChainSamples) -> dict[str, float]:
    return {"acceptance_mean": float(samples.acceptance.mean()), "ess_mean": float(samples.ess.mean())}


@register("hm", "harmonic mean of the likelihood over posterior samples (Newton & Raftery 1994)")
def harmonic_mean(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = posterior_samples(ctx)
    value, se = log_mean_exp(-samples.log_likelihood[:, 0], float(samples.ess[0]))
    return -value, se, _diagnostics(samples)


def stabilized_harmonic_mean_value(
    log_likelihoods: torch.Tensor, delta: float, iterations: int = 1000
) -> float:
    """Fixed point of Newton & Raftery's stabilised harmonic mean in log space.

    Args:
        log_likelihoods: (m,) log L of posterior samples.
        delta: prior mixture weight.
    """
    ll = log_likelihoods.to(torch.float64)
    m = ll.shape[0]
    base = delta * m / (1 - delta)
    z = float(-(torch.logsumexp(-ll, 0) - math.log(m)))
    for _ in range(iterations):
        numerator = base + torch.sigmoid(-(math.log(delta) + z - ll - math.log(1 - delta))).sum() / (
            1 - delta
        )
        denominator = base + torch.sigmoid(-(math.log(1 - delta) + ll - z - math.log(delta))).sum() / delta
        new = z + float(torch.log(numerator) - torch.log(denominator))
        if abs(new - z) < 1e-10:
            return new
        z = new
    return z


@register("shm", "stabilised harmonic mean with prior mixture weight 0.01 (Newton & Raftery 1994)")
def stabilized_harmonic_mean(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = posterior_samples(ctx)
    value = stabilized_harmonic_mean_value(samples.log_likelihood[:, 0], ctx.config.shm_delta)
    return value, float("nan"), _diagnostics(samples)


@register("bs", "bridge sampling with a Gaussian proposal in log branch lengths (Meng & Wong 1996)")
def bridge_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = posterior_samples(ctx)
    posterior = ctx.posterior
    x = samples.x[:, 0]
    half = x.shape[0] // 2
    dim = x.shape[1]
    diagnostics = _diagnostics(samples)
    if half < dim + 1:
        # The proposal's covariance would be singular: the iterate then runs off (+2.1e7 once).
        ctx.unconverged(
            f"degenerate sample: {half} posterior samples to fit a {dim}-dimensional proposal "
            f"(needs at least {dim + 1}; keep more posterior samples)"
        )
        return float("nan"), float("nan"), diagnostics
    fit, kept = x[:half], x[half:]
    log_q1 = samples.log_likelihood[half:, 0] + samples.log_prior[half:, 0] + kept.sum(-1)
    mean = fit.mean(0)
    cov = torch.cov(fit.T) + 1e-8 * torch.eye(dim, dtype=torch.float64)
    chol, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0 or not bool(torch.isfinite(cov).all()):
        ctx.unconverged("degenerate sample: the posterior samples' covariance is not positive definite")
        return float("nan"), float("nan"), diagnostics
    n2 = kept.shape[0]
    z = torch.randn(n2, dim, generator=ctx.generator, dtype=torch.float64)
    draws = mean + z @ chol.T
    theta = torch.exp(draws)
    log_q2 = posterior.log_likelihood(theta) + posterior.log_prior(theta) + draws.sum(-1)
    l1 = log_q1 - _gaussian_log_prob(kept, mean, chol)
    l2 = log_q2 - _gaussian_log_prob(draws, mean, chol)
    result = bridge_fixed_point(
        l1,
        l2,
        float(samples.ess[0]) * (len(kept) / len(x)),
        tol=ctx.config.bridge_tolerance,
        max_iterations=ctx.config.bridge_max_iterations,
    )
    diagnostics["bridge_iterations"] = float(result.iterations)
    if not result.converged:
        ctx.unconverged(
            f"bridge iteration reached its cap of {ctx.config.bridge_max_iterations} iterations "
            f"(last relative change {result.last_change:.2g}, tolerance {ctx.config.bridge_tolerance:g})"
        )
    if not math.isfinite(result.log_z):
        ctx.unconverged("degenerate sample: the bridge estimate is not finite")
        return result.log_z, float("nan"), diagnostics
    se = bridge_standard_error(l1, l2, result.log_z, float(samples.ess[0]) * (len(kept) / len(x)))
    return result.log_z, se, diagnostics


def bridge_standard_error(l1: torch.Tensor, l2: torch.Tensor, log_z: float, n1_effective: float) -> float:
    """Approximate standard error of the bridge estimate of ``log Z`` (its relative error;
    Fruhwirth-Schnatter 2004, as in Gronau et al. 2017's ``error_measures``).

    ``RE^2 = Var_g[f1] / (N2 E_g[f1]^2) + Var_p[f2] / (ESS E_p[f2]^2)`` with
    ``f1 = w / (s1 w + s2)`` at the proposal draws and ``f2 = 1 / (s1 w + s2)`` at the posterior
    draws, ``w = exp(l - log Z)`` the normalised posterior over the proposal; the posterior term
    uses the ESS of `f2` along the chain (`conservative_ess`), capped by `n1_effective`.
    """
    n2 = float(l2.shape[0])
    s1 = n1_effective / (n1_effective + n2)
    s2 = 1.0 - s1
    f1 = torch.sigmoid(l2 - log_z + math.log(s1) - math.log(s2)) / s1  # w / (s1 w + s2)
    f2 = torch.sigmoid(-(l1 - log_z + math.log(s1) - math.log(s2))) / s2  # 1 / (s1 w + s2)
    ess = min(float(conservative_ess(f2[:, None])[0]), n1_effective)
    rel2 = float(f1.var() / f1.mean() ** 2) / n2 + float(f2.var() / f2.mean() ** 2) / max(ess, 2.0)
    return math.sqrt(rel2)


def _gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    """(N, E) -> (N,) log density of N(mean, chol chol^T)."""
    z = torch.linalg.solve_triangular(chol, (x - mean).T, upper=False)
    dim = x.shape[1]
    log_det = torch.log(torch.diagonal(chol)).sum()
    return -0.5 * (z**2).sum(0) - log_det - 0.5 * dim * math.log(2 * math.pi)


@dataclass(frozen=True)
class BridgeResult:
    """Outcome of the bridge iteration: ``log Z``, iterations run, whether the relative tolerance
    was met before the cap, and the last relative change ``|r_new - r_old| / r_new``."""

    log_z: float
    iterations: int
    converged: bool
    last_change: float


def bridge_fixed_point(
    l1: torch.Tensor,
    l2: torch.Tensor,
    n1_effective: float | None = None,
    tol: float = 1e-10,
    max_iterations: int = 1000,
) -> BridgeResult:
    """Iterate Meng & Wong's optimal bridge estimator in log space until the relative change of
    the estimate ``|r_new - r_old| / r_new`` is below `tol` (Gronau et al. 2017's criterion).

    Args:
        l1: (N1,) ``log q(x) - log g(x)`` at posterior samples (q unnormalised target, g proposal).
        l2: (N2,) the same at proposal draws.
        n1_effective: effective size of the posterior sample (its ESS); default N1.
        tol: relative tolerance.
        max_iterations: cap; reaching it returns ``converged=False``.

    Returns:
        A `BridgeResult`; ``log_z`` is NaN when a weight is not finite.
    """
    if not (bool(torch.isfinite(l1).all()) and bool(torch.isfinite(l2).all())):
        return BridgeResult(float("nan"), 0, False, float("nan"))
    n1 = float(n1_effective if n1_effective is not None else l1.shape[0])
    n2 = float(l2.shape[0])
    s1, s2 = n1 / (n1 + n2), n2 / (n1 + n2)
    shift = float(torch.median(l1))
    a, b = l1 - shift, l2 - shift
    log_r = 0.0
    change = float("inf")
    for it in range(1, max_iterations + 1):
        # numerator: mean_i w2_i / (s1 w2_i + s2 r); denominator: mean_j 1 / (s1 w1_j + s2 r)
        num = torch.logsumexp(
            b - torch.logaddexp(math.log(s1) + b, torch.full_like(b, math.log(s2) + log_r)), 0
        )
        den = torch.logsumexp(-torch.logaddexp(math.log(s1) + a, torch.full_like(a, math.log(s2) + log_r)), 0)
        new = float(num - math.log(n2) - den + math.log(l1.shape[0]))
        change = abs(math.expm1(log_r - new))  # |r_new - r_old| / r_new
        log_r = new
        if change < tol:
            return BridgeResult(new + shift, it, True, change)
    return BridgeResult(log_r + shift, max_iterations, False, change)


def _site_log_likelihoods(ctx: EstimatorContext, samples: ChainSamples) -> torch.Tensor:
    """(S, P) per-pattern log-likelihoods of the posterior samples (cached)."""

    def compute() -> torch.Tensor:
        theta = samples.branch_lengths[:, 0]
        chunks = [
            ctx.posterior.site_log_likelihood(theta[i : i + ctx.config.batch_size])
            for i in range(0, theta.shape[0], ctx.config.batch_size)
        ]
        return torch.cat(chunks)

    return ctx.shared("mcmc:posterior:sites", compute)


@register("cpo", "sum of log conditional predictive ordinates over sites (Gelfand & Dey 1994)")
def conditional_predictive_ordinates(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = posterior_samples(ctx)
    sites = _site_log_likelihoods(ctx, samples)
    n = sites.shape[0]
    log_cpo = -(torch.logsumexp(-sites, 0) - math.log(n))
    weights = ctx.posterior.likelihood.patterns.weights
    return float((weights * log_cpo).sum()), float("nan"), _diagnostics(samples)


@register("ppd", "log pointwise predictive density over sites")
def pointwise_predictive_density(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = posterior_samples(ctx)
    sites = _site_log_likelihoods(ctx, samples)
    n = sites.shape[0]
    lppd = torch.logsumexp(sites, 0) - math.log(n)
    weights = ctx.posterior.likelihood.patterns.weights
    return float((weights * lppd).sum()), float("nan"), _diagnostics(samples)
