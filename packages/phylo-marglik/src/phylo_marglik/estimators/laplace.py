"""Optimisation-based estimators: maximum likelihood (ML) and maximum a posteriori (MAP) proxies
and the "Laplus" approximations with gamma (GL), lognormal (LL) and beta-prime (BL) marginals.

Laplus (Fourment et al. 2020): approximate the posterior by a product of positive distributions
``q_e`` whose mode and log-density curvature match the unnormalised posterior
``f(theta) = log L + log p`` at its mode ``theta^`` (diagonal of the Hessian), then
``log Z ~ f(theta^) - sum_e log q_e(theta^_e)``. With mode ``m`` and curvature ``h = f''(m) < 0``:

- gamma: ``shape - 1 = -h m^2``, ``rate = (shape - 1) / m``;
- lognormal: ``sigma^2 = -1 / (h m^2)``, ``mu = log m + sigma^2``;
- beta prime: ``beta + 1 = -h m (1 + m)``, ``alpha = 1 + (beta + 1) m``.

A branch whose MAP length is zero (the gradient pushes it to the boundary) gets an exponential
marginal with rate ``-f'(0)`` in all three variants. ML and MAP report ``log L(theta^)`` and
``log L(theta^) + log p(theta^)`` themselves (crude proxies the study includes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from phylo_marglik.estimators.base import EstimatorContext, gamma_draws, register
from phylo_marglik.estimators.shared import mode
from phylo_marglik.optimize import MIN_LOG_LENGTH, gradient_log_space, hessian_log_space

__all__ = ["LaplusApproximation", "laplus"]


@dataclass(frozen=True)
class LaplusApproximation:
    """Product of per-branch marginals matched at the MAP.

    Attributes:
        family: "gamma", "lognormal" or "betaprime".
        params: (E, 2) parameters (gamma: shape, rate; lognormal: mu, sigma; betaprime: alpha, beta).
        boundary: (E,) True where the branch sits at zero and an exponential is used.
        boundary_rate: (E,) that exponential's rate.
        log_joint_at_mode: ``f(theta^)``.
        mode: (E,) theta^.
    """

    family: str
    params: torch.Tensor
    boundary: torch.Tensor
    boundary_rate: torch.Tensor
    log_joint_at_mode: float
    mode: torch.Tensor

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        """(B, E) -> (B,) log density of the product approximation."""
        t = theta.clamp_min(1e-300)
        a, b = self.params[:, 0], self.params[:, 1]
        if self.family == "gamma":
            interior = a * torch.log(b) - torch.lgamma(a) + (a - 1) * torch.log(t) - b * t
        elif self.family == "lognormal":
            z = (torch.log(t) - a) / b
            interior = -0.5 * z**2 - torch.log(b) - torch.log(t) - 0.5 * math.log(2 * math.pi)
        else:
            log_beta_fn = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
            interior = (a - 1) * torch.log(t) - (a + b) * torch.log1p(t) - log_beta_fn
        edge = torch.log(self.boundary_rate) - self.boundary_rate * t
        return torch.where(self.boundary, edge, interior).sum(-1)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, E) draws, from `generator` alone (no global random state)."""
        a, b = self.params[:, 0], self.params[:, 1]
        ones = torch.ones_like(a)
        if self.family == "gamma":
            draws = gamma_draws(a, b, n, generator)
        elif self.family == "lognormal":
            draws = torch.exp(a + b * torch.randn(n, a.shape[0], dtype=torch.float64, generator=generator))
        else:
            draws = gamma_draws(a, ones, n, generator) / gamma_draws(b, ones, n, generator)
        u = torch.rand(n, a.shape[0], dtype=torch.float64, generator=generator)
        edge = -torch.log1p(-u) / self.boundary_rate
        return torch.where(self.boundary, edge, draws).clamp_min(1e-12)


def laplus(ctx: EstimatorContext, family: str) -> LaplusApproximation:
    """Fit the Laplus approximation of `family` at the MAP (cached per family)."""

    found = mode(ctx, "map")

    def derivatives() -> tuple[torch.Tensor, torch.Tensor]:
        grad_x = gradient_log_space(ctx.posterior, found.x[None], "map")[0]
        return grad_x, torch.diagonal(hessian_log_space(ctx.posterior, found.x, "map"))

    grad_x, hess_x = ctx.shared("laplus:derivatives", derivatives)

    def fit() -> LaplusApproximation:
        x = found.x
        theta = torch.exp(x)
        # chain rule: f'(t) = g'(x) / t, f''(t) = (g''(x) - g'(x)) / t^2
        grad = grad_x / theta
        curv = ((hess_x - grad_x) / theta**2).clamp(max=-1e-8)
        boundary = (x <= MIN_LOG_LENGTH + 1e-6) & (grad < 0)
        rate = torch.where(boundary, -grad, torch.ones_like(grad)).clamp_min(1e-8)
        m = theta
        if family == "gamma":
            shape = 1 - curv * m**2
            params = torch.stack([shape, (shape - 1) / m], -1)
        elif family == "lognormal":
            var = -1 / (curv * m**2)
            params = torch.stack([torch.log(m) + var, var.sqrt()], -1)
        elif family == "betaprime":
            beta1 = -curv * m * (1 + m)
            params = torch.stack([1 + beta1 * m, (beta1 - 1).clamp_min(1e-8)], -1)
        else:
            raise ValueError(f"unknown Laplus family {family!r}")
        params = torch.where(boundary[:, None], torch.ones_like(params), params)
        return LaplusApproximation(family, params, boundary, rate, found.value, theta)

    return ctx.shared(f"laplus:{family}", fit)


def _laplus_estimate(ctx: EstimatorContext, family: str) -> tuple[float, float, dict[str, float]]:
    approx = laplus(ctx, family)
    value = approx.log_joint_at_mode - float(approx.log_prob(approx.mode[None])[0])
    return value, float("nan"), {"branches_at_zero": float(approx.boundary.sum())}


@register("ml", "maximum log-likelihood as a proxy for the marginal likelihood")
def maximum_likelihood(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    found = mode(ctx, "ml")
    return found.log_likelihood, float("nan"), {}


@register("map", "maximum of log likelihood + log prior (unnormalised posterior at its mode)")
def maximum_a_posteriori(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    found = mode(ctx, "map")
    return found.value, float("nan"), {}


@register("gl", "gamma Laplus: product of gammas matched to the MAP's mode and curvature")
def gamma_laplus(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    return _laplus_estimate(ctx, "gamma")


@register("ll", "lognormal Laplus: product of lognormals matched at the MAP")
def lognormal_laplus(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    return _laplus_estimate(ctx, "lognormal")


@register("bl", "beta-prime Laplus: product of beta-prime distributions matched at the MAP")
def betaprime_laplus(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    return _laplus_estimate(ctx, "betaprime")
