"""GECO: the VAE as constrained optimisation (Rezende & Viola 2018, "Taming VAEs", Algorithm 1).

Minimise KL(q(z|x) || p(z)) subject to a reconstruction constraint E[C(x, x_hat)] <= 0 with

    C = ||x - x_hat||^2 - D tol^2      (per image, summed over its D pixels; tol is an RMS pixel error)

through the Lagrangian ``KL + lambda * C``. Each step:

1. ``C_ma <- alpha C_ma + (1 - alpha) C_batch`` (``C_ma = C_batch`` at the first step; alpha 0.99),
2. the loss uses ``C_hat = C_batch + stopgrad(C_ma - C_batch)`` (value of the moving average,
   gradient of the batch),
3. ``lambda <- lambda * exp(rate * C_ma / (D tol^2))``: it grows while the constraint is violated
   (C_ma > 0) and shrinks once it holds, so the model first meets the reconstruction target and
   then spends the remaining steps lowering the KL. The paper's update is ``lambda * exp(C_ma)``
   up to a speed; dividing by ``D tol^2`` (the exponent is the relative violation
   ``mse / tol^2 - 1``) lets one `rate` serve every image size and tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from core.errors import InputError

__all__ = ["GECO"]


class GECO:
    """The constraint's moving average and the Lagrange multiplier; `loss` also takes the multiplier step.

    Args:
        tolerance: tolerated RMS pixel error tol (image units, e.g. 0.1 for images in [0, 1]).
        alpha: moving-average factor of the constraint (the paper's 0.99).
        rate: multiplier update speed: ``lambda *= exp(rate * C_ma / (D tol^2))``.
        initial_lambda: the multiplier at the first step (the paper starts at 1).
        lambda_bounds: the multiplier is kept inside ``[low, high]`` (guards exp overflow).
    """

    def __init__(
        self,
        tolerance: float,
        alpha: float = 0.99,
        rate: float = 0.01,
        initial_lambda: float = 1.0,
        lambda_bounds: tuple[float, float] = (1e-6, 1e6),
    ) -> None:
        if not tolerance > 0:
            raise InputError("GECO tolerance must be > 0", item=tolerance)
        if not 0.0 <= alpha < 1.0:
            raise InputError("GECO alpha must lie in [0, 1)", item=alpha)
        if not rate > 0 or not initial_lambda > 0:
            raise InputError("GECO rate and initial_lambda must be > 0", item=(rate, initial_lambda))
        self.tolerance, self.alpha, self.rate = tolerance, alpha, rate
        self.bounds = lambda_bounds
        self.multiplier = float(initial_lambda)
        self.moving_average: float | None = None

    def constraint(self, squared_error: Tensor, pixels: int) -> Tensor:
        """Batch mean of C = ||x - x_hat||^2 - D tol^2; `squared_error` ``(batch,)``, `pixels` = D."""
        return squared_error.mean() - pixels * self.tolerance**2

    def loss(self, kl: Tensor, squared_error: Tensor, pixels: int) -> tuple[Tensor, dict[str, float]]:
        """The Lagrangian ``mean KL + lambda C_hat`` for this batch, then the multiplier update.

        Args:
            kl: ``(batch,)`` KL(q || p) per image, nats.
            squared_error: ``(batch,)`` ||x - x_hat||^2 per image.
            pixels: D, the number of values per image.

        Returns:
            ``(loss, metrics)``; metrics hold the multiplier used, the batch constraint and its average.
        """
        batch = self.constraint(squared_error, pixels)
        value = float(batch.detach())
        average = (
            value
            if self.moving_average is None
            else self.alpha * self.moving_average + (1 - self.alpha) * value
        )
        self.moving_average = average
        smoothed = batch + (average - batch.detach())
        used = self.multiplier
        loss = kl.mean() + used * smoothed
        low, high = self.bounds
        relative = average / (pixels * self.tolerance**2)
        self.multiplier = min(high, max(low, used * math.exp(self.rate * relative)))
        return loss, {"lambda": used, "constraint": value, "constraint_ma": average}

    def state_dict(self) -> dict[str, Any]:
        return {
            "multiplier": torch.tensor(self.multiplier, dtype=torch.float64),
            "moving_average": torch.tensor(self.moving_average or 0.0, dtype=torch.float64),
            "started": torch.tensor(self.moving_average is not None),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.multiplier = float(state["multiplier"])
        self.moving_average = float(state["moving_average"]) if bool(state["started"]) else None
