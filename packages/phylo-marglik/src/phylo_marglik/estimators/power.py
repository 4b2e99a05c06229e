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

Standard errors are delta-method / variance propagations with each chain's ESS as sample size:
the smaller of Geyer's initial monotone sequence and batch means, computed on each stone's own
summand (`phylo_marglik.mcmc.conservative_ess`); a chain whose ESS is below ``config.min_ess``
puts a warning on the estimate.
"""

from __future__ import annotations

import math

import torch

from phylo_marglik.estimators.base import EstimatorContext, log_mean_exp, register
from phylo_marglik.estimators.shared import gss_samples, power_samples
from phylo_marglik.mcmc import ChainSamples, conservative_ess


def _diagnostics(samples: ChainSamples, ess: torch.Tensor) -> dict[str, float]:
    chains = ess[1:] if ess.shape[0] > 1 else ess  # beta = 0 holds exact independent draws
    return {
        "acceptance_min": float(samples.acceptance.min()),
        "acceptance_mean": float(samples.acceptance.mean()),
        "ess_min": float(chains.min()),
        "ess_mean": float(chains.mean()),
    }


def _check_ess(ctx: EstimatorContext, ess: torch.Tensor, betas: torch.Tensor) -> None:
    """Warn when a power posterior's ESS is below ``config.min_ess``."""
    low = [(float(b), float(e)) for b, e in zip(betas[1:], ess[1:]) if e < ctx.config.min_ess]
    if low:
        worst = min(low, key=lambda item: item[1])
        ctx.warn(
            f"{len(low)} of {len(betas) - 1} power posteriors have ESS below {ctx.config.min_ess:g} "
            f"(lowest {worst[1]:.1f} at beta {worst[0]:.3g}): the standard error is unreliable; run longer chains"
        )


def stepping_stone_sum(log_terms: torch.Tensor, betas: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    """Sum of per-stone log ratios; `log_terms` (S, K+1) is the power's base at each chain.

    Returns:
        ``(log Z, standard error, (K+1,) ESS of each chain)``.

    Each stone's standard error uses the ESS of its own summand ``exp(step * log_term)``
    (`conservative_ess`); the first chain (beta = 0) holds independent draws.
    """
    total, var = 0.0, 0.0
    steps = (betas[1:] - betas[:-1])[None]  # (1, K)
    scaled = steps * log_terms[:, :-1]
    weights = torch.exp(scaled - scaled.max(0).values)
    ess = conservative_ess(weights)
    ess[0] = float(log_terms.shape[0])
    for k in range(len(betas) - 1):
        value, se = log_mean_exp(scaled[:, k], float(ess[k]))
        total += value
        var += se**2
    chain_ess = torch.cat([ess[:1], conservative_ess(log_terms[:, 1:])])
    return total, math.sqrt(var), chain_ess


@register("ss", "stepping stone, 50 power posteriors at Beta(0.3, 1) quantiles (Xie et al. 2011)")
def stepping_stone(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se, ess = stepping_stone_sum(samples.log_likelihood, samples.betas)
    _check_ess(ctx, ess, samples.betas)
    return value, se, _diagnostics(samples, ess)


@register(
    "gss", "generalised stepping stone with a gamma reference fitted to the posterior (Fan et al. 2011)"
)
def generalized_stepping_stone(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples, reference = gss_samples(ctx)
    theta = samples.branch_lengths  # (S, B, E)
    flat = theta.reshape(-1, theta.shape[-1])
    log_ref = reference.log_prob(flat).reshape(theta.shape[:2])
    log_terms = samples.log_likelihood + samples.log_prior - log_ref
    value, se, ess = stepping_stone_sum(log_terms, samples.betas)
    _check_ess(ctx, ess, samples.betas)
    return value, se, _diagnostics(samples, ess)


def trapezoid(samples: ChainSamples, modified: bool) -> tuple[float, float, torch.Tensor]:
    """Path sampling's trapezoid rule (with Friel et al.'s correction when `modified`).

    Returns:
        ``(log Z, standard error, (K+1,) ESS of each chain's log-likelihood)``.
    """
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
    ess = conservative_ess(samples.log_likelihood)
    ess[0] = float(samples.log_likelihood.shape[0])  # beta = 0: independent prior draws
    se = float(torch.sqrt((weights**2 * variances / ess).sum()))
    return value, se, ess


@register("ps", "path sampling / thermodynamic integration, trapezoid rule (Lartillot & Philippe 2006)")
def path_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se, ess = trapezoid(samples, modified=False)
    _check_ess(ctx, ess, samples.betas)
    return value, se, _diagnostics(samples, ess)


@register("mps", "modified path sampling: trapezoid with the variance correction (Friel et al. 2014)")
def modified_path_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    samples = power_samples(ctx)
    value, se, ess = trapezoid(samples, modified=True)
    _check_ess(ctx, ess, samples.betas)
    return value, se, _diagnostics(samples, ess)
