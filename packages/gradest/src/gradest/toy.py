"""The paper's toy: a quadratic ``E_q[||z - p||^2]`` over K categories with a concentrated q.

``f(z) = sum_k (z_k - p_k)^2`` with one-hot z; the targets ``p`` are evenly spaced in a narrow band, so
neighbouring categories differ by little and the optimum (the category with the largest ``p_k``) is
hard to find from noisy gradients. q starts concentrated on the worst category (Liu et al. 2019,
Sec. 6.1 uses the same kind of problem to compare estimators at equal numbers of evaluations).
"""

from __future__ import annotations

import torch
from torch import Tensor

from core.errors import InputError
from gradest.config import ToyConfig
from gradest.estimators import Objective
from gradest.registry import make_estimator
from gradest.variance import enumerated_variance, exact_gradient, gradient_stats, running_gradient_draws

__all__ = ["ToyConfig", "toy_exact_value", "toy_gradient_variance", "toy_problem", "train_toy"]


def toy_problem(config: ToyConfig | None = None) -> tuple[Tensor, Objective]:
    """``(initial logits (K,), objective z (S, B, K) -> (S, B))`` (default: ``ToyConfig()``)."""
    config = config or ToyConfig()
    target = torch.linspace(config.target_low, config.target_high, config.num_categories)
    logits = torch.zeros(config.num_categories)
    logits[0] = config.initial_logit

    def objective(z: Tensor) -> Tensor:
        return (z - target).pow(2).sum(-1)

    return logits, objective


def train_toy(
    name: str, num_samples: int, config: ToyConfig | None = None, seed: int = 0, **options
) -> Tensor:
    """Optimise the toy with estimator `name` at `num_samples` draws per step; SGD on the logits.

    Returns:
        ``(steps + 1, replicates)`` exact losses ``E_q f`` after each step (row 0: the initial loss).
    """
    config = config or ToyConfig()
    initial, objective = toy_problem(config)
    logits = initial.expand(config.replicates, -1).clone().requires_grad_(True)
    estimator = make_estimator(name, **options)
    optimizer = torch.optim.SGD([logits], lr=config.learning_rate)
    generator = torch.Generator().manual_seed(seed)
    one_hots = torch.eye(config.num_categories)
    table = objective(one_hots.unsqueeze(1)).reshape(-1)  # f(e_k), (K,)
    losses = [torch.softmax(logits.detach(), -1) @ table]
    for _ in range(config.steps):
        optimizer.zero_grad(set_to_none=True)
        estimator(logits, objective, num_samples=num_samples, generator=generator).loss.backward()
        optimizer.step()
        losses.append(torch.softmax(logits.detach(), -1) @ table)
    return torch.stack(losses)


def toy_exact_value(config: ToyConfig | None = None) -> float:
    """``E_q f`` at the initial logits (the fixed point of a moving-average baseline there)."""
    config = config or ToyConfig()
    logits, objective = toy_problem(config)
    one_hots = torch.eye(config.num_categories).unsqueeze(1)
    return float(torch.softmax(logits, -1) @ objective(one_hots).reshape(-1))


def toy_gradient_variance(
    name: str,
    num_samples: int,
    logits: Tensor,
    objective: Objective,
    repeats: int,
    seed: int = 0,
    **options,
) -> dict[str, float | None]:
    """Variance (trace of the covariance) and bias norm of estimator `name` at fixed logits.

    The estimator runs as in training (`running_gradient_draws`: its moving-average baseline or tuned
    control variate evolves over 100 warm-up calls of 100 rows, then over the measured calls).
    ``exact_variance`` is the variance at the final state by enumeration (`enumerated_variance`) for
    the estimators that are a function of their draws alone, else None.
    """
    estimator = make_estimator(name, **options)
    draws = running_gradient_draws(
        estimator,
        logits,
        objective,
        repeats,
        num_samples=num_samples,
        generator=torch.Generator().manual_seed(seed),
    )
    stats = gradient_stats(draws, exact_gradient(logits, objective))
    try:
        exact_variance, _ = enumerated_variance(estimator, logits, objective, num_samples)
    except InputError:
        exact_variance = None
    return {
        "variance": stats.variance,
        "exact_variance": exact_variance,
        "bias": stats.bias,
        "bias_stderr": stats.bias_stderr,
    }
