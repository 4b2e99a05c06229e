"""Modes and curvature of the branch-length posterior (for ML, MAP, Laplace and MCMC starts).

Optimisation runs in ``x = log theta`` with bounded L-BFGS (scipy) on autograd gradients; the Hessian comes from
central differences of the gradient, all 2E perturbed points evaluated as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from phylo_marglik.posterior import BranchLengthPosterior, to_branch_lengths

__all__ = ["Mode", "find_mode", "hessian_log_space"]

MIN_LOG_LENGTH = -16.0  # branch lengths below e^-16 ~ 1e-7 are treated as zero
MAX_LOG_LENGTH = 3.0  # e^3 ~ 20 substitutions per site: far beyond any identifiable length


@dataclass(frozen=True)
class Mode:
    """A maximiser of ``objective`` in log branch-length space.

    Attributes:
        x: (E,) log branch lengths at the optimum (clamped at ``MIN_LOG_LENGTH``).
        value: objective value at `x`.
        log_likelihood: log p(D | theta) at the optimum.
        log_prior: log p(theta) at the optimum.
        objective: "ml" (likelihood), "map" (likelihood x prior, mode in theta) or
            "log-space" (likelihood x prior x Jacobian: the mode of the density of x).
    """

    x: torch.Tensor
    value: float
    log_likelihood: float
    log_prior: float
    objective: str

    @property
    def branch_lengths(self) -> torch.Tensor:
        return torch.exp(self.x)


def _objective(posterior: BranchLengthPosterior, x: torch.Tensor, objective: str) -> torch.Tensor:
    theta = to_branch_lengths(x)
    value = posterior.log_likelihood(theta)
    if objective in ("map", "log-space"):
        value = value + posterior.log_prior(theta)
    if objective == "log-space":
        value = value + x.sum(-1)
    return value


def find_mode(
    posterior: BranchLengthPosterior,
    objective: str = "map",
    *,
    start: torch.Tensor | None = None,
    max_iter: int = 200,
) -> Mode:
    """Maximise the chosen objective over branch lengths by L-BFGS-B (scipy) in log space.

    Args:
        posterior: the branch-length posterior.
        objective: "ml", "map" or "log-space" (see `Mode`).
        start: (E,) initial log lengths; default log(0.1) for every branch.
        max_iter: L-BFGS iterations (each one or more likelihood + gradient evaluations).
    """
    if objective not in ("ml", "map", "log-space"):
        raise ValueError(f"unknown objective {objective!r}")
    from scipy.optimize import minimize

    x0 = start.clone() if start is not None else torch.full((posterior.dim,), -2.302585, dtype=torch.float64)

    def loss_and_grad(values: np.ndarray) -> tuple[float, np.ndarray]:
        x = torch.from_numpy(values)[None].requires_grad_(True)
        loss = -_objective(posterior, x, objective).sum()
        (grad,) = torch.autograd.grad(loss, x)
        return float(loss.detach()), grad[0].numpy().copy()

    result = minimize(
        loss_and_grad,
        x0.clamp(MIN_LOG_LENGTH, MAX_LOG_LENGTH).numpy(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(MIN_LOG_LENGTH, MAX_LOG_LENGTH)] * posterior.dim,
        options={"maxiter": max_iter, "gtol": 1e-6, "ftol": 1e-13},
    )
    x = torch.from_numpy(result.x)[None]
    with torch.no_grad():
        best = x.clamp(MIN_LOG_LENGTH, MAX_LOG_LENGTH)
        theta = to_branch_lengths(best)
        loglik = float(posterior.log_likelihood(theta)[0])
        logprior = float(posterior.log_prior(theta)[0])
        value = float(_objective(posterior, best, objective)[0])
    return Mode(best[0], value, loglik, logprior, objective)


def gradient_log_space(
    posterior: BranchLengthPosterior, x: torch.Tensor, objective: str = "ml"
) -> torch.Tensor:
    """Gradient of the objective with respect to log lengths: (B, E) -> (B, E)."""
    x = x.detach().clone().requires_grad_(True)
    value = _objective(posterior, x, objective).sum()
    (grad,) = torch.autograd.grad(value, x)
    return grad


def hessian_log_space(
    posterior: BranchLengthPosterior, x: torch.Tensor, objective: str = "ml", step: float = 1e-4
) -> torch.Tensor:
    """Hessian of the objective in log branch-length space at `x` (E,), symmetrised, (E, E).

    Central differences of autograd gradients; the 2E perturbed points form one batch.
    """
    dim = x.shape[0]
    eye = torch.eye(dim, dtype=torch.float64) * step
    points = torch.cat([x[None] + eye, x[None] - eye])
    grads = gradient_log_space(posterior, points, objective)
    hess = (grads[:dim] - grads[dim:]) / (2 * step)
    return 0.5 * (hess + hess.T)
