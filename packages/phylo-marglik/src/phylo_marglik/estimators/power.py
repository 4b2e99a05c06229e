"""Power-posterior estimators: stepping stone (SS), generalised stepping stone (GSS), path
sampling (PS) and modified path sampling (MPS).

With temperatures ``0 = beta_0 < ... < beta_K = 1`` and samples ``theta_k ~ p_beta_k``:

- SS (Xie et al. 2011): ``log Z = sum_k log mean exp((beta_{k+1} - beta_k) log L(theta_k))``.
- GSS (Fan et al. 2011): as SS on the path from a reference ``r`` (independent gammas fitted to
  the posterior), with ``log L`` replaced by ``log L + log p - log r``.
- PS / thermodynamic integration (Lartillot & Philippe 2006): trapezoid rule on
  ``int_0^1 E_beta[log L] d beta``.
- MPS (Friel, Hurn & Wyse 2014): the trapezoid corrected by
  ``- sum_k (beta_{k+1} - beta_k)^2 / 12 (Var_{k+1}[log L] - Var_k[log L])``.

Standard errors are delta-method / variance propagations with each chain's ESS as sample size.
"""

from __future__ import annotations

import math

import torch

from phylo_marglik.estimators.base import EstimatorContext, log_mean_exp, register
from phylo_marglik.estimators.shared import gss_samples, power_samples
from phylo_marglik.mcmc import ChainSamples


def _diagnostics(samples: ChainSamples) -> dict[str, float]:
    return {
        "acceptance_min": float(samples.acceptance.min()),
        "acceptance_mean": float(samples.acceptance.mean()),
        "ess_min": float(samples.ess.min()),
        "ess_mean": float(samples.ess.mean()),
    }


def _stepping(log_terms: torch.Tensor, betas: torch.Tensor, ess: torch.Tensor) -> tuple[float, float]:
    """Sum of per-stone log ratios; `log_terms` (S, K+1) is the power's base at each chain."""
    total, var = 0.0, 0.0
    for k in range(len(betas) - 1):
        step = float(betas[k + 1] - betas[k])
        value, se = log_mean_exp(step * log_terms[:, k], float(ess[k]))
        total += value
        var += se**2
    return total, math.sqrt(var)


@register("ss", "stepping stone, 50 power posteriors at Beta(0.3, 1) quantiles (Xie et al. 2011)")
def stepping_stone(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se = _stepping(samples.log_likelihood, samples.betas, samples.ess)
    return value, se, _diagnostics(samples)


@register(
    "gss", "generalised stepping stone with a gamma reference fitted to the posterior (Fan et al. 2011)"
)
def generalized_stepping_stone(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples, reference = gss_samples(ctx)
    theta = samples.branch_lengths  # (S, B, E)
    flat = theta.reshape(-1, theta.shape[-1])
    log_ref = reference.log_prob(flat).reshape(theta.shape[:2])
    log_terms = samples.log_likelihood + samples.log_prior - log_ref
    value, se = _stepping(log_terms, samples.betas, samples.ess)
    return value, se, _diagnostics(samples)


def _trapezoid(samples: ChainSamples, modified: bool) -> tuple[float, float]:
    betas = samples.betas
    means = samples.log_likelihood.mean(0)
    variances = samples.log_likelihood.var(0)
    steps = betas[1:] - betas[:-1]
    value = float((steps * (means[1:] + means[:-1]) / 2).sum())
    if modified:
        value -= float((steps**2 / 12 * (variances[1:] - variances[:-1])).sum())
    weights = torch.zeros_like(betas)
    weights[1:] += steps / 2
    weights[:-1] += steps / 2
    se = float(torch.sqrt((weights**2 * variances / samples.ess.clamp_min(2.0)).sum()))
    return value, se


@register("ps", "path sampling / thermodynamic integration, trapezoid rule (Lartillot & Philippe 2006)")
def path_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se = _trapezoid(samples, modified=False)
    return value, se, _diagnostics(samples)


@register("mps", "modified path sampling: trapezoid with the variance correction (Friel et al. 2014)")
def modified_path_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se = _trapezoid(samples, modified=True)
    return value, se, _diagnostics(samples)
