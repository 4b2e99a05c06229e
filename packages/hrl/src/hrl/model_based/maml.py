"""MB-MPO's MAML step (Clavera et al. 2018, after Finn et al. 2017) for a Gaussian policy with a
functional mean ``mu(params, obs)`` and fixed log standard deviation.

- `vpg_surrogate(params, batch)`: the policy-gradient surrogate mean_n log pi(a_n | s_n) A_n, whose
  gradient is the vanilla policy gradient estimate on that batch.
- `adapt(params, batch, alpha)`: the inner step theta' = theta + alpha grad vpg_surrogate(theta) (with
  ``create_graph=True``, so the meta-gradient flows through it).
- `meta_objective(params, inner, outer, alpha)`: the outer surrogate at the adapted parameters,
  vpg_surrogate(adapt(theta, inner), outer); its gradient in theta is MAML's meta-gradient (second order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["adapt", "gaussian_log_prob", "meta_objective", "vpg_surrogate"]

Mean = Callable[[list[Any], Any], Any]


def gaussian_log_prob(mean: Any, log_std: Any, act: Any) -> Any:
    """log N(act; mean, exp(log_std)^2), summed over action dimensions: (B,)."""
    var = (2 * log_std).exp()
    return (-((act - mean) ** 2) / (2 * var) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def vpg_surrogate(params: list[Any], batch: dict[str, Any], mean_fn: Mean, log_std: Any) -> Any:
    """mean_n log pi_params(a_n | s_n) * advantage_n for a batch ``{"obs", "act", "adv"}``."""
    return (gaussian_log_prob(mean_fn(params, batch["obs"]), log_std, batch["act"]) * batch["adv"]).mean()


def adapt(params: list[Any], batch: dict[str, Any], alpha: float, mean_fn: Mean, log_std: Any) -> list[Any]:
    """theta + alpha * grad of `vpg_surrogate` on ``batch`` (differentiable in theta)."""
    import torch

    grads = torch.autograd.grad(vpg_surrogate(params, batch, mean_fn, log_std), params, create_graph=True)
    return [p + alpha * g for p, g in zip(params, grads, strict=True)]


def meta_objective(
    params: list[Any], inner: dict[str, Any], outer: dict[str, Any], alpha: float, mean_fn: Mean, log_std: Any
) -> Any:
    """The outer batch's surrogate at the parameters adapted on the inner batch."""
    return vpg_surrogate(adapt(params, inner, alpha, mean_fn, log_std), outer, mean_fn, log_std)
