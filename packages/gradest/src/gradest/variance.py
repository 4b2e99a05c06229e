"""Measuring estimators: exact gradients, gradient draws at fixed parameters, variance and bias.

Draws are vectorised by replicating the logits into R rows of one batch: the rows are independent
categoricals, so one call gives R independent gradient estimates (the objective must treat rows alike).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gradest.categorical import check_logits
from gradest.estimators import Estimator, Exact, Objective

__all__ = [
    "GradientStats",
    "batch_gradient_draws",
    "batch_gradient_stats",
    "exact_gradient",
    "gradient_draws",
    "gradient_stats",
]


def exact_gradient(logits: Tensor, objective: Objective) -> Tensor:
    """The exact gradient of ``sum_b E_{q_b} f_b`` with respect to the logits, ``(B, K)``."""
    leaf = check_logits(logits).detach().clone().requires_grad_(True)
    Exact()(leaf, objective).loss.backward()
    return leaf.grad.detach()


def gradient_draws(
    estimator: Estimator,
    logits: Tensor,
    objective: Objective,
    repeats: int,
    *,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """`repeats` independent estimates of the logits gradient of one categorical, ``(repeats, K)``.

    Args:
        logits: ``(K,)`` or ``(1, K)``.
        objective: as for the estimators; it is called with ``R = repeats`` rows that share the logits.
    """
    row = check_logits(logits).detach()
    leaf = row.expand(repeats, row.shape[-1]).clone().requires_grad_(True)
    estimator(leaf, objective, num_samples=num_samples, generator=generator).loss.backward()
    return leaf.grad.detach()


@dataclass(frozen=True)
class GradientStats:
    """Summary of gradient draws against the exact gradient.

    Attributes:
        variance: trace of the covariance (sum over coordinates of the per-coordinate variance).
        bias: Euclidean norm of (mean draw - exact gradient).
        bias_stderr: standard error of that mean's deviation (norm of per-coordinate standard errors).
        repeats: number of draws.
    """

    variance: float
    bias: float
    bias_stderr: float
    repeats: int


def gradient_stats(draws: Tensor, exact: Tensor) -> GradientStats:
    """Variance and bias of ``draws (R, K)`` against ``exact (K,)`` or ``(1, K)``."""
    exact = exact.reshape(-1)
    mean = draws.mean(0)
    variance = draws.var(0, unbiased=True)
    stderr = (variance / draws.shape[0]).sum().sqrt()
    return GradientStats(
        variance=float(variance.sum()),
        bias=float((mean - exact).norm()),
        bias_stderr=float(stderr),
        repeats=int(draws.shape[0]),
    )


def batch_gradient_draws(
    estimator: Estimator,
    logits: Tensor,
    make_objective: Callable[[int], Objective],
    repeats: int,
    *,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """`repeats` independent estimates of the logits gradient of a whole batch, ``(repeats, B, K)``.

    Args:
        logits: ``(B, K)``; they are tiled `repeats` times (``logits.repeat(repeats, 1)``).
        make_objective: ``make_objective(repeats)`` returns the objective for the tiled rows (row
            ``r * B + b`` is a copy of row b).
    """
    rows = check_logits(logits).detach()
    leaf = rows.repeat(repeats, 1).requires_grad_(True)
    estimator(leaf, make_objective(repeats), num_samples=num_samples, generator=generator).loss.backward()
    return leaf.grad.detach().reshape(repeats, *rows.shape)


def batch_gradient_stats(draws: Tensor, exact: Tensor) -> dict[str, float]:
    """Per-row variance (trace of covariance, averaged over the B rows) and relative bias of batch draws.

    Args:
        draws: ``(R, B, K)``; exact: ``(B, K)``.

    Returns:
        ``variance``, ``relative_bias`` = ``||mean - exact|| / ||exact||`` and its standard error
        ``relative_bias_stderr`` (norm of the per-coordinate standard errors over ``||exact||``).
    """
    scale = float(exact.norm())
    variance = draws.var(0, unbiased=True)
    return {
        "variance": float(variance.sum()) / exact.shape[0],
        "relative_bias": float((draws.mean(0) - exact).norm()) / scale,
        "relative_bias_stderr": float((variance / draws.shape[0]).sum().sqrt()) / scale,
    }
