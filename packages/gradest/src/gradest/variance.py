"""Measuring estimators: exact gradients, gradient draws at fixed parameters, variance and bias.

Draws are vectorised by replicating the logits into R rows of one batch: the rows are independent
categoricals, so one call gives R independent gradient estimates (the objective must treat rows alike).
`running_gradient_draws` runs a stateful estimator as a user does (a moving-average baseline or a tuned
control variate evolving over calls); `enumerated_variance` gives the exact variance of an estimator
that is a function of its draws alone, by enumerating every category.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from core.errors import InputError
from gradest.categorical import check_logits, top_k_split
from gradest.estimators import Estimator, Exact, Objective, SampleEstimator
from gradest.rao_blackwell import RaoBlackwellized

__all__ = [
    "GradientStats",
    "batch_gradient_draws",
    "batch_gradient_stats",
    "enumerated_variance",
    "exact_gradient",
    "gradient_draws",
    "gradient_stats",
    "running_gradient_draws",
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


def running_gradient_draws(
    estimator: Estimator,
    logits: Tensor,
    objective: Objective,
    repeats: int,
    *,
    num_samples: int = 1,
    rows_per_call: int = 100,
    warmup_calls: int = 100,
    generator: torch.Generator | None = None,
) -> Tensor:
    """`repeats` gradient estimates of one categorical from a stateful estimator used as users use it.

    The estimator is first called `warmup_calls` times on a batch of `rows_per_call` copies of the
    logits (its state, a moving-average baseline or a control variate tuned online, evolves as in
    training), then `ceil(repeats / rows_per_call)` more times while its state keeps evolving; the
    logits gradients of those calls are the draws. At fixed logits this measures the variance a
    training run sees once the state has settled.

    Args:
        logits: ``(K,)`` or ``(1, K)``.
        objective: called with ``rows_per_call`` rows that share the logits.

    Returns:
        ``(repeats, K)``.
    """
    row = check_logits(logits).detach()
    if rows_per_call < 1 or warmup_calls < 0 or repeats < 1:
        raise InputError(
            "repeats and rows_per_call must be >= 1, warmup_calls >= 0", item=(repeats, rows_per_call)
        )
    draws = []
    for call in range(warmup_calls + -(-repeats // rows_per_call)):
        leaf = row.expand(rows_per_call, row.shape[-1]).clone().requires_grad_(True)
        estimator(leaf, objective, num_samples=num_samples, generator=generator).loss.backward()
        if call >= warmup_calls:
            draws.append(leaf.grad.detach())
    return torch.cat(draws)[:repeats]


def enumerated_variance(
    estimator: Estimator, logits: Tensor, objective: Objective, num_samples: int
) -> tuple[float, Tensor]:
    """Exact variance (trace of the covariance) and mean of an estimator's logits gradient, by enumeration.

    For a `SampleEstimator` that is a function of its draw alone (REINFORCE, with its current baseline)
    every category's single-sample gradient ``g(j)`` is computed once: ``Var = Var_q(g) / N``. For a
    `RaoBlackwellized` one of those, every outside category's estimate is computed with the k it uses for
    budget N: ``Var = Var_{q(. | not in C_k)}(g_RB) / (N - k)`` (0 when k = K). The estimator's state is
    read, not changed (a copy is enumerated).

    Args:
        logits: ``(K,)`` or ``(1, K)``; the objective is called with K rows that share them.
        num_samples: the budget N.

    Returns:
        ``(variance, mean (K,))``; the mean equals the exact gradient for an unbiased estimator.

    Raises:
        InputError: an estimator whose gradient also depends on continuous noise (Gumbel, REBAR, RELAX),
            or one that is not a single-sample estimator (or an RB composition of one).
    """
    row = check_logits(logits).detach()
    num_categories = row.shape[-1]
    probs = torch.softmax(row, -1)
    estimator = copy.deepcopy(estimator)
    base = estimator.base if isinstance(estimator, RaoBlackwellized) else estimator
    if not isinstance(base, SampleEstimator) or base.uses_noise:
        raise InputError(
            "exact enumeration needs an estimator that is a function of its draws alone",
            item=getattr(estimator, "name", type(estimator).__name__),
            expected="reinforce, reinforce-ma or their rb- forms",
        )
    if isinstance(estimator, RaoBlackwellized):
        k = estimator.resolve_k(probs, num_samples)
        if k == num_categories:
            return 0.0, exact_gradient(row, objective).reshape(-1)
        top, outside = top_k_split(probs, k)
        inside = set(top[0].tolist())
        rest = torch.tensor([j for j in range(num_categories) if j not in inside], device=row.device)
        leaf = row.expand(len(rest), num_categories).clone().requires_grad_(True)
        estimator.estimate_given(
            leaf, objective, top.expand(len(rest), k), outside.expand(len(rest)), rest.unsqueeze(0)
        ).loss.backward()
        weights, draws = probs[0, rest] / outside, num_samples - k
    else:
        leaf = row.expand(num_categories, num_categories).clone().requires_grad_(True)
        terms = base.per_sample(leaf, objective, torch.arange(num_categories, device=row.device).unsqueeze(0))
        terms.surrogate.sum().backward()
        weights, draws = probs[0], num_samples
    gradients = leaf.grad.detach()
    mean = (weights.unsqueeze(-1) * gradients).sum(0)
    variance = float((weights * (gradients - mean).pow(2).sum(-1)).sum()) / draws
    return variance, mean


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
