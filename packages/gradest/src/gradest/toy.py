"""The paper's toy: a quadratic ``E_q[||z - p||^2]`` over K categories with a concentrated q.

``f(z) = sum_k (z_k - p_k)^2`` with one-hot z; the targets ``p`` are evenly spaced in a narrow band, so
neighbouring categories differ by little and the optimum (the category with the largest ``p_k``) is
hard to find from noisy gradients. q starts concentrated on the worst category (Liu et al. 2019,
Sec. 6.1 uses the same kind of problem to compare estimators at equal numbers of evaluations).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gradest.estimators import Objective
from gradest.registry import make_estimator
from gradest.variance import exact_gradient, gradient_draws, gradient_stats

__all__ = ["ToyConfig", "toy_gradient_variance", "toy_problem", "train_toy"]


@dataclass(frozen=True)
class ToyConfig:
    """The toy problem and its optimisation.

    Attributes:
        num_categories: K.
        target_low, target_high: the band of the targets p (evenly spaced; p_K is the largest).
        initial_logit: initial logit of category 0 (the worst), all others start at 0.
        learning_rate: SGD step size on the logits.
        steps: optimisation steps.
        replicates: independent runs, optimised together as rows of one batch.
    """

    num_categories: int = 10
    target_low: float = 0.45
    target_high: float = 0.55
    initial_logit: float = 4.0
    learning_rate: float = 1.0
    steps: int = 500
    replicates: int = 8


def toy_problem(config: ToyConfig = ToyConfig()) -> tuple[Tensor, Objective]:
    """``(initial logits (K,), objective z (S, B, K) -> (S, B))``."""
    target = torch.linspace(config.target_low, config.target_high, config.num_categories)
    logits = torch.zeros(config.num_categories)
    logits[0] = config.initial_logit

    def objective(z: Tensor) -> Tensor:
        return (z - target).pow(2).sum(-1)

    return logits, objective


def train_toy(name: str, num_samples: int, config: ToyConfig = ToyConfig(), seed: int = 0) -> Tensor:
    """Optimise the toy with estimator `name` at `num_samples` draws per step; SGD on the logits.

    Returns:
        ``(steps + 1, replicates)`` exact losses ``E_q f`` after each step (row 0: the initial loss).
    """
    initial, objective = toy_problem(config)
    logits = initial.expand(config.replicates, -1).clone().requires_grad_(True)
    estimator = make_estimator(name)
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


def toy_gradient_variance(
    name: str,
    num_samples: int,
    logits: Tensor,
    objective: Objective,
    repeats: int,
    seed: int = 0,
    baseline: float = 0.0,
) -> dict[str, float]:
    """Variance (trace of the covariance) and bias norm of estimator `name` at fixed logits.

    Control variates are frozen at their initial values; a moving-average baseline is set to `baseline`.
    """
    estimator = (
        make_estimator(name, tune=False) if name.endswith(("rebar", "relax")) else make_estimator(name)
    )
    core = getattr(estimator, "base", estimator)
    if hasattr(core, "baseline_value") and core.baseline == "moving-average":
        core.baseline_value = baseline
    draws = gradient_draws(
        estimator,
        logits,
        objective,
        repeats,
        num_samples=num_samples,
        generator=torch.Generator().manual_seed(seed),
    )
    stats = gradient_stats(draws, exact_gradient(logits, objective))
    return {"variance": stats.variance, "bias": stats.bias, "bias_stderr": stats.bias_stderr}
