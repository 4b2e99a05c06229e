"""Diagonal Gaussians shared by the latent-variable models: log densities, KL between two, an MLP head.

Every density here is ``N(mean, diag(exp(log_var)))`` over the last axis; log densities and KLs are
summed over that axis (nats) and keep the leading shape.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["GaussianHead", "gaussian_kl_between", "gaussian_log_density", "reparameterise"]

_LOG_2PI = math.log(2 * math.pi)


def gaussian_log_density(z: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis; ``(...)``."""
    return -0.5 * (((z - mean) ** 2) / log_var.exp() + log_var + _LOG_2PI).sum(-1)


def gaussian_kl_between(mean_q: Tensor, log_var_q: Tensor, mean_p: Tensor, log_var_p: Tensor) -> Tensor:
    """``KL(N(mean_q, var_q) || N(mean_p, var_p))`` in closed form, summed over the last axis; ``(...)``."""
    return 0.5 * (
        log_var_p - log_var_q + (log_var_q.exp() + (mean_q - mean_p) ** 2) / log_var_p.exp() - 1.0
    ).sum(-1)


def reparameterise(mean: Tensor, log_var: Tensor, generator: torch.Generator | None) -> Tensor:
    """``mean + exp(log_var / 2) * eps`` with eps drawn on the CPU from `generator`, then moved to `mean`'s device.

    Drawing on the CPU keeps a run replayable from its checkpointed CPU generator on any device.
    """
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + (0.5 * log_var).exp() * eps


class GaussianHead(nn.Module):
    """``inputs (..., in_dim) -> (mean, log_var)``, each ``(..., out_dim)``: an MLP with one hidden ReLU layer.

    The log-variance is soft-clamped to ``[min_log_var, max_log_var]`` (tanh), which keeps the
    densities finite early in training.
    """

    def __init__(
        self, in_dim: int, out_dim: int, hidden: int, min_log_var: float = -10.0, max_log_var: float = 4.0
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * out_dim))
        self.low, self.high = min_log_var, max_log_var

    def forward(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        mean, raw = self.net(inputs).chunk(2, dim=-1)
        middle, half = (self.high + self.low) / 2, (self.high - self.low) / 2
        return mean, middle + half * torch.tanh((raw - middle) / half)
